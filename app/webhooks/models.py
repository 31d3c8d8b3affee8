"""A company's webhook endpoints, each event's delivery to one endpoint (its body frozen at
publication, so every attempt signs the same bytes) and the attempts of each delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Text,
    column,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

# `pending` while attempts remain; `delivered` once an endpoint answered 2xx (a later manual
# attempt that fails does not undo it); `failed` when the attempts ran out, the target was
# refused or the endpoint was disabled before the delivery was sent.
DeliveryStatus = TypeAliasType("DeliveryStatus", Literal["pending", "delivered", "failed"])
DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = get_args(DeliveryStatus.__value__)


class WebhookEndpoint(TimestampMixin, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[IdPrimaryKey]
    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    enabled: Mapped[bool] = mapped_column(server_default=true())
    # The signing secrets under TENON_SECRET_KEY (app.core.security.TokenCipher): HMAC needs
    # them in the clear, so a hash would not do.
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # The secret before the last rotation, still signing until `previous_secret_expires_at`.
    previous_secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None]
    secret_rotated_at: Mapped[datetime | None]


class EndpointDelivery(Base):
    """One event for one endpoint. `body` is the JSON exactly as sent and signed."""

    __tablename__ = "webhook_endpoint_deliveries"
    __table_args__ = (
        CheckConstraint(column("status").in_(DELIVERY_STATUSES), name="status"),
        # The endpoint's delivery log, newest first.
        Index("ix_webhook_endpoint_deliveries_log", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[IdPrimaryKey]
    endpoint_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(Text, server_default=text("'pending'"))
    attempt_count: Mapped[int] = mapped_column(server_default=text("0"))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DeliveryAttempt(Base):
    """One request (or one refusal to send it): what the endpoint answered or what failed."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (Index("ix_webhook_delivery_attempts_delivery_id", "delivery_id", "id"),)

    id: Mapped[IdPrimaryKey]
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_endpoint_deliveries.id", ondelete="CASCADE")
    )
    # A recruiter's redelivery or test, not the automatic schedule.
    manual: Mapped[bool]
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int]
    # The start of the answer's body, at most RESPONSE_BODY_LIMIT bytes of it.
    response_body: Mapped[str | None] = mapped_column(Text)
