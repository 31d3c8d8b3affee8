"""Enqueueing jobs inside the caller's transaction.

The job row and the wake-up notification are part of the caller's transaction: if it rolls
back there is no job, and idle workers are only woken (NOTIFY is delivered at commit) when
there is one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import literal_predicate
from app.jobs.models import CLAIMABLE_JOB_STATES, Job
from app.jobs.registry import JobType

NOTIFY_CHANNEL = "tenon_jobs"

P = TypeVar("P", bound=BaseModel)

log = structlog.get_logger(__name__)


async def enqueue(
    session: AsyncSession,
    job_type: JobType[Any, P],
    payload: P,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Add a job to the caller's transaction and return its id. With a `dedupe_key` that
    already has a job waiting to run, nothing is added and that job's id is returned."""
    values: dict[str, Any] = {
        "type": job_type.name,
        "payload": payload.model_dump(mode="json", by_alias=True),
        "max_attempts": job_type.max_attempts,
        "dedupe_key": dedupe_key,
    }
    if run_at is not None:
        values["run_at"] = run_at
    if dedupe_key is None:
        job_id: int = (
            await session.execute(insert(Job).values(**values).returning(Job.id))
        ).scalar_one()
    else:
        waiting_states = Job.state.in_(CLAIMABLE_JOB_STATES)
        statement = (
            insert(Job)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[Job.dedupe_key], index_where=literal_predicate(waiting_states)
            )
            .returning(Job.id)
        )
        waiting = select(Job.id).where(Job.dedupe_key == dedupe_key, waiting_states)
        # The waiting job can be claimed between our insert and our look-up; then the
        # insert succeeds on the next round.
        while True:
            inserted = (await session.execute(statement)).scalar_one_or_none()
            if inserted is not None:
                job_id = inserted
                break
            existing = (await session.execute(waiting)).scalar_one_or_none()
            if existing is not None:
                log.info("job.deduplicated", job_type=job_type.name, job_id=existing)
                return existing
    await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, job_type.name)))
    log.info("job.enqueued", job_type=job_type.name, job_id=job_id)
    return job_id


async def notify_workers(session: AsyncSession) -> None:
    """Wake idle workers at commit (after jobs were made runnable other than by enqueue)."""
    await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


async def latest_waiting_run_at(
    session: AsyncSession, job_type: JobType[Any, Any]
) -> datetime | None:
    """When the last waiting job of this type is due (for spacing out bulk work)."""
    statement = select(func.max(Job.run_at)).where(
        Job.type == job_type.name, Job.state.in_(CLAIMABLE_JOB_STATES)
    )
    return (await session.execute(statement)).scalar_one_or_none()
