"""AI scenario drafts: from a role, a tech stack, a seniority and a focus, a job asks the
provider for a simulation's tasks (one per day) and the rubric criteria that score them.
The recruiter edits the draft and approves it, which rewrites the simulation's tasks and its
rubric. Once anyone has been invited, no draft is made or approved: candidates must all get
the tasks the first one got.

Inviting inserts a candidate session, whose foreign key check takes a share lock on the
simulation's row; creating and approving a draft hold that row's update lock while they
check for candidates, so an invite and an approval cannot pass each other."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.core.errors import ConflictError, NotFoundError
from app.core.openapi import ErrorSpec
from app.core.schemas import ApiModel
from app.evaluation import ai_budget
from app.evaluation.ai_calls import call_ai
from app.evaluation.ai_drafts import usage_out
from app.evaluation.ai_schemas import (
    ScenarioContent,
    ScenarioDraftCreate,
    ScenarioDraftOut,
)
from app.evaluation.models import MAX_LEVEL, MIN_LEVEL, AiUsage, ScenarioDraft, ScenarioDraftStatus
from app.evaluation.rubrics import replace_criteria
from app.integrations.ai.pii import Placeholders
from app.integrations.ai.provider import AiRequest
from app.integrations.github.template_catalog import TemplateCatalog
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType
from app.services import AiNotConfiguredError, Services
from app.simulations import service as simulations
from app.simulations.models import TASK_TYPES, Simulation
from app.simulations.schemas import TaskCreate

log = structlog.get_logger(__name__)

MAX_OUTPUT_TOKENS = 8_000

SCENARIO_DRAFT_NOT_FOUND: ErrorSpec = (NotFoundError, "SCENARIO_DRAFT_NOT_FOUND")
SIMULATION_HAS_CANDIDATES: ErrorSpec = (ConflictError, "SIMULATION_HAS_CANDIDATES")
SCENARIO_DRAFT_NOT_READY: ErrorSpec = (ConflictError, "SCENARIO_DRAFT_NOT_READY")

SYSTEM = (
    "You design work simulations for hiring: one realistic task per day for a candidate, "
    "as a teammate would hand it over, and the rubric criteria reviewers score it with. "
    "Each criterion has a short key (lowercase letters, digits, '-' or '_'), a title, a "
    "description, a positive weight and one anchor sentence for each level of a 1-4 "
    "scale. Every day needs at least one criterion. Placeholders such as [COMPANY_NAME] "
    "stand for names: use them as they are."
)


class ScenarioJob(ApiModel):
    draft_id: int
    role: str
    tech_stack: str
    seniority: str
    focus: str | None


def output_schema(days: list[int]) -> dict[str, Any]:
    line = {"type": "string"}
    task = {
        "type": "object",
        "additionalProperties": False,
        "required": ["dayIndex", "type", "title", "description"],
        "properties": {
            "dayIndex": {"type": "integer", "enum": days},
            "type": {"type": "string", "enum": list(TASK_TYPES)},
            "title": line,
            "description": line,
        },
    }
    levels = [str(level) for level in range(MIN_LEVEL, MAX_LEVEL + 1)]
    criterion = {
        "type": "object",
        "additionalProperties": False,
        "required": ["key", "dayIndex", "title", "description", "weight", "anchors"],
        "properties": {
            "key": line,
            "dayIndex": {"type": "integer", "enum": days},
            "title": line,
            "description": line,
            "weight": {"type": "number"},
            "anchors": {
                "type": "object",
                "additionalProperties": False,
                "required": levels,
                "properties": {level: line for level in levels},
            },
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["tasks", "criteria"],
        "properties": {
            "tasks": {"type": "array", "items": task},
            "criteria": {"type": "array", "items": criterion},
        },
    }


def validated(data: dict[str, Any], days: list[int]) -> ScenarioContent:
    """The answer as scenario content, one task for each of `days`; ValueError otherwise."""
    try:
        content = ScenarioContent.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ValueError(f"The answer does not match the scenario schema: {problems}") from exc
    drafted = sorted(task.day_index for task in content.tasks)
    if drafted != days:
        raise ValueError(f"The answer drafted days {drafted}; the simulation has days {days}.")
    return content


def _prompt(job: ScenarioJob, simulation: Simulation, plan: Sequence[tuple[int, str]]) -> str:
    days = "\n".join(f"- day {day}: a {task_type} task" for day, task_type in plan)
    return (
        f"Simulation: {simulation.title}\nRole: {job.role}\nTech stack: {job.tech_stack}\n"
        f"Seniority: {job.seniority}\nFocus: {job.focus or 'none given'}\n\n"
        f"Draft one task for each day (task types: {', '.join(TASK_TYPES)}; code and debug "
        f"tasks are worked in a repository of the stack). The current plan:\n{days}"
    )


async def locked_without_candidates(session: AsyncSession, simulation_id: int) -> None:
    """Lock the simulation's row for update, then refuse (409) if anyone was invited."""
    await session.execute(
        select(Simulation.id).where(Simulation.id == simulation_id).with_for_update()
    )
    invited = await session.scalar(
        select(CandidateSession.id).where(CandidateSession.simulation_id == simulation_id).limit(1)
    )
    if invited is not None:
        raise ConflictError(
            "Candidates were already invited to this simulation: its tasks and rubric can no "
            "longer be drafted or replaced.",
            code="SIMULATION_HAS_CANDIDATES",
        )


