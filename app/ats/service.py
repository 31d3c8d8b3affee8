"""Partner keys and assessment orders, the same for every ATS: a company's keys, placing an
order (an invite through the candidate-sessions service, at most once per ATS test
instance) and what an order's candidate has done so far (`OrderReport`), which each
adapter words its own way."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.ats import repository
from app.ats.models import AssessmentOrder, AtsSystem, PartnerKey
from app.ats.schemas import PartnerKeyCreated, PartnerKeyList, PartnerKeyOut
from app.auth.recruiters import Recruiter
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.lifecycle import SessionHooks
from app.candidate_sessions.models import SessionStatus
from app.candidate_sessions.schemas import InviteCreate
from app.core.errors import ConflictError, NotFoundError
from app.core.security import TokenCipher, hash_token
from app.core.settings import Settings
from app.evaluation.aggregates import overall_scores
from app.simulations import service as simulations

log = structlog.get_logger(__name__)

PARTNER_KEY_NOT_FOUND = (NotFoundError, "PARTNER_KEY_NOT_FOUND")
TEST_NOT_FOUND = (NotFoundError, "ATS_TEST_NOT_FOUND")
ORDER_NOT_FOUND = (NotFoundError, "ATS_ORDER_NOT_FOUND")
ORDER_MISMATCH = (ConflictError, "ATS_ORDER_MISMATCH")

# Each key starts with its system's tag, so a key pasted into the wrong place is obvious.
_KEY_TAGS: dict[AtsSystem, str] = {"greenhouse": "tgh_"}
_KEY_BYTES = 32
# `last_used_at` is a hint for the recruiter: written at most this often per key, so the
# ATS's calls do not all queue on the key's row.
_USE_RESOLUTION = timedelta(minutes=1)
# A scorecard's weighted score is a level from 1 to 4.
_LOWEST_LEVEL, _HIGHEST_LEVEL = 1, 4


def _key_out(key: PartnerKey) -> PartnerKeyOut:
    return PartnerKeyOut.model_validate(key)


async def create_key(
    session: AsyncSession,
    recruiter: Recruiter,
    system: AtsSystem,
    *,
    cipher: TokenCipher,
) -> PartnerKeyCreated:
    """A new key for the recruiter's company; the key itself is in this answer only."""
    plain = _KEY_TAGS[system] + secrets.token_urlsafe(_KEY_BYTES)
    key = await repository.add_key(
        session,
        PartnerKey(
            company_id=recruiter.company.id,
            system=system,
            key_hash=hash_token(plain),
            key_ciphertext=cipher.encrypt(plain),
            prefix=plain[:8],
            last4=plain[-4:],
            created_by_user_id=recruiter.user.id,
        ),
    )
    log.info("ats.key_created", key_id=key.id, company_id=key.company_id, system=system)
    return PartnerKeyCreated(**_key_out(key).model_dump(), key=plain)


async def list_keys(
    session: AsyncSession, recruiter: Recruiter, system: AtsSystem
) -> PartnerKeyList:
    keys = await repository.keys_of(session, recruiter.company.id, system)
    return PartnerKeyList(items=[_key_out(key) for key in keys])


async def revoke_key(
    session: AsyncSession, recruiter: Recruiter, system: AtsSystem, key_id: int, *, now: datetime
) -> None:
    """Revoke a key of the recruiter's company (again: no change); another company's key
    is answered as missing."""
    key = await repository.key_of_company(session, recruiter.company.id, key_id)
    if key is None or key.system != system:
        raise NotFoundError("No such partner key.", code=PARTNER_KEY_NOT_FOUND[1])
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
        log.info("ats.key_revoked", key_id=key.id, company_id=key.company_id)


async def authenticate(
    session: AsyncSession, system: AtsSystem, supplied: str, *, now: datetime
) -> PartnerKey | None:
    """The live key `supplied` is, if any."""
    key = await repository.active_key_by_hash(session, system, hash_token(supplied))
    if key is None:
        return None
    if key.last_used_at is None or now - key.last_used_at >= _USE_RESOLUTION:
        await repository.mark_key_used(session, key.id, now)
    return key


async def callback_key(
    session: AsyncSession, company_id: int, system: AtsSystem, cipher: TokenCipher
) -> str | None:
    """The key a callback to the ATS authenticates with: the company's newest live one."""
    key = await repository.newest_active_key(session, company_id, system)
    return cipher.decrypt(key.key_ciphertext) if key is not None else None


@dataclass(frozen=True)
class OrderRequest:
    """An ATS's order, in its own ids, as its adapter read it."""

    system: AtsSystem
    external_id: str
    external_test_id: str
    external_candidate_id: str | None
    external_application_id: str | None
    candidate_name: str
    candidate_email: str
    sent_by: str | None
    callback_url: str


