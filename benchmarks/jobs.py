"""Job queue benchmark: throughput of no-op jobs with 1, 2 and 4 worker processes, and
enqueue-to-start latency of an idle worker woken by LISTEN/NOTIFY.

    .venv/bin/python -m benchmarks.jobs [--database-url URL] [--jobs 3000] [--samples 200]

Without --database-url (or TENON_BENCH_DATABASE_URL) an embedded PostgreSQL is started in
a temporary folder. A scratch database is created, migrated and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import Database, async_url
from app.core.embedded_postgres import EmbeddedPostgres
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.migrations import upgrade_to_head
from app.core.settings import DatabaseSettings, JobSettings
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobRegistry, JobType
from app.jobs.worker import Worker

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
WORKER_CONCURRENCY = 8


class Empty(BaseModel):
    pass


async def _nothing(context: JobContext[None], payload: Empty) -> None:
    return None


NOOP = JobType(name="bench.noop", payload=Empty, handler=_nothing)


def _worker(database: Database, registry: JobRegistry[None]) -> Worker[None]:
    # The queue's own cost: the job needs no services.
    return Worker(database, registry, _job_settings(), services=None, metrics=Metrics())


def _job_settings() -> JobSettings:
    return JobSettings(
        _env_file=None,
        concurrency=WORKER_CONCURRENCY,
        poll_interval_seconds=1.0,
        lease_seconds=60,
        shutdown_grace_seconds=5,
    )


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _run_worker_process(url: str) -> None:
    database = Database.connect(url, DatabaseSettings(_env_file=None))
    worker = _worker(database, JobRegistry.of([NOOP]))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.request_stop)
    try:
        await worker.run()
    finally:
        await database.dispose()


async def _count_done(database: Database) -> int:
    async with database.session_scope() as session:
        result = await session.execute(text("SELECT count(*) FROM jobs WHERE state = 'succeeded'"))
        return int(result.scalar_one())


async def throughput(url: str, workers: int, jobs: int) -> float:
    database = Database.connect(url, DatabaseSettings(_env_file=None))
    async with database.session_scope() as session:
        await session.execute(text("TRUNCATE jobs"))
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.jobs",
            "--worker",
            url,
            cwd=REPOSITORY_ROOT,
            env={**os.environ, "TENON_LOG_LEVEL": "WARNING"},
        )
        for _ in range(workers)
    ]
    try:
        await asyncio.sleep(3)  # let every worker start and go idle on LISTEN
        async with database.session_scope() as session:
            for _ in range(jobs):
                await enqueue(session, NOOP, Empty())
        started = time.perf_counter()  # from the commit that makes them visible
        while True:
            if await _count_done(database) >= jobs:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        await asyncio.gather(*(process.wait() for process in processes))
        await database.dispose()
    return jobs / elapsed


async def latency(url: str, samples: int) -> list[float]:
    """Seconds from the enqueueing commit to the handler starting, worker idle each time."""
    database = Database.connect(url, DatabaseSettings(_env_file=None))
    started_at: dict[int, float] = {}
    started: dict[int, asyncio.Event] = {}

    async def record(context: JobContext[None], payload: Empty) -> None:
        started_at[context.job_id] = time.perf_counter()
        started[context.job_id].set()

    probe = JobType(name="bench.probe", payload=Empty, handler=record)
    worker = _worker(database, JobRegistry.of([probe]))
    delays: list[float] = []
    try:
        async with worker.running():
            await asyncio.sleep(1)
            for _ in range(samples):
                async with database.session_scope() as session:
                    job_id = await enqueue(session, probe, Empty())
                    started[job_id] = asyncio.Event()
                committed = time.perf_counter()
                await started[job_id].wait()
                delays.append(started_at[job_id] - committed)
                await asyncio.sleep(0.02)  # idle again before the next sample
    finally:
        await database.dispose()
    return delays


async def main(server_url: str, jobs: int, samples: int) -> None:
    name = f"tenon_bench_{os.getpid()}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = async_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        print(f"no-op jobs: {jobs}; worker concurrency {WORKER_CONCURRENCY}")
        for workers in (1, 2, 4):
            rate = await throughput(url, workers, jobs)
            print(f"throughput, {workers} worker process(es): {rate:,.0f} jobs/s")
        delays = sorted(await latency(url, samples))
        p99 = delays[min(len(delays) - 1, round(0.99 * len(delays)) - 1)]
        print(
            f"enqueue-to-start latency over {samples} samples: "
            f"median {statistics.median(delays) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli() -> None:
    configure_logging(json=False, level="WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TENON_BENCH_DATABASE_URL"))
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(_run_worker_process(args.worker))
        return
    if args.database_url:
        asyncio.run(main(args.database_url, args.jobs, args.samples))
        return
    scratch = tempfile.mkdtemp(prefix="tenon-bench-pg-")
    embedded = EmbeddedPostgres(Path(scratch))
    try:
        asyncio.run(main(embedded.start(), args.jobs, args.samples))
    finally:
        embedded.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    cli()
