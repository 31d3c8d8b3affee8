"""Test runs end to end over real HTTP: Tenon served by uvicorn with its in-process worker,
the GitHub emulator running the template's workflow for real and sending signed
webhooks back, the candidate watching the run over Server-Sent Events."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

from app.core.db import Database
from app.github_emulator.faults import FaultRule
from app.runs.workflow import LISTING_GRACE
from tests.support.api import assert_problem
from tests.support.emulator import eventually
from tests.support.identity import IdentityProvider
from tests.support.stack import (
    BROKEN_LINE,
    FIXED_LINE,
    Stack,
    candidate_headers,
    claimed_simulation,
    one_task,
    ready_workspace,
    stack,
)


async def _push_fix(s: Stack, repo: str) -> str:
    """The candidate fixes the pagination bug with a commit, as a push would."""
    current = (await s.github.get(f"/repos/{repo}/contents/app/store.py")).json()
    source = base64.b64decode(current["content"]).decode()
    fixed = source.replace(BROKEN_LINE, FIXED_LINE).encode()
    put = await s.github.put(
        f"/repos/{repo}/contents/app/store.py",
        json={
            "message": "Fix pagination",
            "content": base64.b64encode(fixed).decode(),
            "sha": current["sha"],
            "branch": "main",
        },
    )
    assert put.status_code == 200, put.text
    sha: str = put.json()["commit"]["sha"]
    return sha


async def _stream(s: Stack, task_id: int, run_id: int, within: float = 60) -> list[dict[str, Any]]:
    return await asyncio.wait_for(_read_stream(s, task_id, run_id), within)


async def _read_stream(s: Stack, task_id: int, run_id: int) -> list[dict[str, Any]]:
    events = []
    async with s.tenon.stream(
        "GET", f"/api/tasks/{task_id}/run/{run_id}/events", headers=candidate_headers(s)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line.removeprefix("data:").strip()))
    return events


async def test_a_debug_run_streams_to_completion_with_the_planted_failures(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "debug")
        started = await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        assert started.status_code == 202, started.text
        assert started.json()["status"] == "queued"
        assert started.json()["pollAfterMs"] > 0
        run_id = started.json()["runId"]

        events = await _stream(s, task_id, run_id)
        result = (
            await s.tenon.get(f"/api/tasks/{task_id}/run/{run_id}", headers=candidate_headers(s))
        ).json()

    statuses = [event["status"] for event in events]
    assert statuses[-1] == "failed"
    assert "running" in statuses
    order = ["queued", "dispatching", "running", "failed"]
    assert [order.index(status) for status in statuses] == sorted(
        order.index(status) for status in statuses
    )  # never backwards
    assert result == events[-1]
    assert (result["passed"], result["failed"], result["total"]) == (11, 4, 15)
    assert result["conclusion"] == "failure"
    assert result["resultCode"] == "OK"
    assert result["artifactName"] == "tenon-test-results"
    assert result["commitSha"] == workspace["baseTemplateSha"]
    failing = sorted(test["name"] for test in result["tests"] if test["status"] == "failed")
    assert len(failing) == 4
    assert "test_list_tasks_paginates" in failing
    assert len(result["tests"]) == 15


async def test_a_fixed_bug_passes_and_the_workspace_remembers_the_run(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
        head = await _push_fix(s, workspace["repoFullName"])
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        events = await _stream(s, task_id, run_id)
        status = (
            await s.tenon.get(
                f"/api/tasks/{task_id}/codespace/status", headers=candidate_headers(s)
            )
        ).json()
    assert events[-1]["status"] == "passed"
    assert events[-1]["commitSha"] == head
    assert status["latestCommitSha"] == head
    assert status["lastRun"]["runId"] == run_id
    assert status["lastRun"]["passed"] == 15


async def test_without_webhooks_the_poller_completes_the_run(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp, webhooks=False) as s:
        task_id, _ = await ready_workspace(s, "code")
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        seen = []

        async def final() -> dict[str, Any] | None:
            run: dict[str, Any] = (
                await s.tenon.get(
                    f"/api/tasks/{task_id}/run/{run_id}", headers=candidate_headers(s)
                )
            ).json()
            seen.append(run["resultCode"])
            return run if run["status"] in ("passed", "failed", "error") else None

        result = await eventually(final, within=90, interval=0.2)
    assert result["status"] == "passed"
    assert result["total"] == 15
    # Polled all along while it ran: never an "artifact missing" on the way.
    assert set(seen[:-1]) <= {None}


async def test_runs_need_aready_workspace(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id = (await claimed_simulation(s, one_task("code")))[1]
        response = await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
    assert_problem(response, 409, "WORKSPACE_NOT_READY")


async def test_the_run_completes_through_502s_and_a_secondary_rate_limit(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    faults = (
        FaultRule(route=r"^POST .*/dispatches$", rate_limit="secondary", retry_after=1, times=1),
        FaultRule(route=r"^(GET|POST|PUT) /(repos|users)/", error_rate=0.3, status=502),
    )
    async with stack(tmp_path, jobs_database_url, jobs_db, idp, faults=faults, fault_seed=11) as s:
        task_id, _ = await ready_workspace(s, "debug")
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        # A 502 to the dispatch may hide a run GitHub did start: it is sent again only once
        # the listing grace shows none.
        within = 60 + LISTING_GRACE.total_seconds()
        events = await _stream(s, task_id, run_id, within)
        stats = (await s.github.get("/_emulator/stats")).json()
    assert events[-1]["status"] == "failed"
    assert (events[-1]["passed"], events[-1]["failed"]) == (11, 4)
    assert stats["faults_injected_total"] >= 3


async def test_a_client_leaving_the_stream_early_is_let_go(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, _ = await ready_workspace(s, "code")
        run_id = (
            await s.tenon.post(f"/api/tasks/{task_id}/run", headers=candidate_headers(s))
        ).json()["runId"]
        hub = s.app.state.run_events
        path = f"/api/tasks/{task_id}/run/{run_id}/events"
        async with s.tenon.stream("GET", path, headers=candidate_headers(s)) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    break  # the first state arrived; the client hangs up
            assert hub.watched_runs == 1

        async def released() -> bool | None:
            return True if hub.watched_runs == 0 else None

        await eventually(released, within=10)
        final = await eventually(lambda: _final_run(s, task_id, run_id), within=60, interval=0.3)
    assert final["status"] == "passed"  # the run itself carried on


async def _final_run(s: Stack, task_id: int, run_id: int) -> dict[str, Any] | None:
    run: dict[str, Any] = (
        await s.tenon.get(f"/api/tasks/{task_id}/run/{run_id}", headers=candidate_headers(s))
    ).json()
    return run if run["status"] in ("passed", "failed", "error") else None
