"""The text-task flow end to end over HTTP with real RS256 tokens: a recruiter creates a
simulation and invites; the invite email goes out through the job; the candidate views,
claims and submits every day in order; the recruiter reviews submissions, the timeline
and the CSV."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.candidate_sessions.models import CandidateSession
from app.core import pagination
from app.core.db import Database
from app.core.settings import JobSettings
from app.integrations.github.template_catalog import TEMPLATE_KEYS
from app.jobs.worker import Worker
from app.notifications.email import EmailMessage, SendResult
from app.simulations.models import Simulation
from tests.support.api import (
    SIMULATION,
    TEXT_TASKS,
    assert_ids,
    assert_problem,
    bearer,
    create_simulation,
)
from tests.support.factories import create_candidate_session, create_company, create_recruiter
from tests.support.identity import IdentityProvider
from tests.support.jobs import job_services

CANDIDATE_EMAIL = "Ada.Lovelace@Example.com"
# Email validation lower-cases the domain; the local part is kept as given.
STORED_EMAIL = "Ada.Lovelace@example.com"


@dataclass
class RecordingSender:
    name: str = "recording"
    sent: list[EmailMessage] = field(default_factory=list)

    async def send(self, message: EmailMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider=self.name, message_id=f"msg-{len(self.sent)}")


@dataclass
class World:
    client: httpx.AsyncClient
    idp: IdentityProvider
    recruiter: dict[str, str]
    outsider: dict[str, str]
    candidate: dict[str, str]
    company_name: str


@pytest.fixture
async def world(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> World:
    ours, theirs = await create_company(db_session), await create_company(db_session)
    await create_recruiter(db_session, ours, email="rita@ours.example")
    await create_recruiter(db_session, theirs, email="otto@theirs.example")
    return World(
        client=client,
        idp=idp,
        recruiter=bearer(idp.token(subject="auth0|rita", email="rita@ours.example")),
        outsider=bearer(idp.token(subject="auth0|otto", email="otto@theirs.example")),
        candidate=bearer(
            idp.token(subject="auth0|ada", permissions=("candidate:access",), email=CANDIDATE_EMAIL)
        ),
        company_name=ours.name,
    )


async def _simulation(world: World, **overrides: Any) -> dict[str, Any]:
    return await create_simulation(world.client, world.recruiter, **overrides)


async def _invite(
    world: World, simulation_id: object, email: str = CANDIDATE_EMAIL
) -> httpx.Response:
    return await world.client.post(
        f"/api/simulations/{simulation_id}/invite",
        json={"candidateName": "Ada <b>Lovelace</b>", "inviteEmail": email},
        headers=world.recruiter,
    )


async def _run_jobs(database: Database, sender: RecordingSender) -> None:
    settings = JobSettings(_env_file=None, concurrency=1)
    services = job_services(email=sender)
    worker = Worker(database, job_registry(), settings, services=services, metrics=services.metrics)
    await worker.run_until_idle()


async def test_simulation_is_created_with_the_default_five_day_plan(world: World) -> None:
    simulation = await _simulation(world)
    tasks = simulation["tasks"]
    assert isinstance(tasks, list)
    assert_ids(simulation["id"], *(t["id"] for t in tasks))
    assert [(t["dayIndex"], t["type"]) for t in tasks] == [
        (1, "design"),
        (2, "code"),
        (3, "debug"),
        (4, "handoff"),
        (5, "documentation"),
    ]
    repos = {t["type"]: t["templateRepo"] for t in tasks}
    assert repos["code"] == "tenon-templates/python-fastapi"
    assert repos["debug"] == "tenon-templates/python-fastapi-debug"
    assert repos["design"] is None
    fetched = await world.client.get(
        f"/api/simulations/{simulation['id']}", headers=world.recruiter
    )
    assert fetched.json() == simulation


async def test_unknown_template_key_is_422_listing_every_catalog_key(world: World) -> None:
    response = await world.client.post(
        "/api/simulations", json=SIMULATION | {"templateKey": "cobol"}, headers=world.recruiter
    )
    assert_problem(response, 422, "TEMPLATE_KEY_UNKNOWN")
    assert response.json()["detail"] == (
        f"Unknown templateKey 'cobol'; available: {', '.join(TEMPLATE_KEYS)}."
    )
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "templateKey"]


async def test_any_catalog_key_makes_a_simulation_even_one_not_installed_here(
    world: World,
) -> None:
    # The emulator does not ship go-gin: installing it is the operator's business, which
    # template health reports and provisioning refuses with TEMPLATE_NOT_INSTALLED.
    response = await world.client.post(
        "/api/simulations", json=SIMULATION | {"templateKey": "go-gin"}, headers=world.recruiter
    )
    assert response.status_code == 201, response.text
    repos = {t["type"]: t["templateRepo"] for t in response.json()["tasks"]}
    assert repos["code"] == "tenon-templates/go-gin"
    assert repos["debug"] == "tenon-templates/go-gin-debug"


async def test_explicit_tasks_must_have_distinct_days(world: World) -> None:
    tasks = [TEXT_TASKS[0], TEXT_TASKS[0]]
    response = await world.client.post(
        "/api/simulations", json=SIMULATION | {"tasks": tasks}, headers=world.recruiter
    )
    assert_problem(response, 422, "VALIDATION_FAILED")


async def test_simulations_are_listed_newest_first_with_cursor_pagination(world: World) -> None:
    created = [await _simulation(world, title=f"Sim {n}") for n in range(3)]
    first = (await world.client.get("/api/simulations?limit=2", headers=world.recruiter)).json()
    assert first["total"] == 3
    assert [item["id"] for item in first["items"]] == [created[2]["id"], created[1]["id"]]
    rest = await world.client.get(
        f"/api/simulations?limit=2&cursor={first['nextCursor']}", headers=world.recruiter
    )
    assert [item["id"] for item in rest.json()["items"]] == [created[0]["id"]]
    bad = await world.client.get("/api/simulations?cursor=garbage", headers=world.recruiter)
    assert_problem(bad, 422, "CURSOR_INVALID")
    # A well-formed cursor whose id no BIGINT can hold is refused the same way.
    moment = "2026-12-01T00:00:00+00:00"
    for item_id in ("0", "9223372036854775808"):
        cursor = base64.urlsafe_b64encode(f"{moment}|{item_id}".encode()).decode().rstrip("=")
        out_of_range = await world.client.get(
            f"/api/simulations?cursor={cursor}", headers=world.recruiter
        )
        assert_problem(out_of_range, 422, "CURSOR_INVALID")


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


async def test_without_paging_parameters_lists_are_capped_arrays_with_paging_headers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The original front end reads bare arrays here; the cap is lowered to see it bite.
    monkeypatch.setattr(pagination, "MAX_LIMIT", 2)
    created = [await _simulation(world, title=f"Sim {n}") for n in range(3)]
    oldest = created[0]["id"]
    for n in range(2):
        await _invite(world, oldest, email=f"c{n}@example.com")

    first = await world.client.get("/api/simulations", headers=world.recruiter)
    assert [item["id"] for item in first.json()] == [created[2]["id"], created[1]["id"]]
    assert first.headers["x-total-count"] == "3"
    next_url, rel = first.headers["link"].split("; ")
    assert rel == 'rel="next"'
    rest = await world.client.get(next_url.strip("<>"), headers=world.recruiter)
    assert rest.json()["total"] == 3
    [last] = rest.json()["items"]
    assert (last["id"], last["candidateCount"]) == (oldest, 2)
    assert first.json()[0]["candidateCount"] == 0

    candidates = await world.client.get(
        f"/api/simulations/{oldest}/candidates", headers=world.recruiter
    )
    assert [row["inviteEmail"] for row in candidates.json()] == [
        "c0@example.com",
        "c1@example.com",
    ]
    assert candidates.headers["x-total-count"] == "2"
    assert "link" not in candidates.headers  # everything fit
    paged = await world.client.get(
        f"/api/simulations/{oldest}/candidates?limit=1", headers=world.recruiter
    )
    assert paged.json()["total"] == 2
    assert len(paged.json()["items"]) == 1


async def test_the_whole_text_task_flow(world: World, database: Database) -> None:
    client = world.client
    simulation = await _simulation(world, tasks=TEXT_TASKS)
    sim_id = simulation["id"]
    task_ids = [task["id"] for task in simulation["tasks"]]  # type: ignore[attr-defined]

    created = await _invite(world, sim_id)
    assert created.status_code == 201, created.text
    invite = created.json()
    assert invite["outcome"] == "created"
    assert invite["inviteEmailStatus"] == "queued"
    assert invite["inviteUrl"] == f"http://localhost:3000/candidate/session/{invite['token']}"
    cs_id = invite["candidateSessionId"]
    assert_ids(cs_id)

    again = await _invite(world, sim_id, email=CANDIDATE_EMAIL.upper())
    assert again.status_code == 200
    assert again.json()["outcome"] == "existing"
    assert again.json()["candidateSessionId"] == cs_id
    assert again.json()["token"] is None  # the token is shown once; the link stays usable
    assert again.json()["inviteUrl"] == invite["inviteUrl"]

    sender = RecordingSender()
    await _run_jobs(database, sender)
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
    assert header[-4:] == [
        "day1_design_submitted_at",
        "day2_handoff_submitted_at",
        "day3_documentation_submitted_at",
        "integrity_flags",
    ]
    assert row_values[1:4] == ["Ada <b>Lovelace</b>", STORED_EMAIL, "completed"]
    assert all(row_values[-4:-1])
    assert row_values[-1] == ""  # text tasks raise no integrity flags

    after_completion = await _invite(world, sim_id)
    refused = assert_problem(after_completion, 409, "CANDIDATE_ALREADY_COMPLETED")
    assert refused["error"] == {"code": "candidate_already_completed"}


async def test_another_companys_recruiter_sees_nothing(world: World, database: Database) -> None:
    simulation = await _simulation(world, tasks=TEXT_TASKS)
    sim_id = simulation["id"]
    cs_id = (await _invite(world, sim_id)).json()["candidateSessionId"]
    paths = [
        f"/api/simulations/{sim_id}",
        f"/api/simulations/{sim_id}/candidates",
        f"/api/simulations/{sim_id}/candidates/{cs_id}/events",
        f"/api/simulations/{sim_id}/results.csv",
    ]
    for path in paths:
        assert_problem(
            await world.client.get(path, headers=world.outsider), 404, "SIMULATION_NOT_FOUND"
        )
    invite = await world.client.post(
        f"/api/simulations/{sim_id}/invite",
        json={"candidateName": "X", "inviteEmail": "x@example.com"},
        headers=world.outsider,
    )
    assert_problem(invite, 404, "SIMULATION_NOT_FOUND")
    listing = await world.client.get("/api/simulations", headers=world.outsider)
    assert listing.json() == []
    assert listing.headers["x-total-count"] == "0"
    assert (await world.client.get("/api/submissions", headers=world.outsider)).json()["total"] == 0


async def test_other_candidates_cannot_claim_or_act_on_a_session(world: World) -> None:
    simulation = await _simulation(world, tasks=TEXT_TASKS)
    task_id = simulation["tasks"][0]["id"]  # type: ignore[index]
    invite = (await _invite(world, simulation["id"])).json()
    token, cs_id = invite["token"], invite["candidateSessionId"]

    stranger = bearer(
        world.idp.token(
            subject="auth0|eve", permissions=("candidate:access",), email="eve@example.com"
        )
    )
    unverified = bearer(
        world.idp.token(
            subject="auth0|ada2",
            permissions=("candidate:access",),
            email=CANDIDATE_EMAIL,
            email_verified=False,
        )
    )
    same_email_other_account = bearer(
        world.idp.token(
            subject="auth0|ada-alt", permissions=("candidate:access",), email=CANDIDATE_EMAIL
        )
    )
    link = f"/api/candidate/session/{token}"
    claim = f"{link}/claim"
    for send in (world.client.get, world.client.post):
        url = link if send == world.client.get else claim
        assert_problem(await send(url, headers=stranger), 403, "INVITE_EMAIL_MISMATCH")
        unverified_answer = await send(url, headers=unverified)
        problem = assert_problem(unverified_answer, 403, "EMAIL_NOT_VERIFIED")
        assert "verify" in problem["detail"]  # the portal's cue to ask for verification
    # Opening the link as someone else changed nothing: the invited candidate still claims it.
    candidates = await world.client.get(
        f"/api/simulations/{simulation['id']}/candidates", headers=world.recruiter
    )
    assert [row["claimedAt"] for row in candidates.json()] == [None]
    assert (await world.client.get(link, headers=world.candidate)).status_code == 200
    for send, url in ((world.client.get, link), (world.client.post, claim)):
        assert_problem(
            await send(url, headers=same_email_other_account), 409, "INVITE_ALREADY_CLAIMED"
        )
    assert_problem(
        await world.client.get(f"/api/candidate/session/{cs_id}/current_task", headers=stranger),
        404,
        "CANDIDATE_SESSION_NOT_FOUND",
    )
    submit = await world.client.post(
        f"/api/tasks/{task_id}/submit",
        json={"contentText": "mine now"},
        headers=stranger | {"x-candidate-session-id": str(cs_id)},
    )
    assert_problem(submit, 404, "CANDIDATE_SESSION_NOT_FOUND")
    other_simulation = await _simulation(world, tasks=TEXT_TASKS)
    foreign_task = other_simulation["tasks"][0]["id"]  # type: ignore[index]
    wrong_task = await world.client.post(
        f"/api/tasks/{foreign_task}/submit",
        json={"contentText": "x"},
        headers=world.candidate | {"x-candidate-session-id": str(cs_id)},
    )
    assert_problem(wrong_task, 404, "TASK_NOT_FOUND")
    as_recruiter = await world.client.get(
        f"/api/candidate/session/{token}", headers=world.recruiter
    )
    assert_problem(as_recruiter, 403, "PERMISSION_DENIED")


async def test_unknown_and_expired_invite_links(world: World, db_session: AsyncSession) -> None:
    unknown = await world.client.get("/api/candidate/session/not-a-token", headers=world.candidate)
    assert_problem(unknown, 404, "INVITE_TOKEN_INVALID")
    simulation = await _simulation(world, tasks=TEXT_TASKS)
    sim = await db_session.get(Simulation, simulation["id"])
    assert sim is not None
    await create_candidate_session(
        db_session,
        sim,
        token="expired-token",
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    expired = await world.client.get(
        "/api/candidate/session/expired-token", headers=world.candidate
    )
    assert_problem(expired, 410, "INVITE_EXPIRED")
    claim = await world.client.post(
        "/api/candidate/session/expired-token/claim", headers=world.candidate
    )
    assert_problem(claim, 410, "INVITE_EXPIRED")


async def test_inviting_again_after_the_invite_lapsed_starts_a_fresh_session(
    world: World, db_session: AsyncSession
) -> None:
    simulation = await _simulation(world, tasks=TEXT_TASKS)
    first = (await _invite(world, simulation["id"])).json()
    lapsed = await db_session.get(CandidateSession, first["candidateSessionId"])
    assert lapsed is not None
    lapsed.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await db_session.flush()

    again = await _invite(world, simulation["id"])
    assert again.status_code == 201, again.text
    assert again.json()["candidateSessionId"] != first["candidateSessionId"]
    await db_session.refresh(lapsed)
    assert lapsed.status == "expired"


async def test_resend_queues_the_email_again_and_rotation_replaces_the_link(
    world: World, database: Database
) -> None:
    simulation = await _simulation(world, tasks=TEXT_TASKS)
    invite = (await _invite(world, simulation["id"])).json()
    sender = RecordingSender()
    await _run_jobs(database, sender)
    base = f"/api/simulations/{simulation['id']}/candidates/{invite['candidateSessionId']}"

    resent = await world.client.post(f"{base}/invite/resend", headers=world.recruiter)
    assert resent.status_code == 200, resent.text
    assert resent.json()["outcome"] == "resent"
    assert resent.json()["token"] is None
    await _run_jobs(database, sender)
    assert invite["inviteUrl"] in sender.sent[1].text  # the same link again

    rotated = await world.client.post(
        f"{base}/invite/resend", json={"rotateToken": True}, headers=world.recruiter
    )
    new_token = rotated.json()["token"]
    assert new_token not in (None, invite["token"])
    await _run_jobs(database, sender)
    assert rotated.json()["inviteUrl"] in sender.sent[2].text
    old = await world.client.get(
        f"/api/candidate/session/{invite['token']}", headers=world.candidate
    )
    assert_problem(old, 404, "INVITE_TOKEN_INVALID")
    new = await world.client.get(f"/api/candidate/session/{new_token}", headers=world.candidate)
    assert new.status_code == 200
