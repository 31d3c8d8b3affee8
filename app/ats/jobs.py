"""Telling the ATS when an order's state changes: a job per order PATCHes its callback URL
with the order's report, and records what it sent and how that went.

Who asks for a sync: the session's `completed` hook (app.assembly), at once; and a
periodic sweep over the orders under way, which finds those whose report (status, score
from gradings and scorecards) differs from what was last attempted. A sync never sends
what the ATS already accepted. 429, 5xx and network errors are retried with backoff until
the attempts run out (recorded as given up); any other answer is recorded and not retried.

No transaction is open during the request (it may take seconds). A sync claims the order
in one short transaction: under the row lock it computes the body, stops if the ATS
accepted that body already, else bumps the order's `sync_version` and marks it sending
until a lease runs out. It sends holding no connection, then records the answer in a
second short transaction only if its version is still the order's, so a stale answer never
overwrites a later sync's. A sync finding another one sending tries again later: an order
has one request under way at a time, and a body the ATS accepted is not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.ats import greenhouse, repository, service
from app.ats.models import AssessmentOrder
from app.ats.schemas import GreenhouseTestStatus
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
# Far longer than a request can take (the client's timeouts are 10 s a phase): a claim runs
# out only when its sync died mid-request, and then the next sync takes the order over.
SENDING_LEASE = timedelta(minutes=2)


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


@dataclass(frozen=True)
class _Claim:
    """What one sync sends, taken under its claim on the order."""

    order_id: int
    version: int
    callback_url: str
    body: GreenhouseTestStatus
    key: str | None


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None = None
    delivered: bool = False
    retry: str | None = None
    refused: str | None = None


async def _sync(context: JobContext[Services], ref: OrderRef) -> None:
    claim = await _claim(context, ref.order_id)
    if claim is None:
        return
    outcome = await _send(context.services, claim)
    retry = outcome.retry
    if retry is not None and context.attempt >= context.max_attempts:
        retry += f" (gave up after {context.attempt} attempts)"
    values: dict[str, Any] = {
        "sync_status_code": outcome.status_code,
        "sync_error": retry or outcome.refused,
    }
    if outcome.delivered:
        values["delivered_payload"] = claim.body.model_dump(mode="json")
    async with context.database.session_scope() as session:
        recorded = await repository.record_sync(session, claim.order_id, claim.version, values)
    log.info(
        "ats.sync",
        order_id=claim.order_id,
        version=claim.version,
        status_code=outcome.status_code,
        error=values["sync_error"],
        attempt=context.attempt,
        superseded=not recorded,
    )
    if not recorded:
        # A later sync took the order over; what it sends and records stands.
        return
    if outcome.refused is not None:
        raise CallbackRefusedError(outcome.refused)
    if retry is not None:
        raise CallbackRetryError(retry)


async def _claim(context: JobContext[Services], order_id: int) -> _Claim | None:
    """The body to send, with the order claimed for it; None when there is nothing to send.
    Raises `CallbackRetryError` while another sync of the order may still be sending."""
    services = context.services
    now = context.clock.now()
    async with context.database.session_scope() as session:
        order = await repository.order_for_claim(session, order_id)
        if order is None:
            log.info("ats.sync_skipped", order_id=order_id, reason="missing")
            return None
        if order.sync_sending_until is not None and order.sync_sending_until > now:
            raise CallbackRetryError("Another sync of this order is sending.")
        report = (await service.reports(session, [order]))[order.id]
        body = greenhouse.status_of(order, report, services.settings)
        payload = body.model_dump(mode="json")
        if payload == order.delivered_payload:
            return None
        key = await service.callback_key(
            session, order.company_id, order.system, services.token_cipher
        )
        order.sync_version += 1
        order.sync_sending_until = now + SENDING_LEASE
        order.attempted_payload = payload
        order.synced_at = now
        order.sync_status_code = None
        order.sync_error = None
        await session.flush()
        return _Claim(order.id, order.sync_version, order.callback_url, body, key)


async def _send(services: Services, claim: _Claim) -> _Outcome:
    if claim.key is None:
        return _Outcome(
            refused="The company has no live partner key to authenticate the callback with."
        )
    try:
        response = await greenhouse.patch_callback(
            services.http, claim.callback_url, claim.body, key=claim.key, settings=services.settings
        )
    except TargetRefusedError as exc:
        return _Outcome(refused=f"The callback URL is refused: {exc}")
    except httpx.HTTPError as exc:
        return _Outcome(retry=f"{type(exc).__name__}: {exc}")
    code = response.status_code
    if response.is_success:
        return _Outcome(status_code=code, delivered=True)
    if code == 429 or code >= 500:
        return _Outcome(status_code=code, retry=f"HTTP {code}")
    return _Outcome(status_code=code, refused=f"HTTP {code}: {response.text[:200]}")


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
