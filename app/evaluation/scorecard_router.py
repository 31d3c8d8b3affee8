"""A candidate session's reviewers and scorecards (recruiters of its company)."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.dependencies import RecruiterUser
from app.candidate_sessions.progress import CANDIDATE_SESSION_NOT_FOUND
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.openapi import raises
from app.core.schemas import EntityId
from app.evaluation import reviewers, scorecards
from app.evaluation.evidence import EVIDENCE_ERRORS
from app.evaluation.review_schemas import (
    ReviewersOut,
    ReviewersUpdate,
    ScorecardOut,
    ScorecardSave,
    ScorecardsOut,
    ScorecardVersionOut,
)
from app.integrations.github.errors import GITHUB_CALL_ERRORS
from app.services import GITHUB_NOT_CONFIGURED, CurrentServices

router = APIRouter(prefix="/candidate-sessions/{cs_id}", tags=["evaluation"])


@router.get("/reviewers", response_model=ReviewersOut)
@raises(CANDIDATE_SESSION_NOT_FOUND)
async def get_reviewers(
    cs_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> ReviewersOut:
    """The recruiters asked to review the candidate session."""
    return await reviewers.get_reviewers(session, recruiter, cs_id)


@router.put("/reviewers", response_model=ReviewersOut)
@raises(CANDIDATE_SESSION_NOT_FOUND, reviewers.REVIEWER_NOT_IN_COMPANY)
async def set_reviewers(
    cs_id: EntityId,
    body: ReviewersUpdate,
    recruiter: RecruiterUser,
    session: DbSession,
    clock: CurrentClock,
) -> ReviewersOut:
    """Set the recruiters asked to review the candidate session."""
    return await reviewers.set_reviewers(
        session, recruiter, cs_id, body.reviewer_user_ids, now=clock.now()
    )


@router.get("/scorecards", response_model=ScorecardsOut)
@raises(CANDIDATE_SESSION_NOT_FOUND)
async def list_scorecards(
    cs_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> ScorecardsOut:
    """The caller's scorecard, and the others' once the caller's is submitted (blind)."""
    return await scorecards.list_scorecards(session, recruiter, cs_id)


@router.put("/scorecards/mine", response_model=ScorecardOut)
@raises(
    CANDIDATE_SESSION_NOT_FOUND,
    scorecards.SCORECARD_ENTRIES_INVALID,
    scorecards.SCORECARD_INCOMPLETE,
    *EVIDENCE_ERRORS,
    GITHUB_NOT_CONFIGURED,
    *GITHUB_CALL_ERRORS,
)
async def save_my_scorecard(
    cs_id: EntityId,
    body: ScorecardSave,
    recruiter: RecruiterUser,
    session: DbSession,
    clock: CurrentClock,
    services: CurrentServices,
) -> ScorecardOut:
    """Save the caller's draft, or edit their submitted scorecard (a new version)."""
    return await scorecards.save_mine(
        session, recruiter, cs_id, body, github=services.github, now=clock.now()
    )


@router.post("/scorecards/mine/submit", response_model=ScorecardOut)
@raises(
    CANDIDATE_SESSION_NOT_FOUND,
    scorecards.SCORECARD_INCOMPLETE,
    scorecards.SCORECARD_ALREADY_SUBMITTED,
)
async def submit_my_scorecard(
    cs_id: EntityId, recruiter: RecruiterUser, session: DbSession, clock: CurrentClock
) -> ScorecardOut:
    """Submit the caller's scorecard: every criterion scored and a recommendation."""
    return await scorecards.submit_mine(session, recruiter, cs_id, now=clock.now())


@router.get("/scorecards/{scorecard_id}/versions", response_model=list[ScorecardVersionOut])
@raises(CANDIDATE_SESSION_NOT_FOUND, scorecards.SCORECARD_NOT_FOUND)
async def list_scorecard_versions(
    cs_id: EntityId, scorecard_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> list[ScorecardVersionOut]:
    """A scorecard's submitted versions (another reviewer's only once the caller submitted)."""
    return await scorecards.scorecard_versions(session, recruiter, cs_id, scorecard_id)
