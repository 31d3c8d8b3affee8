"""Queries for simulations and tasks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.simulations.models import Simulation, Task


async def simulation_in_company(
    session: AsyncSession, company_id: int, simulation_id: int, *, with_tasks: bool
) -> Simulation | None:
    statement = select(Simulation).where(
        Simulation.id == simulation_id, Simulation.company_id == company_id
    )
    if with_tasks:
        statement = statement.options(selectinload(Simulation.tasks))
    return (await session.scalars(statement)).one_or_none()


async def active_of_company(session: AsyncSession, company_id: int) -> Sequence[Simulation]:
    statement = (
        select(Simulation)
        .where(Simulation.company_id == company_id, Simulation.status == "active")
        .order_by(Simulation.created_at.desc(), Simulation.id.desc())
    )
    return (await session.scalars(statement)).all()


async def page_of_simulations(
    session: AsyncSession,
    company_id: int,
    *,
    limit: int,
    after: tuple[datetime, int] | None,
) -> tuple[Sequence[Simulation], int]:
    """Newest first; `after` is the (created_at, id) of the previous page's last item."""
    in_company = Simulation.company_id == company_id
    total = (
        await session.execute(select(func.count()).select_from(Simulation).where(in_company))
    ).scalar_one()
    statement = (
        select(Simulation)
        .where(in_company)
        .order_by(Simulation.created_at.desc(), Simulation.id.desc())
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(tuple_(Simulation.created_at, Simulation.id) < after)
    return (await session.scalars(statement)).all(), total


async def tasks_of(session: AsyncSession, simulation_id: int) -> Sequence[Task]:
    statement = select(Task).where(Task.simulation_id == simulation_id).order_by(Task.day_index)
    return (await session.scalars(statement)).all()


async def task_by_id(session: AsyncSession, task_id: int) -> Task | None:
    return await session.get(Task, task_id)
