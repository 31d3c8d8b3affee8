"""The one way Tenon calls the AI provider, from jobs only: reserve the worst-case cost in a
committed transaction of its own, call the provider with no transaction open, then settle
the real cost (or release the reservation when the call never reached the provider).

The result says how the call ended for the draft it was made for; an error a later attempt
may get past is raised instead, so the job queue retries it, except on the job's last
attempt, where it ends the draft as `failed`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.db import Database
from app.core.settings import AiSettings
from app.evaluation import ai_budget
from app.evaluation.ai_budget import AiBudgetExhaustedError
from app.evaluation.models import AiPurpose
from app.integrations.ai.provider import (
    AiError,
    AiProvider,
    AiRateLimitedError,
    AiRequest,
    AiRequestRejectedError,
    AiResponse,
    AiUnavailableError,
)

log = structlog.get_logger(__name__)

# How a call ended without an answer, as the status of the draft it was made for.
CallFailure = Literal["refused", "budget_exhausted", "failed"]


@dataclass(frozen=True)
class AiCallResult:
    # None when the budget refused the reservation.
    usage_id: int | None
    # The answer, or else why there is none.
    response: AiResponse | None = None
    failure: CallFailure | None = None
    error_code: str | None = None
    error_detail: str | None = None


def prompt_hash(request: AiRequest) -> str:
    """sha256 of what the model is asked: the system text, the prompt and the schema."""
    digest = hashlib.sha256()
    for part in (request.system, request.prompt, json.dumps(request.json_schema, sort_keys=True)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _never_reached(error: AiError) -> bool:
    """Errors after which the provider did no work it bills: a connection failure or a
    server error, a rate limit, a request refused before it was processed."""
    return type(error) is AiUnavailableError or isinstance(
        error, AiRateLimitedError | AiRequestRejectedError
    )


async def call_ai(
    database: Database,
    provider: AiProvider,
    request: AiRequest,
    *,
    company_id: int,
    purpose: AiPurpose,
    settings: AiSettings,
    clock: Clock,
    last_attempt: bool,
    on_reserved: Callable[[AsyncSession, int], Awaitable[None]] | None = None,
) -> AiCallResult:
    """Make one call against the company's budget. `on_reserved(session, usage_id)` runs in
    the reservation's transaction (to link the draft to its call). Raises the provider's
    retryable `AiError` (after settling or releasing its reservation) for the job queue to
    retry, unless this is the job's `last_attempt`."""
    hashed = prompt_hash(request)
    try:
        async with database.session_scope() as session:
            usage = await ai_budget.reserve(
                session,
                company_id,
                purpose,
                provider.name,
                provider.model,
                hashed,
                provider.price.worst_case(request),
                settings=settings,
                now=clock.now(),
            )
            usage_id = usage.id
            if on_reserved is not None:
                await on_reserved(session, usage_id)
    except AiBudgetExhaustedError as exc:
        log.info("ai.budget_exhausted", company_id=company_id, purpose=purpose)
        return AiCallResult(None, None, "budget_exhausted", exc.code, exc.detail)

    try:
        response = await provider.complete(request)
    except AiError as exc:
        await _close_failed(database, provider, request, usage_id, exc, clock)
        log.warning("ai.call_failed", usage_id=usage_id, code=exc.code, retryable=exc.retryable)
        if exc.retryable and not last_attempt:
            raise
        failure: CallFailure = "refused" if exc.code == "AI_REFUSED" else "failed"
        return AiCallResult(usage_id, None, failure, exc.code, exc.message)
    except BaseException:
        # Not the provider's answer (a bug, a cancelled job): nothing is known to be owed.
        async with database.session_scope() as session:
            await ai_budget.release(session, usage_id, now=clock.now())
        raise

    async with database.session_scope() as session:
        await ai_budget.settle(
            session,
            usage_id,
            response.model,
            response.input_tokens,
            response.output_tokens,
            provider.price.cost(response.input_tokens, response.output_tokens),
            now=clock.now(),
        )
    log.info(
        "ai.call_settled",
        usage_id=usage_id,
        model=response.model,
        input_tokens=response.input_tokens,
        output_tokens=response.output_tokens,
    )
    return AiCallResult(usage_id, response)


async def _close_failed(
    database: Database,
    provider: AiProvider,
    request: AiRequest,
    usage_id: int,
    error: AiError,
    clock: Clock,
) -> None:
    """A call that may have been processed (a timeout, a refusal, malformed output) is
    settled at its worst case: the provider reports no usage for it."""
    async with database.session_scope() as session:
        if _never_reached(error):
            await ai_budget.release(session, usage_id, now=clock.now())
        else:
            await ai_budget.settle(
                session,
                usage_id,
                provider.model,
                None,
                None,
                provider.price.worst_case(request),
                now=clock.now(),
            )
