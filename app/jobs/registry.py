"""Job types: a name, a typed payload, a handler and its retry policy; and the registry a
worker runs from."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel

from app.core.clock import Clock
from app.core.db import Database
from app.core.metrics import Metrics
from app.core.security import TokenCipher
from app.core.settings import Settings
from app.integrations.github.client import GitHubClient, build_github_client
from app.notifications.email import CountedEmailSender, EmailSender, build_email_sender

if TYPE_CHECKING:
    from app.integrations.github.webhooks import WebhookHandler

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class JobServices:
    """The application's external systems and settings, as handlers need them."""

    settings: Settings
    email: EmailSender
    token_cipher: TokenCipher
    metrics: Metrics
    # None when no GitHub credentials are configured.
    github: GitHubClient | None = None
    # GitHub webhook event name -> the handler its domain registered (see app.jobs.catalog).
    webhook_handlers: Mapping[str, WebhookHandler] = field(default_factory=dict)


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload."""

    database: Database
    clock: Clock
    services: JobServices
    job_id: int
    attempt: int
    max_attempts: int


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help: the job goes straight to `dead`."""


@dataclass(frozen=True)
class JobType(Generic[P]):
    name: str
    payload: type[P]
    handler: Callable[[JobContext, P], Awaitable[None]]
    max_attempts: int = 5
    backoff_base: timedelta = timedelta(seconds=5)
    backoff_cap: timedelta = timedelta(hours=1)

    def retry_delay(self, attempt: int, jitter: Callable[[], float] = random.random) -> timedelta:
        """Exponential backoff after failed attempt `attempt` (1-based), with the upper half
        jittered so retries of many jobs that failed together spread out."""
        ceiling = min(self.backoff_cap, self.backoff_base * (1 << max(attempt - 1, 0)))
        return ceiling / 2 + ceiling / 2 * jitter()

    async def run(self, context: JobContext, payload: dict[str, Any]) -> None:
        await self.handler(context, self.payload.model_validate(payload))


@dataclass(frozen=True)
class PeriodicJob:
    """A job type enqueued every `every`, once per tick across all workers."""

    job_type: JobType[Any]
    every: timedelta


@dataclass
class JobRegistry:
    job_types: dict[str, JobType[Any]] = field(default_factory=dict)
    periodic: list[PeriodicJob] = field(default_factory=list)

    @classmethod
    def of(
        cls, job_types: Iterable[JobType[Any]], periodic: Iterable[PeriodicJob] = ()
    ) -> JobRegistry:
        registry = cls()
        for job_type in job_types:
            registry.add(job_type)
        for schedule in periodic:
            registry.add(schedule.job_type)
            registry.periodic.append(schedule)
        return registry

    def add(self, job_type: JobType[Any]) -> None:
        existing = self.job_types.get(job_type.name)
        if existing is not None and existing is not job_type:
            raise ValueError(f"Job type {job_type.name!r} is registered twice")
        self.job_types[job_type.name] = job_type

    def get(self, name: str) -> JobType[Any] | None:
        return self.job_types.get(name)


def build_job_services(
    settings: Settings,
    http: httpx.AsyncClient,
    metrics: Metrics,
    webhook_handlers: Mapping[str, WebhookHandler],
) -> JobServices:
    return JobServices(
        settings=settings,
        email=CountedEmailSender(build_email_sender(settings.email, http), metrics),
        token_cipher=TokenCipher(settings.app.secret_key.get_secret_value()),
        metrics=metrics,
        github=build_github_client(http, settings.github, metrics),
        webhook_handlers=webhook_handlers,
    )


def job_services_of(request: Request) -> JobServices:
    services: JobServices = request.app.state.job_services
    return services


CurrentServices = Annotated[JobServices, Depends(job_services_of)]
