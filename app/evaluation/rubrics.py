"""A simulation's rubric: its current version, made from the default criteria the first
time it is needed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.evaluation.default_rubric import default_criteria
from app.evaluation.models import RubricVersion, Scorecard
from app.evaluation.schemas import Criterion
from app.simulations.models import Simulation, Task


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


async def replace_criteria(
    session: AsyncSession, simulation_id: int, criteria: list[Criterion], user_id: int | None
) -> RubricVersion:
    """Make `criteria` the simulation's rubric: in place while no scorecard uses the current
    version, else as the next version (scorecards keep the version they were made with).
    The simulation's row lock orders concurrent edits."""
    await session.execute(
        select(Simulation.id).where(Simulation.id == simulation_id).with_for_update()
    )
    current = await current_rubric(session, simulation_id)
    stored = [c.model_dump(mode="json", by_alias=True) for c in criteria]
    used = await session.scalar(
        select(Scorecard.id).where(Scorecard.rubric_version_id == current.id).limit(1)
    )
    if used is None:
        current.criteria = stored
        current.created_by_user_id = user_id
        await session.flush()
        return current
    successor = RubricVersion(
        simulation_id=simulation_id,
        version=current.version + 1,
        criteria=stored,
        created_by_user_id=user_id,
    )
    session.add(successor)
    await session.flush()
    return successor
