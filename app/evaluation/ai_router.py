"""The AI drafts: a candidate session's draft scorecards and a simulation's scenario drafts.
Recruiters only; another company's objects are answered as missing."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.auth.dependencies import RecruiterUser
from app.candidate_sessions.progress import CANDIDATE_SESSION_NOT_FOUND
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.errors import ConflictError, UnprocessableError
from app.core.openapi import ErrorSpec, raises
from app.core.schemas import EntityId
from app.evaluation import ai_drafts, scenario_drafts
from app.evaluation.ai_budget import AiBudgetExhaustedError
from app.evaluation.ai_schemas import (
    AiDraftOut,
    AiDraftsQueued,
    ScenarioContent,
    ScenarioDraftCreate,
    ScenarioDraftOut,
)
from app.evaluation.scenario_drafts import (
    SCENARIO_DRAFT_NOT_FOUND,
    SCENARIO_DRAFT_NOT_READY,
    SIMULATION_HAS_CANDIDATES,
)
from app.integrations.github.template_catalog import Catalog
from app.services import AI_NOT_CONFIGURED, CurrentServices
from app.simulations.service import SIMULATION_NOT_FOUND

router = APIRouter(tags=["ai-drafts"])

AI_BUDGET_EXHAUSTED: ErrorSpec = (ConflictError, AiBudgetExhaustedError.code)
_DRAFT = "/simulations/{simulation_id}/scenario-drafts/{draft_id}"


@router.get("/candidate-sessions/{cs_id}/ai-drafts", response_model=list[AiDraftOut])
@raises(CANDIDATE_SESSION_NOT_FOUND)
async def list_ai_drafts(
    cs_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> list[AiDraftOut]:
    """The AI's draft scorecard of each day of a candidate session (never a reviewer's)."""
    return await ai_drafts.list_drafts(session, recruiter, cs_id)


@router.post(
    "/candidate-sessions/{cs_id}/ai-drafts",
    response_model=AiDraftsQueued,
    status_code=status.HTTP_202_ACCEPTED,
)
@raises(CANDIDATE_SESSION_NOT_FOUND, AI_NOT_CONFIGURED, AI_BUDGET_EXHAUSTED)
async def request_ai_drafts(
    cs_id: EntityId,
    recruiter: RecruiterUser,
    session: DbSession,
    services: CurrentServices,
    clock: CurrentClock,
) -> AiDraftsQueued:
    """Queue AI drafts for the submitted days that have no current one."""
    return await ai_drafts.request_drafts(session, recruiter, cs_id, services, clock.now())


@router.post(
    "/simulations/{simulation_id}/scenario-drafts",
    response_model=ScenarioDraftOut,
    status_code=status.HTTP_202_ACCEPTED,
)
@raises(SIMULATION_NOT_FOUND, AI_NOT_CONFIGURED, SIMULATION_HAS_CANDIDATES, AI_BUDGET_EXHAUSTED)
async def create_scenario_draft(
    simulation_id: EntityId,
    body: ScenarioDraftCreate,
    recruiter: RecruiterUser,
    session: DbSession,
    services: CurrentServices,
    clock: CurrentClock,
) -> ScenarioDraftOut:
    """Queue an AI draft of the simulation's tasks and rubric."""
    return await scenario_drafts.create_draft(
        session, recruiter, simulation_id, body, services, clock.now()
    )


@router.get("/simulations/{simulation_id}/scenario-drafts", response_model=list[ScenarioDraftOut])
@raises(SIMULATION_NOT_FOUND)
async def list_scenario_drafts(
    simulation_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> list[ScenarioDraftOut]:
    """The simulation's scenario drafts, newest first."""
    return await scenario_drafts.list_drafts(session, recruiter, simulation_id)


@router.get(_DRAFT, response_model=ScenarioDraftOut)
@raises(SIMULATION_NOT_FOUND, SCENARIO_DRAFT_NOT_FOUND)
async def get_scenario_draft(
    simulation_id: EntityId, draft_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> ScenarioDraftOut:
    """One scenario draft."""
    return await scenario_drafts.get_draft(session, recruiter, simulation_id, draft_id)


@router.patch(_DRAFT, response_model=ScenarioDraftOut)
@raises(SIMULATION_NOT_FOUND, SCENARIO_DRAFT_NOT_FOUND, SCENARIO_DRAFT_NOT_READY)
async def edit_scenario_draft(
    simulation_id: EntityId,
    draft_id: EntityId,
    body: ScenarioContent,
    recruiter: RecruiterUser,
    session: DbSession,
) -> ScenarioDraftOut:
    """Replace a ready draft's tasks and criteria with the recruiter's edit."""
    return await scenario_drafts.edit_draft(session, recruiter, simulation_id, draft_id, body)


@router.post(_DRAFT + "/approve", response_model=ScenarioDraftOut)
@raises(
    SIMULATION_NOT_FOUND,
    SCENARIO_DRAFT_NOT_FOUND,
    SCENARIO_DRAFT_NOT_READY,
    SIMULATION_HAS_CANDIDATES,
    (UnprocessableError, "TEMPLATE_KEY_UNKNOWN"),
)
async def approve_scenario_draft(
    simulation_id: EntityId,
    draft_id: EntityId,
    recruiter: RecruiterUser,
    session: DbSession,
    catalog: Catalog,
    clock: CurrentClock,
) -> ScenarioDraftOut:
    """Apply a ready draft: the simulation's tasks and rubric become the draft's."""
    return await scenario_drafts.approve_draft(
        session, recruiter, simulation_id, draft_id, catalog, clock.now()
    )
