"""A simulation's rubric: its current version, made from the default criteria the first
time it is needed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.core.errors import UnprocessableError
from app.core.openapi import ErrorSpec
from app.evaluation.default_rubric import default_criteria
from app.evaluation.models import RubricVersion, Scorecard
from app.evaluation.review_schemas import RubricOut
from app.evaluation.schemas import Criterion
from app.events import service as events
from app.simulations import service as simulations
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


async def hold_rubric(session: AsyncSession, simulation_id: int) -> None:
    """Keep the current version from being edited in place until the transaction ends
    (a share lock on the simulation's row, which `replace_criteria` locks for update):
    taken before a new scorecard starts using it."""
    await session.execute(
        select(Simulation.id).where(Simulation.id == simulation_id).with_for_update(read=True)
    )


async def is_used(session: AsyncSession, rubric_version_id: int) -> bool:
    """Whether a scorecard (draft or submitted) was made with this version."""
    statement = select(Scorecard.id).where(Scorecard.rubric_version_id == rubric_version_id)
    return await session.scalar(statement.limit(1)) is not None


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
    if not await is_used(session, current.id):
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


# The rubric routes: a simulation's recruiters read and edit its rubric.

RUBRIC_INVALID: ErrorSpec = (UnprocessableError, "RUBRIC_INVALID")


async def _out(session: AsyncSession, version: RubricVersion) -> RubricOut:
    return RubricOut(
        version=version.version,
        criteria=criteria_of(version),
        editable=not await is_used(session, version.id),
        updated_at=version.updated_at,
        updated_by_user_id=version.created_by_user_id,
    )


async def get_rubric(session: AsyncSession, recruiter: Recruiter, simulation_id: int) -> RubricOut:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    return await _out(session, await current_rubric(session, simulation.id))


async def rubric_versions(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int
) -> list[RubricOut]:
    """Every version, newest first."""
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    await current_rubric(session, simulation.id)
    statement = (
        select(RubricVersion)
        .where(RubricVersion.simulation_id == simulation.id)
        .order_by(RubricVersion.version.desc())
    )
    return [await _out(session, version) for version in (await session.scalars(statement)).all()]


async def update_rubric(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    criteria: list[Criterion],
    *,
    now: datetime,
) -> RubricOut:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    task_days = {task.day_index for task in await simulations.tasks_of(session, simulation.id)}
    issues = _criteria_issues(criteria, task_days)
    if issues:
        raise UnprocessableError(
            f"The rubric is invalid: {issues[0]['msg']}", code="RUBRIC_INVALID", errors=issues
        )
    previous = await current_rubric(session, simulation.id)
    stored = await replace_criteria(session, simulation.id, criteria, recruiter.user.id)
    await events.record(
        session,
        simulation_id=simulation.id,
        type="rubric.updated",
        actor_type="recruiter",
        actor_id=str(recruiter.user.id),
        data={"version": stored.version, "newVersion": stored.id != previous.id},
        occurred_at=now,
    )
    return await _out(session, stored)


def _criteria_issues(criteria: list[Criterion], task_days: set[int]) -> list[dict[str, Any]]:
    """What is wrong with `criteria` for a simulation with tasks on `task_days`."""
    issues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, criterion in enumerate(criteria):
        if criterion.key in seen:
            issues.append(
                _issue([index, "key"], f"key {criterion.key!r} is used twice", "duplicate_key")
            )
        seen.add(criterion.key)
        if criterion.day_index not in task_days:
            issues.append(
                _issue(
                    [index, "dayIndex"],
                    f"the simulation has no task on day {criterion.day_index}",
                    "day_without_task",
                )
            )
    scored = {criterion.day_index for criterion in criteria}
    for day in sorted(task_days - scored):
        issues.append(_issue([], f"day {day} has a task but no criterion", "day_without_criteria"))
    return issues


def _issue(path: list[int | str], msg: str, type: str) -> dict[str, Any]:
    return {"loc": ["body", "criteria", *map(str, path)], "msg": msg, "type": type}
