"""The life of a test run: dispatch → track (webhook, poller as fallback) → collect.

- DISPATCH_RUN dispatches the workflow with our run id as an input and links the GitHub
  run (from `return_run_details`, or by finding the unclaimed `workflow_dispatch` run on
  the branch created after the dispatch; the unique index on the GitHub run id keeps one
  GitHub run to one of ours).
- Completion normally arrives as a `workflow_run` webhook; POLL_RUN is the fallback,
  with conditional GETs and growing delays.
- COLLECT_RUN downloads and parses the artifacts once, only after the run completed, so a
  run that is still going is never recorded as "artifact missing".

Dispatching, finding the run, the poll delays and reading the artifacts follow the rules in
`runs.workflow`, which template health uses too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from app.core.logging import redact_text
from app.core.schemas import ApiModel
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import (
    ArtifactTooLargeError,
    GitHubError,
    GitHubUnavailableError,
)
from app.integrations.github.schemas import WorkflowRun
from app.integrations.github.webhooks import WebhookEvent
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType, PermanentJobError
from app.runs import repository, workflow
from app.runs.live import notify_run_changed
from app.runs.models import ACTIVE_TEST_RUN_STATUSES, TestCaseResult, TestRun, TestRunStatus
from app.runs.results import ParsedResults
from app.services import Services
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)

# A run with no news for this long is given up on.
RUN_DEADLINE = timedelta(hours=2)


class RunRef(ApiModel):
    run_id: int


class PollRef(ApiModel):
    run_id: int
    polls: int = 0


RefT = TypeVar("RefT", RunRef, PollRef)


async def _run_and_repo(context: JobContext[Services], run_id: int) -> tuple[TestRun, str, str]:
    """The run, its repository's full name and default branch."""
    async with context.database.session_scope() as session:
        run = await repository.by_id(session, run_id)
        if run is None:
            raise PermanentJobError(f"No test run {run_id}.")
        workspace = await session.get(Workspace, run.workspace_id)
        # Runs are only created for ready workspaces.
        if workspace is None or not workspace.repo_full_name:
            raise PermanentJobError(f"Test run {run_id} has no repository.")
        return run, workspace.repo_full_name, workspace.default_branch or "main"


async def _fail_run(context: JobContext[Services], run_id: int, code: str, detail: str) -> None:
    async with context.database.session_scope() as session:
        run = await repository.by_id(session, run_id, for_update=True)
        if run is None or run.status not in ACTIVE_TEST_RUN_STATUSES:
            return
        run.status = "error"
        run.result_code = code
        run.stderr = detail
        run.completed_at = context.clock.now()
        await notify_run_changed(session, run.id)
    log.warning("runs.error", run_id=run_id, code=code)


def _failing_the_run(
    code: str, message: str, step: Callable[[JobContext[Services], RefT], Awaitable[None]]
) -> Callable[[JobContext[Services], RefT], Awaitable[None]]:
    """Run a step; when its job gives up, the run ends as `error` with `code` and `message`
    (for the candidate; the exception goes to the log and the job) instead of staying
    active forever."""

    async def handler(context: JobContext[Services], ref: RefT) -> None:
        try:
            await step(context, ref)
        except Exception as exc:
            final = (
                isinstance(exc, PermanentJobError)
                or (isinstance(exc, GitHubError) and not exc.retryable)
                or context.attempt >= context.max_attempts
            )
            if not final:
                raise
            log.warning(
                "runs.step_failed",
                run_id=ref.run_id,
                code=code,
                error=redact_text(f"{type(exc).__name__}: {exc}"),
            )
            await _fail_run(context, ref.run_id, code, message)
            if isinstance(exc, PermanentJobError):
                raise
            raise PermanentJobError(str(exc)) from exc

    return handler


# -- dispatch -------------------------------------------------------------------------------


