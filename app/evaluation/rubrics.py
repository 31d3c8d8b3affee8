"""A simulation's rubric: its current version, made from the default criteria the first
time it is needed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.evaluation.default_rubric import default_criteria
from app.evaluation.models import RubricVersion
from app.evaluation.schemas import Criterion
from app.simulations.models import Task


async def current_rubric(session: AsyncSession, simulation_id: int) -> RubricVersion:
    """The newest version of the simulation's rubric; version 1 from the default criteria
    of its tasks when it has none yet (concurrent first readers make it once)."""
    latest = await _latest(session, simulation_id)
    if latest is not None:
        return latest
    tasks = (
        await session.execute(
            select(Task.day_index, Task.type).where(Task.simulation_id == simulation_id)
        )
    ).all()
    criteria = default_criteria((day, task_type) for day, task_type in tasks)
    await session.execute(
        insert(RubricVersion)
        .values(
            simulation_id=simulation_id,
            version=1,
            criteria=[c.model_dump(mode="json", by_alias=True) for c in criteria],
        )
        .on_conflict_do_nothing(index_elements=["simulation_id", "version"])
    )
    made = await _latest(session, simulation_id)
    assert made is not None  # inserted above, or by a concurrent reader
    return made


async def _latest(session: AsyncSession, simulation_id: int) -> RubricVersion | None:
    statement = (
        select(RubricVersion)
        .where(RubricVersion.simulation_id == simulation_id)
        .order_by(RubricVersion.version.desc())
        .limit(1)
    )
    return (await session.scalars(statement)).one_or_none()


def criteria_of(version: RubricVersion) -> list[Criterion]:
    return [Criterion.model_validate(item) for item in version.criteria]
