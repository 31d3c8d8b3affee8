"""Webhook endpoints over HTTP: the secret shown once (and stored only encrypted), another
company's endpoints answered as missing, bad input as 422 problems, and the SSRF rule: outside
local and test (or with TENON_WEBHOOKS_ALLOW_PRIVATE_TARGETS off) private, loopback and
plain-http URLs are refused at creation, and a name that resolves to a private address when
the delivery is sent fails the delivery at once, with nothing sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.settings import Environment, Settings, WebhookSettings
from app.webhooks.jobs import private_targets_allowed
from app.webhooks.models import WebhookEndpoint
from app.webhooks.service import MAX_ENDPOINTS_PER_COMPANY
from tests.support.api import assert_problem
from tests.support.app import serving
from tests.support.jobs import FakeClock
from tests.support.recruiting import World, invite_candidate, new_simulation
from tests.support.webhooks import DeliveryWorker, receiver

ENDPOINTS = "/api/webhooks/endpoints"
NEW = {"url": "https://hooks.example.com/tenon", "eventTypes": ["candidate.invited"]}


def production_like(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"webhooks": WebhookSettings(_env_file=None, allow_private_targets=False)}
    )


@pytest.fixture
async def guarded(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that refuses private targets."""
    async with serving(production_like(settings), database) as client:
        yield client


async def _create(world: World, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await world.client.post(ENDPOINTS, json=body or NEW, headers=world.recruiter)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.parametrize(
    ("env", "allowed", "expected"),
    [
        ("local", True, True),
        ("test", True, True),
        ("test", False, False),
        ("staging", True, False),
        ("production", True, False),
    ],
)
def test_private_targets_are_allowed_only_locally_and_while_the_setting_allows_them(
    settings: Settings, env: Environment, allowed: bool, expected: bool
) -> None:
    configured = settings.model_copy(
        update={
            "app": settings.app.model_copy(update={"env": env}),
            "webhooks": WebhookSettings(_env_file=None, allow_private_targets=allowed),
        }
    )
    assert private_targets_allowed(configured) is expected


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.20:8443/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "http://hooks.example.com/plain-http",
        "https://user:password@hooks.example.com/hook",
        "ftp://hooks.example.com/hook",
        "https://[::7f00:1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[::1/hook",
        "https://hooks.example.com:99999/hook",
        "https://xn--/hook",
        "https://hooks..example.com/hook",
    ],
)
async def test_a_private_or_unsafe_url_is_refused_when_private_targets_are_not_allowed(
    world: World, guarded: httpx.AsyncClient, url: str
) -> None:
    created = await guarded.post(ENDPOINTS, json={**NEW, "url": url}, headers=world.recruiter)
    body = assert_problem(created, 422, "WEBHOOK_URL_REFUSED")
    assert [error["loc"] for error in body["errors"]] == [["body", "url"]]

    fine = await guarded.post(ENDPOINTS, json=NEW, headers=world.recruiter)
    assert fine.status_code == 201, fine.text
    moved = await guarded.patch(
        f"{ENDPOINTS}/{fine.json()['id']}", json={"url": url}, headers=world.recruiter
    )
    assert_problem(moved, 422, "WEBHOOK_URL_REFUSED")


async def test_a_name_resolving_to_loopback_at_send_time_fails_the_delivery_unsent(
    world: World,
    guarded: httpx.AsyncClient,
    settings: Settings,
    database: Database,
) -> None:
    async with receiver() as hooks, httpx.AsyncClient() as http:
        # A public-looking name passes creation; its address is checked when sending.
        url = f"https://localhost:{hooks.port}/hooks"
        created = await guarded.post(ENDPOINTS, json={**NEW, "url": url}, headers=world.recruiter)
        assert created.status_code == 201, created.text
        endpoint_id = created.json()["id"]
        simulation = await new_simulation(world)
        assert (await invite_candidate(world, simulation["id"])).status_code == 201
        worker = DeliveryWorker(
            database, production_like(settings), http, FakeClock(datetime.now(UTC))
        )
        await worker.run()
        worker.clock.advance(worker.clock.now() - datetime(2026, 1, 1, tzinfo=UTC))
        await worker.run()  # never retried
    assert hooks.received == []
    log = await guarded.get(f"{ENDPOINTS}/{endpoint_id}/deliveries", headers=world.recruiter)
    [delivery] = log.json()["items"]
    assert (delivery["status"], delivery["attemptCount"]) == ("failed", 1)
    assert delivery["lastError"].startswith("TARGET_REFUSED: ")
    assert "private, loopback or reserved" in delivery["lastError"]


