"""A grading's state, changed as its jobs learn from GitHub (`jobs`), each change in the
caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions import service as candidate_sessions
from app.grading import repository
from app.grading.models import ACTIVE_GRADING_STATUSES, Grading, GradingTestResult
from app.integrations.github.schemas import WorkflowRun
from app.jobs.registry import PermanentJobError
from app.runs.results import ParsedResults, ParsedTestCase
from app.webhooks import service as webhooks


def is_hidden(classname: str | None) -> bool:
    """The contract's rule: a grader test is hidden iff its classname is `hidden` or
    starts with `hidden.`."""
    return _in_group(classname, "hidden")


def _is_visible(classname: str | None) -> bool:
    # The grader's ported copies of the template's visible tests.
    return _in_group(classname, "visible")


def _in_group(classname: str | None, group: str) -> bool:
    return classname is not None and (classname == group or classname.startswith(f"{group}."))


async def load(session: AsyncSession, grading_id: int) -> Grading:
    grading = await repository.by_id(session, grading_id)
    if grading is None:
        raise PermanentJobError(f"No grading {grading_id}.")
    return grading


async def fail(
    session: AsyncSession, grading_id: int, code: str, detail: str, *, now: datetime
) -> bool:
    """End an active grading as `error`; False when it is not active (any more)."""
    grading = await repository.by_id(session, grading_id, for_update=True)
    if grading is None or grading.status not in ACTIVE_GRADING_STATUSES:
        return False
    grading.status = "error"
    grading.error_code = code
    grading.error_detail = detail
    grading.completed_at = now
    return True


async def start_dispatch(session: AsyncSession, grading_id: int, *, now: datetime) -> bool:
    """Mark the grading as being dispatched now (committed before the dispatch is sent, so
    a later attempt knows to look for the run first); False when it is no longer waiting
    for a dispatch."""
    grading = await repository.by_id(session, grading_id, for_update=True)
    if grading is None or grading.status not in ("queued", "dispatching"):
        return False
    if grading.github_run_id is not None:
        return False
    grading.status = "dispatching"
    grading.dispatched_at = now
    return True


async def link(session: AsyncSession, grading_id: int, github_run: WorkflowRun) -> bool:
    """Link the grading to its GitHub run; False when that run is another grading's."""
    return await repository.claim_github_run(
        session, grading_id, github_run.id, github_run.html_url, github_run.head_sha
    )


async def store_results(
    session: AsyncSession,
    grading_id: int,
    github_run: WorkflowRun,
    parsed: ParsedResults,
    artifact_sha256: str | None,
    *,
    now: datetime,
) -> bool:
    """Finish an active grading with what its run produced; False when it is not active
    (any more). A run without readable results ends as `error`: GRADER_RUN_FAILED when the
    run itself failed, else what was wrong with its artifacts."""
    grading = await repository.by_id(session, grading_id, for_update=True)
    if grading is None or grading.status not in ACTIVE_GRADING_STATUSES:
        return False
    grading.conclusion = github_run.conclusion
    grading.grader_sha = github_run.head_sha or grading.grader_sha
    grading.result_code = parsed.result_code
    grading.artifact_name = parsed.artifact_name
    grading.artifact_sha256 = artifact_sha256
    grading.completed_at = now
    if parsed.result_code != "OK":
        grading.status = "error"
        grading.error_code = (
            parsed.result_code if github_run.conclusion == "success" else "GRADER_RUN_FAILED"
        )
        grading.error_detail = parsed.detail
        return True
    grading.status = "completed"
    grading.passed, grading.failed = parsed.passed, parsed.failed
    grading.skipped, grading.errors, grading.total = parsed.skipped, parsed.errors, parsed.total
    grading.tests_truncated = parsed.tests_truncated
    hidden = [test for test in parsed.tests if is_hidden(test.classname)]
    visible = [test for test in parsed.tests if _is_visible(test.classname)]
    grading.hidden_passed, grading.hidden_total = _passed(hidden), len(hidden)
    grading.visible_passed, grading.visible_total = _passed(visible), len(visible)
    await repository.replace_tests(
        session,
        grading.id,
        [
            GradingTestResult(
                grading_id=grading.id,
                position=position,
                name=test.name,
                classname=test.classname,
                status=test.status,
                hidden=is_hidden(test.classname),
                duration_ms=test.duration_ms,
                message=test.message,
            )
            for position, test in enumerate(parsed.tests)
        ],
    )
    await _publish_completed(session, grading, now=now)
    return True


async def _publish_completed(session: AsyncSession, grading: Grading, *, now: datetime) -> None:
    cs = await candidate_sessions.of_submission(session, grading.submission_id)
    assert cs is not None  # guaranteed by the foreign keys
    await webhooks.publish(
        session,
        simulation_id=cs.simulation_id,
        event="grading.completed",
        data={
            "gradingId": grading.id,
            "submissionId": grading.submission_id,
            "candidateSessionId": cs.id,
            "simulationId": cs.simulation_id,
            "passed": grading.passed,
            "failed": grading.failed,
            "skipped": grading.skipped,
            "errors": grading.errors,
            "total": grading.total,
            "hiddenPassed": grading.hidden_passed,
            "hiddenTotal": grading.hidden_total,
            "completedAt": now,
        },
        occurred_at=now,
    )


def _passed(tests: Sequence[ParsedTestCase]) -> int:
    return sum(1 for test in tests if test.status == "passed")
