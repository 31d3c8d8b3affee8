"""Every query on the jobs and periodic_schedules tables.

Transitions of a claimed job are guarded by `locked_by`: a worker that lost its lease (it
was too slow to renew it and another worker took the job) cannot overwrite the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.jobs.models import CLAIMABLE_JOB_STATES, Job, JobState, PeriodicSchedule

LEASE_EXPIRED = "lease expired: the worker running this attempt stopped answering"


async def claim(
    session: AsyncSession, *, worker_id: str, limit: int, now: datetime, lease_until: datetime
) -> Sequence[Job]:
    """Lock up to `limit` due jobs (and jobs whose worker's lease ran out) for this worker."""
    due = or_(
        and_(Job.state.in_(CLAIMABLE_JOB_STATES), Job.run_at <= now),
        and_(Job.state == "running", Job.locked_until < now),
    )
    # Two statements, not `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP
    # LOCKED)`: PostgreSQL may evaluate such a subquery more than once and so claim more than
    # `limit` jobs (seen as two jobs running at once with a concurrency of one).
    ids = (
        await session.scalars(
            select(Job.id)
            .where(due)
            .order_by(Job.run_at, Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not ids:
        return []
    statement = (
        update(Job)
        .where(Job.id.in_(ids))
        .values(
            state="running",
            attempts=Job.attempts + 1,
            locked_by=worker_id,
            locked_until=lease_until,
            updated_at=now,
            last_error=case((Job.state == "running", LEASE_EXPIRED), else_=Job.last_error),
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalars(statement)).all()


async def finish(
    session: AsyncSession,
    job_id: int,
    *,
    worker_id: str,
    now: datetime,
    state: JobState,
    error: str | None = None,
    retry_at: datetime | None = None,
    count_attempt: bool = True,
) -> bool:
    """Record the outcome of this worker's attempt; False if the job is no longer ours. An
    attempt that does not count (a deferral) is taken back from `attempts`."""
    values: dict[str, object] = {
        "state": state,
        "locked_by": None,
        "locked_until": None,
        "updated_at": now,
    }
    if not count_attempt:
        values["attempts"] = Job.attempts - 1
    if error is not None:
        values["last_error"] = error
    if retry_at is not None:
        values["run_at"] = retry_at
    else:
        values["finished_at"] = now
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.state == "running")
        .values(**values)
        .returning(Job.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def extend_leases(
    session: AsyncSession, job_ids: Sequence[int], *, worker_id: str, until: datetime
) -> set[int]:
    """Renew this worker's leases; returns the ids it still holds."""
    statement = (
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.state == "running")
        .values(locked_until=until)
        .returning(Job.id)
    )
    return set((await session.scalars(statement)).all())


async def release(
    session: AsyncSession, job_ids: Sequence[int], *, worker_id: str, now: datetime
) -> None:
    """Hand unfinished jobs back at shutdown; the interrupted attempt does not count."""
    await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.state == "running")
        .values(
            state="pending",
            attempts=Job.attempts - 1,
            locked_by=None,
            locked_until=None,
            run_at=now,
            updated_at=now,
        )
    )


async def list_jobs(
    session: AsyncSession,
    *,
    states: Sequence[JobState],
    job_type: str | None,
    limit: int,
    before_id: int | None,
) -> tuple[Sequence[Job], int]:
    """Newest first, keyset-paginated by id, with the total matching count."""
    filters: list[ColumnElement[bool]] = []
    if states:
        filters.append(Job.state.in_(states))
    if job_type:
        filters.append(Job.type == job_type)
    total = (
        await session.execute(select(func.count()).select_from(Job).where(*filters))
    ).scalar_one()
    page = select(Job).where(*filters).order_by(Job.id.desc()).limit(limit)
    if before_id is not None:
        page = page.where(Job.id < before_id)
    return (await session.scalars(page)).all(), total


async def count_by_type_and_state(session: AsyncSession) -> Sequence[tuple[str, JobState, int]]:
    statement = select(Job.type, Job.state, func.count()).group_by(Job.type, Job.state)
    return [(job_type, state, count) for job_type, state, count in await session.execute(statement)]


async def oldest_waiting_run_at(session: AsyncSession, now: datetime) -> datetime | None:
    """When the longest-waiting due job became due; None when no due job waits."""
    statement = select(func.min(Job.run_at)).where(
        Job.state.in_(CLAIMABLE_JOB_STATES), Job.run_at <= now
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get_for_update(session: AsyncSession, job_id: int) -> Job | None:
    return await session.get(Job, job_id, with_for_update=True)


async def advance_schedule(
    session: AsyncSession, name: str, *, now: datetime, next_run_at: datetime
) -> bool:
    """Move a periodic schedule to its next tick if it is due. Of several workers racing
    for the same tick, exactly one gets True: the row lock serialises them, and the others
    then see a `next_run_at` in the future."""
    await session.execute(
        insert(PeriodicSchedule)
        .values(name=name, next_run_at=now)
        .on_conflict_do_nothing(index_elements=[PeriodicSchedule.name])
    )
    statement = (
        update(PeriodicSchedule)
        .where(PeriodicSchedule.name == name, PeriodicSchedule.next_run_at <= now)
        .values(next_run_at=next_run_at, last_run_at=now)
        .returning(PeriodicSchedule.name)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
