"""Job types, a movable clock and a committed database for the job-queue tests.

The queue tests need committed rows (several workers and processes see them), so they run
in a database of their own, emptied before each test, instead of the rolled-back test
transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text

from app.core.db import Database
from app.core.metrics import Metrics
from app.core.security import TokenCipher
from app.core.settings import AppSettings, JobSettings, Settings
from app.jobs.registry import JobContext, JobRegistry, JobType
from app.jobs.worker import Worker
from app.notifications.email import ConsoleEmailSender, EmailSender
from app.services import Services

EFFECTS_TABLE = """
CREATE TABLE IF NOT EXISTS test_job_effects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id bigint NOT NULL,
    attempt int NOT NULL,
    marker text NOT NULL,
    worker_id text NOT NULL
)
"""


@dataclass
class FakeClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class Effect(BaseModel):
    marker: str = ""
    sleep_seconds: float = 0.0
    # Sleep "forever" on the first attempt only: the attempt a test kills.
    hang_first_attempt: bool = False


def recording_job(worker_id: str) -> JobType[object, Effect]:
    """A job that records each attempt in test_job_effects (committed before it sleeps)."""

    async def record(context: JobContext[object], payload: Effect) -> None:
        async with context.database.session_scope() as session:
            await session.execute(
                text(
                    "INSERT INTO test_job_effects (job_id, attempt, marker, worker_id) "
                    "VALUES (:job_id, :attempt, :marker, :worker_id)"
                ),
                {
                    "job_id": context.job_id,
                    "attempt": context.attempt,
                    "marker": payload.marker,
                    "worker_id": worker_id,
                },
            )
        if payload.hang_first_attempt and context.attempt == 1:
            await asyncio.sleep(3600)
        await asyncio.sleep(payload.sleep_seconds)

    return JobType(name="test.record", payload=Effect, handler=record, max_attempts=3)


def recording_registry(worker_id: str) -> JobRegistry[object]:
    return JobRegistry.of([recording_job(worker_id)])


async def reset_queue(database: Database) -> None:
    async with database.session_scope() as session:
        await session.execute(text(EFFECTS_TABLE))
        await session.execute(
            # Test runs go too: every test's emulator numbers its GitHub runs from the start.
            text(
                "TRUNCATE jobs, periodic_schedules, webhook_deliveries, test_job_effects, "
                "test_runs CASCADE"
            )
        )


def job_services(email: EmailSender | None = None) -> Services:
    settings = Settings(app=AppSettings(_env_file=None, env="test"))
    return Services(
        settings=settings,
        email=email or ConsoleEmailSender(),
        token_cipher=TokenCipher(settings.app.secret_key.get_secret_value()),
        metrics=Metrics(),
    )


def make_worker(
    database: Database, registry: JobRegistry[Any], settings: JobSettings, **options: Any
) -> Worker[Any]:
    """A worker with test services (console email, the local token key)."""
    services = job_services()
    return Worker(
        database, registry, settings, services=services, metrics=services.metrics, **options
    )
