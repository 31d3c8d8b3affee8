"""Dispatching a run when GitHub does not return the run's id (older servers): the run is
found among the branch's workflow_dispatch runs, skipping one another run already
claimed; and a dispatch GitHub refuses ends the run as an error. GitHub is mocked with
respx here; the emulator always returns run details."""

from __future__ import annotations

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
from app.jobs.models import Job
from app.jobs.registry import JobContext, PermanentJobError
from app.runs.jobs import DISPATCH_RUN
from app.runs.models import TestRun
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
    services = Services(
        settings=base.settings,
        email=base.email,
        token_cipher=base.token_cipher,
        metrics=base.metrics,
        github=github,
    )
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


def _run(run_id: int, created_at: str) -> dict[str, Any]:
    return {
        "id": run_id,
        "name": "tenon-ci",
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


@respx.mock
async def test_without_run_details_the_unclaimed_dispatched_run_is_linked(
    database: Database, db_session: AsyncSession
) -> None:
    run, (workspace, task) = await _queued_run(db_session)
    await create_test_run(db_session, workspace, task, status="running", github_run_id=501)
    respx.post(f"{API}/repos/{REPO}/actions/workflows/tenon-ci.yml/dispatches").mock(
        return_value=httpx.Response(204)
    )
    listing = respx.get(f"{API}/repos/{REPO}/actions/workflows/tenon-ci.yml/runs").mock(
        return_value=httpx.Response(
            200,
            json={
                "total_count": 2,
                "workflow_runs": [
                    _run(502, "2026-11-22T10:00:05Z"),
                    _run(501, "2026-11-22T10:00:01Z"),
                ],
            },
        )
    )
    async with httpx.AsyncClient() as http:
        await DISPATCH_RUN.run(_context(database, http), {"runId": run.id})

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
    respx.post(f"{API}/repos/{REPO}/actions/workflows/tenon-ci.yml/dispatches").mock(
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
    assert run.stderr == "The tests could not be started on GitHub; run them again."
    assert "workflow_dispatch" in str(dead.value)
