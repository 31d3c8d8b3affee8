"""Aggregates of submitted scorecards, per reader: weighted scores with the rubric's weights,
spread, per-criterion disagreement, recommendations, and the blind rule."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.companies.models import User
from app.evaluation.aggregates import review_view, review_views
from app.evaluation.models import AiScorecardDraft, RubricVersion
from app.evaluation.review_schemas import CriterionAggregate
from app.simulations.models import Simulation
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_recruiter,
    create_simulation,
)
from tests.support.scorecard_rows import add_rubric, add_scorecard, criterion, revise_scorecard


@dataclass
class Scene:
    simulation: Simulation
    rubric: RubricVersion
    candidate: CandidateSession
    reviewers: list[User]
    outsider_reader: User


@pytest.fixture
async def scene(db_session: AsyncSession) -> Scene:
    """Three reviewers scored one candidate on a rubric weighted 3 : 2 : 1; a fourth
    recruiter of the company has not."""
    company = await create_company(db_session)
    reviewers = [
        await create_recruiter(db_session, company, name=name) for name in ("Ann", "Ben", "Cy")
    ]
    simulation = await create_simulation(db_session, company)
    rubric = await add_rubric(
        db_session,
        simulation,
        [criterion("a", 3), criterion("b", 2), criterion("c", 1, day_index=2)],
    )
    candidate = await create_candidate_session(db_session, simulation)
    levels = [{"a": 4, "b": 3, "c": 1}, {"a": 2, "b": 2, "c": 4}, {"a": 3, "b": 4, "c": 2}]
    recommendations = ("strong_yes", "no", "yes")
    for reviewer, scored, recommendation in zip(reviewers, levels, recommendations, strict=True):
        await add_scorecard(
            db_session, candidate, reviewer, rubric, scored, recommendation=recommendation
        )
    return Scene(
        simulation=simulation,
        rubric=rubric,
        candidate=candidate,
        reviewers=reviewers,
        outsider_reader=await create_recruiter(db_session, company, name="Dee"),
    )


async def test_weighted_score_spread_and_disagreement_by_hand(
    db_session: AsyncSession, scene: Scene
) -> None:
    view = await review_view(db_session, scene.reviewers[0].id, scene.candidate.id)
    assert view.revealed is True
    assert view.scorecards_submitted == 3
    aggregate = view.aggregate
    assert aggregate is not None
    # Weights a = 3, b = 2, c = 1 (sum 6):
    #   Ann (4, 3, 1): (12 + 6 + 1) / 6 = 19/6 (unweighted it would be 8/3)
    #   Ben (2, 2, 4): (6 + 4 + 4) / 6 = 14/6
    #   Cy  (3, 4, 2): (9 + 8 + 2) / 6 = 19/6
    # Mean: (19 + 14 + 19) / 18 = 52/18; spread: 19/6 - 14/6 = 5/6.
    assert aggregate.weighted_score == pytest.approx(52 / 18)
    assert aggregate.spread == pytest.approx(5 / 6)
    assert [
        (r.reviewer_user_id, r.reviewer_name, r.recommendation) for r in aggregate.recommendations
    ] == [
        (scene.reviewers[0].id, "Ann", "strong_yes"),
        (scene.reviewers[1].id, "Ben", "no"),
        (scene.reviewers[2].id, "Cy", "yes"),
    ]
    assert [r.weighted_score for r in aggregate.recommendations] == pytest.approx(
        [19 / 6, 14 / 6, 19 / 6]
    )
    # Disagreement is the population standard deviation of the levels:
    #   a (4, 2, 3) and b (3, 2, 4): mean 3, deviations 1, 1, 0 -> sqrt(2/3)
    #   c (1, 4, 2): mean 7/3, deviations 4/3, 5/3, 1/3 -> sqrt((16 + 25 + 1) / 27) = sqrt(14/9)
    assert [(c.key, c.day_index, c.weight) for c in aggregate.criteria] == [
        ("a", 1, 3.0),
        ("b", 1, 2.0),
        ("c", 2, 1.0),
    ]
    a, b, c = aggregate.criteria
    assert a.model_dump(exclude={"disagreement"}) == CriterionAggregate(
        key="a",
        title="Criterion a",
        day_index=1,
        weight=3.0,
        mean_level=3.0,
        min_level=2,
        max_level=4,
        disagreement=0,
    ).model_dump(exclude={"disagreement"})
    assert a.disagreement == pytest.approx(math.sqrt(2 / 3))
    assert (b.mean_level, b.min_level, b.max_level) == (3.0, 2, 4)
    assert b.disagreement == pytest.approx(math.sqrt(2 / 3))
    assert c.mean_level == pytest.approx(7 / 3)
    assert (c.min_level, c.max_level) == (1, 4)
    assert c.disagreement == pytest.approx(math.sqrt(14 / 9))


async def test_a_reader_who_has_not_submitted_sees_only_the_count(
    db_session: AsyncSession, scene: Scene
) -> None:
    reader = scene.outsider_reader
    view = await review_view(db_session, reader.id, scene.candidate.id)
    assert (view.scorecards_submitted, view.revealed, view.aggregate) == (3, False, None)
    # Their own draft, however complete, does not reveal anything either.
    await add_scorecard(
        db_session, scene.candidate, reader, scene.rubric, {"a": 1, "b": 1, "c": 1}, submitted=False
    )
    view = await review_view(db_session, reader.id, scene.candidate.id)
    assert (view.scorecards_submitted, view.revealed, view.aggregate) == (3, False, None)


async def test_drafts_and_ai_drafts_never_count(db_session: AsyncSession, scene: Scene) -> None:
    before = await review_view(db_session, scene.reviewers[0].id, scene.candidate.id)
    await add_scorecard(
        db_session,
        scene.candidate,
        scene.outsider_reader,
        scene.rubric,
        {"a": 1, "b": 1, "c": 1},
        recommendation="strong_no",
        submitted=False,
    )
    db_session.add(
        AiScorecardDraft(
            candidate_session_id=scene.candidate.id,
            day_index=1,
            rubric_version_id=scene.rubric.id,
            status="ready",
            content={"entries": [{"criterionKey": "a", "level": 1}], "recommendation": "no"},
        )
    )
    await db_session.flush()
    after = await review_view(db_session, scene.reviewers[0].id, scene.candidate.id)
    assert after == before
    assert after.scorecards_submitted == 3


async def test_an_edit_after_submit_counts_as_its_newest_version(
    db_session: AsyncSession, scene: Scene
) -> None:
    ben = scene.reviewers[1]
    card = await add_scorecard(
        db_session,
        await create_candidate_session(db_session, scene.simulation),
        ben,
        scene.rubric,
        {"a": 1, "b": 1, "c": 1},
        recommendation="strong_no",
    )
    await revise_scorecard(
        db_session, card, scene.rubric, {"a": 4, "b": 1, "c": 1}, recommendation="yes"
    )
    view = await review_view(db_session, ben.id, card.candidate_session_id)
    assert view.aggregate is not None
    # (3 * 4 + 2 * 1 + 1 * 1) / 6 = 15/6; version 1 would have been 1.
    assert view.aggregate.weighted_score == pytest.approx(15 / 6)
    assert [r.recommendation for r in view.aggregate.recommendations] == ["yes"]
    assert view.scorecards_submitted == 1


async def test_each_scorecard_is_weighted_by_its_own_rubric_version(
    db_session: AsyncSession, scene: Scene
) -> None:
    ann, ben = scene.reviewers[:2]
    # Version 2 weighs b 4 and drops c.
    version_2 = await add_rubric(
        db_session,
        scene.simulation,
        [criterion("a", 1), criterion("b", 4)],
        version=2,
    )
    candidate = await create_candidate_session(db_session, scene.simulation)
    await add_scorecard(db_session, candidate, ann, scene.rubric, {"a": 4, "b": 1, "c": 1})
    await add_scorecard(db_session, candidate, ben, version_2, {"a": 4, "b": 1})
    view = await review_view(db_session, ann.id, candidate.id)
    assert view.aggregate is not None
    # Ann on version 1: (3 * 4 + 2 * 1 + 1 * 1) / 6 = 15/6.
    # Ben on version 2: (1 * 4 + 4 * 1) / 5 = 8/5.
    # Mean (15/6 + 8/5) / 2 = (75 + 48) / 60 = 123/60; spread 15/6 - 8/5 = 27/30.
    assert view.aggregate.weighted_score == pytest.approx(123 / 60)
    assert view.aggregate.spread == pytest.approx(27 / 30)
    # a and b are described by version 2, the newest that scored them; c by version 1.
    weights = {c.key: (c.weight, c.mean_level) for c in view.aggregate.criteria}
    assert weights == {"a": (1.0, 4.0), "b": (4.0, 1.0), "c": (1.0, 1.0)}


async def test_review_views_answers_for_every_session_asked(
    db_session: AsyncSession, scene: Scene
) -> None:
    ann, ben = scene.reviewers[:2]
    only_ben = await create_candidate_session(db_session, scene.simulation)
    await add_scorecard(db_session, only_ben, ben, scene.rubric, {"a": 2, "b": 2, "c": 2})
    unscored = await create_candidate_session(db_session, scene.simulation)
    views = await review_views(db_session, ann.id, [scene.candidate.id, only_ben.id, unscored.id])
    assert set(views) == {scene.candidate.id, only_ben.id, unscored.id}
    assert views[scene.candidate.id].revealed is True
    assert views[scene.candidate.id].aggregate is not None
    assert (views[only_ben.id].scorecards_submitted, views[only_ben.id].revealed) == (1, False)
    assert views[only_ben.id].aggregate is None
    assert (views[unscored.id].scorecards_submitted, views[unscored.id].revealed) == (0, False)
    assert await review_views(db_session, ann.id, []) == {}
