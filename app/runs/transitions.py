"""A test run's state, changed as its jobs learn from GitHub (`jobs`): each change in the
caller's transaction and announced to whoever watches the run (`live`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.integrations.github.schemas import WorkflowRun
from app.jobs.registry import PermanentJobError
from app.runs import repository
from app.runs.live import notify_run_changed
from app.runs.models import ACTIVE_TEST_RUN_STATUSES, TestCaseResult, TestRun
from app.runs.results import ParsedResults
from app.workspaces import service as workspaces
from app.workspaces.models import TestRunStatus
from app.workspaces.schemas import LastRun


async def run_and_repo(session: AsyncSession, run_id: int) -> tuple[TestRun, str, str]:
    """The run, its repository's full name and default branch."""
    run = await repository.by_id(session, run_id)
    if run is None:
        raise PermanentJobError(f"No test run {run_id}.")
    workspace = await workspaces.by_id(session, run.workspace_id)
    # Runs are only created for ready workspaces.
    if workspace is None or not workspace.repo_full_name:
        raise PermanentJobError(f"Test run {run_id} has no repository.")
    return run, workspace.repo_full_name, workspace.default_branch or "main"


async def fail(
    session: AsyncSession, run_id: int, code: str, detail: str, *, now: datetime
) -> bool:
    """End an active run as `error`, with a code and a message for the candidate; False
    when the run is not active (any more)."""
    run = await repository.by_id(session, run_id, for_update=True)
    if run is None or run.status not in ACTIVE_TEST_RUN_STATUSES:
        return False
    run.status = "error"
    run.result_code = code
    run.stderr = detail
    run.completed_at = now
    await notify_run_changed(session, run.id)
    return True


async def start_dispatch(session: AsyncSession, run_id: int, *, now: datetime) -> bool:
    """Mark the run as being dispatched now (committed before the dispatch is sent, so a
    later attempt knows to look for its GitHub run first); False when it no longer waits
    for a dispatch."""
    run = await repository.by_id(session, run_id, for_update=True)
    if run is None or run.status not in ("queued", "dispatching") or run.github_run_id:
        return False
    run.status = "dispatching"
    run.dispatched_at = now
    await notify_run_changed(session, run_id)
    return True


async def link(session: AsyncSession, run_id: int, github_run_id: int, url: str | None) -> bool:
    """Link the run to its GitHub run; False when that GitHub run is another run's."""
    if not await repository.claim_github_run(session, run_id, github_run_id, url):
        return False
    await notify_run_changed(session, run_id)
    return True


def _final_status(conclusion: str | None, parsed: ParsedResults) -> TestRunStatus:
    if parsed.result_code != "OK":
        return "error"
    if conclusion == "success" and parsed.failed == 0 and parsed.errors == 0:
        return "passed"
    return "failed"


async def store_results(
    session: AsyncSession,
    run_id: int,
    github_run: WorkflowRun,
    parsed: ParsedResults,
    *,
    now: datetime,
) -> bool:
    """Finish an active run with its results and make it its workspace's last run; False
    when the run is not active (any more)."""
    run = await repository.by_id(session, run_id, for_update=True)
    if run is None or run.status not in ACTIVE_TEST_RUN_STATUSES:
        return False
    run.status = _final_status(github_run.conclusion, parsed)
    run.conclusion = github_run.conclusion
    run.head_sha = github_run.head_sha or run.head_sha
    run.result_code = parsed.result_code
    run.artifact_name = parsed.artifact_name
    run.passed, run.failed = parsed.passed, parsed.failed
    run.skipped, run.errors, run.total = parsed.skipped, parsed.errors, parsed.total
    run.stdout, run.stderr = parsed.stdout, parsed.stderr
    run.stdout_truncated, run.stderr_truncated = (
        parsed.stdout_truncated,
        parsed.stderr_truncated,
    )
    run.completed_at = now
    started = run.started_at or run.dispatched_at
    run.duration_ms = int((now - started).total_seconds() * 1000) if started else None
    await repository.replace_tests(
        session,
        run.id,
        [
            TestCaseResult(
                test_run_id=run.id,
                position=position,
                name=test.name,
                classname=test.classname,
                status=test.status,
                duration_ms=test.duration_ms,
                message=test.message,
            )
            for position, test in enumerate(parsed.tests)
        ],
    )
    # The run's head is not taken as the latest commit: the branch may have moved since
    # the run was dispatched (workspaces.commits follows the branch itself).
    await workspaces.record_run_result(
        session,
        run.workspace_id,
        LastRun(
            run_id=run.id,
            status=run.status,
            conclusion=run.conclusion,
            passed=run.passed,
            failed=run.failed,
            total=run.total,
            completed_at=now,
        ),
    )
    await notify_run_changed(session, run.id)
    return True
