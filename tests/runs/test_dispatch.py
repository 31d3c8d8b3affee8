"""Dispatching a run when GitHub does not return the run's id (older servers): the run is
found among the branch's workflow_dispatch runs by its title `tenon-run <id>`, another
run's left alone; and a dispatch GitHub refuses, or that keeps failing, ends the run as an
error whose message is final. GitHub is mocked with respx here; the emulator always returns
run details (tests/runs/test_dispatch_recovery.py runs dispatches against it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import SystemClock
from app.core.db import Database
from app.core.settings import GitHubSettings
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubUnavailableError
from app.jobs.models import Job
from app.jobs.registry import JobContext, PermanentJobError
from app.runs.jobs import DISPATCH_RUN
from app.runs.models import TestRun
from app.runs.workflow import LISTING_GRACE
from app.services import Services
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_simulation,
    create_task,
    create_test_run,
    create_workspace,
)
from tests.support.jobs import job_services

API = "https://github.test"
REPO = "acme-workspaces/tenon-ws"


def _context(
    database: Database, http: httpx.AsyncClient, *, attempt: int = 1
) -> JobContext[Services]:
    base = job_services()
    settings = GitHubSettings(
        _env_file=None, api_base=API, token=SecretStr("t"), mutation_interval_seconds=0
    )
    github = GitHubClient(http, settings, TokenAuth(SecretStr("t")), base.metrics)
    services = replace(base, github=github)
    return JobContext(
        database=database,
        clock=SystemClock(),
        services=services,
        job_id=1,
        attempt=attempt,
        max_attempts=DISPATCH_RUN.max_attempts,
    )


async def _queued_run(db_session: AsyncSession) -> tuple[TestRun, Any]:
    simulation = await create_simulation(db_session, await create_company(db_session))
    task = await create_task(db_session, simulation, day_index=1, type="code")
    cs = await create_candidate_session(db_session, simulation, status="in_progress")
    workspace = await create_workspace(db_session, cs)
    workspace.repo_full_name = REPO
    workspace.default_branch = "main"
    workspace.status = "ready"
    run = await create_test_run(db_session, workspace, task)
    await db_session.flush()
    return run, (workspace, task)


DISPATCHES = f"{API}/repos/{REPO}/actions/workflows/tenon-ci.yml/dispatches"
RUNS = f"{API}/repos/{REPO}/actions/workflows/tenon-ci.yml/runs"
FINAL_MESSAGE = "The tests could not be started on GitHub; run them again."


def _run(run_id: int, created_at: str, title: str) -> dict[str, Any]:
    return {
        "id": run_id,
        "name": "tenon-ci",
        "display_title": title,
        "status": "queued",
        "conclusion": None,
        "head_sha": "abc",
        "head_branch": "main",
        "event": "workflow_dispatch",
        "run_attempt": 1,
        "html_url": f"{API}/{REPO}/actions/runs/{run_id}",
        "created_at": created_at,
        "updated_at": created_at,
    }


def _listing(*runs: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"total_count": len(runs), "workflow_runs": list(runs)})


@respx.mock
async def test_without_run_details_the_run_titled_with_its_id_is_linked(
    database: Database, db_session: AsyncSession
) -> None:
    run, (workspace, task) = await _queued_run(db_session)
    other = await create_test_run(db_session, workspace, task)
    dispatch = respx.post(DISPATCHES).mock(return_value=httpx.Response(204))
    ours = _run(502, "2026-11-22T10:00:01Z", f"tenon-run {run.id}")
    theirs = _run(503, "2026-11-22T10:00:05Z", f"tenon-run {other.id}")
    listing = respx.get(RUNS).mock(side_effect=[_listing(theirs, ours)])
    async with httpx.AsyncClient() as http:
        await DISPATCH_RUN.run(_context(database, http), {"runId": run.id})

    assert dispatch.call_count == 1
    assert listing.call_count == 1  # a first dispatch has nothing to look for beforehand
    params = listing.calls.last.request.url.params
    assert (params["event"], params["branch"]) == ("workflow_dispatch", "main")
    assert params["created"].startswith(">=")
    await db_session.refresh(run)
    assert (run.status, run.github_run_id) == ("running", 502)
    assert run.github_run_url == f"{API}/{REPO}/actions/runs/502"
    polls = (await db_session.scalars(select(Job).where(Job.type == "runs.poll"))).all()
    assert [job.payload["runId"] for job in polls] == [run.id]


@respx.mock
async def test_a_refused_dispatch_ends_the_run_as_an_error(
    database: Database, db_session: AsyncSession
) -> None:
    run, _ = await _queued_run(db_session)
    respx.get(RUNS).mock(return_value=_listing())
    respx.post(DISPATCHES).mock(
        return_value=httpx.Response(
            422, json={"message": "Workflow does not have 'workflow_dispatch' trigger"}
        )
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(PermanentJobError) as dead:
            await DISPATCH_RUN.run(_context(database, http), {"runId": run.id})
    await db_session.refresh(run)
    # The candidate gets a code and words; GitHub's answer is the job's error.
    assert (run.status, run.result_code) == ("error", "DISPATCH_FAILED")
    assert run.stderr == FINAL_MESSAGE
    assert "workflow_dispatch" in str(dead.value)


@respx.mock
async def test_a_dispatch_that_keeps_failing_ends_the_run_with_a_final_message(
    database: Database, db_session: AsyncSession
) -> None:
    run, _ = await _queued_run(db_session)
    respx.get(RUNS).mock(return_value=_listing())
    respx.post(DISPATCHES).mock(return_value=httpx.Response(502, json={"message": "Bad"}))
    async with httpx.AsyncClient() as http:
        with pytest.raises(GitHubUnavailableError):
            await DISPATCH_RUN.run(_context(database, http), {"runId": run.id})
        await db_session.refresh(run)
        assert run.status == "dispatching"  # an attempt left: the job will look again
        # The last attempt, past the listing grace: no run listed, the dispatch fails again.
        run.dispatched_at = SystemClock().now() - 2 * LISTING_GRACE
        await db_session.flush()
        last = _context(database, http, attempt=DISPATCH_RUN.max_attempts)
        with pytest.raises(PermanentJobError) as dead:
            await DISPATCH_RUN.run(last, {"runId": run.id})

    await db_session.refresh(run)
    assert (run.status, run.result_code, run.stderr) == ("error", "DISPATCH_FAILED", FINAL_MESSAGE)
    assert "retry" not in (run.stderr or "").lower()
    assert "502" in str(dead.value)
