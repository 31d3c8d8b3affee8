"""The candidate's repository for a code or debug task."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.auth.dependencies import CandidateUser
from app.candidate_sessions import progress
from app.candidate_sessions.dependencies import CandidateSessionHeader
from app.candidate_sessions.progress import CURRENT_TASK_ERRORS, SESSION_TASK_ERRORS
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.errors import ConflictError, NotFoundError, UnprocessableError
from app.core.openapi import raises
from app.core.schemas import EntityId
from app.integrations.github.errors import GITHUB_CALL_ERRORS
from app.services import GITHUB_NOT_CONFIGURED, CurrentServices, GitHub
from app.workspaces import service
from app.workspaces.schemas import CodespaceInit, WorkspaceOut
from app.workspaces.service import NOT_A_CODE_TASK

router = APIRouter(prefix="/tasks/{task_id}/codespace", tags=["workspaces"])


@router.post(
    "/init",
    response_model=WorkspaceOut,
    responses={
        200: {"description": "The repository is ready."},
        202: {"model": WorkspaceOut, "description": "Provisioning; poll the status."},
    },
)
@raises(
    *CURRENT_TASK_ERRORS,
    NOT_A_CODE_TASK,
    (ConflictError, "GITHUB_USERNAME_MISMATCH"),
    (UnprocessableError, "GITHUB_USER_NOT_FOUND"),
    GITHUB_NOT_CONFIGURED,
    *GITHUB_CALL_ERRORS,
)
async def init_codespace(
    task_id: EntityId,
    body: CodespaceInit,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    github: GitHub,
    response: Response,
) -> WorkspaceOut:
    """Provision (or return) the repository for the current task: 200 ready, 202 provisioning."""
    workspace = await service.init_workspace(
        session,
        candidate,
        cs_id,
        task_id,
        body.github_username,
        github,
        now=clock.now(),
    )
    if workspace.status != "ready":
        response.status_code = status.HTTP_202_ACCEPTED
    return workspace


@router.get("/status", response_model=WorkspaceOut)
@raises(*SESSION_TASK_ERRORS, NOT_A_CODE_TASK, (NotFoundError, "WORKSPACE_NOT_FOUND"))
async def get_codespace_status(
    task_id: EntityId,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    services: CurrentServices,
) -> WorkspaceOut:
    """The task's repository, latest commit and last test run."""
    session_task = await progress.task_of_session(session, candidate, cs_id, task_id)
    workspace = await service.workspace_status(
        session,
        session_task.candidate_session,
        session_task.task,
        services.github,
        now=clock.now(),
    )
    if workspace is None:
        raise NotFoundError("This task has no workspace yet.", code="WORKSPACE_NOT_FOUND")
    return workspace
