"""The life of a grading in jobs (SPEC §11.1): dispatch the grader's workflow → track its run
(the `workflow_run` webhook, a poller as the fallback) → collect its results.

- GRADE_SUBMISSION dispatches the grading workflow in the grader repository, at its default
  branch, with the candidate repository, the cutoff commit and our grading id as inputs
  (never a token: the workflow mints its own, read-only, for that one repository).
- The workflow titles its run `tenon-grade <grading id>` (`run-name`), so before anything
  is dispatched the grader's runs are searched for that title: a dispatch whose answer was
  lost, or a worker that died after sending it, never dispatches a second run; one that
  never left is sent again after the listing grace (`runs.workflow.find_or_dispatch`, as
  for test runs).
- POLL_GRADING and COLLECT_GRADING follow test runs' rules (`runs.workflow`): growing poll
  delays, artifacts downloaded with the same limits and parsed once, after completion. The
  artifact's SHA-256 is kept with the results.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from app.core.schemas import ApiModel
from app.grading import repository, transitions
from app.grading.models import ACTIVE_GRADING_STATUSES, Grading
from app.integrations.github.errors import (
    ArtifactTooLargeError,
    GitHubNotFoundError,
    GitHubUnavailableError,
)
from app.integrations.github.schemas import WorkflowRun
from app.integrations.github.webhooks import WebhookEvent
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType
from app.runs import workflow
from app.services import Services

log = structlog.get_logger(__name__)

# The artifact the grading workflow uploads (CONTRACT); its hash is the one kept when the
# results came from several artifacts.
GRADE_ARTIFACT = "tenon-grade-results"
# A grading with no news for this long is given up on.
GRADING_DEADLINE = timedelta(hours=2)
NOT_INSTALLED = "The grader repository or its workflow is not installed on GitHub."


class GradingRef(ApiModel):
    grading_id: int


class GradingPollRef(ApiModel):
    grading_id: int
    polls: int = 0


RefT = TypeVar("RefT", GradingRef, GradingPollRef)


def run_title(grading_id: int | str) -> str:
    """The title the grading workflow's `run-name` gives the run grading `grading_id`
    (template health grades with ids of its own)."""
    return f"tenon-grade {grading_id}"


async def _grading(context: JobContext[Services], grading_id: int) -> Grading:
    async with context.database.session_scope() as session:
        return await transitions.load(session, grading_id)


async def _fail(context: JobContext[Services], grading_id: int, code: str, detail: str) -> None:
    async with context.database.session_scope() as session:
        failed = await transitions.fail(session, grading_id, code, detail, now=context.clock.now())
    if failed:
        log.warning("grading.error", grading_id=grading_id, code=code)


def _failing_the_grading(code: str, message: str, step: workflow.Step[RefT]) -> workflow.Step[RefT]:
    """Run a step; when its job gives up, the grading ends as `error` with `code` and
    `message` (the exception goes to the log and the job)."""

    async def end(context: JobContext[Services], ref: RefT, error: str) -> None:
        log.warning("grading.step_failed", grading_id=ref.grading_id, code=code, error=error)
        await _fail(context, ref.grading_id, code, message)

    return workflow.ending_when_given_up(end, step)


# -- dispatch -------------------------------------------------------------------------------


async def _dispatch(context: JobContext[Services], ref: GradingRef) -> None:
    github = context.services.require_github()
    grading = await _grading(context, ref.grading_id)
    if grading.status not in ("queued", "dispatching") or grading.github_run_id is not None:
        return

    async def mark_sending(now: datetime) -> bool:
        async with context.database.session_scope() as session:
            return await transitions.start_dispatch(session, grading.id, now=now)

    try:
        branch = (await github.get_repository(grading.grader_repo)).default_branch
        found = await workflow.find_or_dispatch(
            github,
            _dispatch_of(context, grading, branch),
            last_sent=grading.dispatched_at,
            now=context.clock.now(),
            mark_sending=mark_sending,
        )
    except GitHubNotFoundError:
        await _fail(context, grading.id, "GRADER_NOT_INSTALLED", NOT_INSTALLED)
        return
    if found is not None:
        await _link(context, grading.id, found)


def _dispatch_of(context: JobContext[Services], grading: Grading, branch: str) -> workflow.Dispatch:
    return workflow.Dispatch(
        repo=grading.grader_repo,
        workflow_file=context.services.settings.github.grading_workflow_file,
        branch=branch,
        title=run_title(grading.id),
        since=grading.created_at,
        inputs={
            "candidate_repo": grading.candidate_repo,
            "candidate_sha": grading.candidate_sha,
            "tenon_grading_id": str(grading.id),
        },
    )


async def _link(context: JobContext[Services], grading_id: int, github_run: WorkflowRun) -> None:
    async with context.database.session_scope() as session:
        if not await transitions.link(session, grading_id, github_run):
            raise GitHubUnavailableError(f"GitHub run {github_run.id} is another grading's.")
        await enqueue(
            session,
            POLL_GRADING,
            GradingPollRef(grading_id=grading_id),
            run_at=context.clock.now() + _poll_delay(context, polls=0),
            dedupe_key=f"grading-poll:{grading_id}",
        )
    log.info("grading.dispatched", grading_id=grading_id, github_run_id=github_run.id)


# -- tracking -------------------------------------------------------------------------------


def _poll_delay(context: JobContext[Services], *, polls: int) -> timedelta:
    return workflow.poll_delay(context.services.settings.github.run_poll_seconds, polls=polls)


async def record_progress(context: JobContext[Services], github_run: WorkflowRun) -> bool:
    """Apply what GitHub says about a grader run; True when it is one of ours and has
    completed (its results are then being collected)."""
    async with context.database.session_scope() as session:
        found = await repository.by_github_run_id(session, github_run.id)
        if found is None:
            return False
        grading = await repository.by_id(session, found.id, for_update=True)
        assert grading is not None
        if grading.status not in ACTIVE_GRADING_STATUSES:
            return True
        grading.grader_sha = github_run.head_sha or grading.grader_sha
        grading.github_run_url = github_run.html_url or grading.github_run_url
        if github_run.status != "completed":
            grading.status = "running"
            grading.started_at = grading.started_at or context.clock.now()
            return False
        grading.conclusion = github_run.conclusion
        await enqueue(
            session,
            COLLECT_GRADING,
            GradingRef(grading_id=grading.id),
            dedupe_key=f"grading-collect:{grading.id}",
        )
        return True


async def track_workflow_run(context: JobContext[Services], event: WebhookEvent) -> None:
    """The `workflow_run` webhook of a grader repository: a grading's progress."""
    run = WorkflowRun.model_validate(event.payload.get("workflow_run") or {})
    completed = await record_progress(context, run)
    log.info(
        "grading.workflow_run.received",
        delivery_id=event.delivery_id,
        action=event.action,
        run_id=run.id,
        status=run.status,
        conclusion=run.conclusion,
        completed=completed,
    )


