"""A simulation's candidates side by side for one reader: ranked by weighted score, with the
reviewers' agreement, as JSON or CSV. Everything goes through the reader's review views
(aggregates.py), so a session not revealed to the reader shows no scores and takes no part
in the ranking or the agreement. Each row also names the session's highest pair with another
candidate's code: not a review score, so shown to every reader."""

from __future__ import annotations

import csv
import io
from collections import Counter

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.schemas import PublicSessionStatus, public_session_status
from app.core.schemas import ApiModel
from app.evaluation.aggregates import revealed_reviews
from app.evaluation.agreement import krippendorff_alpha
from app.evaluation.models import RECOMMENDATIONS
from app.evaluation.review_schemas import CandidateAggregate
from app.evaluation.signals import SessionSimilarity, session_similarity
from app.similarity import views as similarity_views
from app.simulations import service as simulations
from app.submissions.export import SIMILARITY_COLUMNS, csv_cell, similarity_cells


class CriterionMean(ApiModel):
    key: str
    mean: float


class RecommendationCounts(ApiModel):
    strong_no: int
    no: int
    yes: int
    strong_yes: int


class ComparisonRow(ApiModel):
    # 1 for the highest weighted score; equal scores share a rank. None: not ranked.
    rank: int | None
    candidate_session_id: int
    candidate_name: str
    invite_email: str
    status: PublicSessionStatus
    submitted_count: int
    # False until the reader submitted their own scorecard: then every score below is null.
    revealed: bool
    weighted_score: float | None
    spread: float | None
    recommendations: RecommendationCounts | None
    criteria: list[CriterionMean] | None
    similarity: SessionSimilarity | None = Field(
        description="The session's highest-scoring pair with another candidate's code, for "
        "review (never a verdict); null while none reached the threshold."
    )


class ReviewerAgreement(ApiModel):
    alpha: float | None = Field(
        description=(
            "Krippendorff's alpha (ordinal) over (candidate session, criterion) units and "
            "reviewers, for the sessions revealed to the reader; null when undefined: no "
            "criterion scored by two reviewers, or all their levels equal."
        )
    )
    units: int = Field(description="Criteria of a session scored by at least two reviewers.")
    reviewers: int = Field(description="Reviewers who scored one of those units.")


class Comparison(ApiModel):
    simulation_id: int
    agreement: ReviewerAgreement
    candidates: list[ComparisonRow]


async def comparison(session: AsyncSession, recruiter: Recruiter, simulation_id: int) -> Comparison:
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    sessions = await candidate_sessions.all_of_simulation(session, simulation.id)
    reviews = await revealed_reviews(session, recruiter.user.id, [cs.id for cs in sessions])
    tasks = await simulations.tasks_of(session, simulation.id)
    highest = similarity_views.highest_by_session(
        await similarity_views.standings_in_simulation(session, simulation.id)
    )
    rows = []
    for cs in sessions:
        view = reviews.views[cs.id]
        aggregate = view.aggregate
        rows.append(
            ComparisonRow(
                rank=None,
                candidate_session_id=cs.id,
                candidate_name=cs.candidate_name,
                invite_email=cs.invite_email,
                status=public_session_status(cs.status),
                submitted_count=view.scorecards_submitted,
                revealed=view.revealed,
                weighted_score=aggregate.weighted_score if aggregate else None,
                spread=aggregate.spread if aggregate else None,
                recommendations=_counts(aggregate) if aggregate else None,
                criteria=(
                    [CriterionMean(key=c.key, mean=c.mean_level) for c in aggregate.criteria]
                    if aggregate
                    else None
                ),
                similarity=session_similarity(highest.get(cs.id), tasks),
            )
        )
    agreement = krippendorff_alpha(reviews.levels.values(), "ordinal")
    return Comparison(
        simulation_id=simulation.id,
        agreement=ReviewerAgreement(
            alpha=agreement.alpha, units=agreement.units, reviewers=agreement.coders
        ),
        candidates=_ranked(rows),
    )


def _counts(aggregate: CandidateAggregate) -> RecommendationCounts:
    counts = Counter(r.recommendation for r in aggregate.recommendations)
    return RecommendationCounts.model_validate(
        {recommendation: counts[recommendation] for recommendation in RECOMMENDATIONS}
    )


def _ranked(rows: list[ComparisonRow]) -> list[ComparisonRow]:
    """Scored rows by weighted score, highest first, with competition ranks (1, 2, 2, 4);
    then the unscored rows, in invitation order."""
    scored = sorted(
        (row for row in rows if row.weighted_score is not None),
        key=lambda row: -(row.weighted_score or 0.0),
    )
    ranked: list[ComparisonRow] = []
    for position, row in enumerate(scored, start=1):
        tied = ranked and ranked[-1].weighted_score == row.weighted_score
        rank = ranked[-1].rank if tied else position
        ranked.append(row.model_copy(update={"rank": rank}))
    return ranked + [row for row in rows if row.weighted_score is None]


async def comparison_csv(session: AsyncSession, recruiter: Recruiter, simulation_id: int) -> str:
    """The comparison's rows, one per candidate session, with a mean-level column per
    criterion key (in the order the rows list them)."""
    table = await comparison(session, recruiter, simulation_id)
    keys = list(
        dict.fromkeys(c.key for row in table.candidates if row.criteria for c in row.criteria)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "rank",
            "candidate_session_id",
            "candidate_name",
            "invite_email",
            "status",
            "submitted_count",
            "revealed",
            "weighted_score",
            "spread",
            *(f"recommendations_{recommendation}" for recommendation in RECOMMENDATIONS),
            *(f"mean_{key}" for key in keys),
            *SIMILARITY_COLUMNS,
        ]
    )
    names = {row.candidate_session_id: row.candidate_name for row in table.candidates}
    for row in table.candidates:
        counts = row.recommendations.model_dump() if row.recommendations else {}
        pair = row.similarity
        means = {c.key: c.mean for c in row.criteria or []}
        writer.writerow(
            csv_cell(value)
            for value in (
                row.rank,
                row.candidate_session_id,
                row.candidate_name,
                row.invite_email,
                row.status,
                row.submitted_count,
                "yes" if row.revealed else "no",
                _number(row.weighted_score),
                _number(row.spread),
                *(counts.get(recommendation) for recommendation in RECOMMENDATIONS),
                *(_number(means.get(key)) for key in keys),
                *similarity_cells(
                    pair.highest_score if pair else None,
                    pair.other_candidate_session_id if pair else None,
                    names,
                ),
            )
        )
    return out.getvalue()


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"