async def test_the_secret_is_shown_once_and_stored_only_encrypted(
    world: World, db_session: AsyncSession
) -> None:
    created = await _create(world)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) >= len("whsec_") + 43
    path = f"{ENDPOINTS}/{created['id']}"
    answers = [
        await world.client.get(path, headers=world.recruiter),
        await world.client.get(ENDPOINTS, headers=world.recruiter),
        await world.client.patch(path, json={"description": "x"}, headers=world.recruiter),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert secret not in answer.text
        assert '"secret"' not in answer.text
    [listed] = answers[1].json()
    assert listed["id"] == created["id"]
    assert answers[2].json()["description"] == "x"
    stored = (await db_session.scalars(select(WebhookEndpoint))).one()
    assert secret.encode() not in stored.secret_ciphertext
    second = await _create(world)
    assert second["secret"] != secret


async def test_another_company_s_endpoint_is_answered_as_missing(world: World) -> None:
    created = await _create(world)
    path = f"{ENDPOINTS}/{created['id']}"
    outsider = world.outsider
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", None),
        ("POST", "/test", None),
        ("GET", "/deliveries", None),
        ("GET", "/deliveries/1", None),
        ("POST", "/deliveries/1/redeliver", None),
    ]:
        response = await world.client.request(method, path + suffix, json=body, headers=outsider)
        assert_problem(response, 404, "WEBHOOK_ENDPOINT_NOT_FOUND")
    assert (await world.client.get(ENDPOINTS, headers=outsider)).json() == []
    unchanged = await world.client.get(path, headers=world.recruiter)
    assert unchanged.json()["enabled"] is True
    missing = await world.client.get(f"{path}/deliveries/999999", headers=world.recruiter)
    assert_problem(missing, 404, "WEBHOOK_DELIVERY_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.com/x"}, "eventTypes"),
        ({**NEW, "eventTypes": []}, "eventTypes"),
        ({**NEW, "eventTypes": ["candidate.hired"]}, "eventTypes"),
        ({**NEW, "eventTypes": ["ping"]}, "eventTypes"),
        ({**NEW, "url": ""}, "url"),
        ({**NEW, "url": "https://x.example/" + "a" * 2048}, "url"),
        ({**NEW, "description": "d" * 501}, "description"),
        ({**NEW, "enabled": "maybe"}, "enabled"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = await world.client.post(ENDPOINTS, json=body, headers=world.recruiter)
    problem = assert_problem(response, 422, "VALIDATION_FAILED")
    assert any(field in error["loc"] for error in problem["errors"]), problem


async def test_repeated_events_nulls_and_unknown_statuses_are_422_problems(world: World) -> None:
    repeated = {**NEW, "eventTypes": ["candidate.invited", "candidate.invited"]}
    answer = await world.client.post(ENDPOINTS, json=repeated, headers=world.recruiter)
    assert_problem(answer, 422, "VALIDATION_FAILED")
    path = f"{ENDPOINTS}/{(await _create(world))['id']}"
    for body in ({"url": None}, {"eventTypes": None}, {"enabled": None}, repeated):
        answer = await world.client.patch(path, json=body, headers=world.recruiter)
        assert_problem(answer, 422, "VALIDATION_FAILED")
    answer = await world.client.get(
        f"{path}/deliveries", params={"status": "lost"}, headers=world.recruiter
    )
    assert_problem(answer, 422, "VALIDATION_FAILED")
    unchanged = await world.client.get(path, headers=world.recruiter)
    assert unchanged.json()["eventTypes"] == NEW["eventTypes"]


async def test_a_company_has_a_bounded_number_of_endpoints(world: World) -> None:
    for _ in range(MAX_ENDPOINTS_PER_COMPANY):
        await _create(world)
    refused = await world.client.post(ENDPOINTS, json=NEW, headers=world.recruiter)
    assert_problem(refused, 409, "WEBHOOK_ENDPOINT_LIMIT")
    other = await world.client.post(ENDPOINTS, json=NEW, headers=world.outsider)
    assert other.status_code == 201
