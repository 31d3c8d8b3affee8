"""A company's webhook endpoints (any of its recruiters manages them; another company's are
answered as missing), their delivery log, and `publish`, which the domains where events
happen call in their own transaction: one delivery row per subscribed endpoint, its body
frozen, and its job, all committed or rolled back with the change the event reports."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.core.errors import ConflictError, NotFoundError, UnprocessableError
from app.core.openapi import ErrorSpec
from app.core.pagination import Page, decode_cursor, next_cursor
from app.core.security import TokenCipher
from app.core.settings import Settings
from app.integrations.outbound import TargetRefusedError, check_url
from app.jobs.queue import enqueue
from app.webhooks import repository, signing
from app.webhooks.jobs import DELIVER_WEBHOOK, DeliveryRef, private_targets_allowed
from app.webhooks.models import DeliveryStatus, EndpointDelivery, WebhookEndpoint
from app.webhooks.schemas import (
    PING_EVENT,
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
    WebhookEventType,
)

log = structlog.get_logger(__name__)

# The payload's shape; a change that could break a receiver comes with a new version.
API_VERSION = "2026-12-01"
MAX_ENDPOINTS_PER_COMPANY = 16

ENDPOINT_NOT_FOUND: ErrorSpec = (NotFoundError, "WEBHOOK_ENDPOINT_NOT_FOUND")
DELIVERY_NOT_FOUND: ErrorSpec = (NotFoundError, "WEBHOOK_DELIVERY_NOT_FOUND")
URL_REFUSED: ErrorSpec = (UnprocessableError, "WEBHOOK_URL_REFUSED")
ENDPOINT_DISABLED: ErrorSpec = (ConflictError, "WEBHOOK_ENDPOINT_DISABLED")
ENDPOINT_LIMIT: ErrorSpec = (ConflictError, "WEBHOOK_ENDPOINT_LIMIT")


def _checked_url(url: str, settings: Settings) -> str:
    try:
        check_url(url, allow_private=private_targets_allowed(settings))
    except TargetRefusedError as exc:
        raise UnprocessableError(
            f"Tenon does not send webhooks to this URL: {exc}",
            code="WEBHOOK_URL_REFUSED",
            errors=[{"loc": ["body", "url"], "msg": str(exc), "type": "url_refused"}],
        ) from exc
    return url


async def _endpoint(
    session: AsyncSession, recruiter: Recruiter, endpoint_id: int, *, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = await repository.endpoint_in_company(
        session, recruiter.company.id, endpoint_id, for_update=for_update
    )
    if endpoint is None:
        raise NotFoundError("No such webhook endpoint.", code="WEBHOOK_ENDPOINT_NOT_FOUND")
    return endpoint


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> EndpointWithSecret:
    return EndpointWithSecret.model_validate(
        EndpointOut.model_validate(endpoint).model_dump() | {"secret": secret}
    )


async def create_endpoint(
    session: AsyncSession,
    recruiter: Recruiter,
    body: EndpointCreate,
    *,
    settings: Settings,
    cipher: TokenCipher,
) -> EndpointWithSecret:
    """A new endpoint of the recruiter's company, with its signing secret (shown this once)."""
    url = _checked_url(body.url, settings)
    if (
        await repository.count_of_company(session, recruiter.company.id)
        >= MAX_ENDPOINTS_PER_COMPANY
    ):
        raise ConflictError(
            f"A company has at most {MAX_ENDPOINTS_PER_COMPANY} webhook endpoints.",
            code="WEBHOOK_ENDPOINT_LIMIT",
        )
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        company_id=recruiter.company.id,
        url=url,
        description=body.description,
        event_types=list(body.event_types),
        enabled=body.enabled,
        secret_ciphertext=cipher.encrypt(secret),
    )
    session.add(endpoint)
    await session.flush()
    log.info("webhooks.endpoint.created", endpoint_id=endpoint.id, by=recruiter.user.id)
    return _with_secret(endpoint, secret)


