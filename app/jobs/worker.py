"""The job worker: claims due jobs, runs them with bounded concurrency under a renewed
lease, records outcomes with backoff or dead-lettering, enqueues periodic jobs, and shuts
down gracefully.

Idle workers sleep on PostgreSQL LISTEN; a NOTIFY from a committed enqueue wakes them at
once. Polling every `poll_interval_seconds` is the fallback if the listening connection
is lost.

A database outage stops nothing for good: claiming backs off (up to a few seconds, so the
heartbeat keeps turning) and resumes when the database answers again; a finished job's
outcome is retried for as long as this worker's lease could still hold, so a job that ran
is not run again only because its result could not be written at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Generic, Literal, TypeVar

import structlog
from pydantic import ValidationError

from app.core.clock import Clock, SystemClock
from app.core.db import Database
from app.core.logging import redact_text
from app.core.metrics import Metrics
from app.core.pg_listen import PgListener
from app.core.settings import JobSettings
from app.jobs import repository
from app.jobs.heartbeat import Heartbeat
from app.jobs.models import Job
from app.jobs.queue import NOTIFY_CHANNEL, enqueue
from app.jobs.registry import JobContext, JobRegistry, PermanentJobError, RetryLaterError

log = structlog.get_logger(__name__)

# "deferred": the handler asked to run again later (`RetryLaterError`); the attempt does not count.
Outcome = Literal["succeeded", "failed", "deferred", "dead"]
S = TypeVar("S")

MAX_ERROR_LENGTH = 4000
PERIODIC_CHECK_SECONDS = 1.0
# Longest pause between claims while the database is away: well inside the heartbeat's limit
# (poll interval + lease), and short enough to resume promptly.
MAX_CLAIM_BACKOFF_SECONDS = 10.0
# First and longest pause between attempts to record an outcome while the database is away.
RECORD_RETRY_SECONDS = (0.5, 5.0)


def _error_text(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")[:MAX_ERROR_LENGTH]


class Worker(Generic[S]):
    """Runs the jobs of `registry`, handing each handler `services`."""

    def __init__(
        self,
        database: Database,
        registry: JobRegistry[S],
        settings: JobSettings,
        *,
        services: S,
        metrics: Metrics,
        clock: Clock | None = None,
        worker_id: str | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.database = database
        self.registry = registry
        self.settings = settings
        self.services = services
        self.metrics = metrics
        self.clock = clock or SystemClock()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._jitter = jitter
        self._running: dict[int, asyncio.Task[None]] = {}
        self._failed_claims = 0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listener = PgListener(database.listen_url, NOTIFY_CHANNEL, self._on_notify)
        self._heartbeat = Heartbeat(settings.heartbeat_file)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run in the background for the duration; stop gracefully on exit."""
        task = asyncio.create_task(self.run())
        try:
            yield
        finally:
            self.request_stop()
            await task

    def request_stop(self) -> None:
        """Stop claiming; `run` then lets running jobs finish within the grace period."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        log.info("jobs.worker.started", worker_id=self.worker_id)
        background = [
            asyncio.create_task(self._renew_leases_forever()),
            asyncio.create_task(self._schedule_periodic_forever()),
        ]
        try:
            while not self._stopping.is_set():
                self._heartbeat.beat()
                await self._listener.ensure()
                self._wake.clear()
                free = self.settings.concurrency - len(self._running)
                claimed = await self._claim(free) if free > 0 else []
                for job in claimed:
                    self._start(job)
                if self._failed_claims:
                    await self._back_off()
                elif len(claimed) < free or free <= 0:
                    await self._sleep_until_woken()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self._drain()
            await self._listener.close()
            self._heartbeat.stop()
            log.info("jobs.worker.stopped", worker_id=self.worker_id)

    async def run_until_idle(self) -> None:
        """Run every job that is due now, then return (tests and one-off draining)."""
        while claimed := await self._claim(self.settings.concurrency):
            await asyncio.gather(*(self._execute(job) for job in claimed))

    async def schedule_periodic(self) -> None:
        """Enqueue each periodic job whose tick has come, once across all workers."""
        for schedule in self.registry.periodic:
            now = self.clock.now()
            name = schedule.job_type.name
            async with self.database.session_scope() as session:
                won = await repository.advance_schedule(
                    session, name, now=now, next_run_at=now + schedule.every
                )
                if won:
                    await enqueue(
                        session,
                        schedule.job_type,
                        schedule.job_type.payload(),
                        run_at=now,
                        dedupe_key=f"periodic:{name}",
                    )
            if won:
                log.info("jobs.periodic.enqueued", job_type=name)

    # -- claiming and running ------------------------------------------------------------

    async def _claim(self, limit: int) -> list[Job]:
        now = self.clock.now()
        try:
            async with self.database.session_scope() as session:
                jobs = await repository.claim(
                    session,
                    worker_id=self.worker_id,
                    limit=limit,
                    now=now,
                    lease_until=now + self.lease,
                )
        except Exception as exc:  # the database being away must not kill the worker
            self._failed_claims += 1
            log.warning(
                "jobs.claim_failed", error=_error_text(exc), failures_in_a_row=self._failed_claims
            )
            return []
        if self._failed_claims:
            log.info("jobs.claim_recovered", failures_in_a_row=self._failed_claims)
            self._failed_claims = 0
        return list(jobs)

    async def _back_off(self) -> None:
        """Wait longer after each failed claim in a row; a stop request ends the wait."""
        exponent = min(self._failed_claims - 1, 8)
        delay = min(self.settings.poll_interval_seconds * 2**exponent, MAX_CLAIM_BACKOFF_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    def _start(self, job: Job) -> None:
        task = asyncio.create_task(self._execute(job))
        self._running[job.id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._running.pop(job.id, None)
            self._wake.set()

        task.add_done_callback(done)

    async def _execute(self, job: Job) -> None:
        with structlog.contextvars.bound_contextvars(
            job_id=job.id, job_type=job.type, attempt=job.attempts
        ):
            started = time.perf_counter()
            outcome, error, deferred_to = await self._attempt(job)
            await self._record(job, outcome, error, deferred_to)
            self.metrics.job_attempts.labels(job.type, outcome).inc()
            emit = {
                "succeeded": log.info,
                "failed": log.warning,
                "deferred": log.info,
                "dead": log.error,
            }[outcome]
            emit(
                "job.finished",
                outcome=outcome,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                error=error,
            )

    async def _attempt(self, job: Job) -> tuple[Outcome, str | None, datetime | None]:
        """The attempt's outcome, its error, and when a deferred job runs again."""
        job_type = self.registry.get(job.type)
        if job_type is None:
            return "dead", f"no handler is registered for job type {job.type!r}", None
        if job.attempts > job.max_attempts:
            # Its last allowed attempt was lost with a worker (the claim noted the expiry).
            return "dead", job.last_error, None
        context = JobContext(
            database=self.database,
            clock=self.clock,
            services=self.services,
            job_id=job.id,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
        )
        try:
            await job_type.run(context, job.payload)
        except RetryLaterError as exc:
            return "deferred", _error_text(exc), exc.at
        except (PermanentJobError, ValidationError) as exc:
            return "dead", _error_text(exc), None
        except Exception as exc:
            log.debug("job.attempt_failed", exc_info=exc)
            if job.attempts >= job.max_attempts:
                return "dead", _error_text(exc), None
            return "failed", _error_text(exc), None
        return "succeeded", None, None

    async def _record(
        self, job: Job, outcome: Outcome, error: str | None, deferred_to: datetime | None
    ) -> None:
        now = self.clock.now()
        retry_at: datetime | None = deferred_to
        if outcome == "failed":
            job_type = self.registry.get(job.type)
            assert job_type is not None
            retry_at = now + job_type.retry_delay(job.attempts, self._jitter)
        # While the lease may still hold, no other worker can take the job: keep trying to
        # write its outcome until then. Past it, another worker may be running it already.
        give_up_at = time.monotonic() + self.settings.lease_seconds
        delay, max_delay = RECORD_RETRY_SECONDS
        while True:
            try:
                async with self.database.session_scope() as session:
                    kept = await repository.finish(
                        session,
                        job.id,
                        worker_id=self.worker_id,
                        now=now,
                        state="pending" if outcome == "deferred" else outcome,
                        error=error,
                        retry_at=retry_at,
                        count_attempt=outcome != "deferred",
                    )
                break
            except Exception as exc:
                if time.monotonic() + delay > give_up_at:
                    # The lease will run out and another worker will run the job again.
                    log.error("job.record_failed", error=_error_text(exc))
                    return
                log.warning("job.record_retrying", error=_error_text(exc), in_seconds=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay)
        if not kept:
            log.warning("job.lease_lost", outcome=outcome)

    # -- leases, periodic jobs, waking -----------------------------------------------------

    async def _renew_leases_forever(self) -> None:
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            held = list(self._running)
            if not held:
                continue
            try:
                async with self.database.session_scope() as session:
                    kept = await repository.extend_leases(
                        session,
                        held,
                        worker_id=self.worker_id,
                        until=self.clock.now() + self.lease,
                    )
            except Exception as exc:
                log.warning("jobs.lease_renewal_failed", error=_error_text(exc))
                continue
            for job_id in set(held) - kept:
                log.warning("job.lease_lost", job_id=job_id)

    async def _schedule_periodic_forever(self) -> None:
        if not self.registry.periodic:
            return
        while True:
            try:
                await self.schedule_periodic()
            except Exception as exc:
                log.warning("jobs.periodic_failed", error=_error_text(exc))
            await asyncio.sleep(PERIODIC_CHECK_SECONDS)

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval_seconds)

    def _on_notify(self, _payload: str) -> None:
        self._wake.set()

    async def _drain(self) -> None:
        """Let running jobs finish within the grace period; release the rest."""
        if not self._running:
            return
        tasks = list(self._running.values())
        _, unfinished = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_seconds)
        if not unfinished:
            return
        interrupted = [job_id for job_id, task in self._running.items() if task in unfinished]
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        try:
            async with self.database.session_scope() as session:
                await repository.release(
                    session, interrupted, worker_id=self.worker_id, now=self.clock.now()
                )
        except Exception as exc:
            # Their leases run out instead, and another worker takes them then.
            log.warning("jobs.worker.release_failed", job_ids=interrupted, error=_error_text(exc))
            return
        log.warning("jobs.worker.released", job_ids=interrupted)
