"""Webhook deliveries received from GitHub, keyed by X-GitHub-Delivery for idempotency."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, Text, column, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdPrimaryKey

WebhookDeliveryStatus = Literal["received", "processed", "ignored", "failed"]
WEBHOOK_DELIVERY_STATUSES: tuple[WebhookDeliveryStatus, ...] = get_args(WebhookDeliveryStatus)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(column("status").in_(WEBHOOK_DELIVERY_STATUSES), name="status"),
    )

    id: Mapped[IdPrimaryKey]
    delivery_id: Mapped[str] = mapped_column(Text, unique=True)
    event: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(Text, server_default=text("'received'"))
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    processed_at: Mapped[datetime | None]
