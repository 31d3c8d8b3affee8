"""The text-task flow end to end over HTTP with real RS256 tokens: a recruiter creates a
simulation and invites; the invite email goes out through the job; the candidate views,
claims and submits every day in order; the recruiter reviews submissions, the timeline
and the CSV. Ids in paths, queries and headers must be positive BIGINTs."""

from __future__ import annotations

import csv
import io

import pytest

from app.core.db import Database
from tests.support.api import TEXT_TASKS, assert_ids, assert_problem
from tests.support.recruiting import (
    CANDIDATE_EMAIL,
    STORED_EMAIL,
    RecordingSender,
    World,
    invite_candidate,
    new_simulation,
    run_jobs,
)


@pytest.mark.parametrize("bad_id", ["abc", "0", "-3", "9223372036854775808"])
async def test_an_id_that_is_not_a_positive_bigint_is_422_naming_the_parameter(
    world: World, bad_id: str
) -> None:
    in_path = await world.client.get(f"/api/submissions/{bad_id}", headers=world.recruiter)
    body = assert_problem(in_path, 422, "VALIDATION_FAILED")
    assert [error["loc"] for error in body["errors"]] == [["path", "submission_id"]]

    in_query = await world.client.get(
        f"/api/submissions?simulationId={bad_id}", headers=world.recruiter
    )
    body = assert_problem(in_query, 422, "VALIDATION_FAILED")
    assert [error["loc"] for error in body["errors"]] == [["query", "simulationId"]]

    in_header = await world.client.post(
        "/api/tasks/1/submit",
        json={"contentText": "x"},
        headers=world.candidate | {"x-candidate-session-id": bad_id},
    )
    body = assert_problem(in_header, 422, "VALIDATION_FAILED")
    assert [error["loc"] for error in body["errors"]] == [["header", "x-candidate-session-id"]]


