"""The workspaces' jobs: provisioning a repository, taking push access away, retention
(a periodic sweep and one job per repository), and the `push` webhook's handler. The work
itself is in `provisioning`, `access`, `retention` and `commits`."""

from __future__ import annotations

from datetime import timedelta

import structlog
from pydantic import BaseModel, ValidationError

from app.core.schemas import ApiModel
from app.integrations.github.schemas import PushEvent
from app.integrations.github.webhooks import WebhookEvent
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType, PeriodicJob, PermanentJobError
from app.services import Services
from app.workspaces import access, commits, provisioning, retention

log = structlog.get_logger(__name__)

RETENTION_SWEEP_EVERY = timedelta(hours=1)
# Archiving is a content-changing request: GitHub allows ~80 a minute.
RETIRE_SPACING = timedelta(seconds=2)


class WorkspaceRef(ApiModel):
    workspace_id: int


class SessionRef(ApiModel):
    candidate_session_id: int


class Sweep(BaseModel):
    pass


async def _provision(context: JobContext[Services], ref: WorkspaceRef) -> None:
    await provisioning.provision(context, ref.workspace_id)


async def _revoke(context: JobContext[Services], ref: SessionRef) -> None:
    await access.revoke(context, ref.candidate_session_id)


async def _sweep(context: JobContext[Services], _: Sweep) -> None:
    now = context.clock.now()
    async with context.database.session_scope() as session:
        due = await retention.due(session, context.services.settings.github, now=now)
        for position, workspace_id in enumerate(due):
            await enqueue(
                session,
                RETIRE_REPOSITORY,
                WorkspaceRef(workspace_id=workspace_id),
                run_at=now + RETIRE_SPACING * position,
                dedupe_key=f"retire:{workspace_id}",
            )
    if due:
        log.info("retention.queued", repositories=len(due))


async def _retire(context: JobContext[Services], ref: WorkspaceRef) -> None:
    await retention.retire(context, ref.workspace_id)


async def track_push(context: JobContext[Services], event: WebhookEvent) -> None:
    """The `push` webhook handler: a push to a workspace's default branch refreshes its
    latest commit; pushes to other branches and other repositories are ignored."""
    try:
        push = PushEvent.model_validate(event.payload)
    except ValidationError as exc:
        raise PermanentJobError("The push payload lacks ref, before, after or repository.") from exc
    await commits.follow_push(context, push, delivery_id=event.delivery_id)


PROVISION_WORKSPACE = JobType(
    name="workspaces.provision", payload=WorkspaceRef, handler=_provision, max_attempts=8
)
REVOKE_ACCESS = JobType(
    name="workspaces.revoke_access", payload=SessionRef, handler=_revoke, max_attempts=10
)
RETENTION_SWEEP_JOB = JobType(name="retention.sweep", payload=Sweep, handler=_sweep, max_attempts=3)
RETENTION_SWEEP = PeriodicJob(RETENTION_SWEEP_JOB, RETENTION_SWEEP_EVERY)
RETIRE_REPOSITORY = JobType(
    name="retention.retire_repository", payload=WorkspaceRef, handler=_retire, max_attempts=8
)
