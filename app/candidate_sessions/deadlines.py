"""Recruiters' extensions of a session's deadline (the sweep that closes sessions whose
deadline passed is `jobs.expire_lapsed_sessions`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.lifecycle import SessionHooks
from app.candidate_sessions.models import OPEN_SESSION_STATUSES, CandidateSession
from app.core.errors import ConflictError, UnprocessableError
from app.events import service as events


async def extend(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    cs_id: int,
    expires_at: datetime,
    *,
    now: datetime,
    hooks: SessionHooks,
) -> CandidateSession:
    """Move a session's deadline; an expired session reopens (and `hooks.reopened` gives
    its access back)."""
    cs = await candidate_sessions.session_of_simulation(session, recruiter, simulation_id, cs_id)
    if expires_at <= now:
        raise UnprocessableError(
            "The new deadline must be in the future.",
            code="DEADLINE_IN_THE_PAST",
            errors=[{"loc": ["body", "expiresAt"], "msg": "in the past", "type": "deadline"}],
        )
    if cs.status not in (*OPEN_SESSION_STATUSES, "expired"):
        raise ConflictError(f"A {cs.status} session cannot be extended.", code="SESSION_CLOSED")
    previous = cs.expires_at
    cs.expires_at = expires_at
    if cs.status == "expired":
        cs.status = "in_progress" if cs.auth0_sub else "invited"
        await hooks.reopened(session, cs)
    await session.flush()
    await events.record_for_session(
        session,
        cs,
        type="session.extended",
        actor_type="recruiter",
        actor_id=str(recruiter.user.id),
        data={"from": previous.isoformat(), "to": expires_at.isoformat()},
        occurred_at=now,
    )
    return cs
