"""GitHub webhooks: signature, recording and de-duplication over HTTP, and the processing job.

The payloads are GitHub's own webhook examples as collected by octokit/webhooks (MIT License,
Copyright (c) 2018 Gregor Martynus; see LICENSE and SOURCE next to them in
`tests/fixtures/github/webhooks`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.assembly import webhook_handlers
from app.core.clock import SystemClock
from app.core.db import Database
from app.core.errors import UnauthorizedError
from app.integrations.github.models import WebhookDelivery
from app.integrations.github.webhooks import (
    PROCESS_WEBHOOK_DELIVERY,
    WebhookEvent,
    WebhookHandler,
    verify_signature,
)
from app.jobs.models import Job
from app.jobs.registry import JobContext, PermanentJobError
from app.services import Services
from tests.support.api import assert_problem
from tests.support.app import WEBHOOK_SECRET, make_settings, serving
from tests.support.corpora import WEBHOOKS
from tests.support.identity import IdentityProvider
from tests.support.jobs import job_services
from tests.support.logs import capture_every_level

CORPUS = WEBHOOKS
URL = "/api/github/webhooks"
PROBLEM = "application/problem+json"


def _payloads(*events: str) -> list[Any]:
    """(event, body) parameters for every example of these events, read at collection."""
    return [
        pytest.param(event, path.read_bytes(), id=f"{event}/{path.name}")
        for event in events
        for path in sorted((CORPUS / event).glob("*.json"))
    ]


COMPLETED_RUN = (CORPUS / "workflow_run" / "completed.payload.json").read_bytes()
INSTALLATION_CREATED = (CORPUS / "installation" / "created.payload.json").read_bytes()
PUSH = (CORPUS / "push" / "with-new-branch.payload.json").read_bytes()


def _sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _headers(event: str, delivery_id: str, signature: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery_id,
        "x-hub-signature-256": signature,
    }


async def _deliver(
    client: httpx.AsyncClient, event: str, body: bytes, delivery_id: str | None = None
) -> httpx.Response:
    """Post a correctly signed delivery, as GitHub would."""
    headers = _headers(event, delivery_id or str(uuid.uuid4()), _sign(body))
    return await client.post(URL, content=body, headers=headers)


async def _delivery(database: Database, delivery_id: str) -> WebhookDelivery | None:
    async with database.sessionmaker() as session:
        statement = select(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
        return (await session.scalars(statement)).one_or_none()


async def _delivery_count(database: Database) -> int:
    async with database.sessionmaker() as session:
        return (await session.scalar(select(func.count()).select_from(WebhookDelivery))) or 0


async def _webhook_jobs(database: Database) -> list[Job]:
    async with database.sessionmaker() as session:
        statement = select(Job).where(Job.type == PROCESS_WEBHOOK_DELIVERY.name)
        return list((await session.scalars(statement)).all())


def _context(
    database: Database, *, attempt: int = 1, handlers: dict[str, WebhookHandler] | None = None
) -> JobContext[Services]:
    """A job context whose services carry `handlers` (the application's by default)."""
    services = job_services()
    return JobContext(
        database=database,
        clock=SystemClock(),
        services=dataclasses.replace(
            services, webhook_handlers=webhook_handlers() if handlers is None else handlers
        ),
        job_id=1,
        attempt=attempt,
        max_attempts=PROCESS_WEBHOOK_DELIVERY.max_attempts,
    )


class _Recorder:
    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []

    async def __call__(self, context: JobContext[Services], event: WebhookEvent) -> None:
        self.events.append(event)


@pytest.fixture
def recorder() -> _Recorder:
    return _Recorder()


@pytest.fixture
async def queued_run(client: httpx.AsyncClient, database: Database) -> tuple[str, Job]:
    """A completed workflow_run delivery, recorded and queued: its id and its job."""
    delivery_id = str(uuid.uuid4())
    assert (await _deliver(client, "workflow_run", COMPLETED_RUN, delivery_id)).status_code == 202
    [job] = await _webhook_jobs(database)
    return delivery_id, job


# --- signature ---------------------------------------------------------------------------


def test_signature_matches_githubs_test_vector() -> None:
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    verify_signature(b"It's a Secret to Everybody", b"Hello, World!", header)


def test_signature_of_another_body_is_invalid() -> None:
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    with pytest.raises(UnauthorizedError) as caught:
        verify_signature(b"It's a Secret to Everybody", b"Hello, World?", header)
    assert caught.value.code == "WEBHOOK_SIGNATURE_INVALID"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "757107ea0eb2509fc2",
        "sha1=" + "0" * 40,
        "sha256=" + "z" * 64,
        "sha256=" + "0" * 63,
    ],
)
def test_missing_or_malformed_signature_header(header: str | None) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        verify_signature(b"secret", b"{}", header)
    assert caught.value.code == "WEBHOOK_SIGNATURE_MISSING"


