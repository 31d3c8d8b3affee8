"""Job types: a name, a typed payload, a handler and its retry policy; and the registry a
worker runs from.

The queue knows no domain and no integration: what a handler gets besides its payload is
generic in the services the application hands the worker (`JobContext[Services]` in the
domains' handlers, assembled in `app.assembly`)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.core.clock import Clock
from app.core.db import Database

P = TypeVar("P", bound=BaseModel)
S = TypeVar("S")
# A context carrying richer services can stand in for one that needs fewer; a job type
# whose handler needs fewer services runs in a registry that provides more.
S_co = TypeVar("S_co", covariant=True)
S_contra = TypeVar("S_contra", contravariant=True)


@dataclass(frozen=True)
class JobContext(Generic[S_co]):
    """What a handler gets besides its payload."""

    database: Database
    clock: Clock
    services: S_co
    job_id: int
    attempt: int
    max_attempts: int


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help: the job goes straight to `dead`."""


class RetryLaterError(Exception):
    """Raised by a handler that cannot finish yet and knows when to look again (a workflow
    run GitHub has not listed yet): the job runs again at `at`, and this attempt does not
    count towards `max_attempts`. A handler may raise it only a bounded number of times
    between counted attempts."""

    def __init__(self, reason: str, *, at: datetime) -> None:
        super().__init__(reason)
        self.at = at


@dataclass(frozen=True)
class JobType(Generic[S_contra, P]):
    """A job type whose handler needs services of type `S_contra`."""

    name: str
    payload: type[P]
    handler: Callable[[JobContext[S_contra], P], Awaitable[None]]
    max_attempts: int = 5
    backoff_base: timedelta = timedelta(seconds=5)
    backoff_cap: timedelta = timedelta(hours=1)

    def retry_delay(self, attempt: int, jitter: Callable[[], float] = random.random) -> timedelta:
        """Exponential backoff after failed attempt `attempt` (1-based), with the upper half
        jittered so retries of many jobs that failed together spread out."""
        ceiling = min(self.backoff_cap, self.backoff_base * (1 << max(attempt - 1, 0)))
        return ceiling / 2 + ceiling / 2 * jitter()

    async def run(self, context: JobContext[S_contra], payload: dict[str, Any]) -> None:
        await self.handler(context, self.payload.model_validate(payload))


@dataclass(frozen=True)
class PeriodicJob(Generic[S_contra]):
    """A job type enqueued every `every`, once per tick across all workers."""

    job_type: JobType[S_contra, Any]
    every: timedelta


@dataclass
class JobRegistry(Generic[S]):
    """The job types a worker runs, each handed services of type `S`."""

    job_types: dict[str, JobType[S, Any]] = field(default_factory=dict)
    periodic: list[PeriodicJob[S]] = field(default_factory=list)

    @classmethod
    def of(
        cls, job_types: Iterable[JobType[S, Any]], periodic: Iterable[PeriodicJob[S]] = ()
    ) -> JobRegistry[S]:
        registry = cls()
        for job_type in job_types:
            registry.add(job_type)
        for schedule in periodic:
            registry.add(schedule.job_type)
            registry.periodic.append(schedule)
        return registry

    def add(self, job_type: JobType[S, Any]) -> None:
        existing = self.job_types.get(job_type.name)
        if existing is not None and existing is not job_type:
            raise ValueError(f"Job type {job_type.name!r} is registered twice")
        self.job_types[job_type.name] = job_type

    def get(self, name: str) -> JobType[S, Any] | None:
        return self.job_types.get(name)
