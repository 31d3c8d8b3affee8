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
from app.auth.recruiters import Recruiter
from app.candidate_sessions import repository
from app.candidate_sessions.invite_email import invite_url
from app.candidate_sessions.jobs import SEND_INVITE_EMAIL, InviteEmailRef
from app.candidate_sessions.lifecycle import SessionHooks, expire, publish
from app.candidate_sessions.models import OPEN_SESSION_STATUSES, CandidateSession
from app.candidate_sessions.progress import is_expired, session_not_found
from app.candidate_sessions.schemas import (
    CandidateInvite,
    CandidateRow,
    EmailDelivery,
    InviteCreate,
    InviteOutcome,
    InviteResult,
    InviteView,
    Progress,
    SimulationRef,
    public_session_status,
)
from app.companies.models import Company
from app.core.errors import ConflictError, ForbiddenError, GoneError, NotFoundError
from app.core.openapi import ErrorSpec
from app.core.pagination import Page, decode_cursor, next_cursor
from app.core.security import TokenCipher, hash_token, new_token
from app.core.settings import Settings
from app.events import service as events
from app.events.models import ActorType
from app.events.schemas import EventOut
from app.jobs.queue import enqueue
from app.simulations import service as simulations
from app.simulations.models import Simulation

log = structlog.get_logger(__name__)

# How an invite link that cannot be used is answered (`_by_token`).
INVITE_LINK_ERRORS: tuple[ErrorSpec, ...] = (
    (NotFoundError, "INVITE_TOKEN_INVALID"),
    (GoneError, "INVITE_EXPIRED"),
)
# How `claim` answers a caller the invite cannot be bound to.
CLAIM_ERRORS: tuple[ErrorSpec, ...] = (
    *INVITE_LINK_ERRORS,
    (ForbiddenError, "EMAIL_NOT_VERIFIED"),
    (ForbiddenError, "INVITE_EMAIL_MISMATCH"),
    (ConflictError, "INVITE_ALREADY_CLAIMED"),
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
    cipher: TokenCipher,
    *,
    fresh_token: str | None = None,
) -> InviteResult:
    """The invite as its recruiter sees it: the link always, the token only when new."""
    token = fresh_token or cipher.decrypt(candidate_session.token_ciphertext)
    return InviteResult(
        candidate_session_id=candidate_session.id,
        token=fresh_token,
        invite_url=invite_url(settings.app, token),
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
    hooks: SessionHooks,
) -> InviteResult:
    """Invite a candidate, or return the open invite this email already has; a new one
    runs `hooks.invited`."""
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    return await invite_to(
        session,
        simulation,
        body,
        actor=("recruiter", str(recruiter.user.id)),
        now=now,
        settings=settings,
        cipher=cipher,
        hooks=hooks,
    )