async def create_draft(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    body: ScenarioDraftCreate,
    services: Services,
    now: datetime,
) -> ScenarioDraftOut:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    services.require_ai()
    await locked_without_candidates(session, simulation.id)
    await ai_budget.ensure_budget_left(session, simulation.company_id, services.settings.ai, now)
    draft = ScenarioDraft(
        simulation_id=simulation.id, requested_by_user_id=recruiter.user.id, status="queued"
    )
    session.add(draft)
    await session.flush()
    job = ScenarioJob(
        draft_id=draft.id,
        role=body.role or simulation.role,
        tech_stack=body.tech_stack or simulation.tech_stack,
        seniority=body.seniority or simulation.seniority,
        focus=body.focus if body.focus is not None else simulation.focus,
    )
    await enqueue(session, SCENARIO_DRAFT, job)
    log.info("evaluation.scenario_draft_queued", simulation_id=simulation.id, draft_id=draft.id)
    return _out(draft, None)


def _out(draft: ScenarioDraft, usage: AiUsage | None) -> ScenarioDraftOut:
    return ScenarioDraftOut(
        id=draft.id,
        simulation_id=draft.simulation_id,
        status=draft.status,
        content=ScenarioContent.model_validate(draft.content) if draft.content else None,
        usage=usage_out(usage),
        error_code=draft.error_code,
        error_detail=draft.error_detail,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
        approved_at=draft.approved_at,
    )


async def list_drafts(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int
) -> list[ScenarioDraftOut]:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    rows = (
        await session.execute(
            select(ScenarioDraft, AiUsage)
            .outerjoin(AiUsage, AiUsage.id == ScenarioDraft.ai_usage_id)
            .where(ScenarioDraft.simulation_id == simulation.id)
            .order_by(ScenarioDraft.created_at.desc(), ScenarioDraft.id.desc())
        )
    ).all()
    return [_out(draft, usage) for draft, usage in rows]


async def _draft_of(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    draft_id: int,
    *,
    for_update: bool = False,
) -> tuple[ScenarioDraft, AiUsage | None]:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    statement = (
        select(ScenarioDraft, AiUsage)
        .outerjoin(AiUsage, AiUsage.id == ScenarioDraft.ai_usage_id)
        .where(ScenarioDraft.id == draft_id, ScenarioDraft.simulation_id == simulation.id)
    )
    if for_update:
        statement = statement.with_for_update(of=ScenarioDraft)
    found = (await session.execute(statement)).one_or_none()
    if found is None:
        raise NotFoundError("No such scenario draft.", code="SCENARIO_DRAFT_NOT_FOUND")
    return found[0], found[1]


async def get_draft(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int, draft_id: int
) -> ScenarioDraftOut:
    return _out(*await _draft_of(session, recruiter, simulation_id, draft_id))


def _require_ready(draft: ScenarioDraft, action: str) -> None:
    if draft.status != "ready":
        raise ConflictError(
            f"Only a ready draft can be {action}; this one is {draft.status}.",
            code="SCENARIO_DRAFT_NOT_READY",
        )


