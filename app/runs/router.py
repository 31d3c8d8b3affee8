"""Test runs of a code or debug task: request one, read it, watch it live."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from sse_starlette import EventSourceResponse

from app.auth.dependencies import CandidateUser
from app.candidate_sessions import progress
from app.candidate_sessions.dependencies import CandidateSessionHeader
from app.candidate_sessions.progress import CURRENT_TASK_ERRORS, SESSION_TASK_ERRORS
from app.core.clock import CurrentClock
from app.core.db import DbReader, DbSession, database_of
from app.core.openapi import raises
from app.core.rate_limit import Limiter
from app.core.schemas import EntityId
from app.core.settings import CurrentSettings
from app.runs import service
from app.runs.schemas import RunCreate, RunOut
from app.workspaces.service import READY_WORKSPACE_ERRORS

router = APIRouter(prefix="/tasks/{task_id}/run", tags=["runs"])

# The task's session, its workspace, then the run itself.
RUN_LOOKUP_ERRORS = (*SESSION_TASK_ERRORS, *READY_WORKSPACE_ERRORS, service.RUN_NOT_FOUND)


@router.post("", response_model=RunOut, status_code=status.HTTP_202_ACCEPTED)
@raises(*CURRENT_TASK_ERRORS, *READY_WORKSPACE_ERRORS)
async def request_run(
    task_id: EntityId,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    limiter: Limiter,
    body: RunCreate | None = None,
) -> RunOut:
    """Queue a test run of the task's repository; answers at once (poll or stream it)."""
    # Keyed by the caller too: naming someone else's session must not spend its allowance.
    await limiter.hit("run", settings.rate_limit.run, key=f"{candidate.subject}:{cs_id}")
    action = await progress.current_task_for_action(
        session, candidate, cs_id, task_id, now=clock.now()
    )
    return await service.request_run(
        session, action.candidate_session, action.task, body.ref if body else None, now=clock.now()
    )


@router.get("/{run_id}", response_model=RunOut)
@raises(*RUN_LOOKUP_ERRORS)
async def get_run(
    task_id: EntityId,
    run_id: EntityId,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbReader,
) -> RunOut:
    """A test run's state and results, from Tenon's database (cheap to poll)."""
    polled = await service.candidate_poll(session, candidate, cs_id, task_id, run_id)
    if polled is not None:
        return polled
    # Not the caller's to see: the step-by-step checks name the problem.
    session_task = await progress.task_of_session(session, candidate, cs_id, task_id)
    run = await service.get_run(session, session_task.candidate_session, session_task.task, run_id)
    return service.present(run, run.tests)


@router.get(
    "/{run_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "Server-Sent Events named `run`, each with the run (a RunOut) as its "
            "JSON data: the state now and after every change, until it is final.",
        }
    },
)
@raises(*RUN_LOOKUP_ERRORS)
async def stream_run_events(
    task_id: EntityId,
    run_id: EntityId,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    request: Request,
) -> EventSourceResponse:
    """Server-Sent Events with the run's state at every change, until it is final."""
    session_task = await progress.task_of_session(session, candidate, cs_id, task_id)
    run = await service.get_run(session, session_task.candidate_session, session_task.task, run_id)
    stream = service.run_stream(
        database_of(request), request.app.state.run_events, run.workspace_id, run.id
    )
    return EventSourceResponse(stream, ping=15)
