"""Deadlines: the periodic sweep that closes sessions whose time ran out (their push access
is then revoked and the last commit recorded), and recruiters' extensions."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions import repository
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.models import OPEN_SESSION_STATUSES, CandidateSession
from app.companies.service import Recruiter
from app.core.errors import ConflictError, UnprocessableError
from app.events import service as events
from app.jobs.registry import JobContext, JobType, PeriodicJob
from app.services import Services
from app.workspaces import service as workspaces

log = structlog.get_logger(__name__)

SWEEP_BATCH = 200
SWEEP_EVERY = timedelta(minutes=1)


class Sweep(BaseModel):
    pass


async def _expire_lapsed(context: JobContext[Services], _: Sweep) -> None:
    now = context.clock.now()
    async with context.database.session_scope() as session:
        statement = (
            select(CandidateSession)
            .where(
                CandidateSession.status.in_(OPEN_SESSION_STATUSES),
                CandidateSession.expires_at <= now,
            )
            .order_by(CandidateSession.expires_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        )
        expired = []
        for cs in list(await session.scalars(statement)):
            # A submit of this session is under way (reading GitHub before it locks the
            # row); it is judged by its own request time, so it goes first and the session
            # is left to the next sweep.
            if not await repository.try_submit_lock(session, cs.id):
                continue
            await candidate_sessions.expire(session, cs, now=now)
            await workspaces.revoke_access_later(session, cs.id)
            expired.append(cs.id)
    if expired:
        log.info("deadlines.expired", sessions=len(expired))


EXPIRE_LAPSED_SESSIONS = JobType(
    name="deadlines.expire_sessions", payload=Sweep, handler=_expire_lapsed, max_attempts=3
)
EXPIRY_SWEEP = PeriodicJob(EXPIRE_LAPSED_SESSIONS, SWEEP_EVERY)


async def extend(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    cs_id: int,
    expires_at: datetime,
    *,
    now: datetime,
) -> CandidateSession:
    """Move a session's deadline; an expired session reopens and gets its access back."""
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
        await workspaces.restore_access(session, cs)
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
