"""Drafts of text tasks over HTTP with real RS256 tokens: the candidate saves and reads the
draft of their current task with optimistic concurrency; saving stops at the submit and the
deadline while reading goes on; the recruiter of the session's company reads the drafts of
the tasks it never submitted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.core.settings import AppSettings
from app.submissions.schemas import MAX_CONTENT_LENGTH
from tests.support.api import TEXT_TASKS, assert_problem, bearer
from tests.support.app import make_settings, serving
from tests.support.recruiting import World, invite_candidate, new_simulation

CODE_THEN_DESIGN = [
    {"dayIndex": 1, "type": "code", "title": "Code", "description": "Build it."},
    {"dayIndex": 2, "type": "design", "title": "Design", "description": "Design it."},
]


@dataclass
class Claimed:
    cs_id: int
    task_ids: list[int]
    headers: dict[str, str]


async def _claimed(world: World, tasks: list[dict[str, Any]] = TEXT_TASKS) -> Claimed:
    """A session of a new simulation with these tasks, claimed by the world's candidate."""
    simulation = await new_simulation(world, tasks=tasks)
    invite = (await invite_candidate(world, simulation["id"])).json()
    opened = await world.client.get(
        f"/api/candidate/session/{invite['token']}", headers=world.candidate
    )
    assert opened.status_code == 200, opened.text
    cs_id = invite["candidateSessionId"]
    return Claimed(
        cs_id=cs_id,
        task_ids=[task["id"] for task in simulation["tasks"]],
        headers=world.candidate | {"x-candidate-session-id": str(cs_id)},
    )


def _draft(task_id: int) -> str:
    return f"/api/tasks/{task_id}/draft"


async def test_first_save_then_updates_each_take_the_next_version(world: World) -> None:
    claimed = await _claimed(world)
    url = _draft(claimed.task_ids[0])

    empty = await world.client.get(url, headers=claimed.headers)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "taskId": claimed.task_ids[0],
        "contentText": None,
        "version": 0,
        "updatedAt": None,
    }

    first = await world.client.put(
        url, json={"contentText": "  # Plan\n", "version": 0}, headers=claimed.headers
    )
    assert first.status_code == 200, first.text
    assert (first.json()["contentText"], first.json()["version"]) == ("  # Plan\n", 1)
    assert first.json()["updatedAt"] is not None

    second = await world.client.put(
        url,
        json={"contentText": "# Plan\nIdempotency keys.", "version": 1},
        headers=claimed.headers,
    )
    assert second.status_code == 200, second.text
    assert second.json()["version"] == 2
    # Clearing the text is a save like any other.
    cleared = await world.client.put(
        url, json={"contentText": "", "version": 2}, headers=claimed.headers
    )
    assert (cleared.status_code, cleared.json()["version"]) == (200, 3)

    read = await world.client.get(url, headers=claimed.headers)
    assert read.json() == cleared.json()


async def test_a_save_from_a_stale_version_is_409_with_the_current_version(world: World) -> None:
    claimed = await _claimed(world)
    url = _draft(claimed.task_ids[0])
    for version in range(3):
        saved = await world.client.put(
            url,
            json={"contentText": f"v{version + 1}", "version": version},
            headers=claimed.headers,
        )
        assert saved.status_code == 200, saved.text

    for stale in (0, 1, 2, 7):
        refused = await world.client.put(
            url, json={"contentText": "from another tab", "version": stale}, headers=claimed.headers
        )
        body = assert_problem(refused, 409, "DRAFT_VERSION_CONFLICT")
        assert body["currentVersion"] == 3
    kept = await world.client.get(url, headers=claimed.headers)
    assert (kept.json()["contentText"], kept.json()["version"]) == ("v3", 3)


async def test_a_save_of_a_never_saved_draft_from_a_version_is_409_version_0(
    world: World,
) -> None:
    claimed = await _claimed(world)
    refused = await world.client.put(
        _draft(claimed.task_ids[0]),
        json={"contentText": "x", "version": 4},
        headers=claimed.headers,
    )
    assert assert_problem(refused, 409, "DRAFT_VERSION_CONFLICT")["currentVersion"] == 0


