"""Provisioning a workspace (SPEC §6.2), in its job: generate the repository from the
template into the workspace organisation, wait for its default branch, record the base
commit, give the candidate push access.

Every step records its result before the next one starts, so a retried job resumes where
the last attempt stopped; a workspace ends `ready` or `failed` with the reason (a code and
a message for the candidate; the exception itself goes to the log and the job), never
silently half-made.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions import service as candidate_sessions
from app.core.logging import redact_text
from app.events import service as events
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import (
    GitHubError,
    GitHubNotFoundError,
    GitHubUnavailableError,
    GitHubValidationFailedError,
)
from app.integrations.github.schemas import Repository
from app.integrations.github.template_catalog import TEMPLATE_NOT_INSTALLED
from app.jobs.registry import JobContext, PermanentJobError
from app.services import Services
from app.workspaces import repository
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)

MAX_REPO_NAME = 100
# A freshly generated repository is empty for a few seconds.
BRANCH_WAIT_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class Failure:
    """Why a workspace could not be provisioned, as the candidate is told."""

    code: str
    message: str


NAME_TAKEN = Failure(
    "REPO_NAME_TAKEN",
    "A repository with this workspace's name already exists and was not made for this task. "
    "Ask the hiring team to remove it, then try again.",
)
GITHUB_UNAVAILABLE = Failure(
    "GITHUB_UNAVAILABLE",
    "GitHub could not be reached to prepare your repository. Try again in a few minutes.",
)
GITHUB_REFUSED = Failure(
    "GITHUB_REFUSED",
    "GitHub refused to prepare your repository. Ask the hiring team for help.",
)
PROVISIONING_FAILED = Failure(
    "PROVISIONING_FAILED",
    "Your repository could not be prepared. Try again in a few minutes.",
)


def template_not_installed(template_repo: str) -> Failure:
    # Named, so that the candidate can pass it on and the hiring team knows what to install.
    return Failure(
        TEMPLATE_NOT_INSTALLED,
        f"The starter repository for this task, {template_repo}, is not installed on GitHub. "
        "Ask the hiring team to install it, then try again.",
    )


class ProvisioningError(PermanentJobError):
    """A failure retrying cannot mend, with what the candidate is told about it."""

    def __init__(self, failure: Failure, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure


def failure_of(exc: Exception) -> Failure:
    if isinstance(exc, ProvisioningError):
        return exc.failure
    if isinstance(exc, GitHubError):
        return GITHUB_UNAVAILABLE if exc.retryable else GITHUB_REFUSED
    return PROVISIONING_FAILED


def repository_name(prefix: str, simulation_id: int, cs_id: int, key: str) -> str:
    raw = f"{prefix}{simulation_id}-{cs_id}-{key}"
    return re.sub(r"[^A-Za-z0-9._-]", "-", raw)[:MAX_REPO_NAME]


def codespace_url(full_name: str) -> str:
    return f"https://codespaces.new/{full_name}?quickstart=1"


async def _generate(
    github: GitHubClient, workspace: Workspace, *, owner: str, name: str
) -> Repository:
    try:
        return await github.generate_repository(
            workspace.template_repo,
            owner=owner,
            name=name,
            description="Tenon candidate workspace",
            private=True,
        )
    except GitHubNotFoundError as exc:
        raise ProvisioningError(
            template_not_installed(workspace.template_repo),
            f"The template repository {workspace.template_repo} was not found.",
        ) from exc
    except GitHubValidationFailedError as exc:
        if not exc.mentions("already exists"):
            raise
    # An earlier attempt created it and then failed: adopt it if it is ours.
    repo = await github.get_repository(f"{owner}/{name}")
    source = repo.template_repository.full_name if repo.template_repository else None
    if (source or "").lower() != workspace.template_repo.lower():
        raise ProvisioningError(
            NAME_TAKEN,
            f"{owner}/{name} already exists and was not generated from {workspace.template_repo}.",
        )
    return repo


async def _wait_for_branch(github: GitHubClient, full_name: str, branch: str) -> str:
    for delay in (*BRANCH_WAIT_DELAYS, None):
        try:
            return (await github.get_branch(full_name, branch)).commit.sha
        except GitHubNotFoundError:
            if delay is None:
                break
            await asyncio.sleep(delay)
    raise GitHubUnavailableError(f"{full_name} still has no {branch} branch.")


async def _workspace(session: AsyncSession, workspace_id: int, *, lock: bool = False) -> Workspace:
    workspace = await repository.by_id(session, workspace_id, for_update=lock)
    if workspace is None:
        raise PermanentJobError(f"No workspace {workspace_id}.")
    return workspace


async def provision(context: JobContext[Services], workspace_id: int) -> None:
    """Run the steps still to do; a failure is recorded on the workspace (as final when
    retrying cannot help or this was the last attempt) and raised to the job."""
    github = context.services.require_github()
    try:
        await _provision_steps(context, github, workspace_id)
    except Exception as exc:
        final = (
            isinstance(exc, PermanentJobError)
            or (isinstance(exc, GitHubError) and not exc.retryable)
            or context.attempt >= context.max_attempts
        )
        await _record_failure(context, workspace_id, exc, final=final)
        if final and not isinstance(exc, PermanentJobError):
            raise PermanentJobError(str(exc)) from exc
        raise


async def _provision_steps(
    context: JobContext[Services], github: GitHubClient, workspace_id: int
) -> None:
    settings = context.services.settings.github
    async with context.database.session_scope() as session:
        workspace = await _workspace(session, workspace_id)
        cs = await candidate_sessions.by_id(session, workspace.candidate_session_id)
        assert cs is not None  # foreign key
        username = cs.github_username
        if workspace.repo_full_name is None or workspace.default_branch is None:
            name = repository_name(
                settings.repo_prefix, cs.simulation_id, cs.id, workspace.template_key
            )
            repo = await _generate(github, workspace, owner=settings.org, name=name)
            workspace.repo_full_name = repo.full_name
            workspace.repo_id = repo.id
            workspace.repo_url = repo.html_url
            workspace.default_branch = repo.default_branch
            workspace.codespace_url = codespace_url(repo.full_name)
        full_name, branch = workspace.repo_full_name, workspace.default_branch
        needs_base = workspace.base_template_sha is None

    if needs_base:
        sha = await _wait_for_branch(github, full_name, branch)
        async with context.database.session_scope() as session:
            workspace = await _workspace(session, workspace_id)
            workspace.base_template_sha = workspace.latest_commit_sha = sha

    async with context.database.session_scope() as session:
        workspace = await _workspace(session, workspace_id, lock=True)
        if username and (workspace.collaborator_login or "").lower() != username.lower():
            await github.add_collaborator(full_name, username, permission="push")
            workspace.collaborator_login = username
        # Pre-provisioned before the candidate named an account: the repository is there,
        # access follows at the first init.
        workspace.status = "ready" if workspace.collaborator_login else "pending"
        workspace.error_code = workspace.error = None
        await events.record_for_session(
            session,
            cs,
            type="workspace.provisioned" if workspace.collaborator_login else "workspace.prepared",
            actor_type="system",
            data={"repoFullName": full_name, "collaborator": workspace.collaborator_login},
            occurred_at=context.clock.now(),
        )
    log.info("workspaces.provisioned", workspace_id=workspace_id, repo=full_name)


async def _record_failure(
    context: JobContext[Services], workspace_id: int, exc: Exception, *, final: bool
) -> None:
    failure = failure_of(exc)
    log.warning(
        "workspaces.provisioning_failed",
        workspace_id=workspace_id,
        code=failure.code,
        final=final,
        error=redact_text(f"{type(exc).__name__}: {exc}"),
    )
    async with context.database.session_scope() as session:
        workspace = await repository.by_id(session, workspace_id)
        if workspace is None:
            return
        workspace.error_code, workspace.error = failure.code, failure.message
        if final:
            workspace.status = "failed"