async def edit_draft(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    draft_id: int,
    content: ScenarioContent,
) -> ScenarioDraftOut:
    draft, usage = await _draft_of(session, recruiter, simulation_id, draft_id, for_update=True)
    _require_ready(draft, "edited")
    draft.content = content.model_dump(mode="json", by_alias=True)
    await session.flush()
    return _out(draft, usage)


async def approve_draft(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    draft_id: int,
    catalog: TemplateCatalog,
    now: datetime,
) -> ScenarioDraftOut:
    """Apply the draft: the simulation's tasks and its rubric become the draft's."""
    draft, usage = await _draft_of(session, recruiter, simulation_id, draft_id, for_update=True)
    _require_ready(draft, "approved")
    await locked_without_candidates(session, draft.simulation_id)
    simulation = await session.get(Simulation, draft.simulation_id)
    assert simulation is not None
    content = ScenarioContent.model_validate(draft.content)
    plan = [
        TaskCreate(
            day_index=task.day_index, type=task.type, title=task.title, description=task.description
        )
        for task in content.tasks
    ]
    await simulations.replace_tasks(session, simulation, plan, catalog)
    await replace_criteria(session, simulation.id, content.criteria, recruiter.user.id)
    draft.status = "approved"
    draft.approved_by_user_id = recruiter.user.id
    draft.approved_at = now
    await session.flush()
    log.info("evaluation.scenario_draft_approved", simulation_id=simulation.id, draft_id=draft.id)
    return _out(draft, usage)


async def _draft_row(session: AsyncSession, draft_id: int) -> ScenarioDraft | None:
    return await session.get(ScenarioDraft, draft_id, with_for_update=True)


def _end(draft: ScenarioDraft, status: ScenarioDraftStatus, code: str, detail: str) -> None:
    draft.status = status
    draft.error_code = code
    draft.error_detail = detail[:2000]


async def _make_scenario(context: JobContext[Services], job: ScenarioJob) -> None:
    database = context.database
    async with database.session_scope() as session:
        draft = await _draft_row(session, job.draft_id)
        if draft is None or draft.status not in ("queued", "running"):
            return
        provider = context.services.ai
        if provider is None:
            error = AiNotConfiguredError()
            _end(draft, "failed", error.code, error.detail)
            return
        simulation = await session.get(Simulation, draft.simulation_id)
        assert simulation is not None
        company = await session.get(Company, simulation.company_id)
        assert company is not None
        plan = [
            (task.day_index, task.type)
            for task in await simulations.tasks_of(session, simulation.id)
        ]
        placeholders = Placeholders({"COMPANY_NAME": company.name})
        days = [day for day, _ in plan]
        request = AiRequest(
            system=SYSTEM,
            prompt=placeholders.redact(_prompt(job, simulation, plan)),
            schema_name="scenario_draft",
            json_schema=output_schema(days),
            max_output_tokens=MAX_OUTPUT_TOKENS,
        )
        draft.status = "running"
        company_id = company.id

    async def link(session: AsyncSession, usage_id: int) -> None:
        draft = await _draft_row(session, job.draft_id)
        if draft is not None:
            draft.ai_usage_id = usage_id

    result = await call_ai(
        database,
        provider,
        request,
        company_id=company_id,
        purpose="scenario_draft",
        settings=context.services.settings.ai,
        clock=context.clock,
        last_attempt=context.attempt >= context.max_attempts,
        on_reserved=link,
    )

    async with database.session_scope() as session:
        draft = await _draft_row(session, job.draft_id)
        if draft is None:
            return
        if result.response is None:
            _end(
                draft,
                result.failure or "failed",
                result.error_code or "",
                result.error_detail or "",
            )
            return
        try:
            content = validated(placeholders.restore(result.response.data), days)
        except ValueError as exc:
            _end(draft, "failed", "AI_MALFORMED_OUTPUT", str(exc))
            return
        draft.content = content.model_dump(mode="json", by_alias=True)
        draft.status = "ready"
        draft.error_code = draft.error_detail = None
    log.info("evaluation.scenario_draft_ready", draft_id=job.draft_id)


SCENARIO_DRAFT = JobType(
    name="evaluation.scenario_draft", payload=ScenarioJob, handler=_make_scenario, max_attempts=5
)
