"""The append-only timeline of each simulation and candidate session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.events import repository
from app.events.models import ActorType, Event


async def record(
    session: AsyncSession,
    *,
    simulation_id: int,
    type: str,
    actor_type: ActorType,
    actor_id: str | None = None,
    candidate_session_id: int | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    event = Event(
        simulation_id=simulation_id,
        candidate_session_id=candidate_session_id,
        type=type,
        actor_type=actor_type,
        actor_id=actor_id,
        data=data or {},
    )
    if occurred_at is not None:
        event.occurred_at = occurred_at
    await repository.add(session, event)


class SessionRef(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def simulation_id(self) -> int: ...


async def record_for_session(
    session: AsyncSession,
    candidate_session: SessionRef,
    *,
    type: str,
    actor_type: ActorType,
    actor_id: str | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """Append to a candidate session's timeline (and so its simulation's)."""
    await record(
        session,
        simulation_id=candidate_session.simulation_id,
        candidate_session_id=candidate_session.id,
        type=type,
        actor_type=actor_type,
        actor_id=actor_id,
        data=data,
        occurred_at=occurred_at,
    )


async def timeline(session: AsyncSession, candidate_session_id: int) -> Sequence[Event]:
    return await repository.of_session(session, candidate_session_id)
