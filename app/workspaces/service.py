"""Workspaces: the repository a candidate works in for a code or debug task.

The GitHub username is checked and bound to the session at the first init; provisioning
itself runs in a job, so the call answers at once (ready, or provisioning to poll).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions import progress
from app.candidate_sessions.models import CandidateSession
from app.core.errors import ConflictError, UnprocessableError
from app.core.openapi import ErrorSpec
from app.core.settings import Settings
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubNotFoundError
from app.jobs.queue import enqueue, latest_waiting_run_at
from app.simulations import service as simulations
from app.simulations.models import CODE_TASK_TYPES, Task
from app.workspaces import commits, repository
from app.workspaces.jobs import PROVISION_WORKSPACE, REVOKE_ACCESS, SessionRef, WorkspaceRef
from app.workspaces.models import Workspace
from app.workspaces.schemas import LastRun, WorkspaceOut

log = structlog.get_logger(__name__)

# For routes' `@raises`.
NOT_A_CODE_TASK: ErrorSpec = (ConflictError, "NOT_A_CODE_TASK")
READY_WORKSPACE_ERRORS: tuple[ErrorSpec, ...] = (
    NOT_A_CODE_TASK,
    (ConflictError, "WORKSPACE_NOT_READY"),
)


def _template_repo(task: Task) -> str:
    if task.type not in CODE_TASK_TYPES or task.template_repo is None:
        raise ConflictError("This task has no repository to work in.", code="NOT_A_CODE_TASK")
    return task.template_repo


def _workspace_key(template_repo: str) -> str:
    # The template repository's name, not the simulation's template key: a session's code
    # and debug workspaces come from different repositories and need different names.
    return template_repo.rsplit("/", 1)[-1]


def _is_bound(cs: CandidateSession, username: str) -> bool:
    """Whether the session has its GitHub user already (which must be `username`)."""
    if cs.github_username is None:
        return False
    if cs.github_username.lower() != username.lower():
        raise ConflictError(
            f"This session works as GitHub user {cs.github_username}.",
            code="GITHUB_USERNAME_MISMATCH",
        )
    return True


async def _login_to_bind(cs: CandidateSession, username: str, github: GitHubClient) -> str | None:
    """The GitHub login of `username` when the session has none bound yet."""
    if _is_bound(cs, username):
        return None
    try:
        user = await github.get_user(username)
    except GitHubNotFoundError as exc:
        raise UnprocessableError(
            f"There is no GitHub user {username!r}.",
            code="GITHUB_USER_NOT_FOUND",
            errors=[{"loc": ["body", "githubUsername"], "msg": "unknown user", "type": "github"}],
        ) from exc
    return user.login


def present(workspace: Workspace) -> WorkspaceOut:
    return WorkspaceOut(
        workspace_id=workspace.id,
        status=workspace.status,
        error_code=workspace.error_code,
        error=workspace.error,
        repo_full_name=workspace.repo_full_name,
        repo_url=workspace.repo_url,
        codespace_url=workspace.codespace_url,
        default_branch=workspace.default_branch,
        base_template_sha=workspace.base_template_sha,
        latest_commit_sha=workspace.latest_commit_sha,
        last_run=workspace.last_run_summary,
    )


async def init_workspace(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    github_username: str,
    github: GitHubClient,
    *,
    now: datetime,
) -> WorkspaceOut:
    """Provision (or return) the session's workspace for the current task's template.

    The user is looked up on GitHub before the session's row is locked; under the lock the
    gate is checked again and the first init binds the login (a concurrent one that bound
    it meanwhile decides: the same user goes on, another is refused)."""
    checked = await progress.current_task_for_action(
        session, principal, cs_id, task_id, now=now, lock=False
    )
    _template_repo(checked.task)  # NOT_A_CODE_TASK comes before any GitHub call
    login = await _login_to_bind(checked.candidate_session, github_username, github)
    action = await progress.current_task_for_action(session, principal, cs_id, task_id, now=now)
    cs, task = action.candidate_session, action.task
    template_repo = _template_repo(task)
    if not _is_bound(cs, github_username):
        assert login is not None  # unbound now, so unbound before: a binding stays
        cs.github_username = login
    workspace = await repository.get_or_create(
        session,
        cs_id=cs.id,
        template_repo=template_repo,
        template_key=_workspace_key(template_repo),
    )
    await session.refresh(workspace, with_for_update=True)
    needs_access = (workspace.collaborator_login or "").lower() != (
        cs.github_username or ""
    ).lower()
    if workspace.status in ("pending", "failed") or (workspace.status == "ready" and needs_access):
        workspace.status = "provisioning"
        workspace.error_code = workspace.error = None
        await session.flush()
        await enqueue(
            session,
            PROVISION_WORKSPACE,
            WorkspaceRef(workspace_id=workspace.id),
            dedupe_key=f"workspace:{workspace.id}",
        )
        log.info("workspaces.provisioning", workspace_id=workspace.id)
    return present(workspace)


async def prepare_for_invite(
    session: AsyncSession, cs: CandidateSession, *, now: datetime, settings: Settings
) -> None:
    """With TENON_GITHUB_PREPROVISION, queue the repositories of a newly invited session's
    code and debug tasks (the candidate-session hook `invited`), each provisioning job a
    spacing after the last one waiting, so a bulk invite stays inside GitHub's limits on
    content creation (SPEC §6.4)."""
    if not settings.github.preprovision:
        return
    # Each repository costs a few content-creating requests; GitHub allows ~80/min.
    spacing = timedelta(seconds=max(1.0, settings.github.mutation_interval_seconds) * 3)
    tasks = await simulations.tasks_of(session, cs.simulation_id)
    for template_repo in dict.fromkeys(t.template_repo for t in tasks if t.type in CODE_TASK_TYPES):
        if template_repo is None:
            continue
        workspace = await repository.get_or_create(
            session,
            cs_id=cs.id,
            template_repo=template_repo,
            template_key=_workspace_key(template_repo),
        )
        last = await latest_waiting_run_at(session, PROVISION_WORKSPACE)
        workspace.status = "provisioning"
        await session.flush()
        await enqueue(
            session,
            PROVISION_WORKSPACE,
            WorkspaceRef(workspace_id=workspace.id),
            run_at=max(now, last + spacing) if last else now,
            dedupe_key=f"workspace:{workspace.id}",
        )


async def workspace_status(
    session: AsyncSession,
    cs: CandidateSession,
    task: Task,
    github: GitHubClient | None,
    *,
    now: datetime,
) -> WorkspaceOut | None:
    """The task's workspace, its latest commit re-read from GitHub when it may be stale."""
    template_repo = _template_repo(task)
    workspace = await repository.for_session_and_template(session, cs.id, template_repo)
    if workspace is None:
        return None
    if github is not None:
        await commits.refresh_if_stale(session, workspace, github, now=now)
    return present(workspace)


