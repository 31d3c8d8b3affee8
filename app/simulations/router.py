"""Recruiters' simulations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.auth.dependencies import RecruiterUser
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.errors import UnprocessableError
from app.core.openapi import raises
from app.core.pagination import (
    BARE_LIST_DESCRIPTION,
    BARE_LIST_HEADERS,
    DEFAULT_LIMIT,
    INVALID_CURSOR,
    Limit,
    Page,
    bare_limit,
    page_or_bare,
)
from app.core.schemas import EntityId
from app.integrations.github.template_catalog import Catalog
from app.simulations import service
from app.simulations.candidate_counts import CurrentCandidateCounts
from app.simulations.schemas import SimulationCreate, SimulationListItem, SimulationOut
from app.simulations.service import SIMULATION_NOT_FOUND

router = APIRouter(prefix="/simulations", tags=["simulations"])


@router.post("", response_model=SimulationOut, status_code=status.HTTP_201_CREATED)
@raises((UnprocessableError, "TEMPLATE_KEY_UNKNOWN"))
async def create_simulation(
    body: SimulationCreate,
    recruiter: RecruiterUser,
    session: DbSession,
    catalog: Catalog,
    clock: CurrentClock,
) -> SimulationOut:
    """Create a simulation; its tasks come from the default five-day plan unless given."""
    return await service.create_simulation(session, recruiter, body, catalog, now=clock.now())


@router.get(
    "",
    response_model=Page[SimulationListItem] | list[SimulationListItem],
    responses={200: {"description": BARE_LIST_DESCRIPTION, "headers": BARE_LIST_HEADERS}},
)
@raises(INVALID_CURSOR)
async def list_simulations(
    recruiter: RecruiterUser,
    session: DbSession,
    request: Request,
    response: Response,
    candidate_counts: CurrentCandidateCounts,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
) -> Page[SimulationListItem] | list[SimulationListItem]:
    """List the company's simulations, newest first."""
    page = await service.list_simulations(
        session,
        recruiter,
        limit=bare_limit(request, limit),
        cursor=cursor,
        candidate_counts=candidate_counts,
    )
    return page_or_bare(page, request, response)


@router.get("/{simulation_id}", response_model=SimulationOut)
@raises(SIMULATION_NOT_FOUND)
async def get_simulation(
    simulation_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> SimulationOut:
    """One simulation with its tasks."""
    return await service.get_simulation(session, recruiter, simulation_id)
