"""Job types, a movable clock and a committed database for the job-queue tests.

The queue tests need committed rows (several workers and processes see them), so they run
in a database of their own, emptied before each test, instead of the rolled-back test
transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr
from sqlalchemy import text

from app.assembly import build_media_store
from app.core.clock import SystemClock
from app.core.db import Database
from app.core.metrics import Metrics
from app.core.security import TokenCipher
from app.core.settings import AppSettings, GitHubSettings, JobSettings, Settings
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.jobs.registry import JobContext, JobRegistry, JobType
from app.jobs.worker import Worker
from app.media.store import MediaStore
from app.notifications.email import ConsoleEmailSender, EmailSender
from app.services import Services
from tests.support.emulator import TOKEN, RunningEmulator

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
            # Test runs go too: every test's emulator numbers its GitHub runs from the start;
            # and candidate sessions, whose deadlines would otherwise lapse in a later test.
            text(
                "TRUNCATE jobs, periodic_schedules, webhook_deliveries, test_job_effects, "
                "test_runs, candidate_sessions CASCADE"
            )
        )


# The client of services whose jobs reach no customer URL (the tests of webhooks and of
# Greenhouse callbacks hand in theirs):
# one for the process, never used to send.
_IDLE_HTTP = httpx.AsyncClient()


def job_services(
    email: EmailSender | None = None,
    media: MediaStore | None = None,
    http: httpx.AsyncClient | None = None,
) -> Services:
    settings = Settings(app=AppSettings(_env_file=None, env="test"))
    return Services(
        settings=settings,
        email=email or ConsoleEmailSender(),
        token_cipher=TokenCipher(settings.app.secret_key.get_secret_value()),
        metrics=Metrics(),
        # Used only by the jobs that store media, whose tests hand in their own store.
        media=media or build_media_store(settings),
        http=http or _IDLE_HTTP,
    )


@dataclass
class EmulatorJobs:
    """Job attempts run one by one against the emulator, as a worker would run them: the
    dispatch recovery tests of runs and gradings."""

    github: RunningEmulator
    api: httpx.AsyncClient  # the emulator's own client (its listings)
    http: httpx.AsyncClient  # what Tenon's GitHub client sends through
    database: Database

    def context(
        self, job_type: JobType[Services, Any], *, attempt: int = 1
    ) -> JobContext[Services]:
        """The context of attempt `attempt` of a `job_type` job (GitHub unpaced)."""
        base = job_services()
        settings = GitHubSettings(
            _env_file=None,
            api_base=self.github.base_url,
            token=SecretStr(TOKEN),
            mutation_interval_seconds=0,
        )
        github = GitHubClient(self.http, settings, TokenAuth(SecretStr(TOKEN)), base.metrics)
        return JobContext(
            database=self.database,
            clock=SystemClock(),
            services=replace(base, github=github),
            job_id=1,
            attempt=attempt,
            max_attempts=job_type.max_attempts,
        )

    async def workflow_runs(self, repo: str) -> list[dict[str, Any]]:
        listing = await self.api.get(f"/repos/{repo}/actions/runs")
        assert listing.status_code == 200, listing.text
        runs: list[dict[str, Any]] = listing.json()["workflow_runs"]
        return runs


def make_worker(
    database: Database, registry: JobRegistry[Any], settings: JobSettings, **options: Any
) -> Worker[Any]:
    """A worker with test services (console email, the local token key)."""
    services = job_services()
    return Worker(
        database, registry, settings, services=services, metrics=services.metrics, **options
    )
