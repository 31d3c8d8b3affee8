"""A simulation's candidates compared on their reviews (recruiters)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth.dependencies import RecruiterUser
from app.core.db import DbSession
from app.core.openapi import raises
from app.core.schemas import EntityId
from app.evaluation import comparison
from app.evaluation.comparison import Comparison
from app.simulations.service import SIMULATION_NOT_FOUND

router = APIRouter(prefix="/simulations/{simulation_id}", tags=["evaluation"])


@router.get("/comparison", response_model=Comparison)
@raises(SIMULATION_NOT_FOUND)
async def get_comparison(
    simulation_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> Comparison:
    """Candidates ranked by weighted score, with the reviewers' agreement (blind per reader)."""
    return await comparison.comparison(session, recruiter, simulation_id)


@router.get(
    "/comparison.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The comparison's rows, one per candidate session.",
        }
    },
)
@raises(SIMULATION_NOT_FOUND)
async def export_comparison_csv(
    simulation_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> Response:
    """The comparison as CSV (blind per reader)."""
    body = await comparison.comparison_csv(session, recruiter, simulation_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="comparison-{simulation_id}.csv"'},
    )
