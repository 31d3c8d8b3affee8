"""Telling the ATS when an order's state changes: a job per order PATCHes its callback URL
with the order's report, and records what it sent and how that went.

Who asks for a sync: the session's `completed` hook (app.assembly), at once; and a
periodic sweep over the orders under way, which finds those whose report (status, score
from gradings and scorecards) differs from what was last attempted. A sync never sends
what the ATS already accepted. 429, 5xx and network errors are retried with backoff until
the attempts run out (recorded as given up); any other answer is recorded and not retried.

The sync holds the order's row lock across its one request: only syncs write these rows
(send_test's insert does not wait on it), so the lock orders the syncs of one order and
nothing else waits behind it; a sync that finds the row locked leaves it to the holder.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.ats import greenhouse, repository, service
from app.ats.models import AssessmentOrder
from app.candidate_sessions.models import CandidateSession
from app.core.schemas import ApiModel
from app.integrations.outbound import TargetRefusedError
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType, PeriodicJob, PermanentJobError
from app.services import Services

log = structlog.get_logger(__name__)

SWEEP_EVERY = timedelta(minutes=5)
# Greenhouse stops asking about a test 8 weeks after it was sent.
ORDER_WINDOW = timedelta(weeks=8)
SWEEP_BATCH = 500


class OrderRef(ApiModel):
    order_id: int


class Sweep(BaseModel):
    pass


class CallbackRetryError(Exception):
    """The ATS may accept the same request later (429, 5xx, no answer)."""


class CallbackRefusedError(PermanentJobError):
    """The ATS refused the callback, or Tenon refused its URL: no retry can help."""


def _dedupe_key(order_id: int) -> str:
    return f"ats-sync:{order_id}"


async def request_sync(session: AsyncSession, order_id: int) -> None:
    await enqueue(
        session, SYNC_ORDER, OrderRef(order_id=order_id), dedupe_key=_dedupe_key(order_id)
    )


async def session_completed(session: AsyncSession, cs: CandidateSession) -> None:
    """The `completed` session hook: the session's orders are synced now, not at the next
    sweep."""
    for order_id in await repository.order_ids_of_session(session, cs.id):
        await request_sync(session, order_id)


def _payload(
    order: AssessmentOrder, report: service.OrderReport, services: Services
) -> dict[str, Any]:
    return greenhouse.status_of(order, report, services.settings).model_dump(mode="json")


async def _sync(context: JobContext[Services], ref: OrderRef) -> None:
    services = context.services
    retry: str | None = None
    refused: str | None = None
    async with context.database.session_scope() as session:
        order = await repository.order_for_sync(session, ref.order_id)
        if order is None:
            log.info("ats.sync_skipped", order_id=ref.order_id, reason="missing or locked")
            return
        report = (await service.reports(session, [order]))[order.id]
        body = greenhouse.status_of(order, report, services.settings)
        payload = body.model_dump(mode="json")
        if payload == order.delivered_payload:
            return
        order.attempted_payload = payload
        order.synced_at = context.clock.now()
        order.sync_status_code = None
        key = await service.callback_key(
            session, order.company_id, order.system, services.token_cipher
        )
        if key is None:
            refused = "The company has no live partner key to authenticate the callback with."
        else:
            try:
                response = await greenhouse.patch_callback(
                    services.http, order, body, key=key, settings=services.settings
                )
            except TargetRefusedError as exc:
                refused = f"The callback URL is refused: {exc}"
            except httpx.HTTPError as exc:
                retry = f"{type(exc).__name__}: {exc}"
            else:
                order.sync_status_code = response.status_code
                if response.is_success:
                    order.delivered_payload = payload
                elif response.status_code == 429 or response.status_code >= 500:
                    retry = f"HTTP {response.status_code}"
                else:
                    refused = f"HTTP {response.status_code}: {response.text[:200]}"
        if retry is not None and context.attempt >= context.max_attempts:
            retry += f" (gave up after {context.attempt} attempts)"
        order.sync_error = retry or refused
        await session.flush()
    log.info(
        "ats.sync",
        order_id=ref.order_id,
        status_code=order.sync_status_code,
        error=order.sync_error,
        attempt=context.attempt,
    )
    if refused is not None:
        raise CallbackRefusedError(refused)
    if retry is not None:
        raise CallbackRetryError(retry)


async def enqueue_changed(session: AsyncSession, services: Services, *, now: datetime) -> int:
    """Ask for a sync of each order under way whose report differs from what was last
    attempted (a state already attempted and given up on waits for a new one)."""
    orders = await repository.orders_under_way(session, since=now - ORDER_WINDOW, limit=SWEEP_BATCH)
    reports = await service.reports(session, orders)
    changed = 0
    for order in orders:
        if _payload(order, reports[order.id], services) != order.attempted_payload:
            await request_sync(session, order.id)
            changed += 1
    return changed


async def _sweep(context: JobContext[Services], _: Sweep) -> None:
    async with context.database.session_scope() as session:
        changed = await enqueue_changed(session, context.services, now=context.clock.now())
    if changed:
        log.info("ats.sync_sweep", orders=changed)


# Backoff from 30 s doubling to an hour: 8 attempts span about four hours.
SYNC_ORDER = JobType(
    name="ats.sync_order",
    payload=OrderRef,
    handler=_sync,
    max_attempts=8,
    backoff_base=timedelta(seconds=30),
)
SYNC_SWEEP = PeriodicJob(
    JobType(name="ats.sync_sweep", payload=Sweep, handler=_sweep, max_attempts=3), SWEEP_EVERY
)
