"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from app.auth.dependencies import MetricsScraper
from app.core.clock import CurrentClock
from app.core.db import Database, database_of
from app.core.errors import DatabaseUnavailableError
from app.core.metrics import CurrentMetrics, JobQueueSnapshot
from app.core.openapi import raises
from app.health.schemas import Liveness, Readiness
from app.jobs import service as jobs

router = APIRouter(tags=["health"])
# Mounted only when TENON_METRICS_TOKEN is set; an operator's endpoint, not the product's API.
metrics_router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

READINESS_DB_TIMEOUT_SECONDS = 3.0
SCRAPE_DB_TIMEOUT_SECONDS = 3.0


@router.get("/health")
async def check_liveness() -> Liveness:
    """Liveness: the process answers."""
    return Liveness()


@router.get("/health/ready")
@raises(DatabaseUnavailableError)
async def check_readiness(request: Request) -> Readiness:
    """Readiness: the database answers."""
    try:
        await asyncio.wait_for(database_of(request).ping(), READINESS_DB_TIMEOUT_SECONDS)
    except DatabaseUnavailableError:
        raise  # logged where the connection failed
    except Exception as exc:
        log.warning("health.database_unavailable", error=type(exc).__name__)
        raise DatabaseUnavailableError from exc
    return Readiness()


@metrics_router.get("/metrics")
async def metrics(
    request: Request, metrics: CurrentMetrics, clock: CurrentClock, _: MetricsScraper
) -> Response:
    """Prometheus metrics, in the text exposition format."""
    queue = await _job_queue(database_of(request), clock.now())
    # Off the loop: in multi-process mode this reads every process's files.
    body = await asyncio.to_thread(metrics.exposition, queue)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


async def _job_queue(database: Database, now: datetime) -> JobQueueSnapshot | None:
    """The queue's gauges; without the database the scrape still carries everything else."""
    try:
        async with database.sessionmaker() as session:
            return await asyncio.wait_for(
                jobs.queue_snapshot(session, now=now), SCRAPE_DB_TIMEOUT_SECONDS
            )
    except Exception as exc:
        log.warning("metrics.job_queue_unavailable", error=type(exc).__name__)
        return None