async def _dispatch(context: JobContext[Services], ref: RunRef) -> None:
    github = context.services.require_github()
    run, repo, default_branch = await _run_and_repo(context, ref.run_id)
    workflow_file = context.services.settings.github.actions_workflow_file
    branch = run.requested_ref or default_branch
    if run.status == "queued":
        now = context.clock.now()
        async with context.database.session_scope() as session:
            claimed = await repository.by_id(session, run.id, for_update=True)
            assert claimed is not None
            claimed.status = "dispatching"
            claimed.dispatched_at = now
            await notify_run_changed(session, run.id)
        try:
            result = await workflow.dispatch(
                github, repo, workflow_file, ref=branch, run_input=str(run.id)
            )
        except GitHubError as exc:
            if exc.retryable:
                await _back_to_queued(context, run.id)
            raise
        run_url = result.html_url
        github_run_id = result.workflow_run_id
        dispatched_at = now
    elif run.status == "dispatching" and run.github_run_id is None:
        # Dispatched by an earlier attempt that could not link the run yet.
        github_run_id, run_url = None, None
        dispatched_at = run.dispatched_at or context.clock.now()
    else:
        return
    if github_run_id is None:
        found = await _find_dispatched_run(context, github, repo, branch, dispatched_at)
        github_run_id, run_url = found.id, found.html_url
    await _link(context, run.id, github_run_id, run_url)


async def _back_to_queued(context: JobContext[Services], run_id: int) -> None:
    async with context.database.session_scope() as session:
        run = await repository.by_id(session, run_id, for_update=True)
        if run is not None and run.status == "dispatching":
            run.status = "queued"


async def _find_dispatched_run(
    context: JobContext[Services],
    github: GitHubClient,
    repo: str,
    branch: str,
    dispatched_at: datetime,
) -> WorkflowRun:
    candidates = await workflow.dispatched_runs(
        github,
        repo,
        context.services.settings.github.actions_workflow_file,
        branch=branch,
        dispatched_at=dispatched_at,
    )
    async with context.database.session_scope() as session:
        claimed = await repository.claimed_among(session, [c.id for c in candidates])
    unclaimed = [c for c in candidates if c.id not in claimed]
    if not unclaimed:
        raise GitHubUnavailableError("The dispatched workflow run is not listed yet; will retry.")
    return unclaimed[0]


async def _link(
    context: JobContext[Services], run_id: int, github_run_id: int, url: str | None
) -> None:
    async with context.database.session_scope() as session:
        if not await repository.claim_github_run(session, run_id, github_run_id, url):
            raise GitHubUnavailableError(f"GitHub run {github_run_id} is another run's; retrying.")
        await notify_run_changed(session, run_id)
        await enqueue(
            session,
            POLL_RUN,
            PollRef(run_id=run_id),
            run_at=context.clock.now() + _poll_delay(context, polls=0),
            dedupe_key=f"poll:{run_id}",
        )
    log.info("runs.dispatched", run_id=run_id, github_run_id=github_run_id)


# -- tracking -------------------------------------------------------------------------------


def _poll_delay(context: JobContext[Services], *, polls: int) -> timedelta:
    return workflow.poll_delay(context.services.settings.github.run_poll_seconds, polls=polls)


async def record_progress(context: JobContext[Services], github_run: WorkflowRun) -> bool:
    """Apply what GitHub says about a run of ours; True when it has completed (and its
    results are now being collected). Used by the webhook handler and the poller."""
    async with context.database.session_scope() as session:
        run = await repository.by_github_run_id(session, github_run.id)
        if run is None:
            return False
        locked = await repository.by_id(session, run.id, for_update=True)
        assert locked is not None
        if locked.status not in ACTIVE_TEST_RUN_STATUSES:
            return True
        locked.head_sha = github_run.head_sha or locked.head_sha
        locked.github_run_url = github_run.html_url or locked.github_run_url
        if github_run.status != "completed":
            locked.status = "running"
            locked.started_at = locked.started_at or context.clock.now()
            await notify_run_changed(session, locked.id)
            return False
        locked.conclusion = github_run.conclusion
        await enqueue(
            session, COLLECT_RUN, RunRef(run_id=locked.id), dedupe_key=f"collect:{locked.id}"
        )
        await notify_run_changed(session, locked.id)
        return True