async def test_unsigned_delivery_is_401(client: httpx.AsyncClient, database: Database) -> None:
    headers = {"x-github-event": "ping", "x-github-delivery": str(uuid.uuid4())}
    response = await client.post(URL, content=b"{}", headers=headers)
    assert_problem(response, 401, "WEBHOOK_SIGNATURE_MISSING")
    assert await _delivery_count(database) == 0


async def test_wrong_signature_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    headers = _headers("workflow_run", str(uuid.uuid4()), "sha256=" + "0" * 64)
    response = await client.post(URL, content=COMPLETED_RUN, headers=headers)
    assert_problem(response, 401, "WEBHOOK_SIGNATURE_INVALID")
    assert await _delivery_count(database) == 0
    assert await _webhook_jobs(database) == []


async def test_signature_made_with_another_secret_is_401(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    headers = _headers("ping", str(uuid.uuid4()), _sign(body, "not-the-secret"))
    response = await client.post(URL, content=body, headers=headers)
    assert_problem(response, 401, "WEBHOOK_SIGNATURE_INVALID")
    assert await _delivery_count(database) == 0


async def test_body_altered_after_signing_is_401(
    client: httpx.AsyncClient, database: Database
) -> None:
    altered = COMPLETED_RUN.replace(b'"conclusion": "success"', b'"conclusion": "failure"')
    assert altered != COMPLETED_RUN
    headers = _headers("workflow_run", str(uuid.uuid4()), _sign(COMPLETED_RUN))
    response = await client.post(URL, content=altered, headers=headers)
    assert_problem(response, 401, "WEBHOOK_SIGNATURE_INVALID")
    assert await _delivery_count(database) == 0


async def test_deliveries_are_refused_without_a_configured_secret(
    database_url: str, idp: IdentityProvider, database: Database
) -> None:
    settings = make_settings(database_url, idp.jwks_url, github={"webhook_secret": None})
    async with serving(settings, database) as client:
        response = await _deliver(client, "ping", b"{}")
    assert_problem(response, 503, "WEBHOOKS_NOT_CONFIGURED")
    assert await _delivery_count(database) == 0


# --- request shape -----------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["x-github-event", "x-github-delivery"])
async def test_missing_github_header_is_400(client: httpx.AsyncClient, missing: str) -> None:
    body = b"{}"
    headers = _headers("ping", str(uuid.uuid4()), _sign(body))
    del headers[missing]
    response = await client.post(URL, content=body, headers=headers)
    assert_problem(response, 400, "WEBHOOK_HEADERS_MISSING")


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe", b"payload=%7B%7D"]
)
async def test_payload_that_is_not_a_json_object_is_400(
    client: httpx.AsyncClient, database: Database, body: bytes
) -> None:
    response = await _deliver(client, "workflow_run", body)
    assert_problem(response, 400, "WEBHOOK_PAYLOAD_INVALID")
    assert await _delivery_count(database) == 0


async def test_body_over_the_size_limit_is_413(
    database_url: str, idp: IdentityProvider, database: Database
) -> None:
    assert len(COMPLETED_RUN) > 1000
    settings = make_settings(database_url, idp.jwks_url, app={"max_request_body_bytes": 1000})
    async with serving(settings, database) as client:
        response = await _deliver(client, "workflow_run", COMPLETED_RUN)
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert await _delivery_count(database) == 0


# --- recording ---------------------------------------------------------------------------