async def test_the_size_cap_is_a_setting_and_larger_drafts_are_413(
    world: World, database_url: str, database: Database
) -> None:
    assert AppSettings(_env_file=None).draft_max_chars == MAX_CONTENT_LENGTH
    with pytest.raises(ValidationError):  # a draft that could not be submitted
        AppSettings(_env_file=None, draft_max_chars=MAX_CONTENT_LENGTH + 1)
    claimed = await _claimed(world)
    url = _draft(claimed.task_ids[0])
    settings = make_settings(database_url, world.idp.jwks_url, app={"draft_max_chars": 10})
    async with serving(settings, database) as client:
        too_large = await client.put(
            url, json={"contentText": "é" * 11, "version": 0}, headers=claimed.headers
        )
        body = assert_problem(too_large, 413, "DRAFT_TOO_LARGE")
        assert body["maxChars"] == 10
        # Characters are counted, not bytes.
        at_cap = await client.put(
            url, json={"contentText": "é" * 10, "version": 0}, headers=claimed.headers
        )
        assert (at_cap.status_code, at_cap.json()["version"]) == (200, 1)


async def test_saves_are_rate_limited_per_caller_and_session(
    world: World, database_url: str, database: Database
) -> None:
    claimed = await _claimed(world)
    url = _draft(claimed.task_ids[0])
    settings = make_settings(database_url, world.idp.jwks_url, rate_limit={"draft": "2/minute"})
    async with serving(settings, database) as client:
        saves = [
            await client.put(
                url, json={"contentText": f"v{n}", "version": n}, headers=claimed.headers
            )
            for n in range(3)
        ]
        reading = await client.get(url, headers=claimed.headers)
    assert [save.status_code for save in saves[:2]] == [200, 200]
    assert_problem(saves[2], 429, "RATE_LIMITED")
    assert int(saves[2].headers["retry-after"]) > 0
    # Reading is not limited, and the refused save stored nothing.
    assert (reading.status_code, reading.json()["version"]) == (200, 2)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"contentText": "a\u0000b", "version": 0}, ["body", "contentText"]),
        ({"contentText": "x", "version": -1}, ["body", "version"]),
        ({"version": 0}, ["body", "contentText"]),
        ({"contentText": None, "version": 0}, ["body", "contentText"]),
    ],
)
async def test_invalid_saves_are_422_naming_the_field(
    world: World, body: dict[str, Any], loc: list[str]
) -> None:
    claimed = await _claimed(world)
    refused = await world.client.put(
        _draft(claimed.task_ids[0]), json=body, headers=claimed.headers
    )
    problem = assert_problem(refused, 422, "VALIDATION_FAILED")
    assert [error["loc"] for error in problem["errors"]] == [loc]


async def test_a_code_task_has_no_draft(world: World) -> None:
    claimed = await _claimed(world, tasks=CODE_THEN_DESIGN)
    url = _draft(claimed.task_ids[0])
    assert_problem(await world.client.get(url, headers=claimed.headers), 409, "TASK_NOT_TEXT")
    saved = await world.client.put(
        url, json={"contentText": "x", "version": 0}, headers=claimed.headers
    )
    assert_problem(saved, 409, "TASK_NOT_TEXT")


async def test_another_candidates_session_and_another_simulations_task_are_404(
    world: World,
) -> None:
    claimed = await _claimed(world)
    url = _draft(claimed.task_ids[0])
    mine = await world.client.put(
        url, json={"contentText": "x", "version": 0}, headers=claimed.headers
    )
    assert mine.status_code == 200, mine.text

    bob = bearer(
        world.idp.token(
            subject="auth0|bob", permissions=("candidate:access",), email="bob@example.com"
        )
    ) | {"x-candidate-session-id": str(claimed.cs_id)}
    assert_problem(await world.client.get(url, headers=bob), 404, "CANDIDATE_SESSION_NOT_FOUND")
    stolen = await world.client.put(url, json={"contentText": "y", "version": 1}, headers=bob)
    assert_problem(stolen, 404, "CANDIDATE_SESSION_NOT_FOUND")

    elsewhere = await new_simulation(world, tasks=TEXT_TASKS)
    foreign = _draft(elsewhere["tasks"][0]["id"])
    assert_problem(await world.client.get(foreign, headers=claimed.headers), 404, "TASK_NOT_FOUND")
    put = await world.client.put(
        foreign, json={"contentText": "x", "version": 0}, headers=claimed.headers
    )
    assert_problem(put, 404, "TASK_NOT_FOUND")


