"""Retention: repositories of sessions that ended more than TENON_GITHUB_RETENTION_DAYS
ago are archived (or deleted with TENON_GITHUB_CLEANUP_ENABLED), by a periodic sweep that
spaces the GitHub calls out."""

from __future__ import annotations

from datetime import timedelta

import structlog
from pydantic import BaseModel
from sqlalchemy import func, select

from app.candidate_sessions.models import CandidateSession
from app.core.schemas import ApiModel
from app.events import service as events
from app.integrations.github.errors import GitHubNotFoundError
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType, PeriodicJob
from app.services import Services
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)

SWEEP_EVERY = timedelta(hours=1)
SWEEP_BATCH = 100
# Archiving is a content-changing request: GitHub allows ~80 a minute.
SPACING = timedelta(seconds=2)


class Sweep(BaseModel):
    pass


class WorkspaceRef(ApiModel):
    workspace_id: int


async def _sweep(context: JobContext[Services], _: Sweep) -> None:
    now = context.clock.now()
    cutoff = now - timedelta(days=context.services.settings.github.retention_days)
    ended_at = func.coalesce(CandidateSession.completed_at, CandidateSession.expires_at)
    async with context.database.session_scope() as session:
        statement = (
            select(Workspace.id)
            .join(CandidateSession, CandidateSession.id == Workspace.candidate_session_id)
            .where(
                Workspace.repo_full_name.is_not(None),
                Workspace.retired_at.is_(None),
                CandidateSession.status.in_(("completed", "expired")),
                ended_at < cutoff,
            )
            .order_by(ended_at)
            .limit(SWEEP_BATCH)
        )
        due = list(await session.scalars(statement))
        for position, workspace_id in enumerate(due):
            await enqueue(
                session,
                RETIRE_REPOSITORY,
                WorkspaceRef(workspace_id=workspace_id),
                run_at=now + SPACING * position,
                dedupe_key=f"retire:{workspace_id}",
            )
    if due:
        log.info("retention.queued", repositories=len(due))


async def _retire(context: JobContext[Services], ref: WorkspaceRef) -> None:
    github = context.services.require_github()
    delete = context.services.settings.github.cleanup_enabled
    async with context.database.session_scope() as session:
        workspace = await session.get(Workspace, ref.workspace_id)
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
        workspace = await session.get(Workspace, ref.workspace_id)
        cs = (
            await session.get(CandidateSession, workspace.candidate_session_id)
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


RETENTION_SWEEP_JOB = JobType(name="retention.sweep", payload=Sweep, handler=_sweep, max_attempts=3)
RETENTION_SWEEP = PeriodicJob(RETENTION_SWEEP_JOB, SWEEP_EVERY)
RETIRE_REPOSITORY = JobType(
    name="retention.retire_repository", payload=WorkspaceRef, handler=_retire, max_attempts=8
)
