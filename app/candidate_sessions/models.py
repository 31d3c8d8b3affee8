"""Candidate sessions: one invite of one person to one simulation."""

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
)
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

SessionStatus = TypeAliasType(
    "SessionStatus", Literal["invited", "in_progress", "completed", "expired", "revoked"]
)
SESSION_STATUSES: tuple[SessionStatus, ...] = get_args(SessionStatus.__value__)
# An open session still holds its invite: the email cannot get a second one.
OPEN_SESSION_STATUSES: tuple[SessionStatus, ...] = ("invited", "in_progress")

InviteEmailStatus = TypeAliasType("InviteEmailStatus", Literal["queued", "sent", "failed"])
INVITE_EMAIL_STATUSES: tuple[InviteEmailStatus, ...] = get_args(InviteEmailStatus.__value__)


class CandidateSession(TimestampMixin, Base):
    __tablename__ = "candidate_sessions"
    __table_args__ = (
        CheckConstraint(column("status").in_(SESSION_STATUSES), name="status"),
        CheckConstraint(column("email_status").in_(INVITE_EMAIL_STATUSES), name="email_status"),
        CheckConstraint(column("email_attempts") >= 0, name="email_attempts_non_negative"),
    )

    id: Mapped[IdPrimaryKey]
    # RESTRICT: candidate data must not disappear along with a simulation.
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="RESTRICT")
    )
    candidate_name: Mapped[str] = mapped_column(Text)
    invite_email: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    # The token encrypted under TENON_SECRET_KEY, so jobs can email the link (see
    # app.core.security); never the plaintext.
    token_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[SessionStatus] = mapped_column(Text, server_default=text("'invited'"))
    auth0_sub: Mapped[str | None] = mapped_column(Text, index=True)
    github_username: Mapped[str | None] = mapped_column(Text)

    invited_at: Mapped[datetime] = mapped_column(server_default=func.now())
    claimed_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]

    email_status: Mapped[InviteEmailStatus | None] = mapped_column(Text)
    email_provider: Mapped[str | None] = mapped_column(Text)
    email_provider_message_id: Mapped[str | None] = mapped_column(Text)
    email_error: Mapped[str | None] = mapped_column(Text)
    email_sent_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(server_default=text("0"))


_open = CandidateSession.status.in_(OPEN_SESSION_STATUSES)
Index(
    "uq_candidate_sessions_open_invite_email",
    CandidateSession.simulation_id,
    func.lower(CandidateSession.invite_email),
    unique=True,
    postgresql_where=_open,
)
Index(
    "ix_candidate_sessions_simulation_id_invited_at",
    CandidateSession.simulation_id,
    CandidateSession.invited_at,
)
Index("ix_candidate_sessions_lower_invite_email", func.lower(CandidateSession.invite_email))
Index("ix_candidate_sessions_open_expires_at", CandidateSession.expires_at, postgresql_where=_open)