async def list_endpoints(session: AsyncSession, recruiter: Recruiter) -> list[EndpointOut]:
    endpoints = await repository.endpoints_of_company(session, recruiter.company.id)
    return [EndpointOut.model_validate(endpoint) for endpoint in endpoints]


async def get_endpoint(
    session: AsyncSession, recruiter: Recruiter, endpoint_id: int
) -> EndpointOut:
    return EndpointOut.model_validate(await _endpoint(session, recruiter, endpoint_id))


async def update_endpoint(
    session: AsyncSession,
    recruiter: Recruiter,
    endpoint_id: int,
    body: EndpointUpdate,
    *,
    settings: Settings,
) -> EndpointOut:
    """Change the given fields. Deliveries not yet sent go to the URL in force when they are
    sent; those of a disabled endpoint are not sent."""
    endpoint = await _endpoint(session, recruiter, endpoint_id, for_update=True)
    if body.url is not None:
        endpoint.url = _checked_url(body.url, settings)
    if body.description is not None:
        endpoint.description = body.description
    if body.event_types is not None:
        endpoint.event_types = list(body.event_types)
    if body.enabled is not None:
        endpoint.enabled = body.enabled
    await session.flush()
    await session.refresh(endpoint)
    log.info("webhooks.endpoint.updated", endpoint_id=endpoint.id, by=recruiter.user.id)
    return EndpointOut.model_validate(endpoint)


async def delete_endpoint(session: AsyncSession, recruiter: Recruiter, endpoint_id: int) -> None:
    """Delete the endpoint and its delivery log; what it had not been sent is not sent."""
    endpoint = await _endpoint(session, recruiter, endpoint_id, for_update=True)
    await session.delete(endpoint)
    await session.flush()
    log.info("webhooks.endpoint.deleted", endpoint_id=endpoint_id, by=recruiter.user.id)


async def rotate_secret(
    session: AsyncSession,
    recruiter: Recruiter,
    endpoint_id: int,
    *,
    now: datetime,
    settings: Settings,
    cipher: TokenCipher,
) -> EndpointWithSecret:
    """A new signing secret (shown this once). The one it replaces also signs deliveries for
    TENON_WEBHOOKS_ROTATION_OVERLAP_HOURS; an older one stops at once."""
    endpoint = await _endpoint(session, recruiter, endpoint_id, for_update=True)
    overlap = timedelta(hours=settings.webhooks.rotation_overlap_hours)
    secret = signing.new_secret()
    if overlap:
        endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
        endpoint.previous_secret_expires_at = now + overlap
    else:
        endpoint.previous_secret_ciphertext = endpoint.previous_secret_expires_at = None
    endpoint.secret_ciphertext = cipher.encrypt(secret)
    endpoint.secret_rotated_at = now
    await session.flush()
    await session.refresh(endpoint)
    log.info("webhooks.endpoint.secret_rotated", endpoint_id=endpoint.id, by=recruiter.user.id)
    return _with_secret(endpoint, secret)


async def list_deliveries(
    session: AsyncSession,
    recruiter: Recruiter,
    endpoint_id: int,
    *,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryOut]:
    endpoint = await _endpoint(session, recruiter, endpoint_id)
    deliveries, total = await repository.page_of_deliveries(
        session, endpoint.id, status=status, limit=limit, after=decode_cursor(cursor)
    )
    return Page[DeliveryOut](
        items=[DeliveryOut.model_validate(delivery) for delivery in deliveries],
        total=total,
        next_cursor=next_cursor(deliveries, limit, lambda d: (d.created_at, d.id)),
    )


async def _delivery(
    session: AsyncSession, recruiter: Recruiter, endpoint_id: int, delivery_id: int
) -> tuple[WebhookEndpoint, EndpointDelivery]:
    endpoint = await _endpoint(session, recruiter, endpoint_id)
    delivery = await repository.delivery_of_endpoint(session, endpoint.id, delivery_id)
    if delivery is None:
        raise NotFoundError("No such delivery.", code="WEBHOOK_DELIVERY_NOT_FOUND")
    return endpoint, delivery


