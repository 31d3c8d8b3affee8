"""Outbound webhooks end to end: events from the real flows (invite, claim and submit over
HTTP with real tokens; expiry and grading through their service functions) are delivered by
the job worker to a real loopback server that verifies each signature with the secret the API
returned once; failed attempts are retried with backoff until the last one gives up; a
recruiter redelivers; rotated secrets overlap; nothing goes to another company's endpoints or
to a disabled or deleted one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions import lifecycle
from app.candidate_sessions import service as candidate_sessions
from app.core.db import Database
from app.core.settings import Settings
from app.grading import transitions
from app.grading.models import Grading
from app.integrations.github.schemas import WorkflowRun
from app.runs.results import ParsedResults
from tests.support.api import TEXT_TASKS, assert_problem
from tests.support.jobs import FakeClock
from tests.support.recruiting import STORED_EMAIL, World, invite_candidate, new_simulation
from tests.support.webhooks import ALL_EVENTS, DeliveryWorker, Receiver, receiver

ENDPOINTS = "/api/webhooks/endpoints"
# Longer than any wait between two attempts (the backoff's cap).
PAST_ANY_BACKOFF = timedelta(hours=6, minutes=1)


@pytest.fixture
async def hooks() -> AsyncIterator[Receiver]:
    async with receiver() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def deliver(
    database: Database, settings: Settings, http: httpx.AsyncClient, clock: FakeClock
) -> DeliveryWorker:
    return DeliveryWorker(database, settings, http, clock)


async def create_endpoint(
    world: World, url: str, events: list[str] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await world.client.post(
        ENDPOINTS,
        json={"url": url, "eventTypes": events or ALL_EVENTS, "description": "ATS sync"},
        headers=headers or world.recruiter,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(world: World, endpoint: dict[str, Any], **query: Any) -> dict[str, Any]:
    response = await world.client.get(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries", params=query, headers=world.recruiter
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def delivery_detail(world: World, endpoint: dict[str, Any], delivery_id: int) -> Any:
    response = await world.client.get(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries/{delivery_id}", headers=world.recruiter
    )
    assert response.status_code == 200, response.text
    return response.json()


async def invited(world: World, email: str = "ada.lovelace@example.com") -> dict[str, Any]:
    simulation = await new_simulation(world, tasks=TEXT_TASKS[:1])
    response = await invite_candidate(world, simulation["id"], email=email)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body | {"simulation": simulation}


async def test_every_event_reaches_the_receiver_signed_with_the_secret_shown_at_creation(
    world: World, db_session: AsyncSession, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    client = world.client
    endpoint = await create_endpoint(world, hooks.url)
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")

    simulation = await new_simulation(world, tasks=TEXT_TASKS[:1])
    invite = (await invite_candidate(world, simulation["id"])).json()
    cs_id, token = invite["candidateSessionId"], invite["token"]
    claimed = await client.post(f"/api/candidate/session/{token}/claim", headers=world.candidate)
    assert claimed.status_code == 200, claimed.text
    [task] = simulation["tasks"]
    submitted = await client.post(
        f"/api/tasks/{task['id']}/submit",
        json={"contentText": "My design."},
        headers=world.candidate | {"x-candidate-session-id": str(cs_id)},
    )
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["isComplete"] is True
    submission_id = submitted.json()["submissionId"]

    rubric = await client.get(
        f"/api/simulations/{simulation['id']}/rubric", headers=world.recruiter
    )
    entries = [{"criterionKey": c["key"], "level": 3} for c in rubric.json()["criteria"]]
    scorecards = f"/api/candidate-sessions/{cs_id}/scorecards/mine"
    saved = await client.put(
        scorecards, json={"entries": entries, "recommendation": "yes"}, headers=world.recruiter
    )
    assert saved.status_code == 200, saved.text
    scored = await client.post(f"{scorecards}/submit", headers=world.recruiter)
    assert scored.status_code == 200, scored.text

    now = datetime.now(UTC)
    grading = Grading(
        submission_id=submission_id,
        grader_repo="tenon-templates/python-fastapi-grader",
        candidate_repo="tenon-workspaces/ada",
        candidate_sha="a" * 40,
        status="running",
    )
    db_session.add(grading)
    await db_session.flush()
    run = WorkflowRun(
        id=77,
        status="completed",
        conclusion="success",
        head_sha="b" * 40,
        event="workflow_dispatch",
        html_url="https://github.com/tenon-templates/python-fastapi-grader/actions/runs/77",
        created_at=now,
        updated_at=now,
    )
    results = ParsedResults(result_code="OK", passed=9, failed=1, total=10)
    assert await transitions.store_results(db_session, grading.id, run, results, None, now=now)

    lapsed = (await invite_candidate(world, simulation["id"], email="grace@example.com")).json()
    lapsed_session = await candidate_sessions.by_id(db_session, lapsed["candidateSessionId"])
    assert lapsed_session is not None
    await lifecycle.expire(db_session, lapsed_session, now=now)
    await db_session.flush()

    await deliver.run()

    assert sorted(request.event["type"] for request in hooks.received) == sorted(
        [*ALL_EVENTS, "candidate.invited"]  # the lapsed session's invite too
    )
    timestamp = int(deliver.clock.now().timestamp())
    for request in hooks.received:
        assert request.signed_by(secret), request.headers
        assert request.signatures() == (timestamp, request.signatures()[1])
        assert len(request.signatures()[1]) == 1
        assert request.path == "/hooks"
        assert request.headers["user-agent"] == "Tenon-Webhooks/1"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["tenon-event"] == request.event["type"]
        assert request.headers["tenon-delivery"].isdigit()
        assert request.event["apiVersion"] == "2026-12-01"
        assert request.event["id"].startswith("evt_")
        assert token.encode() not in request.body  # the invite token is no customer data
    assert not any(request.signed_by("whsec_someone-else") for request in hooks.received)

    def data(event_type: str) -> dict[str, Any]:
        [request] = hooks.of_type(event_type)
        payload: dict[str, Any] = request.event["data"]
        return payload

    [first_invite, _] = hooks.of_type("candidate.invited")
    assert first_invite.event["data"]["candidateSessionId"] == cs_id
    assert first_invite.event["data"]["candidateEmail"] == STORED_EMAIL
    assert first_invite.event["data"]["simulationId"] == simulation["id"]
    assert data("candidate.claimed")["claimedAt"] is not None
    assert data("submission.created") | {"submittedAt": None} == {
        "submissionId": submission_id,
        "candidateSessionId": cs_id,
        "simulationId": simulation["id"],
        "taskId": task["id"],
        "dayIndex": 1,
        "taskType": "design",
        "submittedAt": None,
        "cutoffSha": None,
    }
    assert data("candidate.completed")["completedAt"] is not None
    assert data("candidate.expired")["candidateSessionId"] == lapsed["candidateSessionId"]
    assert (data("grading.completed")["passed"], data("grading.completed")["total"]) == (9, 10)
    assert data("grading.completed")["submissionId"] == submission_id
    assert data("scorecard.submitted")["recommendation"] == "yes"
    assert data("scorecard.submitted")["scorecardId"] == scored.json()["id"]

    log = await deliveries(world, endpoint)
    assert log["total"] == len(hooks.received)
    assert {item["status"] for item in log["items"]} == {"delivered"}
    assert {int(request.headers["tenon-delivery"]) for request in hooks.received} == {
        item["id"] for item in log["items"]
    }


async def test_an_endpoint_gets_only_the_events_it_subscribes_to(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    await create_endpoint(world, hooks.url, events=["candidate.claimed"])
    await invited(world)
    await deliver.run()
    assert hooks.received == []


async def test_a_failing_endpoint_is_retried_with_backoff_until_it_answers_2xx(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    hooks.statuses = [500, 502]
    endpoint = await create_endpoint(world, hooks.url, events=["candidate.invited"])
    await invited(world)

    await deliver.run()
    [delivery] = (await deliveries(world, endpoint))["items"]
    assert (delivery["status"], delivery["attemptCount"], delivery["lastStatusCode"]) == (
        "pending",
        1,
        500,
    )
    await deliver.run()  # the retry is not due yet
    assert len(hooks.received) == 1
    for _ in range(2):
        deliver.clock.advance(PAST_ANY_BACKOFF)
        await deliver.run()

    detail = await delivery_detail(world, endpoint, delivery["id"])
    assert (detail["status"], detail["attemptCount"]) == ("delivered", 3)
    assert [a["statusCode"] for a in detail["attempts"]] == [500, 502, 204]
    # A 204 has no body.
    assert [a["responseBody"] for a in detail["attempts"]] == ["status 500", "status 502", ""]
    assert not any(attempt["manual"] for attempt in detail["attempts"])
    assert detail["deliveredAt"] == detail["attempts"][-1]["attemptedAt"]
    # The same event each time, freshly signed.
    assert len({request.body for request in hooks.received}) == 1
    assert detail["payload"] == hooks.received[0].event
    assert detail["eventId"] == hooks.received[0].event["id"]
    timestamps = [request.signatures()[0] for request in hooks.received]
    assert timestamps == sorted(set(timestamps))
    assert all(request.signed_by(endpoint["secret"]) for request in hooks.received)


async def test_the_last_failed_attempt_gives_up_and_a_redelivery_sends_it_again(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    hooks.default = 503
    endpoint = await create_endpoint(world, hooks.url, events=["candidate.invited"])
    await invited(world)
    for _ in range(10):
        await deliver.run()
        deliver.clock.advance(PAST_ANY_BACKOFF)

    [delivery] = (await deliveries(world, endpoint))["items"]
    assert (delivery["status"], delivery["attemptCount"], delivery["lastStatusCode"]) == (
        "failed",
        8,
        503,
    )
    assert len(hooks.received) == 8
    failed = await deliveries(world, endpoint, status="failed")
    assert [item["id"] for item in failed["items"]] == [delivery["id"]]
    assert (await deliveries(world, endpoint, status="pending"))["total"] == 0

    hooks.default = 200
    path = f"{ENDPOINTS}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
    accepted = await world.client.post(path, headers=world.recruiter)
    assert accepted.status_code == 202, accepted.text
    await deliver.run()

    detail = await delivery_detail(world, endpoint, delivery["id"])
    assert (detail["status"], detail["attemptCount"]) == ("delivered", 9)
    assert [a["manual"] for a in detail["attempts"]] == [False] * 8 + [True]
    assert len(hooks.received) == 9
    last, before = hooks.received[-1], hooks.received[-2]
    assert last.event["id"] == before.event["id"]
    assert last.signatures()[0] > before.signatures()[0]
    assert last.signed_by(endpoint["secret"])


async def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    endpoint = await create_endpoint(world, hooks.url, events=["candidate.invited"])
    old = endpoint["secret"]
    rotated = await world.client.post(
        f"{ENDPOINTS}/{endpoint['id']}/rotate-secret", headers=world.recruiter
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert rotated.json()["previousSecretExpiresAt"] is not None

    await invited(world)
    await deliver.run()
    [during] = hooks.received
    assert len(during.signatures()[1]) == 2
    assert during.signed_by(new)
    assert during.signed_by(old)

    deliver.clock.advance(timedelta(hours=24, minutes=1))
    await invited(world, email="grace@example.com")
    await deliver.run()
    after = hooks.received[-1]
    assert len(after.signatures()[1]) == 1
    assert after.signed_by(new)
    assert not after.signed_by(old)


async def test_a_test_ping_is_delivered_whatever_the_endpoint_subscribes_to(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    endpoint = await create_endpoint(world, hooks.url, events=["grading.completed"])
    sent = await world.client.post(f"{ENDPOINTS}/{endpoint['id']}/test", headers=world.recruiter)
    assert sent.status_code == 202, sent.text
    assert sent.json()["eventType"] == "ping"
    await deliver.run()
    [ping] = hooks.received
    assert ping.event["type"] == "ping"
    assert ping.event["data"]["endpointId"] == endpoint["id"]
    assert ping.signed_by(endpoint["secret"])
    detail = await delivery_detail(world, endpoint, sent.json()["id"])
    assert (detail["status"], [a["manual"] for a in detail["attempts"]]) == ("delivered", [True])


async def test_a_disabled_or_deleted_endpoint_is_sent_nothing(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    disabled = await create_endpoint(world, hooks.url, events=["candidate.invited"])
    deleted = await create_endpoint(world, hooks.url, events=["candidate.invited"])
    await invited(world)
    path = f"{ENDPOINTS}/{disabled['id']}"
    off = await world.client.patch(path, json={"enabled": False}, headers=world.recruiter)
    assert (off.status_code, off.json()["enabled"]) == (200, False)
    gone = await world.client.delete(f"{ENDPOINTS}/{deleted['id']}", headers=world.recruiter)
    assert gone.status_code == 204
    await deliver.run()
    assert hooks.received == []

    [delivery] = (await deliveries(world, disabled))["items"]
    assert (delivery["status"], delivery["attemptCount"]) == ("failed", 0)
    assert "disabled" in delivery["lastError"]
    await invited(world, email="grace@example.com")  # no new delivery for a disabled endpoint
    assert (await deliveries(world, disabled))["total"] == 1
    for action in ("test", f"deliveries/{delivery['id']}/redeliver"):
        refused = await world.client.post(f"{path}/{action}", headers=world.recruiter)
        assert_problem(refused, 409, "WEBHOOK_ENDPOINT_DISABLED")
    missing = await world.client.get(f"{ENDPOINTS}/{deleted['id']}", headers=world.recruiter)
    assert_problem(missing, 404, "WEBHOOK_ENDPOINT_NOT_FOUND")


async def test_another_company_s_events_never_reach_an_endpoint(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    await create_endpoint(world, hooks.url, headers=world.outsider)
    await invited(world)
    await deliver.run()
    assert hooks.received == []


async def test_the_delivery_log_is_paged_newest_first(
    world: World, hooks: Receiver, deliver: DeliveryWorker
) -> None:
    endpoint = await create_endpoint(world, hooks.url, events=["candidate.invited"])
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        await invited(world, email=email)
    first = await deliveries(world, endpoint, limit=2)
    assert first["total"] == 3
    assert first["nextCursor"] is not None
    second = await deliveries(world, endpoint, limit=2, cursor=first["nextCursor"])
    assert (len(second["items"]), second["nextCursor"]) == (1, None)
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    assert (await deliveries(world, endpoint, status="pending"))["total"] == 3
    bad = await world.client.get(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries",
        params={"cursor": "nonsense"},
        headers=world.recruiter,
    )
    assert_problem(bad, 422, "CURSOR_INVALID")
