"""Drafts of text tasks: the candidate's autosave, and the recruiter's view of the drafts a
session never submitted."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.dependencies import CandidateUser, RecruiterUser
from app.candidate_sessions.dependencies import CandidateSessionHeader
from app.candidate_sessions.progress import (
    CANDIDATE_SESSION_NOT_FOUND,
    CURRENT_TASK_ERRORS,
    SESSION_TASK_ERRORS,
)
from app.core.clock import CurrentClock
from app.core.db import DbReader, DbSession
from app.core.openapi import raises
from app.core.rate_limit import Limiter
from app.core.schemas import EntityId
from app.core.settings import CurrentSettings
from app.drafts import service
from app.drafts.schemas import DraftOut, DraftSave, RecruiterDraftOut
from app.drafts.service import DRAFT_TOO_LARGE, DRAFT_VERSION_CONFLICT, TASK_NOT_TEXT

router = APIRouter(tags=["drafts"])


@router.get("/tasks/{task_id}/draft", response_model=DraftOut)
@raises(*SESSION_TASK_ERRORS, TASK_NOT_TEXT)
async def get_draft(
    task_id: EntityId, candidate: CandidateUser, cs_id: CandidateSessionHeader, session: DbReader
) -> DraftOut:
    """The caller's saved draft of a text task; version 0 while nothing is saved."""
    return await service.get_draft(session, candidate, cs_id, task_id)


@router.put("/tasks/{task_id}/draft", response_model=DraftOut)
@raises(*CURRENT_TASK_ERRORS, TASK_NOT_TEXT, DRAFT_TOO_LARGE, DRAFT_VERSION_CONFLICT)
async def save_draft(
    task_id: EntityId,
    body: DraftSave,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    limiter: Limiter,
) -> DraftOut:
    """Save the draft of the current text task, if `version` is still the latest one."""
    # Keyed by the caller too: naming someone else's session must not spend its allowance.
    await limiter.hit("draft", settings.rate_limit.draft, key=f"{candidate.subject}:{cs_id}")
    return await service.save_draft(
        session,
        candidate,
        cs_id,
        task_id,
        body,
        now=clock.now(),
        max_chars=settings.app.draft_max_chars,
    )


@router.get("/candidate-sessions/{cs_id}/drafts", response_model=list[RecruiterDraftOut])
@raises(CANDIDATE_SESSION_NOT_FOUND)
async def list_unsubmitted_drafts(
    cs_id: EntityId, recruiter: RecruiterUser, session: DbReader
) -> list[RecruiterDraftOut]:
    """The session's drafts of tasks it never submitted, in day order."""
    return await service.unsubmitted_drafts(session, recruiter, cs_id)
