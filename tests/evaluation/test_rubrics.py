"""A simulation's rubric over HTTP: made from the default criteria on first read, edited in
place until a scorecard uses it, versioned after (scorecards keep the version they used),
validated against the simulation's days, and hidden from other companies."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event
from tests.support.api import assert_problem
from tests.support.recruiting import World
from tests.support.reviewing import ReviewScene, review_scene


@pytest.fixture
async def scene(world: World, db_session: AsyncSession) -> ReviewScene:
    return await review_scene(world, db_session)


def _criterion(key: str, day: int, weight: float = 1.0) -> dict[str, Any]:
    return {
        "key": key,
        "dayIndex": day,
        "title": f"Criterion {key}",
        "description": "What it measures.",
        "weight": weight,
        "anchors": {"1": "Poor.", "2": "Fair.", "3": "Good.", "4": "Excellent."},
    }


ONE_PER_DAY = [_criterion("d1-plan", 1, 2), _criterion("d2-notes", 2), _criterion("d3-docs", 3)]


async def _put(scene: ReviewScene, criteria: list[dict[str, Any]], who: str = "rita") -> Any:
    return await scene.client.put(
        f"/api/simulations/{scene.simulation_id}/rubric",
        json={"criteria": criteria},
        headers=scene.headers[who],
    )


async def test_the_first_read_makes_version_1_from_the_default_criteria(
    scene: ReviewScene,
) -> None:
    rubric = await scene.rubric()
    assert rubric["version"] == 1
    assert rubric["editable"] is True
    assert rubric["updatedByUserId"] is None
    days = {criterion["dayIndex"] for criterion in rubric["criteria"]}
    assert days == {1, 2, 3}  # the design, handoff and documentation days
    assert [c["key"] for c in rubric["criteria"]][:3] == [
        "d1-problem",
        "d1-approach",
        "d1-testing-plan",
    ]
    assert rubric["criteria"][0]["anchors"].keys() == {"1", "2", "3", "4"}
    again = await scene.rubric("bea")
    assert again == rubric


async def test_an_edit_before_any_scorecard_changes_version_1_in_place(
    scene: ReviewScene, db_session: AsyncSession
) -> None:
    edited = await _put(scene, ONE_PER_DAY)
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["version"], body["editable"]) == (1, True)
    assert body["updatedByUserId"] == scene.user_ids["rita"]
    assert [c["key"] for c in body["criteria"]] == ["d1-plan", "d2-notes", "d3-docs"]
    assert body["criteria"][0]["weight"] == 2
    versions = await scene.client.get(
        f"/api/simulations/{scene.simulation_id}/rubric/versions", headers=scene.headers["rita"]
    )
    assert [v["version"] for v in versions.json()] == [1]
    [event] = (
        await db_session.scalars(
            select(Event).where(
                Event.simulation_id == scene.simulation_id, Event.type == "rubric.updated"
            )
        )
    ).all()
    assert event.data == {"version": 1, "newVersion": False}
    assert event.actor_id == str(scene.user_ids["rita"])


async def test_an_edit_after_a_scorecard_makes_the_next_version_and_scorecards_keep_theirs(
    scene: ReviewScene,
) -> None:
    # Bea submits on version 1; Carl has a draft on it.
    await scene.score("bea", level=4)
    draft = await scene.save(
        "carl",
        [{"criterionKey": "d1-problem", "level": 2}, {"criterionKey": "d2-clarity", "level": 3}],
    )
    assert draft.json()["rubricVersion"] == 1
    assert (await scene.rubric())["editable"] is False

    edited = await _put(scene, [*ONE_PER_DAY, _criterion("d2-clarity", 2)])
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.json()["editable"]) == (2, True)
    versions = await scene.client.get(
        f"/api/simulations/{scene.simulation_id}/rubric/versions", headers=scene.headers["rita"]
    )
    assert [(v["version"], v["editable"]) for v in versions.json()] == [(2, True), (1, False)]
    assert versions.json()[1]["criteria"][0]["key"] == "d1-problem"  # version 1 unchanged

    # The submitted scorecard keeps version 1, even when edited after the rubric moved on.
    bea = (await scene.scorecards("bea"))["mine"]
    assert (bea["rubricVersion"], bea["version"]) == (1, 1)
    revised = await scene.save("bea", bea["entries"], "yes")
    assert revised.status_code == 200, revised.text
    assert (revised.json()["rubricVersion"], revised.json()["version"]) == (1, 2)

    # Carl's draft moves to version 2 when saved: the score of a criterion version 2 no
    # longer has is dropped, the one it kept is stored.
    moved = await scene.save(
        "carl",
        [{"criterionKey": "d1-problem", "level": 2}, {"criterionKey": "d2-clarity", "level": 3}],
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["rubricVersion"] == 2
    assert [e["criterionKey"] for e in moved.json()["entries"]] == ["d2-clarity"]
    # A key version 2 never had (nor version 1) is refused on the moved draft.
    unknown = await scene.save("carl", [{"criterionKey": "d1-problem", "level": 2}])
    body = assert_problem(unknown, 422, "SCORECARD_ENTRIES_INVALID")
    assert body["errors"][0]["loc"] == ["body", "entries", "0", "criterionKey"]

    # Carl's draft uses version 2 now, so the next edit makes version 3.
    assert (await scene.rubric())["editable"] is False
    third = await _put(scene, ONE_PER_DAY)
    assert third.json()["version"] == 3


@pytest.mark.parametrize(
    ("criteria", "locs", "types"),
    [
        (
            [*ONE_PER_DAY, _criterion("d1-plan", 1)],
            [["body", "criteria", "3", "key"]],
            ["duplicate_key"],
        ),
        (
            [*ONE_PER_DAY, _criterion("d5-extra", 5)],
            [["body", "criteria", "3", "dayIndex"]],
            ["day_without_task"],
        ),
        (ONE_PER_DAY[:2], [["body", "criteria"]], ["day_without_criteria"]),
    ],
)
async def test_a_rubric_that_does_not_fit_the_simulation_is_422_naming_the_problem(
    scene: ReviewScene, criteria: list[dict[str, Any]], locs: list[list[str]], types: list[str]
) -> None:
    body = assert_problem(await _put(scene, criteria), 422, "RUBRIC_INVALID")
    assert [error["loc"] for error in body["errors"]] == locs
    assert [error["type"] for error in body["errors"]] == types
    assert (await scene.rubric())["criteria"][0]["key"] == "d1-problem"  # nothing stored


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weight": 0}, "weight"),
        ({"key": "Not A Key"}, "key"),
        ({"anchors": {"1": "a", "2": "b", "3": "c"}}, "anchors"),
        ({"dayIndex": 9}, "dayIndex"),
    ],
)
async def test_a_malformed_criterion_is_422_naming_the_field(
    scene: ReviewScene, change: dict[str, Any], field: str
) -> None:
    bad = [ONE_PER_DAY[0] | change, *ONE_PER_DAY[1:]]
    body = assert_problem(await _put(scene, bad), 422, "VALIDATION_FAILED")
    assert ["body", "criteria", "0", field] == body["errors"][0]["loc"][:4]


async def test_an_empty_rubric_is_422(scene: ReviewScene) -> None:
    assert_problem(await _put(scene, []), 422, "VALIDATION_FAILED")


async def test_another_company_s_recruiter_gets_404_on_every_rubric_route(
    scene: ReviewScene,
) -> None:
    outsider, url = scene.world.outsider, f"/api/simulations/{scene.simulation_id}/rubric"
    answers = [
        await scene.client.get(url, headers=outsider),
        await scene.client.put(url, json={"criteria": ONE_PER_DAY}, headers=outsider),
        await scene.client.get(f"{url}/versions", headers=outsider),
    ]
    for answer in answers:
        assert_problem(answer, 404, "SIMULATION_NOT_FOUND")
    assert (await scene.rubric())["criteria"][0]["key"] == "d1-problem"
