"""Reviewers' scores of a candidate session, aggregated for one reader under the blind rule
(visibility.py): weighted score, spread, per-criterion levels and disagreement, and the
reviewers' recommendations. Only submitted scorecards count, as last submitted (their newest
version); drafts and AI drafts never do."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies.models import User
from app.evaluation.models import (
    Recommendation,
    RubricVersion,
    Scorecard,
    ScorecardVersion,
)
from app.evaluation.review_schemas import (
    CandidateAggregate,
    CriterionAggregate,
    ReviewerRecommendation,
    ReviewView,
)
from app.evaluation.rubrics import criteria_of
from app.evaluation.schemas import Criterion, ScoreEntry
from app.evaluation.visibility import revealed_sessions


@dataclass(frozen=True)
class RevealedReviews:
    views: dict[int, ReviewView]
    # The levels behind the revealed views, for agreement between reviewers:
    # (candidate session id, criterion key) -> reviewer user id -> level.
    levels: dict[tuple[int, str], dict[int, int]]


@dataclass(frozen=True)
class _SubmittedCard:
    cs_id: int
    reviewer_user_id: int
    reviewer_name: str
    recommendation: Recommendation
    rubric_version: int
    # Its levels of the criteria of its own rubric version, in that version's order.
    scored: list[tuple[Criterion, int]]


async def review_view(session: AsyncSession, reader_user_id: int, cs_id: int) -> ReviewView:
    return (await review_views(session, reader_user_id, [cs_id]))[cs_id]


async def review_views(
    session: AsyncSession, reader_user_id: int, cs_ids: Iterable[int]
) -> dict[int, ReviewView]:
    return (await revealed_reviews(session, reader_user_id, cs_ids)).views


async def revealed_reviews(
    session: AsyncSession, reader_user_id: int, cs_ids: Iterable[int]
) -> RevealedReviews:
    """The reader's view of each of `cs_ids`. Scorecards of the sessions not revealed to
    the reader are counted, never read."""
    ids = list(dict.fromkeys(cs_ids))
    counts = await _submitted_counts(session, ids)
    revealed = await revealed_sessions(session, reader_user_id, ids)
    cards: defaultdict[int, list[_SubmittedCard]] = defaultdict(list)
    for card in await _submitted_cards(session, revealed):
        cards[card.cs_id].append(card)
    levels: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for cs_id, of_session in cards.items():
        for card in of_session:
            for criterion, level in card.scored:
                levels[cs_id, criterion.key][card.reviewer_user_id] = level
    views = {
        cs_id: ReviewView(
            scorecards_submitted=counts.get(cs_id, 0),
            revealed=cs_id in revealed,
            aggregate=_aggregate(cards[cs_id]) if cs_id in revealed else None,
        )
        for cs_id in ids
    }
    return RevealedReviews(views=views, levels=dict(levels))


async def overall_scores(
    session: AsyncSession, cs_ids: Iterable[int]
) -> dict[int, tuple[float, int]]:
    """For systems outside Tenon (an ATS's score, not a reader's view: no blind rule):
    each session's mean weighted score (1-4) over its submitted scorecards with one, and
    how many those are. Sessions without any are absent."""
    scores: defaultdict[int, list[float]] = defaultdict(list)
    for card in await _submitted_cards(session, cs_ids):
        score = _weighted_score(card)
        if score is not None:
            scores[card.cs_id].append(score)
    return {cs_id: (statistics.fmean(known), len(known)) for cs_id, known in scores.items()}


def _aggregate(cards: Sequence[_SubmittedCard]) -> CandidateAggregate:
    scores = [_weighted_score(card) for card in cards]
    known = [score for score in scores if score is not None]
    return CandidateAggregate(
        weighted_score=statistics.fmean(known) if known else None,
        spread=max(known) - min(known) if known else None,
        criteria=_criteria(cards),
        recommendations=[
            ReviewerRecommendation(
                reviewer_user_id=card.reviewer_user_id,
                reviewer_name=card.reviewer_name,
                recommendation=card.recommendation,
                weighted_score=score,
            )
            for card, score in zip(cards, scores, strict=True)
        ],
    )


def _scored(rubric: RubricVersion, entries: list[dict[str, Any]]) -> list[tuple[Criterion, int]]:
    levels = {entry.criterion_key: entry.level for entry in map(ScoreEntry.model_validate, entries)}
    return [
        (criterion, levels[criterion.key])
        for criterion in criteria_of(rubric)
        if criterion.key in levels
    ]


def _weighted_score(card: _SubmittedCard) -> float | None:
    total_weight = sum(criterion.weight for criterion, _ in card.scored)
    if not total_weight:
        return None
    return sum(criterion.weight * level for criterion, level in card.scored) / total_weight


def _criteria(cards: Sequence[_SubmittedCard]) -> list[CriterionAggregate]:
    """Per criterion key, over the cards that scored it. Cards may use different rubric
    versions: a criterion is described as the newest of them has it, and listed by day,
    then in that version's order."""
    levels: defaultdict[str, list[int]] = defaultdict(list)
    described: dict[str, tuple[int, int, Criterion]] = {}
    for card in cards:
        for position, (criterion, level) in enumerate(card.scored):
            levels[criterion.key].append(level)
            newest = described.get(criterion.key)
            if newest is None or newest[0] < card.rubric_version:
                described[criterion.key] = (card.rubric_version, position, criterion)
    ordered = sorted(described.values(), key=lambda item: (item[2].day_index, item[1]))
    return [
        CriterionAggregate(
            key=criterion.key,
            title=criterion.title,
            day_index=criterion.day_index,
            weight=criterion.weight,
            mean_level=statistics.fmean(levels[criterion.key]),
            min_level=min(levels[criterion.key]),
            max_level=max(levels[criterion.key]),
            disagreement=statistics.pstdev(levels[criterion.key]),
        )
        for _, _, criterion in ordered
    ]


async def _submitted_counts(session: AsyncSession, cs_ids: Sequence[int]) -> dict[int, int]:
    if not cs_ids:
        return {}
    statement = (
        select(Scorecard.candidate_session_id, func.count())
        .where(Scorecard.status == "submitted", Scorecard.candidate_session_id.in_(cs_ids))
        .group_by(Scorecard.candidate_session_id)
    )
    return {cs_id: count for cs_id, count in (await session.execute(statement)).all()}


async def _submitted_cards(session: AsyncSession, cs_ids: Iterable[int]) -> list[_SubmittedCard]:
    """The submitted scorecards of `cs_ids` as last submitted, oldest submission first."""
    ids = list(cs_ids)
    if not ids:
        return []
    statement = (
        select(Scorecard.candidate_session_id, User.id, User.name, ScorecardVersion, RubricVersion)
        .join(
            ScorecardVersion,
            (ScorecardVersion.scorecard_id == Scorecard.id)
            & (ScorecardVersion.version == Scorecard.version),
        )
        .join(RubricVersion, RubricVersion.id == ScorecardVersion.rubric_version_id)
        .join(User, User.id == Scorecard.reviewer_user_id)
        .where(Scorecard.status == "submitted", Scorecard.candidate_session_id.in_(ids))
        .order_by(ScorecardVersion.submitted_at, Scorecard.id)
    )
    return [
        _SubmittedCard(
            cs_id=cs_id,
            reviewer_user_id=user_id,
            reviewer_name=name,
            recommendation=version.recommendation,
            rubric_version=rubric.version,
            scored=_scored(rubric, version.entries),
        )
        for cs_id, user_id, name, version, rubric in (await session.execute(statement)).all()
    ]
