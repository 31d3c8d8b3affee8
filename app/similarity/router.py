"""Similarity across candidates for recruiters (SPEC §11.4): a simulation's pairs of
submissions with similar code. One submission's pairs are served beside the submission
(app/submissions/router.py), whose domain knows its tenancy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.dependencies import RecruiterUser
from app.core.db import DbReader
from app.core.openapi import raises
from app.core.pagination import DEFAULT_LIMIT, INVALID_CURSOR, Limit
from app.core.schemas import EntityId
from app.similarity import views
from app.similarity.schemas import SimulationSimilarity
from app.simulations.service import SIMULATION_NOT_FOUND

router = APIRouter(tags=["similarity"])

MinScore = Annotated[
    float | None,
    Query(
        alias="minScore",
        ge=0,
        le=1,
        description="Only pairs scoring at least this (0 to 1); without it, every stored pair "
        "(each reached the threshold in force when it was compared).",
    ),
]


@router.get("/simulations/{simulation_id}/similarity", response_model=SimulationSimilarity)
@raises(SIMULATION_NOT_FOUND, INVALID_CURSOR)
async def get_simulation_similarity(
    simulation_id: EntityId,
    recruiter: RecruiterUser,
    session: DbReader,
    min_score: MinScore = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
) -> SimulationSimilarity:
    """Pairs of the simulation's submissions with similar code, for review, never a verdict."""
    return await views.simulation_pairs(
        session, recruiter, simulation_id, min_score=min_score, limit=limit, cursor=cursor
    )
