"""Prometheus `/metrics`: who may scrape it, and that what the service does shows up there,
by route template, across an open event stream and across processes."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from pydantic import SecretStr

from app.candidate_sessions.jobs import SEND_INVITE_EMAIL, InviteEmailRef
from app.core.db import Database
from app.core.metrics import Metrics
from app.core.settings import GitHubSettings, JobSettings, Settings
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobRegistry, JobType
from app.main import create_app
from app.notifications.email import (
    CountedEmailSender,
    EmailMessage,
    EmailRejectedError,
    EmailTemporaryError,
    SendResult,
)
from tests.support.api import assert_problem, bearer
from tests.support.app import client_for, make_settings
from tests.support.cli import TENON, command_env, stop
from tests.support.emulator import eventually, free_port, serving
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_job,
    create_simulation,
    create_task,
    create_test_run,
    create_workspace,
)
from tests.support.identity import IdentityProvider
from tests.support.jobs import Effect, FakeClock, make_worker
from tests.support.metrics import sample, scraped

TOKEN = "scrape-token-" + "x" * 20
SCRAPER = bearer(TOKEN)
GITHUB_API = "https://api.github.test"


def _with_token(settings: Settings) -> Settings:
    app = settings.app.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    return settings.model_copy(update={"app": app})


@asynccontextmanager
async def _client(
    settings: Settings, database: Database, clock: FakeClock | None = None
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, database=database, clock=clock)
    async with app.router.lifespan_context(app), client_for(app) as client:
        yield app, client


async def _scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


# -- who may scrape --------------------------------------------------------------------------


async def test_without_a_token_setting_there_is_no_metrics_route(
    settings: Settings, database: Database
) -> None:
    async with _client(settings, database) as (_, client):
        response = await client.get("/metrics", headers=SCRAPER)
    assert_problem(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer ", TOKEN],
    ids=["missing", "wrong", "other-scheme", "empty", "no-scheme"],
)
async def test_a_scrape_without_the_right_bearer_token_is_401(
    settings: Settings, database: Database, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with _client(_with_token(settings), database) as (_, client):
        response = await client.get("/metrics", headers=headers)
    assert_problem(response, 401, "METRICS_TOKEN_INVALID")
    assert response.headers["WWW-Authenticate"] == "Bearer"


# -- HTTP requests ---------------------------------------------------------------------------


async def test_requests_are_counted_by_route_template_never_by_raw_path(
    settings: Settings, database: Database
) -> None:
    # Ids long enough that no counter or timing value could contain them by chance.
    first, second = 9223372036854775806, 9223372036854775807
    async with _client(_with_token(settings), database) as (_, client):
        for simulation_id in (first, second):
            response = await client.get(f"/api/simulations/{simulation_id}")
            assert response.status_code == 401
        assert (await client.get(f"/no/such/{first}")).status_code == 404
        assert (await client.get(f"/no/such/{second}")).status_code == 404
        text = await _scrape(client)

    template = {"route": "/api/simulations/{simulation_id}", "method": "GET", "status": "401"}
    assert scraped(text, "tenon_http_requests_total", **template) == 2
    assert scraped(text, "tenon_http_request_duration_seconds_count", **template) == 2
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert scraped(text, "tenon_http_requests_total", **unmatched) == 2
    assert str(first) not in text
    assert str(second) not in text


# -- GitHub ----------------------------------------------------------------------------------


async def test_github_requests_retries_304s_and_rate_limit_are_exported() -> None:
    metrics = Metrics()
    settings = GitHubSettings(_env_file=None, api_base=GITHUB_API, mutation_interval_seconds=0)
    run_url = f"{GITHUB_API}/repos/acme/repo/actions/runs/7"
    rate = {"X-RateLimit-Remaining": "4321", "X-RateLimit-Reset": "1900000000"}
    run = {
        "id": 7,
        "status": "queued",
        "head_sha": "a" * 40,
        "event": "workflow_dispatch",
        "html_url": "https://github.test/acme/repo/actions/runs/7",
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-01-01T10:00:00Z",
    }
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    with respx.mock(assert_all_called=True) as api:
        api.get(run_url).mock(
            side_effect=[
                httpx.Response(502),
                httpx.Response(200, json=run, headers={"ETag": '"v1"'} | rate),
                httpx.Response(304, headers=rate),
            ]
        )
        async with httpx.AsyncClient() as http:
            github = GitHubClient(http, settings, TokenAuth(SecretStr("t")), metrics, sleep=no_wait)
            await github.get_workflow_run("acme/repo", 7)
            await github.get_workflow_run("acme/repo", 7)

    text = metrics.exposition(None).decode()
    assert scraped(text, "tenon_github_requests_total", method="GET", status="502") == 1
    assert scraped(text, "tenon_github_requests_total", method="GET", status="200") == 1
    assert scraped(text, "tenon_github_requests_total", method="GET", status="304") == 1
    assert scraped(text, "tenon_github_retries_total") == 1
    assert scraped(text, "tenon_github_not_modified_total") == 1
    assert scraped(text, "tenon_github_rate_limit_remaining") == 4321
    assert scraped(text, "tenon_github_rate_limit_reset_timestamp_seconds") == 1900000000
    assert len(sleeps) == 1  # the backoff after the 502


# -- jobs ------------------------------------------------------------------------------------


async def test_job_gauges_read_the_queue_at_scrape_time(
    settings: Settings, database: Database
) -> None:
    clock = FakeClock()
    async with _client(_with_token(settings), database, clock) as (_, client):
        async with database.session_scope() as session:
            job_type = SEND_INVITE_EMAIL
            ref = InviteEmailRef(candidate_session_id=1)
            await enqueue(session, job_type, ref, run_at=clock.now() - timedelta(seconds=90))
            await enqueue(session, job_type, ref, run_at=clock.now() + timedelta(hours=1))
            await create_job(session, type="tests.other", state="dead")
        text = await _scrape(client)

        def jobs(job_type: str, state: str) -> float | None:
            return scraped(text, "tenon_jobs", type=job_type, state=state)

        assert jobs(SEND_INVITE_EMAIL.name, "pending") == 2
        assert jobs(SEND_INVITE_EMAIL.name, "running") == 0
        assert jobs("tests.other", "dead") == 1
        assert jobs("tests.other", "pending") == 0
        assert scraped(text, "tenon_jobs_oldest_waiting_seconds") == 90

        clock.advance(timedelta(seconds=30))
        assert scraped(await _scrape(client), "tenon_jobs_oldest_waiting_seconds") == 120


async def test_job_attempts_are_counted_by_type_and_outcome(jobs_db: Database) -> None:
    async def fails(context: JobContext[object], payload: Effect) -> None:
        raise ConnectionError("no")

    failing = JobType(name="tests.fails", payload=Effect, handler=fails, max_attempts=2)
    clock = FakeClock()
    settings = JobSettings(_env_file=None)
    worker = make_worker(jobs_db, JobRegistry.of([failing]), settings, clock=clock)
    async with jobs_db.session_scope() as session:
        await enqueue(session, failing, Effect(), run_at=clock.now())

    await worker.run_until_idle()
    clock.advance(timedelta(hours=1))
    await worker.run_until_idle()

    metrics = worker.metrics
    attempts = "tenon_job_attempts_total"
    assert sample(metrics, attempts, type="tests.fails", outcome="failed") == 1
    assert sample(metrics, attempts, type="tests.fails", outcome="dead") == 1
    assert sample(metrics, attempts, type="tests.fails", outcome="succeeded") == 0


# -- email -----------------------------------------------------------------------------------

MESSAGE = EmailMessage(to="casey@example.com", subject="Hi", text="Hello", html="<p>Hello</p>")


class _Failing:
    name = "resend"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def send(self, message: EmailMessage) -> SendResult:
        raise self.error


async def test_the_apps_email_sends_are_counted_by_provider_and_outcome(
    settings: Settings, database: Database
) -> None:
    async with _client(_with_token(settings), database) as (app, client):
        await app.state.services.email.send(MESSAGE)  # the console provider
        text = await _scrape(client)
    assert scraped(text, "tenon_email_sends_total", provider="console", outcome="sent") == 1


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (EmailRejectedError("resend HTTP 422: bad address"), "rejected"),
        (EmailTemporaryError("resend HTTP 503"), "failed"),
        (RuntimeError("bug"), "error"),
    ],
)
async def test_failed_email_sends_are_counted_by_outcome(error: Exception, outcome: str) -> None:
    metrics = Metrics()
    sender = CountedEmailSender(_Failing(error), metrics)
    with pytest.raises(type(error)):
        await sender.send(MESSAGE)
    assert sample(metrics, "tenon_email_sends_total", provider="resend", outcome=outcome) == 1
    assert sample(metrics, "tenon_email_sends_total", provider="resend", outcome="sent") == 0


# -- Server-Sent Events ----------------------------------------------------------------------


async def test_open_event_streams_are_a_gauge_that_falls_when_they_close(
    jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    subject = f"auth0|sse-{uuid.uuid4().hex[:8]}"
    async with jobs_db.session_scope() as session:
        simulation = await create_simulation(session, await create_company(session))
        task = await create_task(session, simulation, type="code")
        cs = await create_candidate_session(session, simulation, status="in_progress")
        cs.auth0_sub = subject
        workspace = await create_workspace(session, cs)
        workspace.status = "ready"
        workspace.repo_full_name = f"acme/{subject.removeprefix('auth0|')}"
        run = await create_test_run(session, workspace, task)
    candidate = bearer(idp.token(subject=subject, permissions=("candidate:access",)))
    settings = _with_token(make_settings(jobs_database_url, idp.jwks_url))

    async def open_streams(client: httpx.AsyncClient) -> float | None:
        return scraped(await _scrape(client), "tenon_sse_connections")

    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        assert await open_streams(client) == 0
        path = f"/api/tasks/{task.id}/run/{run.id}/events"
        headers = candidate | {"x-candidate-session-id": str(cs.id)}
        async with client.stream("GET", path, headers=headers) as response:
            assert response.status_code == 200
            # Held in a name: a discarded line iterator is closed, and with it the stream.
            lines = response.aiter_lines()
            while not (await anext(lines)).startswith("data:"):
                pass  # until the run's first state: the stream is open
            assert await open_streams(client) == 1

        async def closed() -> bool | None:
            return True if await open_streams(client) == 0 else None

        await eventually(closed, within=10)


# -- several processes -----------------------------------------------------------------------


@contextmanager
def _tenon(log: Path, *args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [TENON, *args],
            cwd=log.parent,
            env=command_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
        try:
            yield process
        finally:
            stop(process)


async def _ready(url: str) -> bool | None:
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            return True if (await client.get("/health/ready")).status_code == 200 else None
    except httpx.TransportError:
        return None


async def test_two_api_processes_and_a_worker_add_up_in_one_scrape(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database
) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "TENON_ENV": "test",
        "TENON_DATABASE_URL": jobs_database_url,
        "TENON_METRICS_TOKEN": TOKEN,
        "TENON_JOBS_IN_PROCESS": "false",
        "TENON_EMAIL_PROVIDER": "console",
        "TENON_LOG_LEVEL": "WARNING",
    }
    async with jobs_db.session_scope() as session:
        simulation = await create_simulation(session, await create_company(session))
        cs = await create_candidate_session(session, simulation)
        await enqueue(session, SEND_INVITE_EMAIL, InviteEmailRef(candidate_session_id=cs.id))
    first, second = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"

    with (
        _tenon(tmp_path / "a.log", "serve", "--port", first.rsplit(":", 1)[1], env=env),
        _tenon(tmp_path / "b.log", "serve", "--port", second.rsplit(":", 1)[1], env=env),
        _tenon(tmp_path / "worker.log", "worker", env=env),
    ):
        for url in (first, second):
            await eventually(lambda url=url: _ready(url), within=60, interval=0.2)
        async with httpx.AsyncClient(base_url=first) as a, httpx.AsyncClient(base_url=second) as b:
            for client, times in ((a, 2), (b, 3)):
                for _ in range(times):
                    assert (await client.get("/health")).status_code == 200

            async def sent() -> str | None:
                text = await _scrape(a)
                emails = scraped(text, "tenon_email_sends_total", provider="console")
                return text if emails == 1 else None

            text = await eventually(sent, within=60, interval=0.3)

    health = {"route": "/health", "method": "GET", "status": "200"}
    assert scraped(text, "tenon_http_requests_total", **health) == 2 + 3
    assert scraped(text, "tenon_http_request_duration_seconds_count", **health) == 2 + 3
    attempts = {"type": SEND_INVITE_EMAIL.name, "outcome": "succeeded"}
    assert scraped(text, "tenon_job_attempts_total", **attempts) == 1
    assert len(list(shared.glob("counter_*.db"))) == 3  # one file per process
