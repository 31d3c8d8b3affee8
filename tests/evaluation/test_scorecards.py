"""Scorecards and reviewers over HTTP: drafts, submit, edits after submit as versions on
the timeline, validation, and tenancy on every route."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.api import assert_problem
from tests.support.factories import create_company, create_recruiter
from tests.support.recruiting import World
from tests.support.reviewing import ReviewScene, review_scene


@pytest.fixture
async def scene(world: World, db_session: AsyncSession) -> ReviewScene:
    return await review_scene(world, db_session)


async def _timeline(scene: ReviewScene) -> list[dict[str, Any]]:
    response = await scene.client.get(
        f"/api/simulations/{scene.simulation_id}/candidates/{scene.cs_id}/events",
        headers=scene.headers["rita"],
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def test_a_draft_is_saved_partially_and_submitted_once_complete(scene: ReviewScene) -> None:
    empty = await scene.scorecards("bea")
    assert (empty["mine"], empty["submittedCount"], empty["rubricVersion"]) == (None, 0, 1)
    assert_problem(await scene.submit("bea"), 422, "SCORECARD_INCOMPLETE")

    partial = await scene.save("bea", [{"criterionKey": "d1-problem", "level": 2, "note": "Thin"}])
    assert partial.status_code == 200, partial.text
    draft = partial.json()
    assert (draft["status"], draft["version"], draft["submittedAt"]) == ("draft", 0, None)
    assert draft["reviewerUserId"] == scene.user_ids["bea"]
    assert draft["reviewerName"] == "Bea"
    assert draft["entries"] == [
        {"criterionKey": "d1-problem", "level": 2, "note": "Thin", "evidence": []}
    ]

    incomplete = assert_problem(await scene.submit("bea"), 422, "SCORECARD_INCOMPLETE")
    missing = {error["msg"] for error in incomplete["errors"]}
    assert "criterion 'd1-approach' is not scored" in missing
    assert "a recommendation is required" in missing

    entries = await scene.entries(level=3)
    saved = await scene.save("bea", entries, "strong_yes")
    assert saved.json()["id"] == draft["id"]  # one scorecard per reviewer and session
    submitted = await scene.submit("bea")
    assert submitted.status_code == 200, submitted.text
    card = submitted.json()
    assert (card["status"], card["version"], card["recommendation"]) == (
        "submitted",
        1,
        "strong_yes",
    )
    assert card["submittedAt"] is not None
    assert_problem(await scene.submit("bea"), 409, "SCORECARD_ALREADY_SUBMITTED")
    assert (await scene.scorecards("bea"))["submittedCount"] == 1


async def test_an_edit_after_submit_is_complete_and_makes_the_next_version_on_the_timeline(
    scene: ReviewScene,
) -> None:
    first = await scene.score("bea", level=2, note="First look", recommendation="no")
    entries = await scene.entries(level=4, note="Second look")

    partial = await scene.save("bea", entries[:1], "yes")
    assert_problem(partial, 422, "SCORECARD_INCOMPLETE")
    no_recommendation = await scene.save("bea", entries, None)
    assert_problem(no_recommendation, 422, "SCORECARD_INCOMPLETE")

    edited = await scene.save("bea", entries, "yes")
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.json()["status"]) == (2, "submitted")
    assert edited.json()["submittedAt"] == first["submittedAt"]

    versions = await scene.client.get(
        f"{scene.scorecards_url}/{first['id']}/versions", headers=scene.headers["bea"]
    )
    assert versions.status_code == 200, versions.text
    assert [(v["version"], v["recommendation"], v["rubricVersion"]) for v in versions.json()] == [
        (1, "no", 1),
        (2, "yes", 1),
    ]
    assert {e["level"] for e in versions.json()[0]["entries"]} == {2}
    assert {e["note"] for e in versions.json()[1]["entries"]} == {"Second look"}

    events = [e for e in await _timeline(scene) if e["type"].startswith("scorecard.")]
    assert [(e["type"], e["data"]) for e in events] == [
        ("scorecard.submitted", {"reviewerUserId": scene.user_ids["bea"], "version": 1}),
        ("scorecard.revised", {"reviewerUserId": scene.user_ids["bea"], "version": 2}),
    ]
    assert {e["actorId"] for e in events} == {str(scene.user_ids["bea"])}


async def test_entries_naming_unknown_or_repeated_criteria_are_422_naming_each(
    scene: ReviewScene,
) -> None:
    response = await scene.save(
        "bea",
        [
            {"criterionKey": "d1-problem", "level": 2},
            {"criterionKey": "d9-nothing", "level": 2},
            {"criterionKey": "d1-problem", "level": 3},
        ],
    )
    body = assert_problem(response, 422, "SCORECARD_ENTRIES_INVALID")
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [
        (["body", "entries", "1", "criterionKey"], "criterion_unknown"),
        (["body", "entries", "2", "criterionKey"], "criterion_duplicate"),
    ]
    assert (await scene.scorecards("bea"))["mine"] is None  # nothing stored


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            {"entries": [{"criterionKey": "d1-problem", "level": 5}]},
            ["body", "entries", "0", "level"],
        ),
        (
            {"entries": [{"criterionKey": "d1-problem", "level": 0}]},
            ["body", "entries", "0", "level"],
        ),
        ({"entries": [], "recommendation": "maybe"}, ["body", "recommendation"]),
        (
            {"entries": [{"criterionKey": "d1-problem", "level": 2, "note": "x" * 5001}]},
            ["body", "entries", "0", "note"],
        ),
        (
            {
                "entries": [
                    {
                        "criterionKey": "d1-problem",
                        "level": 2,
                        "evidence": [{"kind": "gossip", "ref": "1"}],
                    }
                ]
            },
            ["body", "entries", "0", "evidence", "0", "kind"],
        ),
    ],
)
async def test_a_malformed_scorecard_is_422_naming_the_field(
    scene: ReviewScene, body: dict[str, Any], loc: list[str]
) -> None:
    response = await scene.client.put(
        f"{scene.scorecards_url}/mine", json=body, headers=scene.headers["bea"]
    )
    problem = assert_problem(response, 422, "VALIDATION_FAILED")
    assert problem["errors"][0]["loc"] == loc


async def test_evidence_quoting_the_candidate_s_answer_is_kept_and_an_invented_quote_is_422(
    scene: ReviewScene,
) -> None:
    submissions = await scene.complete_candidate()
    answer = str(submissions[1])
    real = {"kind": "text", "ref": answer, "quote": "answer   for day 1"}
    entries = [{"criterionKey": "d1-problem", "level": 3, "evidence": [real]}]
    saved = await scene.save("bea", entries)
    assert saved.status_code == 200, saved.text
    [entry] = saved.json()["entries"]
    assert entry["evidence"] == [real | {"startMs": None, "endMs": None, "redacted": None}]

    invented = {"kind": "text", "ref": answer, "quote": "I rewrote it in Rust"}
    elsewhere = {"kind": "text", "ref": "999999999"}
    refused = await scene.save(
        "bea",
        [
            {"criterionKey": "d1-problem", "level": 3, "evidence": [real, invented]},
            {"criterionKey": "d1-approach", "level": 2, "evidence": [elsewhere]},
        ],
    )
    body = assert_problem(refused, 422, "EVIDENCE_INVALID")
    assert [(error["loc"], error["code"]) for error in body["errors"]] == [
        (["body", "entries", "0", "evidence", "1"], "EVIDENCE_QUOTE_NOT_FOUND"),
        (["body", "entries", "1", "evidence", "0"], "EVIDENCE_SOURCE_NOT_FOUND"),
    ]
    # The draft as it was saved before.
    assert (await scene.scorecards("bea"))["mine"]["entries"] == saved.json()["entries"]


async def test_reviewers_are_recruiters_of_the_company_and_their_assignment_is_on_the_timeline(
    scene: ReviewScene, db_session: AsyncSession
) -> None:
    other = await create_recruiter(db_session, await create_company(db_session))
    refused = await scene.client.put(
        f"/api/candidate-sessions/{scene.cs_id}/reviewers",
        json={"reviewerUserIds": [scene.user_ids["bea"], other.id]},
        headers=scene.headers["rita"],
    )
    body = assert_problem(refused, 422, "REVIEWER_NOT_IN_COMPANY")
    assert [(e["loc"], e["msg"]) for e in body["errors"]] == [
        (["body", "reviewerUserIds", "1"], f"user {other.id} is not a recruiter of this company")
    ]

    assigned = await scene.set_reviewers("bea", "carl")
    assert assigned.status_code == 200, assigned.text
    assert [(r["userId"], r["name"], r["submitted"]) for r in assigned.json()["reviewers"]] == [
        (scene.user_ids["bea"], "Bea", False),
        (scene.user_ids["carl"], "Carl", False),
    ]
    await scene.score("carl")
    narrowed = await scene.set_reviewers("carl", by="bea")  # any recruiter of the company
    assert [(r["name"], r["submitted"]) for r in narrowed.json()["reviewers"]] == [("Carl", True)]
    read = await scene.client.get(
        f"/api/candidate-sessions/{scene.cs_id}/reviewers", headers=scene.headers["carl"]
    )
    assert read.json() == narrowed.json()

    events = [e for e in await _timeline(scene) if e["type"] == "reviewers.assigned"]
    bea, carl = scene.user_ids["bea"], scene.user_ids["carl"]
    assert [e["data"] for e in events] == [
        {"reviewerUserIds": [bea, carl], "added": [bea, carl], "removed": []},
        {"reviewerUserIds": [carl], "added": [], "removed": [bea]},
    ]
    # The same list again changes nothing and records nothing.
    await scene.set_reviewers("carl")
    assert len([e for e in await _timeline(scene) if e["type"] == "reviewers.assigned"]) == 2


async def test_a_recruiter_may_score_without_being_assigned(scene: ReviewScene) -> None:
    await scene.set_reviewers("carl")
    card = await scene.score("bea")
    assert card["status"] == "submitted"


async def test_another_company_s_recruiter_gets_404_on_every_session_route(
    scene: ReviewScene,
) -> None:
    card = await scene.score("bea")
    client, outsider, base = (
        scene.client,
        scene.world.outsider,
        f"/api/candidate-sessions/{scene.cs_id}",
    )
    answers = [
        await client.get(f"{base}/reviewers", headers=outsider),
        await client.put(f"{base}/reviewers", json={"reviewerUserIds": []}, headers=outsider),
        await client.get(f"{base}/scorecards", headers=outsider),
        await client.put(f"{base}/scorecards/mine", json={"entries": []}, headers=outsider),
        await client.post(f"{base}/scorecards/mine/submit", headers=outsider),
        await client.get(f"{base}/scorecards/{card['id']}/versions", headers=outsider),
    ]
    for answer in answers:
        assert_problem(answer, 404, "CANDIDATE_SESSION_NOT_FOUND")
        assert "Bea" not in answer.text


async def test_a_candidate_token_is_refused(scene: ReviewScene) -> None:
    response = await scene.client.get(scene.scorecards_url, headers=scene.world.candidate)
    assert_problem(response, 403, "PERMISSION_DENIED")
