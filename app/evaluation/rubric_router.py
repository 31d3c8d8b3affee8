"""A simulation's rubric (recruiters of its company)."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.dependencies import RecruiterUser
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.openapi import raises
from app.core.schemas import EntityId
from app.evaluation import rubrics
from app.evaluation.review_schemas import RubricOut, RubricUpdate
from app.simulations.service import SIMULATION_NOT_FOUND

router = APIRouter(prefix="/simulations/{simulation_id}/rubric", tags=["evaluation"])


@router.get("", response_model=RubricOut)
@raises(SIMULATION_NOT_FOUND)
async def get_rubric(
    simulation_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> RubricOut:
    """The simulation's current rubric (the default criteria until it is edited)."""
    return await rubrics.get_rubric(session, recruiter, simulation_id)


@router.put("", response_model=RubricOut)
@raises(SIMULATION_NOT_FOUND, rubrics.RUBRIC_INVALID)
async def update_rubric(
    simulation_id: EntityId,
    body: RubricUpdate,
    recruiter: RecruiterUser,
    session: DbSession,
    clock: CurrentClock,
) -> RubricOut:
    """Replace the rubric's criteria: in place until a scorecard uses it, else a new version."""
    return await rubrics.update_rubric(
        session, recruiter, simulation_id, body.criteria, now=clock.now()
    )


@router.get("/versions", response_model=list[RubricOut])
@raises(SIMULATION_NOT_FOUND)
async def list_rubric_versions(
    simulation_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> list[RubricOut]:
    """Every version of the simulation's rubric, newest first."""
    return await rubrics.rubric_versions(session, recruiter, simulation_id)
