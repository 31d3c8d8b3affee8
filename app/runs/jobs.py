"""The life of a test run in jobs: dispatch → track (webhook, poller as fallback) → collect.

- DISPATCH_RUN dispatches the workflow with our run id as an input and links the GitHub
  run, which the workflow titles `tenon-run <id>` (`run-name`): the run with that title is
  looked for first, so a dispatch whose answer was lost, or a worker that died while
  sending it, is neither dispatched twice nor left waiting for a run that never started
  (`runs.workflow.find_or_dispatch`). The unique index on the GitHub run id keeps one
  GitHub run to one of ours.
- Completion normally arrives as a `workflow_run` webhook; POLL_RUN is the fallback,
  with conditional GETs and growing delays.
- COLLECT_RUN downloads and parses the artifacts once, only after the run completed, so a
  run that is still going is never recorded as "artifact missing".

Dispatching, finding the run, the poll delays and reading the artifacts follow the rules in
`runs.workflow`, which template health uses too; the run's state changes are in
`runs.transitions`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from app.core.schemas import ApiModel
from app.integrations.github.errors import (
    ArtifactTooLargeError,
    GitHubUnavailableError,
)
from app.integrations.github.schemas import WorkflowRun
from app.integrations.github.webhooks import WebhookEvent
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType
from app.runs import repository, transitions, workflow
from app.runs.live import notify_run_changed
from app.runs.models import ACTIVE_TEST_RUN_STATUSES, TestRun
from app.services import Services

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
    async with context.database.session_scope() as session:
        return await transitions.run_and_repo(session, run_id)


async def _fail_run(context: JobContext[Services], run_id: int, code: str, detail: str) -> None:
    async with context.database.session_scope() as session:
        failed = await transitions.fail(session, run_id, code, detail, now=context.clock.now())
    if failed:
        log.warning("runs.error", run_id=run_id, code=code)


def _failing_the_run(
    code: str, message: str, step: Callable[[JobContext[Services], RefT], Awaitable[None]]
) -> Callable[[JobContext[Services], RefT], Awaitable[None]]:
    """Run a step; when its job gives up, the run ends as `error` with `code` and `message`
    (for the candidate; the exception goes to the log and the job) instead of staying
    active forever."""

    async def end(context: JobContext[Services], ref: RefT, error: str) -> None:
        log.warning("runs.step_failed", run_id=ref.run_id, code=code, error=error)
        await _fail_run(context, ref.run_id, code, message)

    return workflow.ending_when_given_up(end, step)


# -- dispatch -------------------------------------------------------------------------------


async def _dispatch(context: JobContext[Services], ref: RunRef) -> None:
    github = context.services.require_github()
    run, repo, default_branch = await _run_and_repo(context, ref.run_id)
    if run.status not in ("queued", "dispatching") or run.github_run_id is not None:
        return

    async def mark_sending(now: datetime) -> bool:
        async with context.database.session_scope() as session:
            return await transitions.start_dispatch(session, run.id, now=now)

    dispatch = workflow.Dispatch(
        repo=repo,
        workflow_file=context.services.settings.github.actions_workflow_file,
        branch=run.requested_ref or default_branch,
        title=workflow.run_title(run.id),
        since=run.created_at,
        inputs={workflow.RUN_INPUT: str(run.id)},
    )
    found = await workflow.find_or_dispatch(
        github,
        dispatch,
        last_sent=run.dispatched_at,
        now=context.clock.now(),
        mark_sending=mark_sending,
    )
    if found is not None:
        await _link(context, run.id, found.id, found.html_url)


async def _link(
    context: JobContext[Services], run_id: int, github_run_id: int, url: str | None
) -> None:
    async with context.database.session_scope() as session:
        if not await transitions.link(session, run_id, github_run_id, url):
            raise GitHubUnavailableError(f"GitHub run {github_run_id} is another run's.")
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
    try:
        github_run, collected = await workflow.read_completed_run(github, repo, run.github_run_id)
    except ArtifactTooLargeError as exc:
        await _fail_run(context, run.id, "ARTIFACT_TOO_LARGE", str(exc))
        return
    parsed = collected.results
    async with context.database.session_scope() as session:
        stored = await transitions.store_results(
            session, run.id, github_run, parsed, now=context.clock.now()
        )
    if stored:
        log.info("runs.completed", run_id=run.id, result_code=parsed.result_code)


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