async def place_order(
    session: AsyncSession,
    key: PartnerKey,
    request: OrderRequest,
    *,
    now: datetime,
    settings: Settings,
    cipher: TokenCipher,
    hooks: SessionHooks,
) -> AssessmentOrder:
    """The company's order for this test instance: the one placed before, or a new one
    with its invite (an email with an open invite to the simulation keeps that one)."""
    earlier = await repository.order_by_external_id(
        session, key.company_id, request.system, request.external_id
    )
    if earlier is not None:
        return _same_order(earlier, request)
    simulation = await simulations.active_simulation(
        session, key.company_id, int(request.external_test_id)
    )
    if simulation is None:
        raise NotFoundError(
            f"No test {request.external_test_id} can be sent: it is not an active "
            "simulation of this company.",
            code=TEST_NOT_FOUND[1],
        )
    invite = await candidate_sessions.invite_to(
        session,
        simulation,
        InviteCreate(candidate_name=request.candidate_name, invite_email=request.candidate_email),
        actor=("system", f"{request.system}:key:{key.id}"),
        now=now,
        settings=settings,
        cipher=cipher,
        hooks=hooks,
    )
    inserted = await repository.insert_order(
        session,
        {
            "company_id": key.company_id,
            "system": request.system,
            "external_id": request.external_id,
            "external_test_id": request.external_test_id,
            "external_candidate_id": request.external_candidate_id,
            "external_application_id": request.external_application_id,
            "simulation_id": simulation.id,
            "candidate_session_id": invite.candidate_session_id,
            "sent_by": request.sent_by,
            "callback_url": request.callback_url,
        },
    )
    if inserted is None:
        # A twin request placed it meanwhile. Had this one invited someone else, that
        # invite must not outlive the answer: roll it back; the retry finds the twin's.
        twin = await repository.order_by_external_id(
            session, key.company_id, request.system, request.external_id
        )
        if twin is None or invite.outcome == "created":
            raise ConflictError("The order changed meanwhile; try again.", retryable=True)
        return _same_order(twin, request)
    order = await repository.order_of_company(session, key.company_id, request.system, inserted)
    assert order is not None
    log.info(
        "ats.order_placed",
        order_id=order.id,
        system=request.system,
        candidate_session_id=order.candidate_session_id,
        invite=invite.outcome,
    )
    return order


def _same_order(order: AssessmentOrder, request: OrderRequest) -> AssessmentOrder:
    if order.external_test_id != request.external_test_id:
        raise ConflictError(
            f"This test instance was already sent as test {order.external_test_id}.",
            code=ORDER_MISMATCH[1],
        )
    return order


async def order_for(session: AsyncSession, key: PartnerKey, order_id: str) -> AssessmentOrder:
    """The key's company's order by the id its ATS was given; another company's is missing."""
    order = None
    # ASCII digits only: str.isdigit also takes "²", which int() refuses.
    if order_id.isascii() and order_id.isdigit() and len(order_id) <= 18:
        order = await repository.order_of_company(
            session, key.company_id, key.system, int(order_id)
        )
    if order is None:
        raise NotFoundError(f"No test instance {order_id!r}.", code=ORDER_NOT_FOUND[1])
    return order


@dataclass(frozen=True)
class OrderReport:
    """Where an order's candidate is, for its ATS."""

    status: SessionStatus
    invited_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    # 0-100 once the session is completed and there is something to score it by (see
    # `_score`); which basis it came from.
    score: int | None
    score_basis: str | None
    scorecards: int
    # (passed, total) of the grader's hidden tests over the completed gradings.
    hidden_tests: tuple[int, int] | None


async def reports(
    session: AsyncSession, orders: Sequence[AssessmentOrder]
) -> dict[int, OrderReport]:
    """Each order's report, by order id (read in a few queries for any number of orders)."""
    cs_ids = sorted({order.candidate_session_id for order in orders})
    sessions = await repository.sessions_by_id(session, cs_ids)
    scored = await overall_scores(session, cs_ids)
    hidden = await repository.hidden_test_totals(session, cs_ids)
    result = {}
    for order in orders:
        cs = sessions[order.candidate_session_id]
        score, basis = _score(cs.status, scored.get(cs.id), hidden.get(cs.id))
        result[order.id] = OrderReport(
            status=cs.status,
            invited_at=cs.invited_at,
            started_at=cs.started_at,
            completed_at=cs.completed_at,
            score=score,
            score_basis=basis,
            scorecards=scored[cs.id][1] if cs.id in scored else 0,
            hidden_tests=hidden.get(cs.id),
        )
    return result


def _score(
    status: SessionStatus,
    scorecards: tuple[float, int] | None,
    hidden: tuple[int, int] | None,
) -> tuple[int | None, str | None]:
    """0-100: the reviewers' mean weighted level (1-4) placed linearly on 0-100 when any
    scorecard is submitted; else the share of the grader's hidden tests passed. None before
    the session is completed (a partial score would read as a result)."""
    if status != "completed":
        return None, None
    if scorecards is not None:
        level = scorecards[0]
        return round((level - _LOWEST_LEVEL) / (_HIGHEST_LEVEL - _LOWEST_LEVEL) * 100), "scorecards"
    if hidden is not None:
        passed, total = hidden
        return round(passed / total * 100), "hidden tests"
    return None, None