async def get_delivery(
    session: AsyncSession, recruiter: Recruiter, endpoint_id: int, delivery_id: int
) -> DeliveryDetail:
    _, delivery = await _delivery(session, recruiter, endpoint_id, delivery_id)
    attempts = await repository.attempts_of(session, delivery.id)
    return DeliveryDetail.model_validate(
        DeliveryOut.model_validate(delivery).model_dump()
        | {
            "payload": json.loads(delivery.body),
            "attempts": [AttemptOut.model_validate(attempt) for attempt in attempts],
        }
    )


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise ConflictError(
            "The endpoint is disabled; enable it to send to it.",
            code="WEBHOOK_ENDPOINT_DISABLED",
        )


async def _send_once(session: AsyncSession, delivery: EndpointDelivery) -> None:
    await enqueue(session, DELIVER_WEBHOOK, DeliveryRef(delivery_id=delivery.id, manual=True))


async def redeliver(
    session: AsyncSession, recruiter: Recruiter, endpoint_id: int, delivery_id: int
) -> DeliveryOut:
    """One more attempt at once, with the same event (id and body) and a fresh signature."""
    endpoint, delivery = await _delivery(session, recruiter, endpoint_id, delivery_id)
    _require_enabled(endpoint)
    await _send_once(session, delivery)
    log.info("webhooks.delivery.redelivery_requested", delivery_id=delivery.id)
    return DeliveryOut.model_validate(delivery)


async def send_test(
    session: AsyncSession, recruiter: Recruiter, endpoint_id: int, *, now: datetime
) -> DeliveryOut:
    """A `ping` event to the endpoint, whatever it subscribes to: one attempt, logged."""
    endpoint = await _endpoint(session, recruiter, endpoint_id)
    _require_enabled(endpoint)
    event_id = _event_id()
    data = {"endpointId": endpoint.id, "companyId": endpoint.company_id}
    delivery = await repository.add_delivery(
        session,
        {
            "endpoint_id": endpoint.id,
            "event_id": event_id,
            "event_type": PING_EVENT,
            "body": _body(event_id, PING_EVENT, data, now),
            "created_at": now,
        },
    )
    await _send_once(session, delivery)
    return DeliveryOut.model_validate(delivery)


def _event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


def _body(event_id: str, event: str, data: dict[str, Any], occurred_at: datetime) -> str:
    payload = {
        "id": event_id,
        "type": event,
        "apiVersion": API_VERSION,
        "createdAt": occurred_at,
        "data": data,
    }
    return to_json(payload).decode()


async def publish(
    session: AsyncSession,
    *,
    simulation_id: int,
    event: WebhookEventType,
    data: dict[str, Any],
    occurred_at: datetime,
) -> None:
    """Queue `event` for every enabled endpoint of the simulation's company subscribed to it,
    in the caller's transaction. `data` holds ids and fields the customer may see (never a
    secret or a token); datetimes are sent as ISO 8601."""
    endpoint_ids = await repository.subscribed_endpoints(session, simulation_id, event)
    if not endpoint_ids:
        return
    event_id = _event_id()
    body = _body(event_id, event, data, occurred_at)
    delivery_ids = await repository.add_deliveries(
        session,
        [
            {
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "event_type": event,
                "body": body,
                "created_at": occurred_at,
            }
            for endpoint_id in endpoint_ids
        ],
    )
    for delivery_id in delivery_ids:
        await enqueue(
            session,
            DELIVER_WEBHOOK,
            DeliveryRef(delivery_id=delivery_id),
            dedupe_key=f"webhook-delivery:{delivery_id}",
        )
    log.info(
        "webhooks.published", event_type=event, event_id=event_id, deliveries=len(delivery_ids)
    )
