"""Partner keys and assessment orders: how an applicant tracking system orders a Tenon
simulation for a candidate and hears back.

An order is the ATS's request, in its own ids, tied to the candidate session it created.
Nothing here is Greenhouse's alone: `system` names the ATS, so a second adapter (Ashby)
stores its orders and keys in the same tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

AtsSystem = TypeAliasType("AtsSystem", Literal["greenhouse"])
ATS_SYSTEMS: tuple[AtsSystem, ...] = get_args(AtsSystem.__value__)


class PartnerKey(TimestampMixin, Base):
    """A company's key for one ATS, shown once when created. The ATS sends it with every
    call (Greenhouse: as the HTTP Basic user name), and Tenon sends it back with each
    callback, so besides its hash (the look-up) it is kept encrypted under TENON_SECRET_KEY
    (app.core.security); never in plaintext."""

    __tablename__ = "ats_partner_keys"
    __table_args__ = (CheckConstraint(column("system").in_(ATS_SYSTEMS), name="system"),)

    id: Mapped[IdPrimaryKey]
    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[AtsSystem] = mapped_column(Text)
    # SHA-256 of the key: the key is 256 random bits, so a fast unsalted hash is enough
    # (there is nothing to guess), and it allows an indexed look-up per request.
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    key_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # What a recruiter sees of the key to tell keys apart.
    prefix: Mapped[str] = mapped_column(Text)
    last4: Mapped[str] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AssessmentOrder(TimestampMixin, Base):
    """One test sent to one candidate by an ATS. `external_id` is the ATS's identity of
    that test instance, unique per company and system, so a repeated order finds this row
    instead of inviting again. The callback columns record the last sync: what was last
    attempted (the payload, when, the answer's status code or the error) and what the ATS
    last accepted, so the same state is never sent twice; `sync_version` counts the syncs
    that claimed the order (a result is recorded only under its own claim) and
    `sync_sending_until` is set while a claimed request may still be under way."""

    __tablename__ = "assessment_orders"
    __table_args__ = (
        UniqueConstraint("company_id", "system", "external_id"),
        CheckConstraint(column("system").in_(ATS_SYSTEMS), name="system"),
        Index("ix_assessment_orders_created_at", "created_at"),
    )

    id: Mapped[IdPrimaryKey]
    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("companies.id", ondelete="CASCADE")
    )
    system: Mapped[AtsSystem] = mapped_column(Text)
    # Greenhouse gives no id of its own in send_test: its callback URL (which ends in its
    # take-home test id) is the one value unique to the test instance.
    external_id: Mapped[str] = mapped_column(Text)
    external_candidate_id: Mapped[str | None] = mapped_column(Text)
    external_application_id: Mapped[str | None] = mapped_column(Text)
    # The ATS's name for the test (our simulation id, as list_tests gave it).
    external_test_id: Mapped[str] = mapped_column(Text)
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="RESTRICT")
    )
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="RESTRICT"), index=True
    )
    sent_by: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str] = mapped_column(Text)

    synced_at: Mapped[datetime | None]
    sync_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    sync_error: Mapped[str | None] = mapped_column(Text)
    attempted_payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    delivered_payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    sync_version: Mapped[int] = mapped_column(server_default=text("0"))
    sync_sending_until: Mapped[datetime | None]
