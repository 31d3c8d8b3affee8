"""Tenancy for the evaluation routes: a recruiter reaches only their company's candidate
sessions and simulations; anything else is answered as missing (404)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions.models import CandidateSession
from app.candidate_sessions.progress import session_not_found
from app.candidate_sessions.repository import with_simulation_by_id
from app.simulations.models import Simulation


@dataclass(frozen=True)
class ReviewedSession:
    candidate_session: CandidateSession
    simulation: Simulation


async def reviewed_session(
    session: AsyncSession, recruiter: Recruiter, cs_id: int
) -> ReviewedSession:
    """The candidate session with its simulation, if it is the recruiter's company's."""
    found = await with_simulation_by_id(session, cs_id)
    if found is None or found[2].id != recruiter.company.id:
        raise session_not_found()
    return ReviewedSession(candidate_session=found[0], simulation=found[1])
