"""Operator actions on jobs: list them, retry a failed or dead one; the queue's gauges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import ConflictError, NotFoundError
from app.core.metrics import JobQueueSnapshot
from app.core.pagination import Page
from app.jobs import repository
from app.jobs.models import JOB_STATES, JobState
from app.jobs.queue import notify_workers
from app.jobs.schemas import JobOut

log = structlog.get_logger(__name__)

RETRYABLE_STATES: tuple[JobState, ...] = ("failed", "dead")


async def list_jobs(
    session: AsyncSession,
    *,
    states: Sequence[JobState],
    job_type: str | None,
    limit: int,
    cursor: int | None,
) -> Page[JobOut]:
    jobs, total = await repository.list_jobs(
        session, states=states, job_type=job_type, limit=limit, before_id=cursor
    )
    items = [JobOut.model_validate(job) for job in jobs]
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return Page[JobOut](items=items, total=total, next_cursor=next_cursor)


async def retry_job(session: AsyncSession, job_id: int, clock: Clock) -> JobOut:
    """Run a failed or dead job again now, with a fresh set of attempts."""
    job = await repository.get_for_update(session, job_id)
    if job is None:
        raise NotFoundError("No such job.", code="JOB_NOT_FOUND")
    if job.state not in RETRYABLE_STATES:
        raise ConflictError(
            f"Only failed or dead jobs can be retried; this one is {job.state}.",
            code="JOB_NOT_RETRYABLE",
        )
    job.state = "pending"
    job.attempts = 0
    job.run_at = clock.now()
    job.finished_at = None
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            "Another job with the same de-duplication key is already waiting.",
            code="JOB_DUPLICATE_PENDING",
        ) from exc
    await notify_workers(session)
    log.info("job.retry_requested", job_id=job.id, job_type=job.type)
    return JobOut.model_validate(job)


async def queue_snapshot(session: AsyncSession, *, now: datetime) -> JobQueueSnapshot:
    """Jobs per type and state (every state of every type seen), and the oldest wait."""
    rows = await repository.count_by_type_and_state(session)
    counts = {(job_type, state): count for job_type, state, count in rows}
    types = {job_type for job_type, _ in counts}
    oldest = await repository.oldest_waiting_run_at(session, now)
    return JobQueueSnapshot(
        jobs={(t, state): counts.get((t, state), 0) for t in types for state in JOB_STATES},
        oldest_waiting_seconds=(now - oldest).total_seconds() if oldest is not None else 0.0,
    )