async def ready_workspace(session: AsyncSession, cs: CandidateSession, task: Task) -> Workspace:
    """The task's workspace, which must be provisioned (for test runs and submissions)."""
    workspace = await repository.for_session_and_template(session, cs.id, _template_repo(task))
    if workspace is None or workspace.status != "ready" or workspace.repo_full_name is None:
        raise ConflictError(
            "The task's repository is not ready; initialise it first.", code="WORKSPACE_NOT_READY"
        )
    return workspace


async def by_id(session: AsyncSession, workspace_id: int) -> Workspace | None:
    return await repository.by_id(session, workspace_id)


async def record_run_result(session: AsyncSession, workspace_id: int, run: LastRun) -> None:
    """Keep a finished test run as the workspace's last one (shown with its status)."""
    workspace = await repository.by_id(session, workspace_id)
    assert workspace is not None  # a run's workspace outlives it (foreign key)
    workspace.last_run_summary = {
        "runId": run.run_id,
        "status": run.status,
        "conclusion": run.conclusion,
        "passed": run.passed,
        "failed": run.failed,
        "total": run.total,
        "completedAt": run.completed_at.isoformat(),
    }


async def revoke_access_later(session: AsyncSession, cs_id: int) -> None:
    """Queue the removal of the candidate's push access (the session is over; also the
    candidate-session hook `expired`)."""
    if await repository.exists_for_session(session, cs_id):
        await enqueue(
            session,
            REVOKE_ACCESS,
            SessionRef(candidate_session_id=cs_id),
            dedupe_key=f"revoke:{cs_id}",
        )


async def restore_access(session: AsyncSession, cs: CandidateSession) -> None:
    """Give push access back (after an extension) to every workspace that had it taken
    (the candidate-session hook `reopened`)."""
    for workspace in await repository.of_session(session, cs.id):
        if workspace.status == "ready" and workspace.collaborator_login is None:
            workspace.status = "provisioning"
            await session.flush()
            await enqueue(
                session,
                PROVISION_WORKSPACE,
                WorkspaceRef(workspace_id=workspace.id),
                dedupe_key=f"workspace:{workspace.id}",
            )
