"""The job queue with in-process workers on a committed database: transactional enqueue,
retries and dead-lettering on a movable clock, de-duplication, periodic ticks, leases,
LISTEN/NOTIFY wake-ups and graceful shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from io import StringIO

import asyncpg
import pytest
from pydantic import BaseModel
from sqlalchemy import func, select, text

from app.core.db import Database
from app.core.settings import JobSettings
from app.jobs.models import Job
from app.jobs.queue import NOTIFY_CHANNEL, enqueue
from app.jobs.registry import (
    JobContext,
    JobRegistry,
    JobType,
    PeriodicJob,
    PermanentJobError,
    RetryLaterError,
)
from app.jobs.repository import LEASE_EXPIRED
from tests.support.jobs import Effect, FakeClock, make_worker, recording_job
from tests.support.logs import json_lines


class Nothing(BaseModel):
    pass


Handler = Callable[[JobContext[object], Nothing], Awaitable[None]]


def _job_type(
    handler: Handler, name: str = "test.job", **policy: object
) -> JobType[object, Nothing]:
    return JobType(name=name, payload=Nothing, handler=handler, **policy)  # type: ignore[arg-type]


def _settings(**overrides: float) -> JobSettings:
    values = {"concurrency": 4, "poll_interval_seconds": 0.2, "lease_seconds": 30.0}
    return JobSettings(_env_file=None, **(values | overrides))


async def _enqueue(
    database: Database, job_type: JobType[object, Nothing], **options: object
) -> int:
    async with database.session_scope() as session:
        return await enqueue(session, job_type, Nothing(), **options)  # type: ignore[arg-type]


async def _job(database: Database, job_id: int) -> Job:
    async with database.session_scope() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def _count_jobs(database: Database) -> int:
    async with database.session_scope() as session:
        return (await session.execute(select(func.count()).select_from(Job))).scalar_one()


async def _wait_for(condition: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _noop(context: JobContext[object], payload: Nothing) -> None:
    return None


# -- enqueue ------------------------------------------------------------------------------


async def test_enqueue_commits_with_the_callers_transaction(jobs_db: Database) -> None:
    job_type = _job_type(_noop)
    await _enqueue(jobs_db, job_type)
    assert await _count_jobs(jobs_db) == 1


async def _enqueue_then_fail(database: Database, job_type: JobType[object, Nothing]) -> None:
    async with database.session_scope() as session:
        await enqueue(session, job_type, Nothing())
        raise RuntimeError("the caller's work failed")


async def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(jobs_db: Database) -> None:
    with pytest.raises(RuntimeError):
        await _enqueue_then_fail(jobs_db, _job_type(_noop))
    assert await _count_jobs(jobs_db) == 0


async def test_workers_are_notified_only_when_the_enqueue_commits(
    jobs_db: Database, jobs_database_url: str
) -> None:
    received: list[str] = []
    listener = await asyncpg.connect(jobs_database_url.replace("+asyncpg", ""))
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: received.append(args[3]))
    try:
        with pytest.raises(RuntimeError):
            await _enqueue_then_fail(jobs_db, _job_type(_noop, name="rolled.back"))
        await _enqueue(jobs_db, _job_type(_noop, name="committed"))
        await _wait_for(lambda: _true_if(received))
    finally:
        await listener.close()
    assert received == ["committed"]


async def _true_if(items: list[str]) -> bool:
    return bool(items)


async def test_dedupe_key_allows_one_waiting_job_per_key(jobs_db: Database) -> None:
    job_type = _job_type(_noop)
    first = await _enqueue(jobs_db, job_type, dedupe_key="session-1")
    again = await _enqueue(jobs_db, job_type, dedupe_key="session-1")
    other = await _enqueue(jobs_db, job_type, dedupe_key="session-2")
    assert again == first
    assert other != first
    assert await _count_jobs(jobs_db) == 2

    await make_worker(jobs_db, JobRegistry.of([job_type]), _settings()).run_until_idle()
    after_success = await _enqueue(jobs_db, job_type, dedupe_key="session-1")
    assert after_success not in (first, other)


async def test_dedupe_enqueue_works_when_the_statement_is_reused(jobs_db: Database) -> None:
    # Regression: with the partial index's predicate sent as parameters, PostgreSQL could
    # not infer the ON CONFLICT arbiter once asyncpg reused the prepared statement.
    job_type = _job_type(_noop)
    async with jobs_db.session_scope() as session:
        ids = [
            await enqueue(session, job_type, Nothing(), dedupe_key=f"key-{n % 4}")
            for n in range(12)
        ]
    assert len(set(ids)) == 4


# -- outcomes, backoff, dead letters ---------------------------------------------------------


async def test_failing_job_backs_off_exponentially_then_dies_with_its_last_error(
    jobs_db: Database,
) -> None:
    clock = FakeClock()
    calls: list[int] = []

    async def flaky(context: JobContext[object], payload: Nothing) -> None:
        calls.append(context.attempt)
        raise ConnectionError(f"GitHub said no (attempt {context.attempt})")

    job_type = _job_type(flaky, max_attempts=3, backoff_base=timedelta(seconds=10))
    worker = make_worker(
        jobs_db, JobRegistry.of([job_type]), _settings(), clock=clock, jitter=lambda: 1.0
    )
    job_id = await _enqueue(jobs_db, job_type, run_at=clock.now())

    await worker.run_until_idle()
    job = await _job(jobs_db, job_id)
    assert (job.state, job.attempts) == ("failed", 1)
    assert job.run_at == clock.now() + timedelta(seconds=10)
    assert job.last_error == "ConnectionError: GitHub said no (attempt 1)"

    await worker.run_until_idle()  # not due yet
    assert calls == [1]

    clock.advance(timedelta(seconds=10))
    await worker.run_until_idle()
    job = await _job(jobs_db, job_id)
    assert (job.state, job.attempts) == ("failed", 2)
    assert job.run_at == clock.now() + timedelta(seconds=20)

    clock.advance(timedelta(seconds=20))
    await worker.run_until_idle()
    job = await _job(jobs_db, job_id)
    assert (job.state, job.attempts) == ("dead", 3)
    assert job.last_error == "ConnectionError: GitHub said no (attempt 3)"
    assert job.finished_at == clock.now()
    assert job.locked_by is None

    clock.advance(timedelta(days=1))
    await worker.run_until_idle()
    assert calls == [1, 2, 3]


async def test_a_deferred_attempt_runs_again_when_asked_and_does_not_count(
    jobs_db: Database,
) -> None:
    clock = FakeClock()
    calls: list[int] = []

    async def waiting(context: JobContext[object], payload: Nothing) -> None:
        calls.append(context.attempt)
        if len(calls) <= 3:
            raise RetryLaterError("not listed yet", at=clock.now() + timedelta(seconds=30))
        raise ConnectionError("GitHub said no")

    job_type = _job_type(waiting, max_attempts=2)
    worker = make_worker(jobs_db, JobRegistry.of([job_type]), _settings(), clock=clock)
    job_id = await _enqueue(jobs_db, job_type, run_at=clock.now())

    for _ in range(3):  # more deferrals than the job has attempts
        await worker.run_until_idle()
        job = await _job(jobs_db, job_id)
        assert (job.state, job.attempts) == ("pending", 0)
        assert job.run_at == clock.now() + timedelta(seconds=30)
        assert job.last_error == "RetryLaterError: not listed yet"
        await worker.run_until_idle()  # not due yet
        clock.advance(timedelta(seconds=30))

    await worker.run_until_idle()
    assert (await _job(jobs_db, job_id)).state == "failed"
    assert calls == [1, 1, 1, 1]  # every deferred attempt was taken back


def test_retry_delay_is_exponential_capped_and_jittered_in_its_upper_half() -> None:
    job_type = _job_type(
        _noop, backoff_base=timedelta(seconds=5), backoff_cap=timedelta(seconds=60)
    )
    assert [job_type.retry_delay(n, lambda: 1.0).total_seconds() for n in (1, 2, 3, 4, 5)] == [
        5,
        10,
        20,
        40,
        60,
    ]
    assert job_type.retry_delay(3, lambda: 0.0) == timedelta(seconds=10)


async def test_permanent_error_and_bad_payload_go_straight_to_dead(jobs_db: Database) -> None:
    async def refuse(context: JobContext[object], payload: Nothing) -> None:
        raise PermanentJobError("the address bounced")

    class Strict(BaseModel):
        count: int

    async def strict(context: JobContext[object], payload: Strict) -> None:
        return None

    refusing = _job_type(refuse, name="test.refuse")
    strict_type = JobType(name="test.strict", payload=Strict, handler=strict)
    refused = await _enqueue(jobs_db, refusing)
    async with jobs_db.session_scope() as session:
        malformed = await enqueue(session, strict_type, Strict(count=1))
        await session.execute(
            text('UPDATE jobs SET payload = \'{"count": "many"}\' WHERE id = :id'),
            {"id": malformed},
        )
    await make_worker(
        jobs_db, JobRegistry.of([refusing, strict_type]), _settings()
    ).run_until_idle()
    assert (await _job(jobs_db, refused)).state == "dead"
    assert (await _job(jobs_db, refused)).last_error == "PermanentJobError: the address bounced"
    bad = await _job(jobs_db, malformed)
    assert bad.state == "dead"
    assert bad.attempts == 1
    assert "ValidationError" in (bad.last_error or "")


async def test_each_attempt_is_logged_with_type_id_attempt_duration_and_outcome(
    jobs_db: Database, log_stream: StringIO
) -> None:
    job_type = _job_type(_noop, name="test.logged")
    job_id = await _enqueue(jobs_db, job_type)
    await make_worker(jobs_db, JobRegistry.of([job_type]), _settings()).run_until_idle()
    [finished] = [line for line in json_lines(log_stream) if line["event"] == "job.finished"]
    assert finished["job_id"] == job_id
    assert finished["job_type"] == "test.logged"
    assert finished["attempt"] == 1
    assert finished["outcome"] == "succeeded"
    assert finished["duration_ms"] >= 0


async def test_job_of_an_unknown_type_is_dead_not_lost(jobs_db: Database) -> None:
    orphan = await _enqueue(jobs_db, _job_type(_noop, name="removed.in.last.release"))
    await make_worker(jobs_db, JobRegistry(), _settings()).run_until_idle()
    job = await _job(jobs_db, orphan)
    assert job.state == "dead"
    assert "no handler" in (job.last_error or "")


async def test_error_text_is_redacted_before_it_is_stored(jobs_db: Database) -> None:
    async def leaky(context: JobContext[object], payload: Nothing) -> None:
        raise RuntimeError("push failed with ghp_abcdefghijklmnopqrstuvwxyz0123456789")

    job_type = _job_type(leaky)
    job_id = await _enqueue(jobs_db, job_type)
    await make_worker(jobs_db, JobRegistry.of([job_type]), _settings()).run_until_idle()
    error = (await _job(jobs_db, job_id)).last_error or ""
    assert "ghp_" not in error
    assert "[REDACTED]" in error


# -- leases -------------------------------------------------------------------------------


async def test_expired_lease_is_claimed_again_and_counts_as_an_attempt(jobs_db: Database) -> None:
    clock = FakeClock()
    job_type = recording_job("second")
    job_id = await _enqueue_effect(jobs_db, job_type, clock)
    async with jobs_db.session_scope() as session:
        # A worker that claimed the job and then vanished.
        await session.execute(
            text(
                "UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'ghost', "
                "locked_until = :until WHERE id = :id"
            ),
            {"until": clock.now() + timedelta(seconds=30), "id": job_id},
        )
    worker = make_worker(jobs_db, JobRegistry.of([job_type]), _settings(), clock=clock)
    await worker.run_until_idle()
    assert (await _job(jobs_db, job_id)).state == "running"  # the lease still holds

    clock.advance(timedelta(seconds=31))
    await worker.run_until_idle()
    job = await _job(jobs_db, job_id)
    assert (job.state, job.attempts) == ("succeeded", 2)
    assert job.last_error == LEASE_EXPIRED


async def test_lease_lost_on_the_last_attempt_makes_the_job_dead(jobs_db: Database) -> None:
    clock = FakeClock()
    job_type = recording_job("second")
    job_id = await _enqueue_effect(jobs_db, job_type, clock)
    async with jobs_db.session_scope() as session:
        await session.execute(
            text(
                "UPDATE jobs SET state = 'running', attempts = max_attempts, locked_by = 'ghost', "
                "locked_until = :until WHERE id = :id"
            ),
            {"until": clock.now() - timedelta(seconds=1), "id": job_id},
        )
    await make_worker(
        jobs_db, JobRegistry.of([job_type]), _settings(), clock=clock
    ).run_until_idle()
    job = await _job(jobs_db, job_id)
    assert job.state == "dead"
    assert job.last_error == LEASE_EXPIRED


async def test_renewed_lease_keeps_a_long_job_from_running_twice(jobs_db: Database) -> None:
    started: list[int] = []

    async def slow(context: JobContext[object], payload: Nothing) -> None:
        started.append(context.attempt)
        await asyncio.sleep(2.0)

    job_type = _job_type(slow)
    registry = JobRegistry.of([job_type])
    short_lease = _settings(lease_seconds=0.6, poll_interval_seconds=0.1)
    job_id = await _enqueue(jobs_db, job_type)
    first, second = (
        make_worker(jobs_db, registry, short_lease),
        make_worker(jobs_db, registry, short_lease),
    )
    async with first.running(), second.running():
        await _wait_for(lambda: _job_in_state(jobs_db, job_id, "succeeded"))
    assert started == [1]


async def _job_in_state(database: Database, job_id: int, state: str) -> bool:
    return (await _job(database, job_id)).state == state


async def _enqueue_effect(
    database: Database, job_type: JobType[object, Effect], clock: FakeClock
) -> int:
    async with database.session_scope() as session:
        return await enqueue(session, job_type, Effect(marker="m"), run_at=clock.now())


# -- waking and stopping ------------------------------------------------------------------


async def test_notify_wakes_an_idle_worker_long_before_its_poll_interval(
    jobs_db: Database,
) -> None:
    job_type = _job_type(_noop)
    worker = make_worker(jobs_db, JobRegistry.of([job_type]), _settings(poll_interval_seconds=60))
    async with worker.running():
        await asyncio.sleep(0.5)  # listening and idle
        job_id = await _enqueue(jobs_db, job_type)
        await _wait_for(lambda: _job_in_state(jobs_db, job_id, "succeeded"), within=5)


async def test_polling_finds_jobs_that_arrive_without_a_notification(jobs_db: Database) -> None:
    job_type = _job_type(_noop)
    worker = make_worker(jobs_db, JobRegistry.of([job_type]), _settings(poll_interval_seconds=0.2))
    async with worker.running():
        await asyncio.sleep(0.3)
        async with jobs_db.session_scope() as session:
            job_id = (
                await session.execute(
                    text("INSERT INTO jobs (type) VALUES ('test.job') RETURNING id")
                )
            ).scalar_one()
        await _wait_for(lambda: _job_in_state(jobs_db, job_id, "succeeded"), within=5)


async def test_shutdown_lets_short_jobs_finish_and_releases_long_ones(jobs_db: Database) -> None:
    started = asyncio.Event()
    running = 0

    async def short(context: JobContext[object], payload: Nothing) -> None:
        nonlocal running
        running += 1
        if running == 2:
            started.set()
        await asyncio.sleep(0.2)

    async def long(context: JobContext[object], payload: Nothing) -> None:
        nonlocal running
        running += 1
        if running == 2:
            started.set()
        await asyncio.sleep(60)

    short_type, long_type = _job_type(short, name="test.short"), _job_type(long, name="test.long")
    short_id = await _enqueue(jobs_db, short_type)
    long_id = await _enqueue(jobs_db, long_type)
    worker = make_worker(
        jobs_db, JobRegistry.of([short_type, long_type]), _settings(shutdown_grace_seconds=1.0)
    )
    async with worker.running():
        await asyncio.wait_for(started.wait(), 5)
    assert (await _job(jobs_db, short_id)).state == "succeeded"
    released = await _job(jobs_db, long_id)
    assert (released.state, released.attempts, released.locked_by) == ("pending", 0, None)


# -- periodic jobs --------------------------------------------------------------------------


async def test_periodic_job_runs_once_per_tick_with_three_workers(jobs_db: Database) -> None:
    clock = FakeClock()
    ticks: list[str] = []

    async def sweep(context: JobContext[object], payload: Nothing) -> None:
        ticks.append(context.clock.now().isoformat())

    registry = JobRegistry.of(
        [], periodic=[PeriodicJob(_job_type(sweep, name="test.sweep"), timedelta(minutes=1))]
    )
    workers = [make_worker(jobs_db, registry, _settings(), clock=clock) for _ in range(3)]
    for _ in range(4):
        for _ in range(3):  # every worker checks several times within the tick
            await asyncio.gather(*(worker.schedule_periodic() for worker in workers))
        await asyncio.gather(*(worker.run_until_idle() for worker in workers))
        clock.advance(timedelta(seconds=30))
        await asyncio.gather(*(worker.schedule_periodic() for worker in workers))  # not due
        clock.advance(timedelta(seconds=30))
    assert len(ticks) == 4
    assert len(set(ticks)) == 4
