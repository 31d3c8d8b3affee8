"""A candidate session's ends (completed, expired) and the hooks other domains run when a
session is invited, expires, is reopened or is completed.

Candidate sessions sit below the domains that react to them (workspaces prepare the
repositories, take push access away and give it back), so they do not call them: those
domains provide `SessionHooks`, `app.assembly.session_hooks()` puts them together, and they
reach the routes through `app.state` (`CurrentSessionHooks`) and the deadline sweep through
its job type. A hook runs in the caller's transaction: it commits or rolls back with the
change it follows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions import repository
from app.candidate_sessions.models import CandidateSession
from app.core.settings import Settings
from app.events import service as events
from app.webhooks import service as webhooks
from app.webhooks.schemas import WebhookEventType


class InvitedHook(Protocol):
    async def __call__(
        self, session: AsyncSession, cs: CandidateSession, *, now: datetime, settings: Settings
    ) -> None: ...


@dataclass(frozen=True)
class SessionHooks:
    # A new invite (not one the email already had open).
    invited: InvitedHook
    # The deadline sweep closed the session (by its id).
    expired: Callable[[AsyncSession, int], Awaitable[None]]
    # A recruiter's extension reopened an expired session.
    reopened: Callable[[AsyncSession, CandidateSession], Awaitable[None]]
    # The candidate turned in the last task.
    completed: Callable[[AsyncSession, CandidateSession], Awaitable[None]]


def _session_hooks_of(request: Request) -> SessionHooks:
    hooks: SessionHooks = request.app.state.session_hooks
    return hooks


CurrentSessionHooks = Annotated[SessionHooks, Depends(_session_hooks_of)]


async def publish(
    session: AsyncSession, cs: CandidateSession, event: WebhookEventType, *, now: datetime
) -> None:
    """Tell the company's webhook endpoints of a step of the session (`candidate.*`)."""
    await webhooks.publish(
        session,
        simulation_id=cs.simulation_id,
        event=event,
        data={
            "candidateSessionId": cs.id,
            "simulationId": cs.simulation_id,
            "candidateName": cs.candidate_name,
            "candidateEmail": cs.invite_email,
            "invitedAt": cs.invited_at,
            "claimedAt": cs.claimed_at,
            "completedAt": cs.completed_at,
            "expiresAt": cs.expires_at,
        },
        occurred_at=now,
    )


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
    await publish(session, candidate_session, "candidate.expired", now=now)


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
    await publish(session, candidate_session, "candidate.completed", now=now)


async def expire_lapsed(
    session: AsyncSession, hooks: SessionHooks, *, now: datetime, limit: int
) -> list[int]:
    """Close up to `limit` open sessions whose deadline has passed, oldest deadline first,
    skipping those another sweep holds; their ids."""
    expired = []
    for cs in await repository.lapsed_for_update(session, now=now, limit=limit):
        # A submit of this session is under way (reading GitHub before it locks the row);
        # it is judged by its own request time, so it goes first and the session is left
        # to the next sweep.
        if not await repository.try_submit_lock(session, cs.id):
            continue
        await expire(session, cs, now=now)
        await hooks.expired(session, cs.id)
        expired.append(cs.id)
    return expired
