"""Dispatching a test run recovers both ways, against the GitHub emulator over real HTTP (each
test runs the jobs it is about, no worker): a dispatch GitHub accepted whose answer was lost
is linked to the run it created, found by its title `tenon-run <id>`, never dispatched
twice; a worker that died while sending the dispatch (the run left `dispatching`, no run on
GitHub) has it sent once the listing grace is over, not ended as DISPATCH_FAILED. Each run
then completes. The shipped CI workflows give their runs that title."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import SystemClock
from app.core.db import Database
from app.github_emulator.config import DEFAULT_TEMPLATES_DIR
from app.integrations.github.errors import GitHubUnavailableError
from app.jobs.registry import RetryLaterError
from app.runs import workflow
from app.runs.jobs import COLLECT_RUN, DISPATCH_RUN, POLL_RUN
from app.runs.models import TestRun
from tests.support.emulator import (
    completed_run,
    emulator_config,
    running_emulator,
    write_template,
)
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_simulation,
    create_task,
    create_test_run,
    create_workspace,
)
from tests.support.jobs import EmulatorJobs

REPO = "tenon-templates/tenon-ws"
# The shipped workflows' header, and a step writing canned results: the run is quick.
CI_WORKFLOW = """\
name: tenon-ci
run-name: tenon-run ${{ inputs.tenon_run_id }}
on:
  workflow_dispatch:
    inputs:
      tenon_run_id:
        required: false
        default: ""
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo '{"passed": 2, "failed": 0, "skipped": 0, "total": 2}' > tenon-test-results.json
      - uses: actions/upload-artifact@v4
        with:
          name: tenon-test-results
          path: tenon-test-results.json
"""


@asynccontextmanager
async def scene(tmp_path: Path, database: Database) -> AsyncIterator[EmulatorJobs]:
    templates = tmp_path / "templates"
    write_template(templates, "tenon-ws", {".github/workflows/tenon-ci.yml": CI_WORKFLOW})
    config = emulator_config(tmp_path, templates_dir=templates)
    async with (
        running_emulator(config) as github,
        github.client() as api,
        httpx.AsyncClient() as http,
    ):
        yield EmulatorJobs(github=github, api=api, http=http, database=database)


async def _queued_run(db_session: AsyncSession) -> TestRun:
    simulation = await create_simulation(db_session, await create_company(db_session))
    task = await create_task(db_session, simulation, day_index=1, type="code")
    cs = await create_candidate_session(db_session, simulation, status="in_progress")
    workspace = await create_workspace(db_session, cs)
    workspace.repo_full_name = REPO
    workspace.default_branch = "main"
    workspace.status = "ready"
    run = await create_test_run(db_session, workspace, task)
    await db_session.flush()
    return run


async def _completes(s: EmulatorJobs, run: TestRun, db_session: AsyncSession) -> TestRun:
    """Wait for the linked GitHub run, then let the poller see it and collect."""
    await db_session.refresh(run)
    assert run.github_run_id is not None
    await completed_run(s.api, REPO, run.github_run_id, within=60)
    await POLL_RUN.run(s.context(POLL_RUN), {"runId": run.id})
    await COLLECT_RUN.run(s.context(COLLECT_RUN), {"runId": run.id})
    await db_session.refresh(run)
    return run


async def test_a_lost_dispatch_answer_is_linked_by_the_run_title_not_dispatched_again(
    tmp_path: Path, database: Database, db_session: AsyncSession
) -> None:
    async with scene(tmp_path, database) as s:
        lose = {"route": r"^POST .*/dispatches$", "lose_response": True, "times": 1}
        assert (await s.api.post("/_emulator/faults", json=[lose])).status_code == 200
        run = await _queued_run(db_session)
        with pytest.raises(GitHubUnavailableError):
            await DISPATCH_RUN.run(s.context(DISPATCH_RUN), {"runId": run.id})
        await db_session.refresh(run)
        assert (run.status, run.github_run_id) == ("dispatching", None)

        # The next attempt, within the listing grace: the run GitHub created is found.
        await DISPATCH_RUN.run(s.context(DISPATCH_RUN, attempt=2), {"runId": run.id})
        runs = await s.workflow_runs(REPO)
        run = await _completes(s, run, db_session)
        stats = (await s.api.get("/_emulator/stats")).json()

    assert stats["faults_injected"] == {"lost_response": 1}
    assert [(r["id"], r["display_title"]) for r in runs] == [
        (run.github_run_id, f"tenon-run {run.id}")
    ]
    assert (run.status, run.passed, run.total) == ("passed", 2, 2)


async def test_a_worker_dying_while_dispatching_has_the_dispatch_sent_after_the_grace(
    tmp_path: Path, database: Database, db_session: AsyncSession
) -> None:
    async with scene(tmp_path, database) as s:
        run = await _queued_run(db_session)
        # The worker marked the run and died before GitHub got the dispatch.
        run.status, run.dispatched_at = "dispatching", SystemClock().now()
        await db_session.flush()
        with pytest.raises(RetryLaterError) as deferred:
            await DISPATCH_RUN.run(s.context(DISPATCH_RUN, attempt=2), {"runId": run.id})
        assert await s.workflow_runs(REPO) == []  # within the grace: nothing sent
        # The next look comes when the grace is over, and costs the job no attempt.
        assert deferred.value.at == run.dispatched_at + workflow.LISTING_GRACE

        run.dispatched_at = SystemClock().now() - 2 * workflow.LISTING_GRACE
        await db_session.flush()
        await DISPATCH_RUN.run(s.context(DISPATCH_RUN, attempt=3), {"runId": run.id})
        runs = await s.workflow_runs(REPO)
        run = await _completes(s, run, db_session)

    assert [(r["id"], r["display_title"]) for r in runs] == [
        (run.github_run_id, f"tenon-run {run.id}")
    ]
    assert (run.status, run.result_code, run.passed) == ("passed", "OK", 2)


def test_the_shipped_ci_workflows_title_their_runs_with_the_run_id() -> None:
    layers = sorted(DEFAULT_TEMPLATES_DIR.glob("*/.github/workflows/tenon-ci.yml"))
    assert layers  # the CI layers every code and debug template is composed from
    for path in layers:
        document = yaml.safe_load(path.read_text())
        assert "tenon_run_id" in document[True]["workflow_dispatch"]["inputs"], path
        assert document["run-name"] == "tenon-run ${{ inputs.tenon_run_id }}", path
        assert workflow.run_title(7) == "tenon-run 7"
