"""Invites (recruiters) and invite acceptance (candidates)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.auth.dependencies import CandidateUser, RecruiterUser
from app.candidate_sessions import deadlines, progress, service
from app.candidate_sessions.lifecycle import CurrentSessionHooks
from app.candidate_sessions.progress import CANDIDATE_SESSION_NOT_FOUND
from app.candidate_sessions.schemas import (
    CandidateInvite,
    CandidateRow,
    CurrentTask,
    ExtendRequest,
    InviteCreate,
    InviteResult,
    InviteView,
    ResendRequest,
)
from app.candidate_sessions.service import CLAIM_ERRORS
from app.core.clock import CurrentClock
from app.core.db import DbReader, DbSession
from app.core.errors import ConflictError, UnprocessableError
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
from app.core.rate_limit import Limiter
from app.core.schemas import EntityId
from app.core.settings import CurrentSettings
from app.events.schemas import EventOut
from app.services import CurrentServices
from app.simulations.service import SIMULATION_NOT_FOUND

recruiter_router = APIRouter(prefix="/simulations/{simulation_id}", tags=["candidates"])
candidate_router = APIRouter(prefix="/candidate", tags=["candidate"])


@recruiter_router.post(
    "/invite",
    response_model=InviteResult,
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "Invited: a new session (outcome `created`); the email is queued."},
        200: {
            "model": InviteResult,
            "description": "This email already has an open invite (outcome `existing`).",
        },
    },
)
@raises(
    SIMULATION_NOT_FOUND,
    (ConflictError, "CANDIDATE_ALREADY_COMPLETED"),
    ConflictError,  # a concurrent change to the same invite; retryable
)
async def invite_candidate(
    simulation_id: EntityId,
    body: InviteCreate,
    recruiter: RecruiterUser,
    session: DbSession,
    response: Response,
    clock: CurrentClock,
    settings: CurrentSettings,
    services: CurrentServices,
    hooks: CurrentSessionHooks,
    limiter: Limiter,
) -> InviteResult:
    """Invite a candidate (201), or return the open invite for that email (200)."""
    await limiter.hit("invite", settings.rate_limit.invite, key=str(recruiter.user.id))
    result = await service.invite(
        session,
        recruiter,
        simulation_id,
        body,
        now=clock.now(),
        settings=settings,
        cipher=services.token_cipher,
        hooks=hooks,
    )
    response.status_code = (
        status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
    )
    return result


@recruiter_router.post("/candidates/{cs_id}/invite/resend", response_model=InviteResult)
@raises(SIMULATION_NOT_FOUND, CANDIDATE_SESSION_NOT_FOUND, (ConflictError, "INVITE_NOT_OPEN"))
async def resend_invite(
    simulation_id: EntityId,
    cs_id: EntityId,
    recruiter: RecruiterUser,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    services: CurrentServices,
    limiter: Limiter,
    body: ResendRequest | None = None,
) -> InviteResult:
    """Send the invite email again, optionally with a new link."""
    # Keyed by the company too: another company naming this session must not spend its
    # allowance (the hit comes before the tenancy check).
    await limiter.hit("resend", settings.rate_limit.resend, key=f"{recruiter.company.id}:{cs_id}")
    return await service.resend(
        session,
        recruiter,
        simulation_id,
        cs_id,
        rotate_token=body.rotate_token if body else False,
        now=clock.now(),
        settings=settings,
        cipher=services.token_cipher,
    )


@recruiter_router.post("/candidates/{cs_id}/extend", response_model=CandidateRow)
@raises(
    SIMULATION_NOT_FOUND,
    CANDIDATE_SESSION_NOT_FOUND,
    (UnprocessableError, "DEADLINE_IN_THE_PAST"),
    (ConflictError, "SESSION_CLOSED"),
)
async def extend_deadline(
    simulation_id: EntityId,
    cs_id: EntityId,
    body: ExtendRequest,
    recruiter: RecruiterUser,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    services: CurrentServices,
    hooks: CurrentSessionHooks,
) -> CandidateRow:
    """Move a candidate's deadline; an expired session reopens."""
    cs = await deadlines.extend(
        session, recruiter, simulation_id, cs_id, body.expires_at, now=clock.now(), hooks=hooks
    )
    return await service.candidate_row(session, cs, settings, services.token_cipher)


@recruiter_router.get(
    "/candidates",
    response_model=Page[CandidateRow] | list[CandidateRow],
    responses={200: {"description": BARE_LIST_DESCRIPTION, "headers": BARE_LIST_HEADERS}},
)
@raises(SIMULATION_NOT_FOUND, INVALID_CURSOR)
async def list_candidates(
    simulation_id: EntityId,
    recruiter: RecruiterUser,
    session: DbSession,
    request: Request,
    response: Response,
    settings: CurrentSettings,
    services: CurrentServices,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
) -> Page[CandidateRow] | list[CandidateRow]:
    """Candidate sessions in invitation order, with status, progress and email delivery."""
    page = await service.list_candidates(
        session,
        recruiter,
        simulation_id,
        limit=bare_limit(request, limit),
        cursor=cursor,
        settings=settings,
        cipher=services.token_cipher,
    )
    return page_or_bare(page, request, response)


@recruiter_router.get("/candidates/{cs_id}/events", response_model=list[EventOut])
@raises(SIMULATION_NOT_FOUND, CANDIDATE_SESSION_NOT_FOUND)
async def list_candidate_events(
    simulation_id: EntityId, cs_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> list[EventOut]:
    """A candidate session's timeline, oldest first."""
    return await service.candidate_timeline(session, recruiter, simulation_id, cs_id)


@candidate_router.get("/invites", response_model=list[CandidateInvite])
async def list_my_invites(
    candidate: CandidateUser,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    services: CurrentServices,
) -> list[CandidateInvite]:
    """Invites sent to the caller's verified email."""
    return await service.invites_for(
        session, candidate, now=clock.now(), settings=settings, cipher=services.token_cipher
    )


@candidate_router.get("/session/{cs_id}/current_task", response_model=CurrentTask)
@raises(CANDIDATE_SESSION_NOT_FOUND)
async def get_current_task(
    cs_id: EntityId, candidate: CandidateUser, session: DbReader
) -> CurrentTask:
    """The first task without a submission, and progress."""
    return await progress.current_task(session, candidate, cs_id)


@candidate_router.get("/session/{token}", response_model=InviteView)
@raises(*CLAIM_ERRORS)
async def open_invite(
    token: str, candidate: CandidateUser, session: DbSession, clock: CurrentClock
) -> InviteView:
    """The invite behind a link, claimed for the invited candidate on first read.

    The portal opens an invite with this GET alone, so it claims exactly as the POST does
    (idempotent); for any other caller it changes nothing and answers why it cannot.
    """
    return await service.claim(session, candidate, token, clock.now())


@candidate_router.post("/session/{token}/claim", response_model=InviteView)
@raises(*CLAIM_ERRORS)
async def claim_invite(
    token: str,
    candidate: CandidateUser,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    limiter: Limiter,
) -> InviteView:
    """Accept the invite: bind it to the caller's account."""
    await limiter.hit("claim", settings.rate_limit.claim, key=candidate.subject)
    return await service.claim(session, candidate, token, clock.now())
