"""Drafts of text tasks: the candidate autosaves their answer and reads it back; a
recruiter reads the drafts of the tasks a session never submitted (kept at the deadline).

Saving follows the submit's gate (the session's row lock, the current task, the deadline),
so a draft stops changing once its task is submitted or the deadline passes; reading it
stays possible. Concurrent saves use optimistic concurrency: the client sends the version
it last read, and a save from a version that is no longer the latest is refused with the
current one, so one tab cannot silently overwrite another's text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.auth.recruiters import Recruiter
from app.candidate_sessions import progress
from app.core.errors import ConflictError, PayloadTooLargeError
from app.core.openapi import ErrorSpec
from app.drafts import repository
from app.drafts.repository import SavedDraft
from app.drafts.schemas import DraftOut, DraftSave, RecruiterDraftOut
from app.evaluation.access import reviewed_session
from app.simulations.models import CODE_TASK_TYPES, Task

TASK_NOT_TEXT: ErrorSpec = (ConflictError, "TASK_NOT_TEXT")
DRAFT_VERSION_CONFLICT: ErrorSpec = (ConflictError, "DRAFT_VERSION_CONFLICT")
DRAFT_TOO_LARGE: ErrorSpec = (PayloadTooLargeError, "DRAFT_TOO_LARGE")


def _require_text(task: Task) -> None:
    # Code and debug answers live in the task's repository, not in a draft.
    if task.type in CODE_TASK_TYPES:
        raise ConflictError(
            f"A {task.type} task is answered in its repository; only text tasks have drafts.",
            code="TASK_NOT_TEXT",
        )


def _out(task_id: int, saved: SavedDraft | None) -> DraftOut:
    if saved is None:
        return DraftOut(task_id=task_id, content_text=None, version=0, updated_at=None)
    return DraftOut.model_validate(saved)


async def get_draft(
    session: AsyncSession, principal: Principal, cs_id: int, task_id: int
) -> DraftOut:
    """The caller's draft of any text task of their session, whatever its state."""
    found = await progress.task_of_session(session, principal, cs_id, task_id)
    _require_text(found.task)
    return _out(task_id, await repository.get(session, cs_id, task_id))


async def save_draft(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    body: DraftSave,
    *,
    now: datetime,
    max_chars: int,
) -> DraftOut:
    """Store the next version of the caller's draft of their current text task."""
    action = await progress.current_task_for_action(session, principal, cs_id, task_id, now=now)
    _require_text(action.task)
    if len(body.content_text) > max_chars:
        raise PayloadTooLargeError(
            f"A draft holds at most {max_chars} characters.",
            code="DRAFT_TOO_LARGE",
            extensions={"maxChars": max_chars},
        )
    if body.version == 0:
        saved = await repository.insert_first(session, cs_id, task_id, body.content_text, now=now)
    else:
        saved = await repository.update_if_version(
            session, cs_id, task_id, body.content_text, expected=body.version, now=now
        )
    if saved is None:
        current = await repository.version_of(session, cs_id, task_id)
        raise ConflictError(
            f"The draft is at version {current}, not {body.version}: it was saved elsewhere "
            "since; read it again before saving.",
            code="DRAFT_VERSION_CONFLICT",
            extensions={"currentVersion": current},
        )
    return _out(task_id, saved)


async def unsubmitted_drafts(
    session: AsyncSession, recruiter: Recruiter, cs_id: int
) -> list[RecruiterDraftOut]:
    """The drafts of the tasks the session has not submitted, for its company's recruiters."""
    await reviewed_session(session, recruiter, cs_id)
    return [
        RecruiterDraftOut.model_validate(row)
        for row in await repository.unsubmitted(session, cs_id)
    ]
