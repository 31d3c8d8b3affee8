"""Blind review: a recruiter sees other reviewers' scores of a candidate session (their
scorecards, the aggregate, the recommendations, the comparison row, the CSV row) only once
they have submitted their own scorecard of that session. Until then they see how many
scorecards were submitted, never what they say. This holds for every recruiter of the
company, the simulation's owner included: anyone may become a reviewer, and a reviewer who
had seen the others first would be anchored by them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.evaluation.models import Scorecard


async def revealed_sessions(
    session: AsyncSession, reader_user_id: int, cs_ids: Iterable[int]
) -> set[int]:
    """Of `cs_ids`, the candidate sessions whose scores `reader_user_id` may see."""
    ids = list(cs_ids)
    if not ids:
        return set()
    statement = select(Scorecard.candidate_session_id).where(
        Scorecard.reviewer_user_id == reader_user_id,
        Scorecard.status == "submitted",
        Scorecard.candidate_session_id.in_(ids),
    )
    return set((await session.scalars(statement)).all())


async def may_see_scores(session: AsyncSession, reader_user_id: int, cs_id: int) -> bool:
    return cs_id in await revealed_sessions(session, reader_user_id, [cs_id])