@pytest.mark.parametrize(("event", "body"), _payloads("ping"))
async def test_ping_is_answered_and_stored_processed(
    client: httpx.AsyncClient, database: Database, event: str, body: bytes
) -> None:
    delivery_id = str(uuid.uuid4())
    response = await _deliver(client, event, body, delivery_id)
    assert response.status_code == 200
    assert response.json() == {"status": "pong"}
    delivery = await _delivery(database, delivery_id)
    assert delivery is not None
    assert (delivery.event, delivery.status) == ("ping", "processed")
    assert delivery.processed_at is not None
    assert delivery.payload == json.loads(body)
    assert await _webhook_jobs(database) == []


@pytest.mark.parametrize(("event", "body"), _payloads("workflow_run", "installation", "push"))
async def test_processed_events_are_recorded_and_queued(
    client: httpx.AsyncClient, database: Database, event: str, body: bytes
) -> None:
    payload = json.loads(body)
    delivery_id = str(uuid.uuid4())

    response = await _deliver(client, event, body, delivery_id)

    assert response.status_code == 202
    assert response.json() == {"status": "queued", "deliveryId": delivery_id}
    delivery = await _delivery(database, delivery_id)
    assert delivery is not None
    assert (delivery.event, delivery.action, delivery.status) == (
        event,
        payload.get("action"),
        "received",
    )
    assert delivery.payload == payload
    assert delivery.processed_at is None
    [job] = await _webhook_jobs(database)
    assert job.payload == {"deliveryId": delivery_id}
    assert job.max_attempts == PROCESS_WEBHOOK_DELIVERY.max_attempts


async def test_redelivery_is_a_duplicate_and_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    delivery_id = str(uuid.uuid4())
    assert (await _deliver(client, "workflow_run", COMPLETED_RUN, delivery_id)).status_code == 202

    response = await _deliver(client, "workflow_run", COMPLETED_RUN, delivery_id)

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert await _delivery_count(database) == 1
    assert len(await _webhook_jobs(database)) == 1


@pytest.mark.parametrize(("event", "body"), _payloads("workflow_job"))
async def test_other_events_are_ignored_keeping_only_the_id(
    client: httpx.AsyncClient, database: Database, event: str, body: bytes
) -> None:
    delivery_id = str(uuid.uuid4())
    response = await _deliver(client, event, body, delivery_id)

    assert response.status_code == 202
    assert response.json() == {"status": "ignored"}
    delivery = await _delivery(database, delivery_id)
    assert delivery is not None
    assert (delivery.event, delivery.status, delivery.payload) == (event, "ignored", {})
    assert await _webhook_jobs(database) == []


# --- processing --------------------------------------------------------------------------


async def test_processing_hands_the_payload_to_the_handler(
    database: Database, queued_run: tuple[str, Job], recorder: _Recorder
) -> None:
    delivery_id, job = queued_run
    started = SystemClock().now()

    await PROCESS_WEBHOOK_DELIVERY.run(
        _context(database, handlers={"workflow_run": recorder}), job.payload
    )

    [event] = recorder.events
    assert event == WebhookEvent(
        delivery_id=delivery_id,
        event="workflow_run",
        action="completed",
        payload=json.loads(COMPLETED_RUN),
    )
    assert event.payload["workflow_run"]["id"] == 289782451
    delivery = await _delivery(database, delivery_id)
    assert delivery is not None
    assert delivery.status == "processed"
    assert delivery.processed_at is not None
    assert delivery.processed_at >= started
    assert delivery.error is None


async def test_processed_delivery_is_not_handled_again(
    database: Database, queued_run: tuple[str, Job], recorder: _Recorder
) -> None:
    _, job = queued_run
    handlers: dict[str, WebhookHandler] = {"workflow_run": recorder}
    await PROCESS_WEBHOOK_DELIVERY.run(_context(database, handlers=handlers), job.payload)
    await PROCESS_WEBHOOK_DELIVERY.run(
        _context(database, attempt=2, handlers=handlers), job.payload
    )
    assert len(recorder.events) == 1


