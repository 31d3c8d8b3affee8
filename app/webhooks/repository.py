"""Queries of webhook_endpoints, webhook_endpoint_deliveries and webhook_delivery_attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.simulations.models import Simulation
from app.webhooks.models import DeliveryAttempt, DeliveryStatus, EndpointDelivery, WebhookEndpoint


async def endpoints_of_company(session: AsyncSession, company_id: int) -> Sequence[WebhookEndpoint]:
    statement = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.company_id == company_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return (await session.scalars(statement)).all()


async def count_of_company(session: AsyncSession, company_id: int) -> int:
    statement = select(func.count()).where(WebhookEndpoint.company_id == company_id)
    return (await session.execute(statement)).scalar_one()


async def endpoint_in_company(
    session: AsyncSession, company_id: int, endpoint_id: int, *, for_update: bool = False
) -> WebhookEndpoint | None:
    statement = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.company_id == company_id
    )
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(statement)).one_or_none()


async def subscribed_endpoints(
    session: AsyncSession, simulation_id: int, event_type: str
) -> Sequence[int]:
    """Ids of the enabled endpoints of the simulation's company that take `event_type`."""
    company = select(Simulation.company_id).where(Simulation.id == simulation_id)
    statement = (
        select(WebhookEndpoint.id)
        .where(
            WebhookEndpoint.company_id == company.scalar_subquery(),
            WebhookEndpoint.enabled,
            WebhookEndpoint.event_types.contains([event_type]),
        )
        .order_by(WebhookEndpoint.id)
    )
    return (await session.scalars(statement)).all()


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> Sequence[int]:
    if not rows:
        return []
    statement = insert(EndpointDelivery).values(list(rows)).returning(EndpointDelivery.id)
    return (await session.scalars(statement)).all()


async def add_delivery(session: AsyncSession, values: dict[str, Any]) -> EndpointDelivery:
    delivery = EndpointDelivery(**values)
    session.add(delivery)
    await session.flush()
    return delivery


async def delivery_with_endpoint(
    session: AsyncSession, delivery_id: int, *, for_update: bool = False
) -> tuple[EndpointDelivery, WebhookEndpoint] | None:
    statement = (
        select(EndpointDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == EndpointDelivery.endpoint_id)
        .where(EndpointDelivery.id == delivery_id)
    )
    if for_update:
        statement = statement.with_for_update(of=EndpointDelivery).execution_options(
            populate_existing=True
        )
    row = (await session.execute(statement)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def delivery_of_endpoint(
    session: AsyncSession, endpoint_id: int, delivery_id: int
) -> EndpointDelivery | None:
    statement = select(EndpointDelivery).where(
        EndpointDelivery.id == delivery_id, EndpointDelivery.endpoint_id == endpoint_id
    )
    return (await session.scalars(statement)).one_or_none()


async def page_of_deliveries(
    session: AsyncSession,
    endpoint_id: int,
    *,
    status: DeliveryStatus | None,
    limit: int,
    after: tuple[datetime, int] | None,
) -> tuple[Sequence[EndpointDelivery], int]:
    """Newest first; `after` is the (created_at, id) of the previous page's last item."""
    conditions = [EndpointDelivery.endpoint_id == endpoint_id]
    if status is not None:
        conditions.append(EndpointDelivery.status == status)
    total = (
        await session.execute(select(func.count()).select_from(EndpointDelivery).where(*conditions))
    ).scalar_one()
    statement = (
        select(EndpointDelivery)
        .where(*conditions)
        .order_by(EndpointDelivery.created_at.desc(), EndpointDelivery.id.desc())
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            tuple_(EndpointDelivery.created_at, EndpointDelivery.id) < after
        )
    return (await session.scalars(statement)).all(), total


async def attempts_of(session: AsyncSession, delivery_id: int) -> Sequence[DeliveryAttempt]:
    statement = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.id)
    )
    return (await session.scalars(statement)).all()


async def add_attempt(session: AsyncSession, attempt: DeliveryAttempt) -> None:
    session.add(attempt)
    await session.flush()
