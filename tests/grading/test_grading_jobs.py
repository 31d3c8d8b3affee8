"""The grading jobs step by step against the GitHub emulator over real HTTP (no webhooks,
no worker: each test runs the job it is about): a dispatch whose answer is lost is found
again by its run title instead of dispatched twice; one a dying worker never sent is sent
after the listing grace; a grader run without results, and a
grader that is not installed, end the grading with a code."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import SystemClock
from app.core.db import Database
from app.grading import service as grading_service
from app.grading.jobs import COLLECT_GRADING, GRADE_SUBMISSION, POLL_GRADING
from app.grading.models import Grading
from app.integrations.github.errors import GitHubUnavailableError
from app.jobs.registry import RetryLaterError
from app.runs.workflow import LISTING_GRACE
from tests.support.emulator import (
    completed_run,
    emulator_config,
    running_emulator,
)
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_simulation,
    create_submission,
    create_task,
)
from tests.support.grader import GRADER, grader_tests, grading_workflow, templates_with_graders
from tests.support.jobs import EmulatorJobs

GRADER_REPO = f"tenon-templates/{GRADER}"
CANDIDATE_REPO = "acme-workspaces/tenon-candidate"
CUTOFF = "b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2"


class LosingDispatchAnswers(httpx.AsyncBaseTransport):
    """Sends every request; the answers to the first `losses` dispatches are lost on the way
    back (GitHub started the run, the caller never hears of it)."""

    def __init__(self, losses: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.losses = losses

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/dispatches") and self.losses:
            self.losses -= 1
            await response.aclose()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def scene(
    tmp_path: Path,
    database: Database,
    graders: dict[str, str | None],
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[EmulatorJobs]:
    templates = templates_with_graders(tmp_path, graders, templates=False)
    config = emulator_config(tmp_path, templates_dir=templates)
    async with (
        running_emulator(config) as github,
        github.client() as api,
        httpx.AsyncClient(transport=transport) as http,
    ):
        yield EmulatorJobs(github=github, api=api, http=http, database=database)


async def _queued_grading(db_session: AsyncSession) -> Grading:
    simulation = await create_simulation(db_session, await create_company(db_session))
    task = await create_task(db_session, simulation, day_index=1, type="code")
    cs = await create_candidate_session(db_session, simulation, status="in_progress")
    submission = await create_submission(db_session, cs, task, content_text=None)
    grading = await grading_service.queue_grading(
        db_session,
        submission_id=submission.id,
        grader_repo=GRADER_REPO,
        candidate_repo=CANDIDATE_REPO,
        candidate_sha=CUTOFF,
        now=SystemClock().now(),
    )
    await db_session.flush()
    return grading


async def _run_to_the_end(s: EmulatorJobs, grading: Grading, db_session: AsyncSession) -> Grading:
    """Dispatch, wait for the grader's run, then let the poller see it and collect."""
    await GRADE_SUBMISSION.run(s.context(GRADE_SUBMISSION), {"gradingId": grading.id})
    await db_session.refresh(grading)
    assert grading.github_run_id is not None
    await completed_run(s.api, GRADER_REPO, grading.github_run_id, within=60)
    await POLL_GRADING.run(s.context(POLL_GRADING), {"gradingId": grading.id})
    await COLLECT_GRADING.run(s.context(COLLECT_GRADING), {"gradingId": grading.id})
    await db_session.refresh(grading)
    return grading


async def test_a_lost_dispatch_answer_is_found_by_its_run_title_not_dispatched_again(
    tmp_path: Path, database: Database, db_session: AsyncSession
) -> None:
    workflow = grading_workflow(grader_tests("visible", 2) + grader_tests("hidden", 1, 1))
    transport = LosingDispatchAnswers(losses=1)
    async with scene(tmp_path, database, {GRADER: workflow}, transport) as s:
        grading = await _queued_grading(db_session)
        with pytest.raises(GitHubUnavailableError):
            await GRADE_SUBMISSION.run(s.context(GRADE_SUBMISSION), {"gradingId": grading.id})
        await db_session.refresh(grading)
        assert (grading.status, grading.github_run_id) == ("dispatching", None)
        assert transport.losses == 0

        retry = s.context(GRADE_SUBMISSION, attempt=2)
        await GRADE_SUBMISSION.run(retry, {"gradingId": grading.id})
        runs = await s.workflow_runs(GRADER_REPO)
        await db_session.refresh(grading)
        inputs = s.github.emulator.store.state.runs[runs[0]["id"]].inputs

    assert len(runs) == 1
    assert runs[0]["display_title"] == f"tenon-grade {grading.id}"
    assert (grading.status, grading.github_run_id) == ("running", runs[0]["id"])
    assert grading.grader_sha == runs[0]["head_sha"]
    assert inputs == {
        "candidate_repo": CANDIDATE_REPO,
        "candidate_sha": CUTOFF,
        "tenon_grading_id": str(grading.id),
    }


