"""A company's webhook endpoints and their delivery log (any recruiter of the company)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.auth.dependencies import RecruiterUser
from app.core.clock import CurrentClock
from app.core.db import DbReader, DbSession
from app.core.openapi import raises
from app.core.pagination import DEFAULT_LIMIT, INVALID_CURSOR, Limit, Page
from app.core.schemas import EntityId
from app.core.settings import CurrentSettings
from app.services import CurrentServices
from app.webhooks import service
from app.webhooks.models import DeliveryStatus
from app.webhooks.schemas import (
    DeliveryDetail,
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
)
from app.webhooks.service import (
    DELIVERY_NOT_FOUND,
    ENDPOINT_DISABLED,
    ENDPOINT_LIMIT,
    ENDPOINT_NOT_FOUND,
    URL_REFUSED,
)

router = APIRouter(prefix="/webhooks/endpoints", tags=["webhooks"])


@router.post("", response_model=EndpointWithSecret, status_code=status.HTTP_201_CREATED)
@raises(URL_REFUSED, ENDPOINT_LIMIT)
async def create_webhook_endpoint(
    body: EndpointCreate,
    recruiter: RecruiterUser,
    session: DbSession,
    settings: CurrentSettings,
    services: CurrentServices,
) -> EndpointWithSecret:
    """Register an endpoint; the answer holds its signing secret, shown this once."""
    return await service.create_endpoint(
        session, recruiter, body, settings=settings, cipher=services.token_cipher
    )


@router.get("", response_model=list[EndpointOut])
async def list_webhook_endpoints(recruiter: RecruiterUser, session: DbReader) -> list[EndpointOut]:
    """The company's webhook endpoints, oldest first."""
    return await service.list_endpoints(session, recruiter)


@router.get("/{endpoint_id}", response_model=EndpointOut)
@raises(ENDPOINT_NOT_FOUND)
async def get_webhook_endpoint(
    endpoint_id: EntityId, recruiter: RecruiterUser, session: DbReader
) -> EndpointOut:
    """One webhook endpoint (never its secret)."""
    return await service.get_endpoint(session, recruiter, endpoint_id)


@router.patch("/{endpoint_id}", response_model=EndpointOut)
@raises(ENDPOINT_NOT_FOUND, URL_REFUSED)
async def update_webhook_endpoint(
    endpoint_id: EntityId,
    body: EndpointUpdate,
    recruiter: RecruiterUser,
    session: DbSession,
    settings: CurrentSettings,
) -> EndpointOut:
    """Change an endpoint's URL, description, events or whether it is enabled."""
    return await service.update_endpoint(session, recruiter, endpoint_id, body, settings=settings)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
@raises(ENDPOINT_NOT_FOUND)
async def delete_webhook_endpoint(
    endpoint_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> None:
    """Delete an endpoint and its delivery log; nothing more is sent to it."""
    await service.delete_endpoint(session, recruiter, endpoint_id)


@router.post("/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret)
@raises(ENDPOINT_NOT_FOUND)
async def rotate_webhook_secret(
    endpoint_id: EntityId,
    recruiter: RecruiterUser,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    services: CurrentServices,
) -> EndpointWithSecret:
    """A new signing secret, shown this once; the old one also signs during the overlap."""
    return await service.rotate_secret(
        session,
        recruiter,
        endpoint_id,
        now=clock.now(),
        settings=settings,
        cipher=services.token_cipher,
    )


@router.post(
    "/{endpoint_id}/test", response_model=DeliveryOut, status_code=status.HTTP_202_ACCEPTED
)
@raises(ENDPOINT_NOT_FOUND, ENDPOINT_DISABLED)
async def test_webhook_endpoint(
    endpoint_id: EntityId, recruiter: RecruiterUser, session: DbSession, clock: CurrentClock
) -> DeliveryOut:
    """Send a `ping` event to the endpoint now (one attempt, in its delivery log)."""
    return await service.send_test(session, recruiter, endpoint_id, now=clock.now())


@router.get("/{endpoint_id}/deliveries", response_model=Page[DeliveryOut])
@raises(ENDPOINT_NOT_FOUND, INVALID_CURSOR)
async def list_webhook_deliveries(
    endpoint_id: EntityId,
    recruiter: RecruiterUser,
    session: DbReader,
    delivery_status: Annotated[
        DeliveryStatus | None, Query(alias="status", description="Only deliveries in this state.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
) -> Page[DeliveryOut]:
    """The endpoint's deliveries, newest first."""
    return await service.list_deliveries(
        session, recruiter, endpoint_id, status=delivery_status, limit=limit, cursor=cursor
    )


@router.get("/{endpoint_id}/deliveries/{delivery_id}", response_model=DeliveryDetail)
@raises(ENDPOINT_NOT_FOUND, DELIVERY_NOT_FOUND)
async def get_webhook_delivery(
    endpoint_id: EntityId, delivery_id: EntityId, recruiter: RecruiterUser, session: DbReader
) -> DeliveryDetail:
    """One delivery: the event as sent and every attempt, oldest first."""
    return await service.get_delivery(session, recruiter, endpoint_id, delivery_id)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
@raises(ENDPOINT_NOT_FOUND, DELIVERY_NOT_FOUND, ENDPOINT_DISABLED)
async def redeliver_webhook(
    endpoint_id: EntityId, delivery_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> DeliveryOut:
    """Send the delivery's event again now, freshly signed (one attempt)."""
    return await service.redeliver(session, recruiter, endpoint_id, delivery_id)