async def invite_to(
    session: AsyncSession,
    simulation: Simulation,
    body: InviteCreate,
    *,
    actor: tuple[ActorType, str],
    now: datetime,
    settings: Settings,
    cipher: TokenCipher,
    hooks: SessionHooks,
) -> InviteResult:
    """`invite` into a simulation the caller already resolved: a recruiter's, or one an
    applicant tracking system ordered for its company (`actor` names who asked)."""
    email = str(body.invite_email)
    earlier = await repository.by_email(session, simulation.id, email)
    if any(previous.status == "completed" for previous in earlier):
        raise ConflictError(
            "This candidate already completed this simulation.",
            code="CANDIDATE_ALREADY_COMPLETED",
            # The original front end recognises this case by `error.code` alone.
            extensions={"error": {"code": "candidate_already_completed"}},
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
        return _result(existing, "existing", settings, cipher)

    candidate_session = await repository.by_id(session, inserted)
    assert candidate_session is not None
    await _queue_invite_email(session, candidate_session)
    await hooks.invited(session, candidate_session, now=now, settings=settings)
    await events.record_for_session(
        session,
        candidate_session,
        type="candidate.invited",
        actor_type=actor[0],
        actor_id=actor[1],
        data={"candidateName": body.candidate_name},
        occurred_at=now,
    )
    await publish(session, candidate_session, "candidate.invited", now=now)
    log.info("invites.created", candidate_session_id=candidate_session.id)
    return _result(candidate_session, "created", settings, cipher, fresh_token=token)


def _is_open(candidate_session: CandidateSession) -> bool:
    return candidate_session.status in OPEN_SESSION_STATUSES


async def session_of_simulation(
    session: AsyncSession, recruiter: Recruiter, simulation_id: int, cs_id: int
) -> CandidateSession:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    candidate_session = await repository.in_simulation(session, simulation.id, cs_id)
    if candidate_session is None:
        raise session_not_found()
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
    return _result(candidate_session, "resent", settings, cipher, fresh_token=token)


async def list_candidates(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    *,
    limit: int,
    cursor: str | None,
    settings: Settings,
    cipher: TokenCipher,
) -> Page[CandidateRow]:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    rows, total, task_count = await repository.page_with_progress(
        session, simulation.id, limit=limit, after=decode_cursor(cursor)
    )
    return Page[CandidateRow](
        items=[
            _candidate_row(cs, submitted, task_count, settings, cipher) for cs, submitted in rows
        ],
        total=total,
        next_cursor=next_cursor(rows, limit, lambda row: (row[0].invited_at, row[0].id)),
    )


async def candidate_row(
    session: AsyncSession, cs: CandidateSession, settings: Settings, cipher: TokenCipher
) -> CandidateRow:
    submitted, task_count = await repository.progress_of(session, cs)
    return _candidate_row(cs, submitted, task_count, settings, cipher)


def _candidate_row(
    cs: CandidateSession, submitted: int, task_count: int, settings: Settings, cipher: TokenCipher
) -> CandidateRow:
    # The recruiter can copy the link of an invite that can still be opened.
    link = invite_url(settings.app, cipher.decrypt(cs.token_ciphertext)) if _is_open(cs) else None
    return CandidateRow(
        candidate_session_id=cs.id,
        candidate_name=cs.candidate_name,
        invite_email=cs.invite_email,
        status=public_session_status(cs.status),
        state=cs.status,
        invited_at=cs.invited_at,
        claimed_at=cs.claimed_at,
        started_at=cs.started_at,
        completed_at=cs.completed_at,
        expires_at=cs.expires_at,
        progress=Progress.of(
            completed=submitted, total=task_count, started=cs.started_at is not None
        ),
        invite_url=link,
        invite_email_status=cs.email_status,
        invite_email_sent_at=cs.email_sent_at,
        invite_email_error=cs.email_error,
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
        status=public_session_status(cs.status),
        state=cs.status,
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
            # "verify" is the word the portal looks for to ask for verification.
            "Please verify your email address, then open the invite again.",
            code="EMAIL_NOT_VERIFIED",
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
    await publish(session, cs, "candidate.claimed", now=now)
    log.info("invites.claimed", candidate_session_id=cs.id)
    return _view(cs, simulation, company)


async def invites_for(
    session: AsyncSession,
    principal: Principal,
    *,
    now: datetime,
    settings: Settings,
    cipher: TokenCipher,
) -> list[CandidateInvite]:
    """Every invite sent to the caller's verified email; the link only for those bound
    to the caller."""
    email = principal.verified_email
    if email is None:
        return []
    invites = []
    for found in await repository.with_simulations_for_email(session, email):
        cs, simulation = found.session, found.simulation
        token = cipher.decrypt(cs.token_ciphertext) if cs.auth0_sub == principal.subject else None
        view = _view(cs, simulation, found.company)
        invites.append(
            CandidateInvite(
                **dict(view),
                title=simulation.title,
                role=simulation.role,
                company=found.company.name,
                token=token,
                invite_url=invite_url(settings.app, token) if token else None,
                progress=Progress.of(
                    completed=found.submitted,
                    total=found.task_count,
                    started=cs.started_at is not None,
                ),
                is_expired=is_expired(cs, now),
            )
        )
    return invites


async def all_of_simulation(
    session: AsyncSession, simulation_id: int
) -> Sequence[CandidateSession]:
    return await repository.all_of_simulation(session, simulation_id)


async def by_id(session: AsyncSession, cs_id: int) -> CandidateSession | None:
    return await repository.by_id(session, cs_id)


async def of_submission(session: AsyncSession, submission_id: int) -> CandidateSession | None:
    """The session a submission belongs to (for the domains below submissions)."""
    return await repository.of_submission(session, submission_id)


async def count_by_simulation(
    session: AsyncSession, simulation_ids: Sequence[int]
) -> dict[int, int]:
    """Candidates per simulation, for the simulation list (see
    `app.simulations.candidate_counts`)."""
    return await repository.count_by_simulation(session, simulation_ids)
