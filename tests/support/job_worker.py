"""A worker process for the multi-process job tests: `python -m tests.support.job_worker
URL WORKER_ID LEASE_SECONDS`. Runs the recording job type until SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from app.core.db import Database
from app.core.settings import DatabaseSettings, JobSettings
from tests.support.jobs import make_worker, recording_registry


async def main(url: str, worker_id: str, lease_seconds: float) -> None:
    database = Database.connect(url, DatabaseSettings(_env_file=None))
    settings = JobSettings(
        _env_file=None,
        concurrency=4,
        lease_seconds=lease_seconds,
        poll_interval_seconds=0.2,
        shutdown_grace_seconds=5,
    )
    worker = make_worker(database, recording_registry(worker_id), settings, worker_id=worker_id)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.request_stop)
    try:
        await worker.run()
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