async def test_a_worker_dying_while_dispatching_has_the_grader_dispatched_after_the_grace(
    tmp_path: Path, database: Database, db_session: AsyncSession
) -> None:
    workflow = grading_workflow(grader_tests("visible", 2) + grader_tests("hidden", 1))
    async with scene(tmp_path, database, {GRADER: workflow}) as s:
        grading = await _queued_grading(db_session)
        # The worker marked the grading and died before GitHub got the dispatch.
        grading.status, grading.dispatched_at = "dispatching", SystemClock().now()
        await db_session.flush()
        with pytest.raises(RetryLaterError) as deferred:
            await GRADE_SUBMISSION.run(s.context(GRADE_SUBMISSION), {"gradingId": grading.id})
        assert await s.workflow_runs(GRADER_REPO) == []  # within the grace: nothing sent
        assert deferred.value.at == grading.dispatched_at + LISTING_GRACE

        grading.dispatched_at = SystemClock().now() - 2 * LISTING_GRACE
        await db_session.flush()
        grading = await _run_to_the_end(s, grading, db_session)
        runs = await s.workflow_runs(GRADER_REPO)

    assert [(run["id"], run["display_title"]) for run in runs] == [
        (grading.github_run_id, f"tenon-grade {grading.id}")
    ]
    assert (grading.status, grading.error_code) == ("completed", None)


async def test_grading_stores_counts_hidden_apart_tests_and_the_artifact_hash(
    tmp_path: Path, database: Database, db_session: AsyncSession
) -> None:
    tests = grader_tests("visible", 3, 1) + grader_tests("hidden", 1, 1)
    async with scene(tmp_path, database, {GRADER: grading_workflow(tests)}) as s:
        grading = await _run_to_the_end(s, await _queued_grading(db_session), db_session)
        artifacts = (
            await s.api.get(f"/repos/{GRADER_REPO}/actions/runs/{grading.github_run_id}/artifacts")
        ).json()["artifacts"]
        redirect = await s.api.get(
            f"/repos/{GRADER_REPO}/actions/artifacts/{artifacts[0]['id']}/zip"
        )
        async with s.github.client(token=None) as storage:  # a signed URL takes no token
            download = await storage.get(redirect.headers["Location"])
        stored = await grading_service.of_submission(db_session, grading.submission_id)

    assert (grading.status, grading.result_code, grading.conclusion) == (
        "completed",
        "OK",
        "success",
    )
    assert (grading.passed, grading.failed, grading.total) == (4, 2, 6)
    assert (grading.hidden_passed, grading.hidden_total) == (1, 2)
    assert (grading.visible_passed, grading.visible_total) == (3, 4)
    assert grading.artifact_name == "tenon-grade-results"
    assert grading.artifact_sha256 == hashlib.sha256(download.content).hexdigest()
    assert stored is not None
    assert [(t.classname, t.hidden, t.status) for t in stored.tests] == [
        (t.classname, t.classname.startswith("hidden"), "passed" if t.passed else "failed")
        for t in tests
    ]


@pytest.mark.parametrize(
    ("workflow", "code"),
    [
        (grading_workflow(None), "ARTIFACT_MISSING"),
        (grading_workflow(None, fail_before_results=True), "GRADER_RUN_FAILED"),
    ],
    ids=["no-results-uploaded", "grader-failed-before-results"],
)
async def test_a_grader_run_without_results_ends_the_grading_with_a_code(
    tmp_path: Path, database: Database, db_session: AsyncSession, workflow: str, code: str
) -> None:
    async with scene(tmp_path, database, {GRADER: workflow}) as s:
        grading = await _run_to_the_end(s, await _queued_grading(db_session), db_session)
    assert (grading.status, grading.error_code, grading.result_code) == (
        "error",
        code,
        "ARTIFACT_MISSING",
    )
    assert grading.completed_at is not None
    assert grading.error_detail
    assert "retry" not in grading.error_detail
    assert grading.passed is None


@pytest.mark.parametrize(
    "graders",
    [{}, {GRADER: None}],
    ids=["no-grader-repository", "grader-without-its-workflow"],
)
async def test_a_grader_that_is_not_installed_ends_the_grading_at_once(
    tmp_path: Path, database: Database, db_session: AsyncSession, graders: dict[str, str | None]
) -> None:
    async with scene(tmp_path, database, graders) as s:
        grading = await _queued_grading(db_session)
        await GRADE_SUBMISSION.run(s.context(GRADE_SUBMISSION), {"gradingId": grading.id})
        dispatched = s.github.emulator.store.state.runs
    await db_session.refresh(grading)
    assert (grading.status, grading.error_code) == ("error", "GRADER_NOT_INSTALLED")
    assert (
        grading.error_detail == "The grader repository or its workflow is not installed on GitHub."
    )
    assert dispatched == {}
