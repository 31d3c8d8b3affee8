"""Events: the append-only audit timeline of simulations and candidate sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Text, column, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey

ActorType = TypeAliasType(
    "ActorType", Literal["recruiter", "candidate", "system", "github", "admin"]
)
ACTOR_TYPES: tuple[ActorType, ...] = get_args(ActorType.__value__)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (CheckConstraint(column("actor_type").in_(ACTOR_TYPES), name="actor_type"),)

    id: Mapped[IdPrimaryKey]
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="CASCADE")
    )
    candidate_session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(Text)
    actor_type: Mapped[ActorType] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())


Index("ix_events_candidate_session_id_id", Event.candidate_session_id, Event.id)
Index("ix_events_simulation_id_id", Event.simulation_id, Event.id)
