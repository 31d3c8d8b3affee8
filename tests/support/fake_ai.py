"""A fake AI provider for the evaluation tests: it records every request and answers each
with the next scripted step (an answer, a function of the request, or an error to raise)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.core.db import Database
from app.integrations.ai.provider import AiError, AiRequest, AiResponse, Price
from app.jobs.registry import JobContext, JobType
from app.services import Services
from tests.support.jobs import FakeClock, job_services

Step = dict[str, Any] | Callable[[AiRequest], dict[str, Any]] | AiError

FAKE_MODEL = "fake-model-2026"
# USD per million tokens: 3 in, 15 out (so 1,000 in and 200 out cost $0.006).
FAKE_PRICE = Price(Decimal("3"), Decimal("15"))


@dataclass
class FakeAi:
    script: list[Step] = field(default_factory=list)
    requests: list[AiRequest] = field(default_factory=list)
    name: str = "fake"
    model: str = FAKE_MODEL
    price: Price = FAKE_PRICE
    input_tokens: int = 1_000
    output_tokens: int = 200

    def then(self, *steps: Step) -> FakeAi:
        self.script.extend(steps)
        return self

    async def complete(self, request: AiRequest) -> AiResponse:
        self.requests.append(request)
        if not self.script:
            raise AssertionError("FakeAi was called more often than scripted")
        step = self.script.pop(0)
        if isinstance(step, AiError):
            raise step
        data = step(request) if callable(step) else step
        return AiResponse(
            data=data,
            model=f"{self.model}-snapshot",
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )


def ai_job_context(
    database: Database,
    job_type: JobType[Services, Any],
    ai: FakeAi | None,
    *,
    attempt: int = 1,
    now: datetime | None = None,
) -> JobContext[Services]:
    """The context of attempt `attempt` of a job run with `ai` as the provider."""
    return JobContext(
        database=database,
        clock=FakeClock(now or datetime.now(UTC)),
        services=replace(job_services(), ai=ai),
        job_id=1,
        attempt=attempt,
        max_attempts=job_type.max_attempts,
    )


_TASK_TYPES = ("design", "code", "debug", "handoff", "documentation")


def scenario_content(
    *, days: tuple[int, ...] = (1, 2, 3, 4, 5), prefix: str = "Refunds"
) -> dict[str, Any]:
    """A scenario draft's content (wire form): a task per day of the default plan's types,
    one criterion per day weighted by its day."""
    return {
        "tasks": [
            {
                "dayIndex": day,
                "type": _TASK_TYPES[day - 1],
                "title": f"{prefix} day {day}",
                "description": f"Day {day} of the refunds work at [COMPANY_NAME].",
            }
            for day in days
        ],
        "criteria": [
            {
                "key": f"s{day}-quality",
                "dayIndex": day,
                "title": f"Quality of day {day}",
                "description": "How well the day's work meets the brief.",
                "weight": float(day),
                "anchors": {str(level): f"Level {level} work." for level in range(1, 5)},
            }
            for day in days
        ],
    }