async def test_the_whole_text_task_flow(world: World, database: Database) -> None:
    client = world.client
    simulation = await new_simulation(world, tasks=TEXT_TASKS)
    sim_id = simulation["id"]
    task_ids = [task["id"] for task in simulation["tasks"]]  # type: ignore[attr-defined]

    created = await invite_candidate(world, sim_id)
    assert created.status_code == 201, created.text
    invite = created.json()
    assert invite["outcome"] == "created"
    assert invite["inviteEmailStatus"] == "queued"
    assert invite["inviteUrl"] == f"http://localhost:3000/candidate/session/{invite['token']}"
    cs_id = invite["candidateSessionId"]
    assert_ids(cs_id)

    again = await invite_candidate(world, sim_id, email=CANDIDATE_EMAIL.upper())
    assert again.status_code == 200
    assert again.json()["outcome"] == "existing"
    assert again.json()["candidateSessionId"] == cs_id
    assert again.json()["token"] is None  # the token is shown once; the link stays usable
    assert again.json()["inviteUrl"] == invite["inviteUrl"]

    sender = RecordingSender()
    await run_jobs(database, sender)
    [email] = sender.sent  # the second invite sent nothing
    assert email.to == STORED_EMAIL
    assert invite["inviteUrl"] in email.text
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in email.html
    candidates = await client.get(f"/api/simulations/{sim_id}/candidates", headers=world.recruiter)
    [row] = candidates.json()
    assert row["inviteEmailDelivery"]["status"] == "sent"
    assert row["inviteEmailDelivery"]["providerMessageId"] == "msg-1"
    assert (row["inviteEmailStatus"], row["inviteEmailError"]) == ("sent", None)
    assert row["inviteEmailSentAt"] == row["inviteEmailDelivery"]["sentAt"]
    assert row["inviteUrl"] == invite["inviteUrl"]
    assert (row["status"], row["state"]) == ("not_started", "invited")
    assert row["progress"] == {"completed": 0, "current": 0, "total": 3}

    invites = await client.get("/api/candidate/invites", headers=world.candidate)
    [unclaimed] = invites.json()
    assert (unclaimed["status"], unclaimed["token"], unclaimed["inviteUrl"]) == (
        "not_started",
        None,  # not bound to this account yet
        None,
    )

    # The portal opens the link with a GET and never posts the claim: the GET claims.
    token = invite["token"]
    opened = await client.get(f"/api/candidate/session/{token}", headers=world.candidate)
    assert opened.status_code == 200, opened.text
    assert (opened.json()["status"], opened.json()["state"]) == ("in_progress", "in_progress")
    assert opened.json()["simulation"]["title"] == "Payments backend"
    assert opened.json()["claimedAt"] is not None
    reopened = await client.get(f"/api/candidate/session/{token}", headers=world.candidate)
    claimed = await client.post(f"/api/candidate/session/{token}/claim", headers=world.candidate)
    assert claimed.status_code == 200, claimed.text
    assert reopened.json()["claimedAt"] == claimed.json()["claimedAt"] == opened.json()["claimedAt"]

    invites = await client.get("/api/candidate/invites", headers=world.candidate)
    [mine] = invites.json()
    assert mine["candidateSessionId"] == cs_id
    assert (mine["title"], mine["role"], mine["company"]) == (
        "Payments backend",
        "Backend Engineer",
        world.company_name,
    )
    assert (mine["token"], mine["inviteUrl"]) == (token, invite["inviteUrl"])
    assert mine["progress"] == {"completed": 0, "current": 1, "total": 3}
    assert mine["isExpired"] is False

    session_header = world.candidate | {"x-candidate-session-id": str(cs_id)}
    current = await client.get(
        f"/api/candidate/session/{cs_id}/current_task", headers=world.candidate
    )
    assert current.json()["currentTask"]["id"] == task_ids[0]
    assert current.json()["progress"] == {"completed": 0, "current": 1, "total": 3}

    early = await client.post(
        f"/api/tasks/{task_ids[1]}/submit", json={"contentText": "x"}, headers=session_header
    )
    assert_problem(early, 409, "TASK_NOT_CURRENT")
    blank = await client.post(
        f"/api/tasks/{task_ids[0]}/submit", json={"contentText": "   "}, headers=session_header
    )
    assert_problem(blank, 422, "VALIDATION_FAILED")
    too_long = await client.post(
        f"/api/tasks/{task_ids[0]}/submit",
        json={"contentText": "x" * 100_001},
        headers=session_header,
    )
    assert_problem(too_long, 422, "VALIDATION_FAILED")
    missing = await client.post(f"/api/tasks/{task_ids[0]}/submit", json={}, headers=session_header)
    assert_problem(missing, 422, "CONTENT_REQUIRED")

    results = []
    for day, task_id in enumerate(task_ids, start=1):
        response = await client.post(
            f"/api/tasks/{task_id}/submit",
            json={"contentText": f"  Day {day}: my answer.\n"},
            headers=session_header,
        )
        assert response.status_code == 201, response.text
        results.append(response.json())
    assert [r["progress"]["completed"] for r in results] == [1, 2, 3]
    assert [r["isComplete"] for r in results] == [False, False, True]
    assert_ids(*(r["submissionId"] for r in results))
    assert [r["taskId"] for r in results] == task_ids
    assert {r["candidateSessionId"] for r in results} == {cs_id}

    twice = await client.post(
        f"/api/tasks/{task_ids[0]}/submit", json={"contentText": "again"}, headers=session_header
    )
    assert_problem(twice, 409, "SUBMISSION_EXISTS")
    assert twice.json()["submission"]["submissionId"] == results[0]["submissionId"]

    done = await client.get(f"/api/candidate/session/{cs_id}/current_task", headers=world.candidate)
    assert done.json()["isComplete"] is True
    assert done.json()["status"] == "completed"
    assert done.json()["currentTask"] is None

    listing = await client.get(f"/api/submissions?simulationId={sim_id}", headers=world.recruiter)
    assert listing.json()["total"] == 3
    assert [item["dayIndex"] for item in listing.json()["items"]] == [3, 2, 1]
    assert listing.json()["items"][0]["candidateName"] == "Ada <b>Lovelace</b>"
    assert [
        (item["submissionId"], item["candidateSessionId"], item["taskId"])
        for item in listing.json()["items"]
    ] == [(r["submissionId"], cs_id, r["taskId"]) for r in reversed(results)]
    by_task = await client.get(f"/api/submissions?taskId={task_ids[1]}", headers=world.recruiter)
    assert [item["dayIndex"] for item in by_task.json()["items"]] == [2]
    paged = await client.get(
        f"/api/submissions?candidateSessionId={cs_id}&limit=2", headers=world.recruiter
    )
    rest = await client.get(
        f"/api/submissions?candidateSessionId={cs_id}&limit=2&cursor={paged.json()['nextCursor']}",
        headers=world.recruiter,
    )
    assert [item["dayIndex"] for item in paged.json()["items"] + rest.json()["items"]] == [3, 2, 1]
    detail = await client.get(
        f"/api/submissions/{results[0]['submissionId']}", headers=world.recruiter
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["contentText"] == "  Day 1: my answer.\n"
    assert detail.json()["task"]["prompt"] == "Design it."
    assert detail.json()["grading"] is None  # only code and debug tasks are graded
    assert (detail.json()["submissionId"], detail.json()["task"]["id"]) == (
        results[0]["submissionId"],
        task_ids[0],
    )
    timeline = [event["type"] for event in detail.json()["timeline"]]
    assert timeline == [
        "candidate.invited",
        "invite.email_sent",
        "candidate.claimed",
        "task.submitted",
        "task.submitted",
        "task.submitted",
        "session.completed",
    ]
    events = await client.get(
        f"/api/simulations/{sim_id}/candidates/{cs_id}/events", headers=world.recruiter
    )
    assert [event["type"] for event in events.json()] == timeline

    exported = await client.get(f"/api/simulations/{sim_id}/results.csv", headers=world.recruiter)
    assert exported.headers["content-type"].startswith("text/csv")
    header, row_values = list(csv.reader(io.StringIO(exported.text)))
    assert header[-7:] == [
        "day1_design_submitted_at",
        "day2_handoff_submitted_at",
        "day3_documentation_submitted_at",
        "integrity_flags",
        "similarity_max_score",
        "similarity_other_candidate_session_id",
        "similarity_other_candidate_name",
    ]
    assert row_values[1:4] == ["Ada <b>Lovelace</b>", STORED_EMAIL, "completed"]
    assert all(row_values[-7:-4])
    # Text tasks raise no integrity flags and are never compared for similarity.
    assert row_values[-4:] == ["", "", "", ""]

    after_completion = await invite_candidate(world, sim_id)
    refused = assert_problem(after_completion, 409, "CANDIDATE_ALREADY_COMPLETED")
    assert refused["error"] == {"code": "candidate_already_completed"}
