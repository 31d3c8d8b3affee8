"""Where a candidate stands in their own session, and the gate of their task routes
(init, run, submit).

Tasks are done in day order: the current task is the first one (by day) without a
submission, and only it can be acted on. `current_task_for_action` decides that under the
session's row lock, so one candidate's actions are decided one at a time. Nothing that
waits on GitHub runs under that lock: a route that calls GitHub checks the gate without
the lock first, calls GitHub, then checks it again with the lock before writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions import repository
from app.candidate_sessions.models import OPEN_SESSION_STATUSES, CandidateSession
from app.candidate_sessions.repository import SubmittedTask
from app.candidate_sessions.schemas import (
    CurrentTask,
    CurrentTaskRef,
    Progress,
    public_session_status,
)
from app.core.errors import ConflictError, GoneError, NotFoundError
from app.core.openapi import ErrorSpec
from app.simulations import service as simulations
from app.simulations.models import Task

# How a session that is not the caller's (`owned_session`), or not the recruiter's
# company's, is answered; for routes' `@raises`.
CANDIDATE_SESSION_NOT_FOUND: ErrorSpec = (NotFoundError, "CANDIDATE_SESSION_NOT_FOUND")
# What the routes that call `task_of_session` or `current_task_for_action` declare with
# `@raises`.
SESSION_TASK_ERRORS: tuple[ErrorSpec, ...] = (
    CANDIDATE_SESSION_NOT_FOUND,
    (NotFoundError, "TASK_NOT_FOUND"),
)
CURRENT_TASK_ERRORS: tuple[ErrorSpec, ...] = (
    *SESSION_TASK_ERRORS,
    (ConflictError, "SUBMISSION_EXISTS"),
    (GoneError, "SESSION_EXPIRED"),
    (ConflictError, "SESSION_NOT_IN_PROGRESS"),
    (ConflictError, "TASK_NOT_CURRENT"),
)


def session_not_found() -> NotFoundError:
    return NotFoundError("No such candidate session.", code="CANDIDATE_SESSION_NOT_FOUND")


def is_expired(candidate_session: CandidateSession, now: datetime) -> bool:
    return candidate_session.status == "expired" or (
        candidate_session.status in OPEN_SESSION_STATUSES and candidate_session.expires_at <= now
    )


async def owned_session(
    session: AsyncSession, principal: Principal, cs_id: int, *, for_update: bool = False
) -> CandidateSession:
    """The caller's own claimed session; anyone else's is answered as missing."""
    candidate_session = await repository.by_id(session, cs_id, for_update=for_update)
    if candidate_session is None or candidate_session.auth0_sub != principal.subject:
        raise session_not_found()
    return candidate_session


@dataclass(frozen=True)
class SessionTask:
    """The caller's own session and one task of its simulation."""

    candidate_session: CandidateSession
    task: Task


@dataclass(frozen=True)
class CurrentTaskAction(SessionTask):
    """The session and its current task, which a route acts on; with the number of tasks
    submitted before it and of all tasks."""

    submitted: int
    total: int


async def _plan(
    session: AsyncSession, cs: CandidateSession
) -> tuple[Sequence[Task], dict[int, SubmittedTask]]:
    tasks = await simulations.tasks_of(session, cs.simulation_id)
    return tasks, await repository.submitted_tasks(session, cs.id)


def _current(tasks: Sequence[Task], submitted: dict[int, SubmittedTask]) -> Task | None:
    return next((task for task in tasks if task.id not in submitted), None)


async def current_task(session: AsyncSession, principal: Principal, cs_id: int) -> CurrentTask:
    """Where the caller stands in their own session, read in one statement."""
    rows = await repository.tasks_with_progress(session, principal.subject, cs_id)
    if not rows:
        raise session_not_found()
    tasks = [row for row in rows if row.task_id is not None]
    current = next((row for row in tasks if not row.submitted), None)
    completed = [row.task_id for row in tasks if row.submitted]
    state = rows[0].status
    return CurrentTask(
        candidate_session_id=cs_id,
        status=public_session_status(state),
        state=state,
        current_day_index=current.day_index if current else None,
        current_task=(
            CurrentTaskRef(
                id=current.task_id,
                day_index=current.day_index,
                title=current.title,
                type=current.type,
                description=current.description,
            )
            if current
            else None
        ),
        completed_task_ids=completed,
        progress=Progress.of(
            completed=len(completed), total=len(tasks), started=rows[0].started_at is not None
        ),
        is_complete=current is None,
    )


def _submission_exists(submitted: SubmittedTask) -> ConflictError:
    return ConflictError(
        "This task was already submitted.",
        code="SUBMISSION_EXISTS",
        extensions={
            "submission": {
                "submissionId": submitted.submission_id,
                "taskId": submitted.task_id,
                "submittedAt": submitted.submitted_at.isoformat(),
            }
        },
    )


async def submission_exists(session: AsyncSession, cs_id: int, task_id: int) -> ConflictError:
    """SUBMISSION_EXISTS for a task the session has submitted (the database refused a
    second submission of it)."""
    submitted = (await repository.submitted_tasks(session, cs_id)).get(task_id)
    assert submitted is not None
    return _submission_exists(submitted)


async def task_of_session(
    session: AsyncSession, principal: Principal, cs_id: int, task_id: int
) -> SessionTask:
    """The caller's session and any task of it (for the read routes)."""
    cs = await owned_session(session, principal, cs_id)
    task = await simulations.task_by_id(session, task_id)
    if task is None or task.simulation_id != cs.simulation_id:
        raise NotFoundError("No such task in this session.", code="TASK_NOT_FOUND")
    return SessionTask(cs, task)


async def current_task_for_action(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    *,
    now: datetime,
    lock: bool = True,
) -> CurrentTaskAction:
    """The caller's session and the task a mutating route (init, run, submit) acts on,
    which must be the current one. The session row stays locked until the transaction
    ends; with `lock=False` (the check before calling GitHub) it is not locked, and the
    caller checks again with the lock before it writes."""
    cs = await owned_session(session, principal, cs_id, for_update=lock)
    tasks, submitted = await _plan(session, cs)
    task = next((t for t in tasks if t.id == task_id), None)
    if task is None:
        raise NotFoundError("No such task in this session.", code="TASK_NOT_FOUND")
    if task.id in submitted:
        raise _submission_exists(submitted[task.id])
    if is_expired(cs, now):
        raise GoneError("The deadline for this simulation has passed.", code="SESSION_EXPIRED")
    if cs.status != "in_progress":
        raise ConflictError(f"This session is {cs.status}.", code="SESSION_NOT_IN_PROGRESS")
    current = _current(tasks, submitted)
    if current is None or current.id != task.id:
        raise ConflictError(
            f"Tasks are done in day order; the current task is day {current.day_index}."
            if current
            else "Every task is already submitted.",
            code="TASK_NOT_CURRENT",
        )
    return CurrentTaskAction(cs, task, submitted=len(submitted), total=len(tasks))


async def hold_submit_lock(session: AsyncSession, cs_id: int) -> None:
    """Serialise the submits of one session, until the transaction ends, without locking
    its row: a second submit waits for the first and then finds the task submitted, and
    the deadline sweep leaves a session alone while a submit of it is under way (the
    submit reads GitHub before it takes the row lock)."""
    await repository.hold_submit_lock(session, cs_id)
