"""INTERFACE STUB (replaced by the aggregates helper's implementation)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import ApiModel
from app.evaluation.models import Recommendation


class CriterionAggregate(ApiModel):
    key: str
    title: str
    day_index: int
    weight: float
    mean_level: float
    min_level: int
    max_level: int
    # The criterion's disagreement: the standard deviation of the reviewers' levels.
    disagreement: float


class ReviewerRecommendation(ApiModel):
    reviewer_user_id: int
    reviewer_name: str
    recommendation: Recommendation
    weighted_score: float


class CandidateAggregate(ApiModel):
    # The mean over reviewers of each scorecard's weighted mean level (1-4).
    weighted_score: float
    # Highest minus lowest reviewer weighted score.
    spread: float
    criteria: list[CriterionAggregate]
    recommendations: list[ReviewerRecommendation]


class ReviewView(ApiModel):
    """What the reader may see of a candidate session's reviews."""

    scorecards_submitted: int
    # False until the reader submitted their own scorecard (blind review).
    revealed: bool
    aggregate: CandidateAggregate | None


async def review_view(session: AsyncSession, reader_user_id: int, cs_id: int) -> ReviewView:
    raise NotImplementedError
