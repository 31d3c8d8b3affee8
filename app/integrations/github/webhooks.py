"""GitHub webhooks: the signature check, recording each delivery once (keyed by
`X-GitHub-Delivery`), and the job that hands recorded deliveries to their event's handler.

The request only records and enqueues, so GitHub gets its answer well inside its 10 second
limit; the handlers run in the job, where failures are retried. What an event means is
decided by the domain that cares: the handlers are registered where the application is
assembled (`app.assembly.webhook_handlers`) and reach the job through its services. This
module writes only its own table (the deliveries).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnauthorizedError
from app.core.logging import redact_text
from app.core.schemas import ApiModel
from app.integrations.github.models import WebhookDelivery, WebhookDeliveryStatus
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType, PermanentJobError

log = structlog.get_logger(__name__)

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")


def verify_signature(secret: bytes, body: bytes, header: str | None) -> None:
    """Check `X-Hub-Signature-256` (`sha256=<hex HMAC-SHA256 of the raw body>`)."""
    match = _SIGNATURE.fullmatch(header or "")
    if match is None:
        raise UnauthorizedError(
            "A valid X-Hub-Signature-256 header is required.", code="WEBHOOK_SIGNATURE_MISSING"
        )
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    if not hmac.compare_digest(bytes.fromhex(match.group(1)), expected):
        raise UnauthorizedError(
            "The webhook signature does not match.", code="WEBHOOK_SIGNATURE_INVALID"
        )


@dataclass(frozen=True)
class WebhookEvent:
    delivery_id: str
    event: str
    action: str | None
    payload: dict[str, Any]


# Handlers run at least once per delivery (a retry after a failure to record the outcome
# runs them again), so they must be idempotent. They get the delivery job's own context,
# whose services are the application's: a handler types it as the domains do
# (`JobContext[Services]`), which this layer cannot name.
WebhookHandler = Callable[[JobContext[Any], WebhookEvent], Awaitable[None]]


class WebhookServices(Protocol):
    """What the delivery job needs of the application's services."""

    @property
    def webhook_handlers(self) -> Mapping[str, WebhookHandler]: ...


async def log_installation(context: JobContext[object], event: WebhookEvent) -> None:
    installation = event.payload.get("installation") or {}
    account = installation.get("account") or {}
    log.info(
        f"github.installation.{event.action}",
        delivery_id=event.delivery_id,
        installation_id=installation.get("id"),
        account=account.get("login"),
    )


class DeliveryOutcome(StrEnum):
    PONG = "pong"
    QUEUED = "queued"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


class DeliveryRef(ApiModel):
    delivery_id: str


async def receive_delivery(
    session: AsyncSession,
    *,
    delivery_id: str,
    event: str,
    body_json: dict[str, Any],
    handled: Mapping[str, WebhookHandler],
) -> DeliveryOutcome:
    """Record a verified delivery and, for an event with a handler in `handled`, enqueue its
    processing in the same transaction. A redelivery (same delivery id) changes nothing."""
    action = body_json.get("action")
    values: dict[str, Any] = {
        "delivery_id": delivery_id,
        "event": event,
        "action": action if isinstance(action, str) else None,
    }
    if event == "ping":
        outcome = DeliveryOutcome.PONG
        values |= {"payload": body_json, "status": "processed", "processed_at": func.now()}
    elif event in handled:
        outcome = DeliveryOutcome.QUEUED
        values |= {"payload": body_json, "status": "received"}
    else:
        # Only the id is kept (for de-duplication and audit): the body is of no use to us.
        outcome = DeliveryOutcome.IGNORED
        values |= {"payload": {}, "status": "ignored"}

    if not await _insert_delivery(session, values):
        log.info("github.webhook.duplicate", delivery_id=delivery_id, event_name=event)
        return DeliveryOutcome.DUPLICATE
    if outcome is DeliveryOutcome.QUEUED:
        await enqueue(session, PROCESS_WEBHOOK_DELIVERY, DeliveryRef(delivery_id=delivery_id))
    log.info(
        "github.webhook.received",
        delivery_id=delivery_id,
        event_name=event,
        action=values["action"],
        outcome=outcome.value,
    )
    return outcome


async def _insert_delivery(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a delivery row; False when one with this delivery id already exists."""
    statement = (
        insert(WebhookDelivery)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[WebhookDelivery.delivery_id])
        .returning(WebhookDelivery.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def _delivery_by_id(session: AsyncSession, delivery_id: str) -> WebhookDelivery | None:
    statement = select(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
    return (await session.scalars(statement)).one_or_none()


async def _load_event(context: JobContext[object], delivery_id: str) -> WebhookEvent | None:
    """The delivery as an event to handle; None when it needs no (more) processing."""
    async with context.database.session_scope() as session:
        delivery = await _delivery_by_id(session, delivery_id)
    if delivery is None:
        raise PermanentJobError(f"No webhook delivery {delivery_id!r}.")
    if delivery.status != "received":
        log.info("github.webhook.skipped", delivery_id=delivery_id, status=delivery.status)
        return None
    return WebhookEvent(
        delivery_id=delivery.delivery_id,
        event=delivery.event,
        action=delivery.action,
        payload=delivery.payload,
    )


async def _record_outcome(
    context: JobContext[object],
    delivery_id: str,
    *,
    status: WebhookDeliveryStatus,
    error: str | None,
) -> None:
    async with context.database.session_scope() as session:
        delivery = await _delivery_by_id(session, delivery_id)
        assert delivery is not None  # loaded by this job moments ago; deliveries are kept
        delivery.status = status
        delivery.error = error
        if status == "processed":
            delivery.processed_at = context.clock.now()


async def _process_delivery(context: JobContext[WebhookServices], ref: DeliveryRef) -> None:
    # No transaction is held open while the handler runs: handlers may call GitHub for a
    # while, and they open their own sessions.
    event = await _load_event(context, ref.delivery_id)
    if event is None:
        return
    handler = context.services.webhook_handlers.get(event.event)
    if handler is None:
        raise PermanentJobError(f"No handler for webhook event {event.event!r}.")
    try:
        await handler(context, event)
    except Exception as exc:
        final = isinstance(exc, PermanentJobError) or context.attempt >= context.max_attempts
        # 'received' lets the retry process it again.
        status: WebhookDeliveryStatus = "failed" if final else "received"
        error = redact_text(f"{type(exc).__name__}: {exc}")
        await _record_outcome(context, event.delivery_id, status=status, error=error)
        log.warning(
            "github.webhook.handler_failed",
            delivery_id=event.delivery_id,
            event_name=event.event,
            attempt=context.attempt,
            status=status,
            error=error,
        )
        raise
    await _record_outcome(context, event.delivery_id, status="processed", error=None)
    log.info("github.webhook.processed", delivery_id=event.delivery_id, event_name=event.event)


PROCESS_WEBHOOK_DELIVERY = JobType(
    name="github.webhook.process",
    payload=DeliveryRef,
    handler=_process_delivery,
    max_attempts=8,
)
