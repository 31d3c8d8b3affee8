"""The job queue across real worker processes: every job done once, and a worker killed
with SIGKILL mid-job loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from app.core.db import Database
from app.jobs.queue import enqueue
from tests.support.cli import stop
from tests.support.jobs import Effect, recording_job
from tests.support.paths import REPOSITORY_ROOT


@contextmanager
def worker_process(
    url: str, worker_id: str, lease_seconds: float
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.job_worker", url, worker_id, str(lease_seconds)],
        cwd=REPOSITORY_ROOT,
        env={**os.environ, "TENON_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        stop(process)


async def _scalar(database: Database, sql: str, **params: object) -> object:
    async with database.session_scope() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def _wait_until(database: Database, sql: str, within: float, **params: object) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await _scalar(database, sql, **params):
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for: {sql}"
        await asyncio.sleep(0.1)


async def test_three_worker_processes_run_every_job_exactly_once(
    jobs_db: Database, jobs_database_url: str
) -> None:
    job_type = recording_job("enqueuer")
    total = 300
    async with jobs_db.session_scope() as session:
        for number in range(total):
            await enqueue(session, job_type, Effect(marker=str(number), sleep_seconds=0.005))

    with (
        worker_process(jobs_database_url, "w1", 30) as first,
        worker_process(jobs_database_url, "w2", 30) as second,
        worker_process(jobs_database_url, "w3", 30) as third,
    ):
        await _wait_until(
            jobs_db,
            "SELECT count(*) = :total FROM jobs WHERE state = 'succeeded'",
            within=90,
            total=total,
        )
        for process in (first, second, third):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""

    assert await _scalar(jobs_db, "SELECT count(*) FROM test_job_effects") == total
    assert await _scalar(jobs_db, "SELECT count(DISTINCT job_id) FROM test_job_effects") == total
    assert await _scalar(jobs_db, "SELECT count(DISTINCT marker) FROM test_job_effects") == total
    assert await _scalar(jobs_db, "SELECT max(attempts) FROM jobs") == 1
    # The work really was shared.
    assert await _scalar(jobs_db, "SELECT count(DISTINCT worker_id) FROM test_job_effects") >= 2


async def test_job_of_a_worker_killed_mid_job_runs_again_after_its_lease(
    jobs_db: Database, jobs_database_url: str
) -> None:
    async with jobs_db.session_scope() as session:
        job_id = await enqueue(
            session, recording_job("enqueuer"), Effect(marker="k", hang_first_attempt=True)
        )

    with worker_process(jobs_database_url, "doomed", lease_seconds=2) as doomed:
        await _wait_until(jobs_db, "SELECT count(*) = 1 FROM test_job_effects", within=30)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)

    with worker_process(jobs_database_url, "rescuer", lease_seconds=2):
        await _wait_until(
            jobs_db, "SELECT state = 'succeeded' FROM jobs WHERE id = :id", within=30, id=job_id
        )

    async with jobs_db.session_scope() as session:
        attempts = (
            await session.execute(
                text("SELECT attempt, worker_id FROM test_job_effects ORDER BY attempt")
            )
        ).all()
    assert [tuple(row) for row in attempts] == [(1, "doomed"), (2, "rescuer")]
    assert await _scalar(jobs_db, "SELECT attempts FROM jobs WHERE id = :id", id=job_id) == 2
