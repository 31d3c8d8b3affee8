"""Retention: repositories of sessions that ended more than TENON_GITHUB_RETENTION_DAYS
ago are archived (or deleted with TENON_GITHUB_CLEANUP_ENABLED). A periodic sweep finds
them and queues one job per repository, spaced out (see `jobs`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions import service as candidate_sessions
from app.core.settings import GitHubSettings
from app.events import service as events
from app.integrations.github.errors import GitHubNotFoundError
from app.jobs.registry import JobContext
from app.services import Services
from app.workspaces import repository

log = structlog.get_logger(__name__)

SWEEP_BATCH = 100


async def due(session: AsyncSession, settings: GitHubSettings, *, now: datetime) -> list[int]:
    """The workspaces to retire now, at most SWEEP_BATCH, the longest-ended first."""
    cutoff = now - timedelta(days=settings.retention_days)
    return await repository.due_for_retirement(session, ended_before=cutoff, limit=SWEEP_BATCH)


async def retire(context: JobContext[Services], workspace_id: int) -> None:
    """Archive (or delete) the workspace's repository, once."""
    github = context.services.require_github()
    delete = context.services.settings.github.cleanup_enabled
    async with context.database.session_scope() as session:
        workspace = await repository.by_id(session, workspace_id)
        if workspace is None or workspace.retired_at or not workspace.repo_full_name:
            return
        full_name = workspace.repo_full_name
    try:
        if delete:
            await github.delete_repository(full_name)
        else:
            await github.archive_repository(full_name)
    except GitHubNotFoundError:
        log.info("retention.already_gone", repo=full_name)
    async with context.database.session_scope() as session:
        workspace = await repository.by_id(session, workspace_id)
        cs = (
            await candidate_sessions.by_id(session, workspace.candidate_session_id)
            if workspace
            else None
        )
        if workspace is None or cs is None:
            return
        workspace.retired_at = context.clock.now()
        await events.record_for_session(
            session,
            cs,
            type="workspace.deleted" if delete else "workspace.archived",
            actor_type="system",
            data={"repoFullName": full_name},
            occurred_at=workspace.retired_at,
        )
