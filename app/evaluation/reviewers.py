"""Who is asked to review a candidate session. Any recruiter of the company may score it;
the assignment says whose scorecards are expected, so the simulation's owner hears when
they are all in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.companies.models import User
from app.core.errors import UnprocessableError
from app.core.openapi import ErrorSpec
from app.evaluation import notifications
from app.evaluation.access import reviewed_session
from app.evaluation.models import ReviewAssignment, Scorecard
from app.evaluation.review_schemas import ReviewerOut, ReviewersOut
from app.events import service as events

REVIEWER_NOT_IN_COMPANY: ErrorSpec = (UnprocessableError, "REVIEWER_NOT_IN_COMPANY")


def review_lock_key(cs_id: int) -> object:
    # Advisory locks share one key space per database: the name keeps this one apart.
    return func.hashtextextended(f"candidate-session-review:{cs_id}", 0)


async def hold_review_lock(session: AsyncSession, cs_id: int) -> None:
    """Orders the changes that decide whether every assigned reviewer has submitted
    (assignments and submits), so two last submits cannot both miss each other."""
    await session.execute(select(func.pg_advisory_xact_lock(review_lock_key(cs_id))))


async def assigned_reviewer_ids(session: AsyncSession, cs_id: int) -> list[int]:
    statement = (
        select(ReviewAssignment.reviewer_user_id)
        .where(ReviewAssignment.candidate_session_id == cs_id)
        .order_by(ReviewAssignment.id)
    )
    return list((await session.scalars(statement)).all())


async def _reviewers_out(session: AsyncSession, cs_id: int) -> ReviewersOut:
    statement = (
        select(User, Scorecard.status)
        .join(ReviewAssignment, ReviewAssignment.reviewer_user_id == User.id)
        .outerjoin(
            Scorecard,
            (Scorecard.candidate_session_id == cs_id) & (Scorecard.reviewer_user_id == User.id),
        )
        .where(ReviewAssignment.candidate_session_id == cs_id)
        .order_by(ReviewAssignment.id)
    )
    rows = (await session.execute(statement)).all()
    return ReviewersOut(
        reviewers=[
            ReviewerOut(
                user_id=user.id, name=user.name, email=user.email, submitted=status == "submitted"
            )
            for user, status in rows
        ]
    )


async def get_reviewers(session: AsyncSession, recruiter: Recruiter, cs_id: int) -> ReviewersOut:
    reviewed = await reviewed_session(session, recruiter, cs_id)
    return await _reviewers_out(session, reviewed.candidate_session.id)


async def set_reviewers(
    session: AsyncSession,
    recruiter: Recruiter,
    cs_id: int,
    user_ids: list[int],
    *,
    now: datetime,
) -> ReviewersOut:
    """Make `user_ids` (recruiters of the same company) the session's reviewers."""
    reviewed = await reviewed_session(session, recruiter, cs_id)
    cs = reviewed.candidate_session
    wanted = list(dict.fromkeys(user_ids))
    colleagues = set(
        (
            await session.scalars(
                select(User.id).where(
                    User.id.in_(wanted), User.company_id == reviewed.simulation.company_id
                )
            )
        ).all()
    )
    issues = [
        {
            "loc": ["body", "reviewerUserIds", str(index)],
            "msg": f"user {user_id} is not a recruiter of this company",
            "type": "reviewer_not_in_company",
        }
        for index, user_id in enumerate(user_ids)
        if user_id not in colleagues
    ]
    if issues:
        raise UnprocessableError(
            f"The reviewers must be recruiters of this company: {issues[0]['msg']}.",
            code="REVIEWER_NOT_IN_COMPANY",
            errors=issues,
        )
    await hold_review_lock(session, cs.id)
    current = await assigned_reviewer_ids(session, cs.id)
    removed = [user_id for user_id in current if user_id not in wanted]
    added = [user_id for user_id in wanted if user_id not in current]
    if removed:
        await session.execute(
            delete(ReviewAssignment).where(
                ReviewAssignment.candidate_session_id == cs.id,
                ReviewAssignment.reviewer_user_id.in_(removed),
            )
        )
    for user_id in added:
        session.add(
            ReviewAssignment(
                candidate_session_id=cs.id,
                reviewer_user_id=user_id,
                assigned_by_user_id=recruiter.user.id,
            )
        )
    await session.flush()
    if added or removed:
        await events.record_for_session(
            session,
            cs,
            type="reviewers.assigned",
            actor_type="recruiter",
            actor_id=str(recruiter.user.id),
            data={"reviewerUserIds": wanted, "added": added, "removed": removed},
            occurred_at=now,
        )
        await notifications.reviews_maybe_completed(session, cs.id)
    return await _reviewers_out(session, cs.id)
