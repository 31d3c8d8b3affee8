"""Request and response models of the rubric, reviewer and scorecard routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.core.schemas import ApiModel, EntityId
from app.evaluation.models import Recommendation, ScorecardStatus
from app.evaluation.schemas import Criterion, ScoreEntry

MAX_CRITERIA = 50
MAX_REVIEWERS = 50


class RubricOut(ApiModel):
    version: int
    criteria: list[Criterion]
    # True while no scorecard uses this version: an edit then changes it in place.
    editable: bool
    updated_at: datetime
    updated_by_user_id: int | None


class RubricUpdate(ApiModel):
    criteria: list[Criterion] = Field(min_length=1, max_length=MAX_CRITERIA)


class ReviewerOut(ApiModel):
    user_id: int
    name: str
    email: str
    # Whether their scorecard of the session is submitted (never what it says).
    submitted: bool


class ReviewersOut(ApiModel):
    reviewers: list[ReviewerOut]


class ReviewersUpdate(ApiModel):
    reviewer_user_ids: list[EntityId] = Field(max_length=MAX_REVIEWERS)


class ScorecardOut(ApiModel):
    id: int
    reviewer_user_id: int
    reviewer_name: str
    status: ScorecardStatus
    rubric_version: int
    recommendation: Recommendation | None
    entries: list[ScoreEntry]
    # How many times it was submitted: 0 for a draft.
    version: int
    submitted_at: datetime | None
    updated_at: datetime


class CriterionAggregate(ApiModel):
    key: str
    title: str
    day_index: int
    weight: float
    mean_level: float
    min_level: int
    max_level: int
    # The criterion's disagreement: the (population) standard deviation of the levels.
    disagreement: float


class ReviewerRecommendation(ApiModel):
    reviewer_user_id: int
    reviewer_name: str
    recommendation: Recommendation
    # None when the scorecard scored no criterion of its rubric version.
    weighted_score: float | None


class CandidateAggregate(ApiModel):
    # The mean over scorecards of each one's weighted mean level (1-4); None when no
    # scorecard has a weighted score.
    weighted_score: float | None
    # Highest minus lowest scorecard weighted score.
    spread: float | None
    criteria: list[CriterionAggregate]
    recommendations: list[ReviewerRecommendation]


class ReviewView(ApiModel):
    """What the reader may see of a candidate session's reviews."""

    scorecards_submitted: int
    # False until the reader submitted their own scorecard (blind review).
    revealed: bool
    aggregate: CandidateAggregate | None


class ScorecardsOut(ApiModel):
    # The rubric version the reader's scorecard uses (the current one when they have none).
    rubric_version: int
    submitted_count: int
    # False until the reader submitted their own scorecard (blind review).
    revealed: bool
    mine: ScorecardOut | None
    # The other reviewers' submitted scorecards; empty until `revealed`.
    others: list[ScorecardOut]
    # Every submitted scorecard combined with the rubric's weights; null until `revealed`.
    aggregate: CandidateAggregate | None


class ScorecardSave(ApiModel):
    recommendation: Recommendation | None = None
    entries: list[ScoreEntry] = Field(default_factory=list, max_length=MAX_CRITERIA)


class ScorecardVersionOut(ApiModel):
    version: int
    rubric_version: int
    recommendation: Recommendation
    entries: list[ScoreEntry]
    submitted_at: datetime