async def track_workflow_run(context: JobContext[Services], event: WebhookEvent) -> None:
    """The `workflow_run` webhook handler: a run's progress, as it happens."""
    run = WorkflowRun.model_validate(event.payload.get("workflow_run") or {})
    ours = await record_progress(context, run)
    log.info(
        "github.workflow_run.received",
        delivery_id=event.delivery_id,
        action=event.action,
        run_id=run.id,
        status=run.status,
        conclusion=run.conclusion,
        completed=ours,
    )


async def _poll(context: JobContext[Services], ref: PollRef) -> None:
    github = context.services.require_github()
    run, repo, _ = await _run_and_repo(context, ref.run_id)
    if run.status not in ACTIVE_TEST_RUN_STATUSES or run.github_run_id is None:
        return
    github_run = await github.get_workflow_run(repo, run.github_run_id)
    if await record_progress(context, github_run):
        return
    now = context.clock.now()
    if run.dispatched_at and now - run.dispatched_at > RUN_DEADLINE:
        await _fail_run(context, run.id, "RUN_TIMED_OUT", "GitHub never reported completion.")
        return
    delay = _poll_delay(context, polls=ref.polls + 1)
    async with context.database.session_scope() as session:
        await enqueue(
            session,
            POLL_RUN,
            PollRef(run_id=run.id, polls=ref.polls + 1),
            run_at=now + delay,
            dedupe_key=f"poll:{run.id}",
        )


# -- collecting results -----------------------------------------------------------------------


async def _collect(context: JobContext[Services], ref: RunRef) -> None:
    github = context.services.require_github()
    run, repo, _ = await _run_and_repo(context, ref.run_id)
    if run.status not in ACTIVE_TEST_RUN_STATUSES or run.github_run_id is None:
        return  # collected already: results are parsed exactly once
    github_run = await github.get_workflow_run(repo, run.github_run_id)
    artifacts = await workflow.unexpired_artifacts(github, repo, run.github_run_id)
    try:
        parsed = await workflow.download_and_parse(github, repo, artifacts)
    except ArtifactTooLargeError as exc:
        await _fail_run(context, run.id, "ARTIFACT_TOO_LARGE", str(exc))
        return
    await _store_results(context, run.id, github_run, parsed)


def _final_status(conclusion: str | None, parsed: ParsedResults) -> TestRunStatus:
    if parsed.result_code != "OK":
        return "error"
    if conclusion == "success" and parsed.failed == 0 and parsed.errors == 0:
        return "passed"
    return "failed"


async def _store_results(
    context: JobContext[Services], run_id: int, github_run: WorkflowRun, parsed: ParsedResults
) -> None:
    now = context.clock.now()
    async with context.database.session_scope() as session:
        run = await repository.by_id(session, run_id, for_update=True)
        if run is None or run.status not in ACTIVE_TEST_RUN_STATUSES:
            return
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
        workspace = await session.get(Workspace, run.workspace_id)
        assert workspace is not None
        # The run's head is not taken as the latest commit: the branch may have moved since
        # the run was dispatched (workspaces.commits follows the branch itself).
        workspace.last_run_summary = {
            "runId": run.id,
            "status": run.status,
            "conclusion": run.conclusion,
            "passed": run.passed,
            "failed": run.failed,
            "total": run.total,
            "completedAt": now.isoformat(),
        }
        await notify_run_changed(session, run.id)
    log.info("runs.completed", run_id=run_id, result_code=parsed.result_code)


DISPATCH_RUN = JobType(
    name="runs.dispatch",
    payload=RunRef,
    handler=_failing_the_run(
        "DISPATCH_FAILED", "The tests could not be started on GitHub; run them again.", _dispatch
    ),
    max_attempts=6,
)
POLL_RUN = JobType(
    name="runs.poll",
    payload=PollRef,
    handler=_failing_the_run(
        "RUN_TRACKING_FAILED", "GitHub stopped reporting on this test run; run it again.", _poll
    ),
    max_attempts=10,
)
COLLECT_RUN = JobType(
    name="runs.collect",
    payload=RunRef,
    handler=_failing_the_run(
        "ARTIFACT_MISSING", "The test results could not be fetched from GitHub.", _collect
    ),
    max_attempts=6,
)
