"""Simulations: created from a template key and a day plan, scoped to the company."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.core.errors import NotFoundError, UnprocessableError
from app.core.openapi import ErrorSpec
from app.core.pagination import Page, decode_cursor, next_cursor
from app.events import service as events
from app.integrations.github.template_catalog import Template, TemplateCatalog
from app.simulations import repository
from app.simulations.blueprint import TaskBlueprint, default_plan
from app.simulations.candidate_counts import CandidateCounts
from app.simulations.models import Simulation, Task
from app.simulations.schemas import (
    SimulationCreate,
    SimulationListItem,
    SimulationOut,
    SimulationSummary,
    TaskCreate,
)

log = structlog.get_logger(__name__)

# What routes that look a simulation up with `simulation_for` declare with `@raises`.
SIMULATION_NOT_FOUND: ErrorSpec = (NotFoundError, "SIMULATION_NOT_FOUND")


def _template(catalog: TemplateCatalog, key: str) -> Template:
    template = catalog.get(key)
    if template is not None:
        return template
    known = ", ".join(catalog.keys)
    raise UnprocessableError(
        f"Unknown templateKey {key!r}; available: {known}.",
        code="TEMPLATE_KEY_UNKNOWN",
        errors=[
            {
                "loc": ["body", "templateKey"],
                "msg": f"must be one of: {known}",
                "type": "template_key",
            }
        ],
    )


def _template_repo(template: Template, task_type: str) -> str | None:
    return {"code": template.code_repo, "debug": template.debug_repo}.get(task_type)


async def create_simulation(
    session: AsyncSession,
    recruiter: Recruiter,
    body: SimulationCreate,
    catalog: TemplateCatalog,
    *,
    now: datetime,
) -> SimulationOut:
    template = _template(catalog, body.template_key)
    plan: Sequence[TaskCreate | TaskBlueprint] = body.tasks or default_plan(
        role=body.role, tech_stack=body.tech_stack
    )
    simulation = Simulation(
        company_id=recruiter.company.id,
        created_by_user_id=recruiter.user.id,
        title=body.title,
        role=body.role,
        tech_stack=body.tech_stack,
        seniority=body.seniority,
        focus=body.focus,
        template_key=template.key,
        status="active",
        created_at=now,
    )
    tasks = [
        Task(
            day_index=item.day_index,
            type=item.type,
            title=item.title,
            description=item.description,
            max_score=item.max_score,
            template_repo=_template_repo(template, item.type),
        )
        for item in sorted(plan, key=lambda item: item.day_index)
    ]
    simulation.tasks = tasks
    session.add(simulation)
    await session.flush()
    await events.record(
        session,
        simulation_id=simulation.id,
        type="simulation.created",
        actor_type="recruiter",
        actor_id=str(recruiter.user.id),
        data={"templateKey": template.key, "tasks": len(tasks)},
        occurred_at=now,
    )
    log.info("simulations.created", simulation_id=simulation.id, tasks=len(tasks))
    return SimulationOut.model_validate(simulation)


async def list_simulations(
    session: AsyncSession,
    recruiter: Recruiter,
    *,
    limit: int,
    cursor: str | None,
    candidate_counts: CandidateCounts,
) -> Page[SimulationListItem]:
    simulations, total = await repository.page_of_simulations(
        session, recruiter.company.id, limit=limit, after=decode_cursor(cursor)
    )
    counts = await candidate_counts(session, [simulation.id for simulation in simulations])
    return Page[SimulationListItem](
        items=[
            SimulationListItem.model_validate(
                SimulationSummary.model_validate(simulation).model_dump()
                | {"candidate_count": counts.get(simulation.id, 0)}
            )
            for simulation in simulations
        ],
        total=total,
        next_cursor=next_cursor(simulations, limit, lambda s: (s.created_at, s.id)),
    )


async def simulation_for(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int
) -> Simulation:
    """The recruiter's company's simulation; another company's is answered as missing."""
    simulation = await repository.simulation_in_company(
        session, recruiter.company.id, simulation_id, with_tasks=False
    )
    if simulation is None:
        raise NotFoundError("No such simulation.", code="SIMULATION_NOT_FOUND")
    return simulation


async def active_simulations(session: AsyncSession, company_id: int) -> Sequence[Simulation]:
    """The company's simulations candidates can be invited to, newest first."""
    return await repository.active_of_company(session, company_id)


async def active_simulation(
    session: AsyncSession, company_id: int, simulation_id: int
) -> Simulation | None:
    simulation = await repository.simulation_in_company(
        session, company_id, simulation_id, with_tasks=False
    )
    return simulation if simulation is not None and simulation.status == "active" else None


async def get_simulation(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int
) -> SimulationOut:
    simulation = await repository.simulation_in_company(
        session, recruiter.company.id, simulation_id, with_tasks=True
    )
    if simulation is None:
        raise NotFoundError("No such simulation.", code="SIMULATION_NOT_FOUND")
    return SimulationOut.model_validate(simulation)


async def replace_tasks(
    session: AsyncSession,
    simulation: Simulation,
    plan: Sequence[TaskCreate],
    catalog: TemplateCatalog,
) -> list[Task]:
    """Make `plan` (one task per day) the simulation's tasks: a day's task is rewritten in
    place (its id and max score kept), a new day added, a day the plan lacks removed. The
    caller holds the simulation's row lock and has checked that nobody was invited yet."""
    template = _template(catalog, simulation.template_key)
    existing = {task.day_index: task for task in await repository.tasks_of(session, simulation.id)}
    planned = {item.day_index: item for item in plan}
    for day, task in existing.items():
        if day not in planned:
            await session.delete(task)
    for day, item in sorted(planned.items()):
        task = existing.get(day) or Task(
            simulation_id=simulation.id, day_index=day, max_score=item.max_score
        )
        session.add(task)
        task.type = item.type
        task.title = item.title
        task.description = item.description
        task.template_repo = _template_repo(template, item.type)
    await session.flush()
    log.info("simulations.tasks_replaced", simulation_id=simulation.id, tasks=len(planned))
    return list(await repository.tasks_of(session, simulation.id))


async def tasks_of(session: AsyncSession, simulation_id: int) -> Sequence[Task]:
    return await repository.tasks_of(session, simulation_id)


async def task_by_id(session: AsyncSession, task_id: int) -> Task | None:
    return await repository.task_by_id(session, task_id)
