"""Blind review through every route: until a reviewer submits their own scorecard they see
how many scorecards were submitted, never what one says (levels, notes, evidence,
recommendation, versions); once submitted, they see the others' submitted scorecards."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.api import assert_problem
from tests.support.recruiting import World
from tests.support.reviewing import ReviewScene, review_scene

SECRET_NOTE = "Bea-only-observation-7f3a"


@pytest.fixture
async def scene(world: World, db_session: AsyncSession) -> ReviewScene:
    scene = await review_scene(world, db_session)
    await scene.score("bea", level=4, note=SECRET_NOTE, recommendation="strong_yes")
    return scene


def _assert_nothing_of_bea_s(text: str) -> None:
    assert SECRET_NOTE not in text
    assert "strong_yes" not in text


async def test_a_reviewer_who_has_not_submitted_sees_only_the_count(scene: ReviewScene) -> None:
    for reader in ("carl", "rita"):  # a reviewer, and the owner who has not scored
        response = await scene.client.get(scene.scorecards_url, headers=scene.headers[reader])
        body = response.json()
        assert (
            body["revealed"],
            body["submittedCount"],
            body["others"],
            body["mine"],
            body["aggregate"],
        ) == (False, 1, [], None, None)
        _assert_nothing_of_bea_s(response.text)

    # A draft of one's own does not open the others' either.
    draft = await scene.save("carl", [{"criterionKey": "d1-problem", "level": 1}])
    assert draft.status_code == 200, draft.text
    _assert_nothing_of_bea_s(draft.text)
    carl = await scene.scorecards("carl")
    assert (carl["revealed"], carl["others"], carl["mine"]["status"]) == (False, [], "draft")


async def test_the_versions_of_another_s_scorecard_are_missing_until_one_submits(
    scene: ReviewScene,
) -> None:
    bea_card = (await scene.scorecards("bea"))["mine"]
    url = f"{scene.scorecards_url}/{bea_card['id']}/versions"
    hidden = await scene.client.get(url, headers=scene.headers["carl"])
    assert_problem(hidden, 404, "SCORECARD_NOT_FOUND")
    _assert_nothing_of_bea_s(hidden.text)
    # The same answer as for a scorecard that does not exist.
    missing = await scene.client.get(
        f"{scene.scorecards_url}/999999999/versions", headers=scene.headers["carl"]
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "SCORECARD_NOT_FOUND")

    await scene.score("carl", level=1, recommendation="no")
    shown = await scene.client.get(url, headers=scene.headers["carl"])
    assert shown.status_code == 200, shown.text
    [version] = shown.json()
    assert version["recommendation"] == "strong_yes"
    assert {entry["note"] for entry in version["entries"]} == {SECRET_NOTE}


async def test_the_reviewer_list_and_timeline_say_who_submitted_but_not_what(
    scene: ReviewScene,
) -> None:
    await scene.set_reviewers("bea", "carl")
    reviewers = await scene.client.get(
        f"/api/candidate-sessions/{scene.cs_id}/reviewers", headers=scene.headers["carl"]
    )
    assert [(r["name"], r["submitted"]) for r in reviewers.json()["reviewers"]] == [
        ("Bea", True),
        ("Carl", False),
    ]
    _assert_nothing_of_bea_s(reviewers.text)
    timeline = await scene.client.get(
        f"/api/simulations/{scene.simulation_id}/candidates/{scene.cs_id}/events",
        headers=scene.headers["carl"],
    )
    assert any(event["type"] == "scorecard.submitted" for event in timeline.json())
    _assert_nothing_of_bea_s(timeline.text)


async def test_after_submitting_a_reviewer_sees_the_others_submitted_scorecards(
    scene: ReviewScene,
) -> None:
    # Rita's draft stays her own even once the others may see submitted scorecards.
    rita_draft = await scene.save("rita", [{"criterionKey": "d1-problem", "level": 2}])
    assert rita_draft.status_code == 200
    await scene.score("carl", level=2, note="Carl's view", recommendation="no")

    carl = await scene.scorecards("carl")
    assert (carl["revealed"], carl["submittedCount"]) == (True, 2)
    assert carl["mine"]["recommendation"] == "no"
    [bea] = carl["others"]
    assert (bea["reviewerName"], bea["recommendation"], bea["status"]) == (
        "Bea",
        "strong_yes",
        "submitted",
    )
    assert {entry["level"] for entry in bea["entries"]} == {4}
    assert {entry["note"] for entry in bea["entries"]} == {SECRET_NOTE}

    bea_view = await scene.scorecards("bea")
    assert [card["reviewerName"] for card in bea_view["others"]] == ["Carl"]  # no drafts
    rita_view = await scene.scorecards("rita")  # her own is a draft: still blind
    assert (rita_view["revealed"], rita_view["others"], rita_view["aggregate"]) == (
        False,
        [],
        None,
    )

    # Every criterion at 4 (Bea) and at 2 (Carl): whatever the weights, 4 and 2 per card.
    assert (carl["aggregate"]["weightedScore"], carl["aggregate"]["spread"]) == (3.0, 2.0)
    assert {c["disagreement"] for c in carl["aggregate"]["criteria"]} == {1.0}
    # The fit profile's review section follows the same rule, per reader.
    profile_url = f"/api/candidate-sessions/{scene.cs_id}/fit-profile"
    for reader, revealed in (("carl", True), ("rita", False)):
        response = await scene.client.get(profile_url, headers=scene.headers[reader])
        assert response.status_code == 200, response.text
        review = response.json()["review"]
        assert (review["revealed"], review["scorecardsSubmitted"]) == (revealed, 2)
        assert (review["aggregate"] is not None) == revealed
        if not revealed:
            _assert_nothing_of_bea_s(response.text)