async def test_failing_handler_records_the_error_and_the_retry_processes_it(
    database: Database, queued_run: tuple[str, Job]
) -> None:
    delivery_id, job = queued_run

    async def failing(context: JobContext[Services], event: WebhookEvent) -> None:
        raise RuntimeError("GitHub is down")

    with pytest.raises(RuntimeError, match="GitHub is down"):
        await PROCESS_WEBHOOK_DELIVERY.run(
            _context(database, handlers={"workflow_run": failing}), job.payload
        )

    delivery = await _delivery(database, delivery_id)
    assert delivery is not None
    assert delivery.status == "received"
    assert delivery.error == "RuntimeError: GitHub is down"

    recorder = _Recorder()
    await PROCESS_WEBHOOK_DELIVERY.run(
        _context(database, attempt=2, handlers={"workflow_run": recorder}), job.payload
    )

    assert len(recorder.events) == 1
    delivery = await _delivery(database, delivery_id)
    assert delivery is not None
    assert (delivery.status, delivery.error) == ("processed", None)


@pytest.mark.parametrize(
    ("error", "attempt"),
    [
        (RuntimeError("still down"), PROCESS_WEBHOOK_DELIVERY.max_attempts),
        (PermanentJobError("cannot ever work"), 1),
    ],
    ids=["last-attempt", "permanent-error"],
)
async def test_failure_that_will_not_be_retried_marks_the_delivery_failed(
    database: Database,
    queued_run: tuple[str, Job],
    error: Exception,
    attempt: int,
) -> None:
    delivery_id, job = queued_run

    async def failing(context: JobContext[Services], event: WebhookEvent) -> None:
        raise error

    with pytest.raises(type(error)):
        await PROCESS_WEBHOOK_DELIVERY.run(
            _context(database, attempt=attempt, handlers={"workflow_run": failing}), job.payload
        )

    delivery = await _delivery(database, delivery_id)
    assert delivery is not None
    assert delivery.status == "failed"
    assert delivery.error == f"{type(error).__name__}: {error}"


async def test_unknown_delivery_is_a_permanent_job_error(database: Database) -> None:
    with pytest.raises(PermanentJobError):
        await PROCESS_WEBHOOK_DELIVERY.run(_context(database), {"deliveryId": "no-such-delivery"})


async def test_default_handlers_handle_runs_and_pushes_that_are_not_ours_and_log_installations(
    client: httpx.AsyncClient, database: Database
) -> None:
    for event, body in (
        ("workflow_run", COMPLETED_RUN),
        ("installation", INSTALLATION_CREATED),
        ("push", PUSH),
    ):
        assert (await _deliver(client, event, body)).status_code == 202

    with capture_every_level() as logs:
        for job in await _webhook_jobs(database):
            await PROCESS_WEBHOOK_DELIVERY.run(_context(database), job.payload)

    by_event: dict[str, dict[str, Any]] = {entry["event"]: entry for entry in logs}
    run = by_event["github.workflow_run.received"]
    # A run of a repository that is not one of our workspaces changes nothing.
    assert (run["run_id"], run["status"], run["conclusion"], run["completed"]) == (
        289782451,
        "completed",
        "success",
        False,
    )
    installation = by_event["github.installation.created"]
    assert (installation["installation_id"], installation["account"]) == (957387, "Codertocat")
    # A push to a repository that is no workspace of ours is ignored.
    push = by_event["workspaces.push.ignored"]
    assert (push["repo"], push["ref"]) == ("Codertocat/Hello-World", "refs/heads/master")


# --- end to end --------------------------------------------------------------------------


async def test_delivery_is_processed_by_the_apis_in_process_worker(
    jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    settings = make_settings(
        jobs_database_url, idp.jwks_url, jobs={"in_process": True, "poll_interval_seconds": 30}
    )
    delivery_id = str(uuid.uuid4())
    async with serving(settings, jobs_db) as client:
        with capture_every_level() as logs:
            response = await _deliver(client, "workflow_run", COMPLETED_RUN, delivery_id)
            assert response.status_code == 202
            for _ in range(200):  # woken by NOTIFY, far sooner than the 30 s poll
                delivery = await _delivery(jobs_db, delivery_id)
                if delivery is not None and delivery.status == "processed":
                    break
                await asyncio.sleep(0.05)
    assert delivery is not None
    assert delivery.status == "processed"
    # The application's own workflow_run handler got the payload.
    [handled] = [entry for entry in logs if entry["event"] == "github.workflow_run.received"]
    assert handled["run_id"] == json.loads(COMPLETED_RUN)["workflow_run"]["id"]
    [job] = await _webhook_jobs(jobs_db)
    assert (job.state, job.attempts) == ("succeeded", 1)