async def _poll(context: JobContext[Services], ref: GradingPollRef) -> None:
    github = context.services.require_github()
    grading = await _grading(context, ref.grading_id)
    if grading.status not in ACTIVE_GRADING_STATUSES or grading.github_run_id is None:
        return
    github_run = await github.get_workflow_run(grading.grader_repo, grading.github_run_id)
    if await record_progress(context, github_run):
        return
    now = context.clock.now()
    if grading.dispatched_at and now - grading.dispatched_at > GRADING_DEADLINE:
        await _fail(context, grading.id, "GRADER_TIMED_OUT", "GitHub never reported completion.")
        return
    async with context.database.session_scope() as session:
        await enqueue(
            session,
            POLL_GRADING,
            GradingPollRef(grading_id=grading.id, polls=ref.polls + 1),
            run_at=now + _poll_delay(context, polls=ref.polls + 1),
            dedupe_key=f"grading-poll:{grading.id}",
        )


# -- collecting results -----------------------------------------------------------------------


async def _collect(context: JobContext[Services], ref: GradingRef) -> None:
    github = context.services.require_github()
    grading = await _grading(context, ref.grading_id)
    if grading.status not in ACTIVE_GRADING_STATUSES or grading.github_run_id is None:
        return  # collected already: results are parsed exactly once
    try:
        github_run, collected = await workflow.read_completed_run(
            github, grading.grader_repo, grading.github_run_id
        )
    except ArtifactTooLargeError as exc:
        await _fail(context, grading.id, "ARTIFACT_TOO_LARGE", str(exc))
        return
    parsed = collected.results
    digest = collected.sha256.get(parsed.artifact_name or "") or collected.sha256.get(
        GRADE_ARTIFACT
    )
    async with context.database.session_scope() as session:
        stored = await transitions.store_results(
            session, grading.id, github_run, parsed, digest, now=context.clock.now()
        )
    if stored:
        log.info("grading.completed", grading_id=grading.id, result_code=parsed.result_code)


GRADE_SUBMISSION = JobType(
    name="grade_submission",
    payload=GradingRef,
    handler=_failing_the_grading(
        "GRADER_DISPATCH_FAILED", "The grader could not be started on GitHub.", _dispatch
    ),
    max_attempts=8,
)
POLL_GRADING = JobType(
    name="grade_submission.poll",
    payload=GradingPollRef,
    handler=_failing_the_grading(
        "GRADER_TRACKING_FAILED", "GitHub stopped reporting on the grader's run.", _poll
    ),
    max_attempts=10,
)
COLLECT_GRADING = JobType(
    name="grade_submission.collect",
    payload=GradingRef,
    handler=_failing_the_grading(
        "ARTIFACT_MISSING", "The grader's results could not be fetched from GitHub.", _collect
    ),
    max_attempts=6,
)
