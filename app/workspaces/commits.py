"""A workspace's latest commit, kept current: GitHub's `push` webhook for the default branch
(`jobs.track_push`) triggers a read of the branch head, and a status read re-reads a head
older than LATEST_COMMIT_MAX_AGE, so a missed webhook leaves it stale for that long at most.

The stored sha always comes from a read of the branch (conditional: an unchanged branch
answers 304, which costs no rate limit), stamped with the moment the read started; a
write lands only if no read that started later has landed. A payload's own `after` is
never stored: deliveries can arrive out of order (or a push can be undone by the next),
and only the branch itself says what is newest.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubNotFoundError
from app.integrations.github.schemas import PushEvent
from app.jobs.registry import JobContext
from app.services import Services
from app.workspaces import repository
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)

LATEST_COMMIT_MAX_AGE = timedelta(seconds=30)
# A status read waits this long at most for GitHub (its retries included).
REFRESH_TIMEOUT_SECONDS = 5.0


async def follow_push(context: JobContext[Services], push: PushEvent, *, delivery_id: str) -> None:
    """Refresh the latest commit of the workspace a push to its default branch went to;
    a push to another branch or repository changes nothing."""
    async with context.database.session_scope() as session:
        workspace = await repository.by_repo_full_name(session, push.repository.full_name)
    if (
        workspace is None
        or workspace.repo_id not in (None, push.repository.id)
        or workspace.default_branch is None
        or push.ref != f"refs/heads/{workspace.default_branch}"
    ):
        log.info(
            "workspaces.push.ignored",
            delivery_id=delivery_id,
            repo=push.repository.full_name,
            ref=push.ref,
        )
        return
    github = context.services.require_github()
    observed_at = context.clock.now()
    try:
        head = await _head(github, workspace)
    except GitHubNotFoundError:
        # The repository or its branch is gone (retention): nothing is left to follow.
        log.info("workspaces.push.branch_gone", workspace_id=workspace.id)
        return
    async with context.database.session_scope() as session:
        stored = await repository.record_latest_commit(
            session, workspace.id, head, observed_at=observed_at
        )
    log.info(
        "workspaces.push.tracked",
        delivery_id=delivery_id,
        workspace_id=workspace.id,
        after=push.after,
        head=head,
        stored=stored,
    )


async def refresh_if_stale(
    session: AsyncSession, workspace: Workspace, github: GitHubClient, *, now: datetime
) -> None:
    """For a status read: re-read the head when the stored one is older than
    LATEST_COMMIT_MAX_AGE and the candidate can still push. A GitHub failure (or a GitHub
    slower than REFRESH_TIMEOUT_SECONDS) keeps the stored value: the status still answers."""
    observed_at = workspace.latest_commit_observed_at
    can_move = workspace.status == "ready" and workspace.collaborator_login is not None
    if not can_move or (observed_at is not None and now - observed_at < LATEST_COMMIT_MAX_AGE):
        return
    try:
        async with asyncio.timeout(REFRESH_TIMEOUT_SECONDS):
            head = await _head(github, workspace)
    except (GitHubError, TimeoutError) as exc:
        log.warning(
            "workspaces.latest_commit.refresh_failed",
            workspace_id=workspace.id,
            error=f"{type(exc).__name__}: {exc}",
        )
        return
    await repository.record_latest_commit(session, workspace.id, head, observed_at=now)
    await session.refresh(workspace)


async def _head(github: GitHubClient, workspace: Workspace) -> str:
    assert workspace.repo_full_name is not None
    assert workspace.default_branch is not None
    branch = await github.get_branch(workspace.repo_full_name, workspace.default_branch)
    return branch.commit.sha
