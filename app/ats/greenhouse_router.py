"""Greenhouse's Assessment Partner API, served to Greenhouse: list_tests, send_test and
test_status, each authenticated by a company's partner key (HTTP Basic user name). The
paths are what a company gives Greenhouse (docs/ats.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.ats import greenhouse, service
from app.ats.greenhouse import CALLBACK_REFUSED, GreenhouseKey
from app.ats.schemas import (
    GreenhouseSendTest,
    GreenhouseSendTestResult,
    GreenhouseTest,
    GreenhouseTestStatus,
)
from app.ats.service import ORDER_MISMATCH, ORDER_NOT_FOUND, TEST_NOT_FOUND
from app.candidate_sessions.lifecycle import CurrentSessionHooks
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.errors import ConflictError
from app.core.openapi import raises
from app.core.settings import CurrentSettings
from app.services import CurrentServices
from app.simulations import service as simulations

router = APIRouter(prefix="/integrations/greenhouse", tags=["greenhouse"])


@router.get("/list_tests", response_model=list[GreenhouseTest])
async def greenhouse_list_tests(key: GreenhouseKey, session: DbSession) -> list[GreenhouseTest]:
    """Greenhouse list_tests: the company's simulations that can be sent."""
    return [
        GreenhouseTest(partner_test_id=str(simulation.id), partner_test_name=simulation.title)
        for simulation in await simulations.active_simulations(session, key.company_id)
    ]


@router.post("/send_test", response_model=GreenhouseSendTestResult)
@raises(
    TEST_NOT_FOUND,
    CALLBACK_REFUSED,
    ORDER_MISMATCH,
    (ConflictError, "CANDIDATE_ALREADY_COMPLETED"),
    ConflictError,  # a concurrent change to the same order or invite; retryable
)
async def greenhouse_send_test(
    body: GreenhouseSendTest,
    key: GreenhouseKey,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    services: CurrentServices,
    hooks: CurrentSessionHooks,
) -> GreenhouseSendTestResult:
    """Greenhouse send_test: invite the candidate (once per Greenhouse test instance)."""
    order = await service.place_order(
        session,
        key,
        greenhouse.order_request(body, settings),
        now=clock.now(),
        settings=settings,
        cipher=services.token_cipher,
        hooks=hooks,
    )
    return GreenhouseSendTestResult(partner_interview_id=str(order.id))


@router.get("/test_status", response_model=GreenhouseTestStatus)
@raises(ORDER_NOT_FOUND)
async def greenhouse_test_status(
    partner_interview_id: Annotated[str, Query(min_length=1, max_length=40)],
    key: GreenhouseKey,
    session: DbSession,
    settings: CurrentSettings,
) -> GreenhouseTestStatus:
    """Greenhouse test_status: where the candidate is, and the score once completed."""
    order = await service.order_for(session, key, partner_interview_id)
    report = (await service.reports(session, [order]))[order.id]
    return greenhouse.status_of(order, report, settings)
