"""Rubric versions and scorecards inserted as rows, for tests of what is computed from them
(aggregates, agreement, the comparison) without going through the scorecard routes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.companies.models import User
from app.evaluation.models import Recommendation, RubricVersion, Scorecard, ScorecardVersion
from app.evaluation.schemas import Anchors, Criterion, ScoreEntry
from app.simulations.models import Simulation

ANCHORS = Anchors.model_validate({str(level): f"Level {level}." for level in range(1, 5)})


def criterion(key: str, weight: float, *, day_index: int = 1) -> Criterion:
    return Criterion(
        key=key,
        day_index=day_index,
        title=f"Criterion {key}",
        description=f"How well {key} was done.",
        weight=weight,
        anchors=ANCHORS,
    )


async def add_rubric(
    session: AsyncSession, simulation: Simulation, criteria: list[Criterion], *, version: int = 1
) -> RubricVersion:
    rubric = RubricVersion(
        simulation_id=simulation.id,
        version=version,
        criteria=[c.model_dump(mode="json", by_alias=True) for c in criteria],
    )
    session.add(rubric)
    await session.flush()
    return rubric


def _entries(levels: dict[str, int]) -> list[dict[str, object]]:
    return [
        ScoreEntry(criterion_key=key, level=level, note=f"{key} at {level}.").model_dump(
            mode="json", by_alias=True
        )
        for key, level in levels.items()
    ]


async def add_scorecard(
    session: AsyncSession,
    candidate_session: CandidateSession,
    reviewer: User,
    rubric: RubricVersion,
    levels: dict[str, int],
    *,
    recommendation: Recommendation = "yes",
    submitted: bool = True,
) -> Scorecard:
    """A scorecard as the scorecard routes leave it: submitted (version 1, its version row
    added) or a draft never submitted."""
    now = datetime.now(UTC)
    card = Scorecard(
        candidate_session_id=candidate_session.id,
        reviewer_user_id=reviewer.id,
        rubric_version_id=rubric.id,
        status="submitted" if submitted else "draft",
        recommendation=recommendation,
        entries=_entries(levels),
        version=1 if submitted else 0,
        submitted_at=now if submitted else None,
    )
    session.add(card)
    await session.flush()
    if submitted:
        await _add_version(session, card, now)
    return card


async def revise_scorecard(
    session: AsyncSession,
    card: Scorecard,
    rubric: RubricVersion,
    levels: dict[str, int],
    *,
    recommendation: Recommendation,
) -> Scorecard:
    """An edit after submit: the card's next version."""
    card.rubric_version_id = rubric.id
    card.recommendation = recommendation
    card.entries = _entries(levels)
    card.version += 1
    await session.flush()
    await _add_version(session, card, datetime.now(UTC))
    return card


async def _add_version(session: AsyncSession, card: Scorecard, at: datetime) -> None:
    assert card.recommendation is not None
    session.add(
        ScorecardVersion(
            scorecard_id=card.id,
            version=card.version,
            rubric_version_id=card.rubric_version_id,
            recommendation=card.recommendation,
            entries=card.entries,
            submitted_at=at,
        )
    )
    await session.flush()
