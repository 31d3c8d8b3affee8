"""Invites and candidate sessions: inviting, re-sending, viewing and claiming an invite.

The invite token is random, shown to the recruiter once, and stored only as its hash (for
look-up) and encrypted (so the email job can build the link; see app.core.security).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions import repository
from app.candidate_sessions.invite_email import SEND_INVITE_EMAIL, InviteEmailRef
from app.candidate_sessions.models import OPEN_SESSION_STATUSES, CandidateSession
from app.candidate_sessions.schemas import (
    CandidateRow,
    EmailDelivery,
    InviteCreate,
    InviteOutcome,
    InviteResult,
    InviteView,
    Progress,
    SimulationRef,
)
from app.companies.models import Company
from app.companies.service import Recruiter
from app.core.errors import ConflictError, ForbiddenError, GoneError, NotFoundError
from app.core.openapi import ErrorSpec
from app.core.pagination import Page, decode_cursor, next_cursor
from app.core.security import TokenCipher, hash_token, new_token
from app.core.settings import Settings
from app.events import service as events
from app.events.schemas import EventOut
from app.jobs.queue import enqueue
from app.simulations import service as simulations
from app.simulations.models import Simulation
from app.workspaces import service as workspaces

log = structlog.get_logger(__name__)

# How `session_of_simulation` and `owned_session` answer, for routes' `@raises`.
CANDIDATE_SESSION_NOT_FOUND: ErrorSpec = (NotFoundError, "CANDIDATE_SESSION_NOT_FOUND")
# How an invite link that cannot be used is answered (`_by_token`).
INVITE_LINK_ERRORS: tuple[ErrorSpec, ...] = (
    (NotFoundError, "INVITE_TOKEN_INVALID"),
    (GoneError, "INVITE_EXPIRED"),
)


def _not_found() -> NotFoundError:
    return NotFoundError("No such candidate session.", code="CANDIDATE_SESSION_NOT_FOUND")


def _invite_url(settings: Settings, token: str) -> str:
    return f"{settings.app.candidate_portal_base_url.rstrip('/')}/invite/{token}"


def is_expired(candidate_session: CandidateSession, now: datetime) -> bool:
    return candidate_session.status == "expired" or (
        candidate_session.status in OPEN_SESSION_STATUSES and candidate_session.expires_at <= now
    )


async def _queue_invite_email(session: AsyncSession, candidate_session: CandidateSession) -> None:
    candidate_session.email_status = "queued"
    candidate_session.email_error = None
    await session.flush()
    await enqueue(
        session,
        SEND_INVITE_EMAIL,
        InviteEmailRef(candidate_session_id=candidate_session.id),
        dedupe_key=f"invite-email:{candidate_session.id}",
    )


def _result(
    candidate_session: CandidateSession,
    outcome: InviteOutcome,
    settings: Settings,
    token: str | None,
) -> InviteResult:
    return InviteResult(
        candidate_session_id=candidate_session.id,
        token=token,
        invite_url=_invite_url(settings, token) if token else None,
        outcome=outcome,
        expires_at=candidate_session.expires_at,
        invite_email_status=candidate_session.email_status,
    )


async def invite(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    body: InviteCreate,
    *,
    now: datetime,
    settings: Settings,
    cipher: TokenCipher,
) -> InviteResult:
    """Invite a candidate, or return the open invite this email already has."""
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    email = str(body.invite_email)
    earlier = await repository.by_email(session, simulation.id, email)
    if any(previous.status == "completed" for previous in earlier):
        raise ConflictError(
            "This candidate already completed this simulation.", code="CANDIDATE_ALREADY_COMPLETED"
        )
    for lapsed in (previous for previous in earlier if _is_open(previous)):
        if is_expired(lapsed, now):
            # Its deadline passed: close it so this invite starts a fresh session.
            await expire(session, lapsed, now=now)
    token = new_token()
    inserted = await repository.insert_open_session(
        session,
        {
            "simulation_id": simulation.id,
            "candidate_name": body.candidate_name,
            "invite_email": email,
            "token_hash": hash_token(token),
            "token_ciphertext": cipher.encrypt(token),
            "status": "invited",
            "invited_at": now,
            "expires_at": now + timedelta(days=settings.app.invite_ttl_days),
        },
    )
    if inserted is None:
        existing = next(
            (s for s in await repository.by_email(session, simulation.id, email) if _is_open(s)),
            None,
        )
        if existing is None:  # closed between our insert and our look-up: rare, retryable
            raise ConflictError("The invite changed meanwhile; try again.", retryable=True)
        log.info("invites.existing", candidate_session_id=existing.id)
        return _result(existing, "existing", settings, token=None)

    candidate_session = await repository.by_id(session, inserted)
    assert candidate_session is not None
    await _queue_invite_email(session, candidate_session)
    if settings.github.preprovision:
        await workspaces.preprovision(
            session,
            candidate_session,
            await simulations.tasks_of(session, simulation.id),
            now=now,
            # Each repository costs a few content-creating requests; GitHub allows ~80/min.
            spacing=timedelta(seconds=max(1.0, settings.github.mutation_interval_seconds) * 3),
        )
    await events.record_for_session(
        session,
        candidate_session,
        type="candidate.invited",
        actor_type="recruiter",
        actor_id=str(recruiter.user.id),
        data={"candidateName": body.candidate_name},
        occurred_at=now,
    )
    log.info("invites.created", candidate_session_id=candidate_session.id)
    return _result(candidate_session, "created", settings, token)


def _is_open(candidate_session: CandidateSession) -> bool:
    return candidate_session.status in OPEN_SESSION_STATUSES


async def session_of_simulation(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int, cs_id: int
) -> CandidateSession:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    candidate_session = await repository.in_simulation(session, simulation.id, cs_id)
    if candidate_session is None:
        raise _not_found()
    return candidate_session


async def resend(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    cs_id: int,
    *,
    rotate_token: bool,
    now: datetime,
    settings: Settings,
    cipher: TokenCipher,
) -> InviteResult:
    """Send the invite email again; with `rotate_token` the old link stops working."""
    candidate_session = await session_of_simulation(session, recruiter, simulation_id, cs_id)
    if not _is_open(candidate_session) or is_expired(candidate_session, now):
        raise ConflictError(
            f"Only open invites can be re-sent; this one is {candidate_session.status}.",
            code="INVITE_NOT_OPEN",
        )
    token = None
    if rotate_token:
        token = new_token()
        candidate_session.token_hash = hash_token(token)
        candidate_session.token_ciphertext = cipher.encrypt(token)
    await _queue_invite_email(session, candidate_session)
    await events.record_for_session(
        session,
        candidate_session,
        type="invite.resent",
        actor_type="recruiter",
        actor_id=str(recruiter.user.id),
        data={"tokenRotated": rotate_token},
        occurred_at=now,
    )
    return _result(candidate_session, "resent", settings, token)


async def list_candidates(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    *,
    limit: int,
    cursor: str | None,
) -> Page[CandidateRow]:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    rows, total, task_count = await repository.page_with_progress(
        session, simulation.id, limit=limit, after=decode_cursor(cursor)
    )
    return Page[CandidateRow](
        items=[_candidate_row(cs, submitted, task_count) for cs, submitted in rows],
        total=total,
        next_cursor=next_cursor(rows, limit, lambda row: (row[0].invited_at, row[0].id)),
    )


async def candidate_row(session: AsyncSession, cs: CandidateSession) -> CandidateRow:
    submitted, task_count = await repository.progress_of(session, cs)
    return _candidate_row(cs, submitted, task_count)


def _candidate_row(cs: CandidateSession, submitted: int, task_count: int) -> CandidateRow:
    return CandidateRow(
        candidate_session_id=cs.id,
        candidate_name=cs.candidate_name,
        invite_email=cs.invite_email,
        status=cs.status,
        invited_at=cs.invited_at,
        claimed_at=cs.claimed_at,
        started_at=cs.started_at,
        completed_at=cs.completed_at,
        expires_at=cs.expires_at,
        progress=Progress(completed=submitted, total=task_count),
        invite_email_delivery=EmailDelivery(
            status=cs.email_status,
            provider=cs.email_provider,
            provider_message_id=cs.email_provider_message_id,
            error=cs.email_error,
            attempts=cs.email_attempts,
            sent_at=cs.email_sent_at,
        ),
    )


async def candidate_timeline(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int, cs_id: int
) -> list[EventOut]:
    candidate_session = await session_of_simulation(session, recruiter, simulation_id, cs_id)
    return await timeline_of(session, candidate_session.id)


async def timeline_of(session: AsyncSession, cs_id: int) -> list[EventOut]:
    return [EventOut.model_validate(event) for event in await events.timeline(session, cs_id)]


def _view(cs: CandidateSession, simulation: Simulation, company: Company) -> InviteView:
    return InviteView(
        candidate_session_id=cs.id,
        status=cs.status,
        claimed_at=cs.claimed_at,
        started_at=cs.started_at,
        completed_at=cs.completed_at,
        expires_at=cs.expires_at,
        candidate_name=cs.candidate_name,
        simulation=SimulationRef(
            id=simulation.id, title=simulation.title, role=simulation.role, company=company.name
        ),
    )


async def _by_token(
    session: AsyncSession, token: str, now: datetime
) -> tuple[CandidateSession, Simulation, Company]:
    found = await repository.with_simulation_by_token_hash(session, hash_token(token))
    if found is None or found[0].status == "revoked":
        raise NotFoundError("This invite link is not valid.", code="INVITE_TOKEN_INVALID")
    if is_expired(found[0], now):
        raise GoneError("This invite has expired.", code="INVITE_EXPIRED")
    return found


async def view_invite(session: AsyncSession, token: str, now: datetime) -> InviteView:
    """The invite behind a link; reading it changes nothing."""
    return _view(*await _by_token(session, token, now))


async def claim(
    session: AsyncSession, principal: Principal, token: str, now: datetime
) -> InviteView:
    """Bind the invite to the caller, whose verified email must be the invited one."""
    cs, simulation, company = await _by_token(session, token, now)
    if cs.auth0_sub == principal.subject:
        return _view(cs, simulation, company)
    email = principal.verified_email
    if email is None:
        raise ForbiddenError(
            "Your email address must be verified to accept an invite.", code="EMAIL_NOT_VERIFIED"
        )
    if email != cs.invite_email.lower():
        raise ForbiddenError(
            "This invite was sent to a different email address.", code="INVITE_EMAIL_MISMATCH"
        )
    if not await repository.claim(session, cs.id, subject=principal.subject, now=now):
        await session.refresh(cs)
        if cs.auth0_sub != principal.subject:
            raise ConflictError(
                "This invite was already accepted by another account.",
                code="INVITE_ALREADY_CLAIMED",
            )
        return _view(cs, simulation, company)
    await session.refresh(cs)
    await events.record_for_session(
        session,
        cs,
        type="candidate.claimed",
        actor_type="candidate",
        actor_id=principal.subject,
        occurred_at=now,
    )
    log.info("invites.claimed", candidate_session_id=cs.id)
    return _view(cs, simulation, company)


async def invites_for(session: AsyncSession, principal: Principal) -> list[InviteView]:
    """Every invite sent to the caller's verified email."""
    email = principal.verified_email
    if email is None:
        return []
    found = await repository.with_simulations_for_email(session, email)
    return [_view(cs, simulation, company) for cs, simulation, company in found]


async def owned_session(
    session: AsyncSession, principal: Principal, cs_id: int, *, for_update: bool = False
) -> CandidateSession:
    """The caller's own claimed session; anyone else's is answered as missing."""
    candidate_session = await repository.by_id(session, cs_id, for_update=for_update)
    if candidate_session is None or candidate_session.auth0_sub != principal.subject:
        raise _not_found()
    return candidate_session


async def all_of_simulation(
    session: AsyncSession, simulation_id: int
) -> Sequence[CandidateSession]:
    return await repository.all_of_simulation(session, simulation_id)


async def expire(
    session: AsyncSession, candidate_session: CandidateSession, *, now: datetime
) -> None:
    candidate_session.status = "expired"
    await session.flush()
    await events.record_for_session(
        session,
        candidate_session,
        type="session.expired",
        actor_type="system",
        occurred_at=now,
    )


async def complete(
    session: AsyncSession, candidate_session: CandidateSession, *, now: datetime
) -> None:
    candidate_session.status = "completed"
    candidate_session.completed_at = now
    await session.flush()
    await events.record_for_session(
        session,
        candidate_session,
        type="session.completed",
        actor_type="system",
        occurred_at=now,
    )
