"""Liveness and readiness."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Request

from app.core.db import database_of
from app.core.errors import ServiceUnavailableError
from app.core.openapi import raises
from app.health.schemas import Liveness, Readiness

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)

READINESS_DB_TIMEOUT_SECONDS = 3.0


@router.get("/health")
async def check_liveness() -> Liveness:
    """Liveness: the process answers."""
    return Liveness()


@router.get("/health/ready")
@raises((ServiceUnavailableError, "DATABASE_UNAVAILABLE"))
async def check_readiness(request: Request) -> Readiness:
    """Readiness: the database answers."""
    try:
        await asyncio.wait_for(database_of(request).ping(), READINESS_DB_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("health.database_unavailable", error=type(exc).__name__)
        raise ServiceUnavailableError(
            "The database is not reachable.", code="DATABASE_UNAVAILABLE"
        ) from exc
    return Readiness()
