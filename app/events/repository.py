"""Queries for events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event


async def add(session: AsyncSession, event: Event) -> None:
    session.add(event)
    await session.flush()


async def of_session(session: AsyncSession, candidate_session_id: int) -> Sequence[Event]:
    statement = (
        select(Event).where(Event.candidate_session_id == candidate_session_id).order_by(Event.id)
    )
    return (await session.scalars(statement)).all()
