"""What recruiters see of similarity, over HTTP with real tokens and real PostgreSQL, from
rows as the fingerprint job leaves them: a simulation's pairs highest first with their
coverage, the filter and the pages; one submission's pairs seen from either side; the fit
profile's signal and its regeneration when a pair appears; the CSV columns; and tenancy."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.core.db import Database
from app.core.settings import JobSettings
from app.evaluation import fit_profile
from app.jobs.models import Job
from app.jobs.worker import Worker
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission
from app.workspaces.models import Workspace
from tests.support.api import assert_problem
from tests.support.factories import (
    create_candidate_session,
    create_simulation,
    create_submission,
    create_tasks,
)
from tests.support.jobs import FakeClock, job_services
from tests.support.recruiting import World
from tests.support.route_table import document_app
from tests.support.similarity import (
    add_fingerprints,
    add_pair,
    create_code_submission,
    region,
)

BIG = region(("app/refunds.py", 12, 61), ("app/payments/refund.py", 40, 95), 180)
SMALL = region(("app/models.py", 3, 20), ("app/models.py", 5, 22), 32)


@dataclass
class Scene:
    """Ada, Grace, Linus and Hopper's day 2 code is fingerprinted; Ritchie's waits, Knuth's
    was skipped and Turing's failed. Pairs, in the order stored:

    | pair         | score | left fraction |
    | Ada, Grace   | 0.81  | 0.70          |
    | Grace, Linus | 0.45  |               |
    | Ada, Linus   | 0.45  |               |
    | Ada, Hopper  | 0.22  |               |
    """

    simulation: Simulation
    tasks: list[Task]
    sessions: dict[str, CandidateSession]
    code: dict[str, Submission]
    pair_ids: dict[str, int]

    def cs_id(self, name: str) -> int:
        return self.sessions[name].id


async def _scene(db_session: AsyncSession, world: World) -> Scene:
    company = (
        await db_session.scalars(select(Company).where(Company.name == world.company_name))
    ).one()
    simulation = await create_simulation(db_session, company, title="Similarity simulation")
    tasks = await create_tasks(db_session, simulation)
    names = ("Ada", "Grace", "Linus", "Hopper", "Ritchie", "Knuth", "Turing")
    sessions = {
        name: await create_candidate_session(
            db_session,
            simulation,
            candidate_name=name,
            invite_email=f"{name.lower()}@candidates.example",
            status="in_progress",
        )
        for name in names
    }
    for cs in sessions.values():
        cs.started_at = datetime.now(UTC) - timedelta(hours=3)
    code = {
        name: await create_code_submission(db_session, sessions[name], tasks[1]) for name in names
    }
    for name in ("Ada", "Grace", "Linus", "Hopper"):
        await add_fingerprints(db_session, code[name])
    await add_fingerprints(db_session, code["Ritchie"], status="pending")
    await add_fingerprints(
        db_session, code["Knuth"], status="skipped", skip_reason="TREE_TOO_LARGE"
    )
    await add_fingerprints(db_session, code["Turing"], status="failed", skip_reason="GITHUB_ERROR")
    pairs = {
        "Ada-Grace": await add_pair(
            db_session,
            code["Ada"],
            code["Grace"],
            score=0.81,
            left_fraction=0.7,
            regions=[BIG, SMALL],
        ),
        "Grace-Linus": await add_pair(db_session, code["Grace"], code["Linus"], score=0.45),
        "Ada-Linus": await add_pair(db_session, code["Ada"], code["Linus"], score=0.45),
        "Ada-Hopper": await add_pair(db_session, code["Ada"], code["Hopper"], score=0.22),
    }
    return Scene(
        simulation=simulation,
        tasks=tasks,
        sessions=sessions,
        code=code,
        pair_ids={key: pair.id for key, pair in pairs.items()},
    )


@pytest.fixture
async def scene(db_session: AsyncSession, world: World) -> Scene:
    return await _scene(db_session, world)


async def _get(world: World, path: str, **params: Any) -> dict[str, Any]:
    response = await world.client.get(path, params=params, headers=world.recruiter)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _pairs_url(scene: Scene) -> str:
    return f"/api/simulations/{scene.simulation.id}/similarity"


def _matches_url(submission: Submission | int) -> str:
    submission_id = submission if isinstance(submission, int) else submission.id
    return f"/api/submissions/{submission_id}/similarity"


async def _workspace_of(db_session: AsyncSession, submission: Submission) -> Workspace:
    return await db_session.get_one(Workspace, submission.workspace_id)


def _side(scene: Scene, name: str) -> dict[str, Any]:
    return {
        "submissionId": scene.code[name].id,
        "candidateSessionId": scene.cs_id(name),
        "candidateName": name,
        "inviteEmail": f"{name.lower()}@candidates.example",
        "taskId": scene.tasks[1].id,
        "dayIndex": 2,
    }


# ---- a simulation's pairs ------------------------------------------------------------------


async def test_pairs_are_listed_highest_score_first_with_both_sides_and_coverage(
    world: World, scene: Scene
) -> None:
    body = await _get(world, _pairs_url(scene))

    assert body["simulationId"] == scene.simulation.id
    assert body["coverage"] == {"ready": 4, "pending": 1, "skipped": 1, "failed": 1}
    assert body["total"] == 4
    assert body["nextCursor"] is None
    # Equal scores: the pair stored first comes first.
    assert [item["pairId"] for item in body["items"]] == [
        scene.pair_ids[key] for key in ("Ada-Grace", "Grace-Linus", "Ada-Linus", "Ada-Hopper")
    ]
    first = body["items"][0]
    assert first.pop("foundAt")
    assert first == {
        "pairId": scene.pair_ids["Ada-Grace"],
        "score": 0.81,
        "left": _side(scene, "Ada"),
        "right": _side(scene, "Grace"),
        "leftFraction": 0.7,
        "rightFraction": 0.81,
        "sharedFingerprints": 212,
        "regionCount": 2,
        "regions": [BIG, SMALL],
    }
    assert [item["score"] for item in body["items"]] == [0.81, 0.45, 0.45, 0.22]


@pytest.mark.parametrize(
    ("min_score", "expected"),
    [("0.45", ["Ada-Grace", "Grace-Linus", "Ada-Linus"]), ("0.9", []), ("0", None), ("1", [])],
)
async def test_min_score_keeps_the_pairs_at_or_above_it(
    world: World, scene: Scene, min_score: str, expected: list[str] | None
) -> None:
    body = await _get(world, _pairs_url(scene), minScore=min_score)

    keys = expected if expected is not None else list(scene.pair_ids)
    assert [item["pairId"] for item in body["items"]] == [scene.pair_ids[key] for key in keys]
    assert body["total"] == len(keys)
    # The coverage is the simulation's, whatever the filter.
    assert body["coverage"]["ready"] == 4


@pytest.mark.parametrize("min_score", ["-0.01", "1.01", "high", "nan", "inf"])
async def test_a_min_score_outside_0_to_1_is_a_422_naming_it(
    world: World, scene: Scene, min_score: str
) -> None:
    response = await world.client.get(
        _pairs_url(scene), params={"minScore": min_score}, headers=world.recruiter
    )
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert [issue["loc"] for issue in body["errors"]] == [["query", "minScore"]]


async def test_pairs_come_a_page_at_a_time(world: World, scene: Scene) -> None:
    first = await _get(world, _pairs_url(scene), limit=2)
    # The first page ends between two equal scores: the next starts after the one shown.
    second = await _get(world, _pairs_url(scene), limit=2, cursor=first["nextCursor"])
    third = await _get(world, _pairs_url(scene), limit=3, cursor=second["nextCursor"])

    assert first["total"] == second["total"] == 4
    assert [item["pairId"] for item in first["items"] + second["items"]] == list(
        scene.pair_ids.values()
    )
    assert second["nextCursor"] is not None  # a full page: another may follow
    assert third["items"] == []
    assert third["nextCursor"] is None
    page = await _get(world, _pairs_url(scene), limit=3, cursor=first["nextCursor"], minScore=0.3)
    assert [item["pairId"] for item in page["items"]] == [scene.pair_ids["Ada-Linus"]]
    assert page["total"] == 3


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        _cursor("1.5|3"),  # a score past 1
        _cursor("0.5|0"),  # not an id
        _cursor("nan|3"),
        _cursor("0.5"),
        _cursor("2026-01-01T00:00:00+00:00|3"),  # a list's cursor by time
    ],
)
async def test_a_cursor_this_api_did_not_make_is_a_422(
    world: World, scene: Scene, cursor: str
) -> None:
    response = await world.client.get(
        _pairs_url(scene), params={"cursor": cursor}, headers=world.recruiter
    )
    body = assert_problem(response, 422, "CURSOR_INVALID")
    assert body["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_simulation_without_fingerprints_has_no_pairs_and_no_coverage(
    world: World, scene: Scene, db_session: AsyncSession
) -> None:
    company = await db_session.get_one(Company, scene.simulation.company_id)
    empty = await create_simulation(db_session, company)

    body = await _get(world, f"/api/simulations/{empty.id}/similarity")

    assert body == {
        "items": [],
        "total": 0,
        "nextCursor": None,
        "simulationId": empty.id,
        "coverage": {"ready": 0, "pending": 0, "skipped": 0, "failed": 0},
    }


# ---- one submission's pairs ----------------------------------------------------------------


async def test_a_submissions_pairs_are_seen_from_it_on_either_side(
    world: World, scene: Scene
) -> None:
    body = await _get(world, _matches_url(scene.code["Grace"]))

    assert body["submissionId"] == scene.code["Grace"].id
    assert (body["status"], body["skipReason"]) == ("ready", None)
    assert body["fingerprintedAt"] == "2026-12-02T16:01:30Z"
    assert (body["fileCount"], body["fingerprintCount"]) == (12, 300)
    as_right, as_left = body["matches"]
    # Grace is the right side of Ada's pair: `this` is the stored right side.
    assert as_right.pop("foundAt")
    assert as_right == {
        "pairId": scene.pair_ids["Ada-Grace"],
        "score": 0.81,
        "thisFraction": 0.81,
        "otherFraction": 0.7,
        "other": _side(scene, "Ada"),
        "sharedFingerprints": 212,
        "regionCount": 2,
        "regions": [
            {"this": BIG["right"], "other": BIG["left"], "fingerprints": 180},
            {"this": SMALL["right"], "other": SMALL["left"], "fingerprints": 32},
        ],
    }
    # And the left side of Linus's.
    assert as_left["pairId"] == scene.pair_ids["Grace-Linus"]
    assert as_left["other"] == _side(scene, "Linus")
    [only] = as_left["regions"]
    assert only == {
        "this": {"file": "a.py", "startLine": 1, "endLine": 30},
        "other": {"file": "b.py", "startLine": 5, "endLine": 34},
        "fingerprints": 25,
    }

    ada = await _get(world, _matches_url(scene.code["Ada"]))
    assert [match["other"]["candidateName"] for match in ada["matches"]] == [
        "Grace",
        "Linus",
        "Hopper",
    ]
    assert ada["matches"][0]["regions"][0]["this"] == BIG["left"]
    assert (ada["matches"][0]["thisFraction"], ada["matches"][0]["otherFraction"]) == (0.7, 0.81)


@pytest.mark.parametrize(
    ("name", "status", "reason"),
    [
        ("Ritchie", "pending", None),
        ("Knuth", "skipped", "TREE_TOO_LARGE"),
        ("Turing", "failed", "GITHUB_ERROR"),
    ],
)
async def test_a_submission_not_compared_says_why(
    world: World, scene: Scene, name: str, status: str, reason: str | None
) -> None:
    body = await _get(world, _matches_url(scene.code[name]))
    assert (body["status"], body["skipReason"], body["matches"]) == (status, reason, [])
    assert body["fingerprintCount"] is None


async def test_a_text_submission_is_not_fingerprinted(
    world: World, scene: Scene, db_session: AsyncSession
) -> None:
    text = await create_submission(db_session, scene.sessions["Ada"], scene.tasks[0])

    body = await _get(world, _matches_url(text))

    assert body == {
        "submissionId": text.id,
        "status": "not_fingerprinted",
        "skipReason": None,
        "fingerprintedAt": None,
        "fileCount": None,
        "fingerprintCount": None,
        "matches": [],
    }


# ---- tenancy -------------------------------------------------------------------------------


async def test_another_companys_recruiter_finds_neither(world: World, scene: Scene) -> None:
    simulation = await world.client.get(_pairs_url(scene), headers=world.outsider)
    body = assert_problem(simulation, 404, "SIMULATION_NOT_FOUND")
    assert "Ada" not in str(body)
    submission = await world.client.get(_matches_url(scene.code["Ada"]), headers=world.outsider)
    assert_problem(submission, 404, "SUBMISSION_NOT_FOUND")
    assert "Grace" not in submission.text


async def test_unknown_ids_are_404(world: World, scene: Scene) -> None:
    missing = 2**62
    response = await world.client.get(
        f"/api/simulations/{missing}/similarity", headers=world.recruiter
    )
    assert_problem(response, 404, "SIMULATION_NOT_FOUND")
    response = await world.client.get(_matches_url(missing), headers=world.recruiter)
    assert_problem(response, 404, "SUBMISSION_NOT_FOUND")


async def test_candidates_may_read_neither(world: World, scene: Scene) -> None:
    for path in (_pairs_url(scene), _matches_url(scene.code["Ada"])):
        response = await world.client.get(path, headers=world.candidate)
        assert_problem(response, 403, "PERMISSION_DENIED")


def test_the_openapi_document_says_pairs_are_for_review_never_a_verdict() -> None:
    document = document_app().openapi()
    for path in (
        "/api/simulations/{simulation_id}/similarity",
        "/api/submissions/{submission_id}/similarity",
    ):
        operation = document["paths"][path]["get"]
        assert "similarity" in operation["tags"]
        assert operation["summary"].endswith("for review, never a verdict.")
    schemas = document["components"]["schemas"]
    for name in ("SimulationSimilarity", "SubmissionSimilarity", "DaySimilarity"):
        assert "never a verdict" in schemas[name]["description"], name


# ---- the fit profile -----------------------------------------------------------------------


def _worker(database: Database) -> Worker[Any]:
    services = job_services()
    clock = FakeClock(current=datetime.now(UTC) + timedelta(seconds=1))
    return Worker(
        database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=services,
        metrics=services.metrics,
        clock=clock,
    )


async def _profile(world: World, cs_id: int) -> dict[str, Any]:
    return await _get(world, f"/api/candidate-sessions/{cs_id}/fit-profile")


async def test_the_fit_profile_shows_each_code_days_closest_match_and_the_highest(
    world: World, scene: Scene, db_session: AsyncSession, database: Database
) -> None:
    # Grace's day 3 (debug) is fingerprinted too, in a lower pair with Hopper's day 3.
    grace, hopper = scene.sessions["Grace"], scene.sessions["Hopper"]
    debug = scene.tasks[2]
    grace_debug = await create_code_submission(
        db_session, grace, debug, workspace=await _workspace_of(db_session, scene.code["Grace"])
    )
    hopper_debug = await create_code_submission(
        db_session, hopper, debug, workspace=await _workspace_of(db_session, scene.code["Hopper"])
    )
    for submission in (grace_debug, hopper_debug):
        await add_fingerprints(db_session, submission)
    await add_pair(db_session, grace_debug, hopper_debug, score=0.3)
    await _profile(world, grace.id)
    await _worker(database).run_until_idle()

    profile = await _profile(world, grace.id)

    assert profile["status"] == "ready"
    days = profile["signals"]["days"]
    assert days[0]["similarity"] is None  # a design day: no code
    assert days[1]["similarity"] == {
        "status": "ready",
        "skipReason": None,
        "matches": 2,
        "closest": {
            "score": 0.81,
            "otherSubmissionId": scene.code["Ada"].id,
            "otherCandidateSessionId": scene.cs_id("Ada"),
            "regionCount": 2,
        },
    }
    assert days[2]["similarity"]["closest"]["otherCandidateSessionId"] == hopper.id
    assert days[3]["similarity"] is None  # not submitted
    assert profile["signals"]["similarity"] == {
        "highestScore": 0.81,
        "dayIndex": 2,
        "submissionId": scene.code["Grace"].id,
        "otherSubmissionId": scene.code["Ada"].id,
        "otherCandidateSessionId": scene.cs_id("Ada"),
    }

    for name, status in (("Ritchie", "pending"), ("Knuth", "skipped")):
        await _profile(world, scene.cs_id(name))
        await _worker(database).run_until_idle()
        signals = (await _profile(world, scene.cs_id(name)))["signals"]
        assert signals["days"][1]["similarity"]["status"] == status
        assert signals["days"][1]["similarity"]["closest"] is None
        assert signals["similarity"] is None


async def test_a_new_pair_makes_the_fit_profile_stale_and_regenerates_it(
    world: World, scene: Scene, db_session: AsyncSession, database: Database
) -> None:
    hopper = scene.cs_id("Hopper")
    await _profile(world, hopper)
    await _worker(database).run_until_idle()
    before = await _profile(world, hopper)
    assert before["signals"]["similarity"]["highestScore"] == 0.22

    await add_pair(db_session, scene.code["Linus"], scene.code["Hopper"], score=0.9)
    stale = await _profile(world, hopper)

    assert stale["status"] == "stale"
    assert stale["signals"]["similarity"]["highestScore"] == 0.22
    waiting = await db_session.scalars(
        select(Job.payload).where(Job.type == "evaluation.fit_profile", Job.state == "pending")
    )
    assert list(waiting) == [{"candidateSessionId": hopper}]
    await _worker(database).run_until_idle()
    fresh = await _profile(world, hopper)
    assert fresh["status"] == "ready"
    assert fresh["inputFingerprint"] != before["inputFingerprint"]
    assert fresh["signals"]["days"][1]["similarity"]["matches"] == 2
    assert fresh["signals"]["similarity"] == {
        "highestScore": 0.9,
        "dayIndex": 2,
        "submissionId": scene.code["Hopper"].id,
        "otherSubmissionId": scene.code["Linus"].id,
        "otherCandidateSessionId": scene.cs_id("Linus"),
    }


async def test_the_sweep_sees_a_new_pair_on_both_sides_and_a_finished_fingerprint(
    scene: Scene, db_session: AsyncSession
) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=5)
    for cs in scene.sessions.values():
        cs.updated_at = long_ago
    for submission in scene.code.values():
        submission.updated_at = long_ago
    await db_session.flush()
    since = now - fit_profile.ACTIVITY_WINDOW
    # The scene's rows were all written just now.
    before = set(await fit_profile.recently_active(db_session, since=since, limit=50))
    assert before == {cs.id for cs in scene.sessions.values()}

    later = now + timedelta(hours=3)
    pair = await add_pair(db_session, scene.code["Linus"], scene.code["Hopper"], score=0.9)
    pair.created_at = later
    ritchie = await add_fingerprints(db_session, await _debug_submission(db_session, scene))
    ritchie.updated_at = later
    await db_session.flush()

    recent = await fit_profile.recently_active(
        db_session, since=later - timedelta(minutes=1), limit=50
    )
    assert sorted(recent) == sorted(
        [scene.cs_id("Linus"), scene.cs_id("Hopper"), scene.cs_id("Ritchie")]
    )


async def _debug_submission(db_session: AsyncSession, scene: Scene) -> Submission:
    return await create_code_submission(
        db_session,
        scene.sessions["Ritchie"],
        scene.tasks[2],
        workspace=await _workspace_of(db_session, scene.code["Ritchie"]),
    )


# ---- the CSV exports -----------------------------------------------------------------------


async def _csv(world: World, path: str) -> dict[str, dict[str, str]]:
    response = await world.client.get(path, headers=world.recruiter)
    assert response.status_code == 200, response.text
    return {row["candidate_name"]: row for row in csv.DictReader(io.StringIO(response.text))}


def _similarity_columns(row: dict[str, str]) -> tuple[str, str, str]:
    return (
        row["similarity_max_score"],
        row["similarity_other_candidate_session_id"],
        row["similarity_other_candidate_name"],
    )


@pytest.mark.parametrize("export", ["results.csv", "comparison.csv"])
async def test_the_csv_exports_name_each_sessions_highest_pair(
    world: World, scene: Scene, export: str
) -> None:
    rows = await _csv(world, f"/api/simulations/{scene.simulation.id}/{export}")

    assert list(rows["Ada"])[-3:] == [
        "similarity_max_score",
        "similarity_other_candidate_session_id",
        "similarity_other_candidate_name",
    ]
    assert _similarity_columns(rows["Ada"]) == ("0.810", str(scene.cs_id("Grace")), "Grace")
    assert _similarity_columns(rows["Grace"]) == ("0.810", str(scene.cs_id("Ada")), "Ada")
    # Equal scores: the pair stored first.
    assert _similarity_columns(rows["Linus"]) == ("0.450", str(scene.cs_id("Grace")), "Grace")
    assert _similarity_columns(rows["Hopper"]) == ("0.220", str(scene.cs_id("Ada")), "Ada")
    for name in ("Ritchie", "Knuth", "Turing"):
        assert _similarity_columns(rows[name]) == ("", "", ""), name


async def test_the_comparison_shows_each_sessions_highest_pair_to_every_reader(
    world: World, scene: Scene
) -> None:
    body = await _get(world, f"/api/simulations/{scene.simulation.id}/comparison")

    by_name = {row["candidateName"]: row for row in body["candidates"]}
    # Nobody has reviewed anyone: the pairs are not review scores, so they are shown.
    assert by_name["Hopper"]["revealed"] is False
    assert by_name["Hopper"]["similarity"] == {
        "highestScore": 0.22,
        "dayIndex": 2,
        "submissionId": scene.code["Hopper"].id,
        "otherSubmissionId": scene.code["Ada"].id,
        "otherCandidateSessionId": scene.cs_id("Ada"),
    }
    assert by_name["Ritchie"]["similarity"] is None
