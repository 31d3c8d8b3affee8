"""Greenhouse's Assessment Partner API as Greenhouse calls it (its documented requests in
tests/fixtures/greenhouse), with the partner keys recruiters create: list_tests, send_test
(idempotent per Greenhouse test instance), test_status through a session's life, and the
refusals (no key, a wrong or revoked key, a malformed body, a refused callback URL, another
company's key)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ats.models import AssessmentOrder
from app.candidate_sessions.models import CandidateSession
from app.events.models import Event
from app.simulations.models import Task
from tests.support.api import assert_problem
from tests.support.factories import create_submission
from tests.support.greenhouse import (
    BASE,
    add_grading,
    basic,
    fixture,
    fixture_text,
    send_test_body,
)
from tests.support.recruiting import World, new_simulation

KEYS = f"{BASE}/keys"


async def _key(world: World, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await world.client.post(KEYS, headers=headers or world.recruiter)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _send(client: httpx.AsyncClient, key: str, body: Any) -> httpx.Response:
    return await client.post(f"{BASE}/send_test", json=body, headers=basic(key))


async def _count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_key_is_shown_once_and_listed_by_its_ends(world: World) -> None:
    created = await _key(world)
    key = created["key"]
    assert key.startswith("tgh_")
    assert len(key) < 171
    assert (created["prefix"], created["last4"]) == (key[:8], key[-4:])
    listed = await world.client.get(KEYS, headers=world.recruiter)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["id"] == created["id"]
    assert item["lastUsedAt"] is None
    assert key not in listed.text
    assert (await world.client.get(KEYS, headers=world.outsider)).json()["items"] == []


async def test_list_tests_answers_the_company_s_active_simulations(world: World) -> None:
    simulation = await new_simulation(world)
    key = (await _key(world))["key"]
    their_key = (await _key(world, world.outsider))["key"]

    response = await world.client.get(f"{BASE}/list_tests", headers=basic(key))
    assert response.status_code == 200
    assert response.json() == [
        {"partner_test_id": str(simulation["id"]), "partner_test_name": simulation["title"]}
    ]
    # The documented shape: the same keys, string values.
    documented = fixture("list_tests_response.json")[0]
    assert response.json()[0].keys() == documented.keys()
    theirs = await world.client.get(f"{BASE}/list_tests", headers=basic(their_key))
    assert theirs.json() == []
    [item] = (await world.client.get(KEYS, headers=world.recruiter)).json()["items"]
    assert item["lastUsedAt"] is not None


async def test_send_test_invites_once_and_a_resend_answers_the_same(
    world: World, db_session: AsyncSession
) -> None:
    simulation = await new_simulation(world)
    key = (await _key(world))["key"]
    body = send_test_body(simulation["id"])

    first = await _send(world.client, key, body)
    assert first.status_code == 200, first.text
    assert first.json().keys() == fixture("send_test_response.json").keys()
    again = await _send(world.client, key, body)
    assert again.json() == first.json()

    [order] = (await db_session.scalars(select(AssessmentOrder))).all()
    assert str(order.id) == first.json()["partner_interview_id"]
    assert (order.external_id, order.callback_url) == (body["url"], body["url"])
    assert (order.external_candidate_id, order.external_application_id) == ("17681532", "26234709")
    assert order.sent_by == "test_sender@example.org"
    [cs] = (await db_session.scalars(select(CandidateSession))).all()
    assert (cs.id, cs.simulation_id) == (order.candidate_session_id, simulation["id"])
    assert (cs.candidate_name, cs.invite_email) == ("Harry Potter", "hpotter@hogwarts.edu")
    invited = await db_session.scalar(select(Event).where(Event.type == "candidate.invited"))
    assert invited is not None
    assert invited.actor_type == "system"

    # Another Greenhouse test instance of the same candidate keeps the open invite.
    other = await _send(world.client, key, send_test_body(simulation["id"], url=body["url"] + "9"))
    assert other.json()["partner_interview_id"] != first.json()["partner_interview_id"]
    assert await _count(db_session, CandidateSession) == 1
    assert await _count(db_session, AssessmentOrder) == 2


async def test_test_status_follows_the_session_to_a_score(
    world: World, db_session: AsyncSession
) -> None:
    simulation = await new_simulation(world)
    key = (await _key(world))["key"]
    sent = await _send(world.client, key, send_test_body(simulation["id"]))
    interview = sent.json()["partner_interview_id"]

    async def status() -> dict[str, Any]:
        response = await world.client.get(
            f"{BASE}/test_status", params={"partner_interview_id": interview}, headers=basic(key)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body.keys() == fixture("test_status_response.json").keys()
        assert all(isinstance(value, str) for value in body["metadata"].values())
        return body

    pending = await status()
    cs_id = (await db_session.scalars(select(CandidateSession.id))).one()
    assert pending["partner_status"] == "pending"
    assert pending["partner_score"] is None
    assert pending["partner_profile_url"] == (
        f"http://localhost:3000/dashboard/simulations/{simulation['id']}/candidates/{cs_id}"
    )
    cs = await db_session.get(CandidateSession, cs_id)
    assert cs is not None
    cs.status, cs.started_at = "in_progress", cs.invited_at
    await db_session.flush()
    assert (await status())["partner_status"] == "in_progress"

    task = (await db_session.scalars(select(Task).where(Task.type == "code").limit(1))).one()
    submission = await create_submission(db_session, cs, task)
    await add_grading(db_session, submission.id, passed=7, total=10)
    # Not completed yet: no score, however much is graded.
    assert (await status())["partner_score"] is None
    cs.status, cs.completed_at = "completed", cs.invited_at
    await db_session.flush()
    complete = await status()
    assert complete["partner_status"] == "complete"
    assert complete["partner_score"] == 70
    assert complete["metadata"]["Hidden Tests Passed"] == "7/10"
    assert complete["metadata"]["Score Basis"] == "hidden tests"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "GREENHOUSE_KEY_MISSING"),
        (basic("tgh_not-a-key"), "GREENHOUSE_KEY_INVALID"),
        # Greenhouse's documented header: a well-formed key unknown here.
        ({"Authorization": fixture_text("authorization_header.txt")}, "GREENHOUSE_KEY_INVALID"),
        ({"Authorization": "Basic !!!"}, "GREENHOUSE_KEY_INVALID"),
        ({"Authorization": "Bearer tgh_x"}, "GREENHOUSE_KEY_INVALID"),
    ],
    ids=["none", "unknown", "documented", "malformed", "bearer"],
)
async def test_calls_without_a_live_key_are_401_with_a_basic_challenge(
    world: World, headers: dict[str, str], code: str
) -> None:
    for response in await _each_endpoint(world.client, headers):
        assert_problem(response, 401, code)
        assert response.headers["WWW-Authenticate"].startswith("Basic")


async def _each_endpoint(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> list[httpx.Response]:
    return [
        await client.get(f"{BASE}/list_tests", headers=headers),
        await client.post(f"{BASE}/send_test", json={}, headers=headers),
        await client.get(
            f"{BASE}/test_status", params={"partner_interview_id": "1"}, headers=headers
        ),
    ]


async def test_a_revoked_key_is_refused_and_another_company_cannot_revoke(world: World) -> None:
    created = await _key(world)
    path = f"{KEYS}/{created['id']}"
    outsider = await world.client.delete(path, headers=world.outsider)
    assert_problem(outsider, 404, "PARTNER_KEY_NOT_FOUND")
    assert (await world.client.get(f"{BASE}/list_tests", headers=basic(created["key"]))).is_success

    assert (await world.client.delete(path, headers=world.recruiter)).status_code == 204
    for response in await _each_endpoint(world.client, basic(created["key"])):
        assert_problem(response, 401, "GREENHOUSE_KEY_INVALID")
    [item] = (await world.client.get(KEYS, headers=world.recruiter)).json()["items"]
    assert item["revokedAt"] is not None


@pytest.mark.parametrize(
    "change",
    [
        lambda body: body.pop("url"),
        lambda body: body["candidate"].pop("email"),
        lambda body: body["candidate"].update(email="not an email"),
        lambda body: body.update(partner_test_id="twelve"),
        lambda body: body.update(candidate="Harry"),
        lambda body: body["candidate"].update(first_name="A" * 150, last_name="B" * 150),
        lambda body: body.update(partner_test_id="\uff11\uff12"),
        lambda body: body.update(sent_by="x" * 10_000),
    ],
    ids=[
        "no-url",
        "no-email",
        "bad-email",
        "bad-test-id",
        "candidate-not-object",
        "name-too-long",
        "non-ascii-digits",
        "sent-by-too-long",
    ],
)
async def test_a_malformed_send_test_is_422_naming_the_field(
    world: World, db_session: AsyncSession, change: Any
) -> None:
    simulation = await new_simulation(world)
    key = (await _key(world))["key"]
    body = send_test_body(simulation["id"])
    change(body)
    problem = assert_problem(await _send(world.client, key, body), 422, "VALIDATION_FAILED")
    assert problem["errors"]
    assert problem["detail"].startswith("The request is invalid: body.")
    assert await _count(db_session, CandidateSession) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/integrations/testing_partners/take_home_tests/1",
        "https://app.greenhouse.io.evil.example/take_home_tests/1",
        "https://user:pw@app.greenhouse.io/take_home_tests/1",
        "ftp://app.greenhouse.io/take_home_tests/1",
        "https://[::1/take_home_tests/1",
        "https://xn--.greenhouse.io/take_home_tests/1",
    ],
)
async def test_a_callback_url_off_the_allow_list_is_refused_on_receipt(
    world: World, db_session: AsyncSession, url: str
) -> None:
    simulation = await new_simulation(world)
    key = (await _key(world))["key"]
    response = await _send(world.client, key, send_test_body(simulation["id"], url=url))
    assert_problem(response, 422, "ATS_CALLBACK_URL_REFUSED")
    assert await _count(db_session, CandidateSession) == 0


async def test_another_company_s_key_never_sees_or_touches_our_tests(
    world: World, db_session: AsyncSession
) -> None:
    simulation = await new_simulation(world)
    ours = (await _key(world))["key"]
    theirs = (await _key(world, world.outsider))["key"]
    body = send_test_body(simulation["id"])
    interview = (await _send(world.client, ours, body)).json()["partner_interview_id"]

    assert_problem(await _send(world.client, theirs, body), 404, "ATS_TEST_NOT_FOUND")
    status = await world.client.get(
        f"{BASE}/test_status", params={"partner_interview_id": interview}, headers=basic(theirs)
    )
    assert_problem(status, 404, "ATS_ORDER_NOT_FOUND")
    assert await _count(db_session, AssessmentOrder) == 1
    assert await _count(db_session, CandidateSession) == 1


async def test_a_resend_naming_another_test_is_409(world: World) -> None:
    first, second = await new_simulation(world), await new_simulation(world)
    key = (await _key(world))["key"]
    body = send_test_body(first["id"])
    assert (await _send(world.client, key, body)).is_success
    response = await _send(world.client, key, send_test_body(second["id"]))
    assert_problem(response, 409, "ATS_ORDER_MISMATCH")


async def test_odd_ids_are_missing_or_ignored_never_an_error(
    world: World, db_session: AsyncSession
) -> None:
    simulation = await new_simulation(world)
    key = (await _key(world))["key"]
    for interview in ("\u00b2", "\u0661\u0662", "-1", "9" * 30):
        status = await world.client.get(
            f"{BASE}/test_status", params={"partner_interview_id": interview}, headers=basic(key)
        )
        assert_problem(status, 404, "ATS_ORDER_NOT_FOUND")
    body = send_test_body(simulation["id"])
    body["candidate"]["greenhouse_profile_url"] = "https://[::1/people/\u00b2"
    assert (await _send(world.client, key, body)).status_code == 200
    [order] = (await db_session.scalars(select(AssessmentOrder))).all()
    assert (order.external_candidate_id, order.external_application_id) == (None, None)