async def test_only_the_current_task_is_saved_but_every_task_is_readable(world: World) -> None:
    claimed = await _claimed(world)
    later = _draft(claimed.task_ids[2])
    early = await world.client.put(
        later, json={"contentText": "x", "version": 0}, headers=claimed.headers
    )
    assert_problem(early, 409, "TASK_NOT_CURRENT")
    read = await world.client.get(later, headers=claimed.headers)
    assert (read.status_code, read.json()["version"]) == (200, 0)


async def test_after_the_submit_and_the_deadline_drafts_are_read_only_and_kept_for_the_recruiter(
    world: World, db_session: AsyncSession
) -> None:
    claimed = await _claimed(world)
    day1, day2 = _draft(claimed.task_ids[0]), _draft(claimed.task_ids[1])
    saved = await world.client.put(
        day1, json={"contentText": "day 1 draft", "version": 0}, headers=claimed.headers
    )
    assert saved.status_code == 200, saved.text
    submitted = await world.client.post(
        f"/api/tasks/{claimed.task_ids[0]}/submit",
        json={"contentText": "day 1 final"},
        headers=claimed.headers,
    )
    assert submitted.status_code == 201, submitted.text

    after_submit = await world.client.put(
        day1, json={"contentText": "more", "version": 1}, headers=claimed.headers
    )
    assert_problem(after_submit, 409, "SUBMISSION_EXISTS")
    kept = await world.client.get(day1, headers=claimed.headers)
    assert (kept.status_code, kept.json()["contentText"]) == (200, "day 1 draft")

    day2_saved = await world.client.put(
        day2, json={"contentText": "day 2 unfinished", "version": 0}, headers=claimed.headers
    )
    assert day2_saved.status_code == 200, day2_saved.text

    cs = await db_session.get(CandidateSession, claimed.cs_id)
    assert cs is not None
    cs.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await db_session.flush()
    late = await world.client.put(
        day2, json={"contentText": "too late", "version": 1}, headers=claimed.headers
    )
    assert_problem(late, 410, "SESSION_EXPIRED")
    still = await world.client.get(day2, headers=claimed.headers)
    assert (still.status_code, still.json()["contentText"]) == (200, "day 2 unfinished")

    # The recruiter sees the draft of the task never submitted, not the submitted one's.
    drafts_url = f"/api/candidate-sessions/{claimed.cs_id}/drafts"
    listed = await world.client.get(drafts_url, headers=world.recruiter)
    assert listed.status_code == 200, listed.text
    assert listed.json() == [
        {
            "taskId": claimed.task_ids[1],
            "dayIndex": 2,
            "contentText": "day 2 unfinished",
            "version": 1,
            "updatedAt": day2_saved.json()["updatedAt"],
        }
    ]
    hidden = await world.client.get(drafts_url, headers=world.outsider)
    assert_problem(hidden, 404, "CANDIDATE_SESSION_NOT_FOUND")
    candidate = await world.client.get(drafts_url, headers=world.candidate)
    assert_problem(candidate, 403, "PERMISSION_DENIED")


async def test_a_session_without_drafts_lists_none(world: World) -> None:
    claimed = await _claimed(world)
    listed = await world.client.get(
        f"/api/candidate-sessions/{claimed.cs_id}/drafts", headers=world.recruiter
    )
    assert (listed.status_code, listed.json()) == (200, [])
