"""Running a GitHub Actions workflow and reading what it produced: the rules that test runs
(`runs.jobs`, step by step), gradings (`grading.jobs`) and the health checks
(`admin.template_health`, `admin.grader_health`, inside an operator's request) share, so
they cannot drift apart.

- A dispatch names what it runs for in an input, and the workflow's `run-name` puts that id
  in the run's title (`tenon-run <id>`, graders `tenon-grade <id>`). The run is found by
  that title among the branch's `workflow_dispatch` runs (`find_or_dispatch`), before
  anything is dispatched: a dispatch whose answer was lost, or a worker that died while
  sending it, is linked to the run GitHub did create; a dispatch is sent again only when no
  run carries the title a bounded grace after the last one was sent. Runs created before
  the record was, less the clock skew, are not looked at.
- A run is polled with growing delays (conditional GETs: an unchanged run costs nothing).
- A step that gives up (its last attempt, or an error no retry can mend) ends what it was
  working for with a code instead of leaving it active forever.
- Artifacts are downloaded to a scratch folder, hashed and parsed in a worker thread: an
  artifact may hold up to 200 MiB, and the event loop is shared with the API. Gradings
  (`grading.jobs`) read their grader's artifacts the same way and keep the hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from app.core.logging import redact_text
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubUnavailableError
from app.integrations.github.schemas import Artifact, WorkflowRun
from app.jobs.registry import JobContext, PermanentJobError, RetryLaterError
from app.runs.results import ParsedResults, parse_artifacts

RefT = TypeVar("RefT", bound=BaseModel)
Step = Callable[[JobContext[Any], RefT], Awaitable[None]]

RUN_INPUT = "tenon_run_id"
# A dispatch and the run GitHub creates for it can disagree by a few seconds of clock.
CLOCK_SKEW = timedelta(seconds=30)
# A run dispatched this recently may not be listed yet: wait for it rather than dispatch
# a second one.
LISTING_GRACE = timedelta(seconds=30)
# A dispatch GitHub accepted without naming its run is looked for again this soon.
LISTING_RECHECK = timedelta(seconds=5)
# Polls wait `first`, then twice, then at most four times as long.
POLL_BACKOFF_CAP = 4


class RunNotListedError(GitHubUnavailableError):
    """No listed run carries the title yet; another look at `look_again_at` may find it."""

    def __init__(self, title: str, *, look_again_at: datetime) -> None:
        super().__init__(f"The run {title!r} is not listed yet.")
        self.look_again_at = look_again_at


def run_title(run_id: int | str) -> str:
    """The title the CI workflow's `run-name` gives the run of test run `run_id` (template
    health runs with ids of its own)."""
    return f"tenon-run {run_id}"


@dataclass(frozen=True)
class Dispatch:
    """A workflow to run once for one of our records, whose run carries `title`."""

    repo: str
    workflow_file: str
    branch: str
    title: str
    # The record's creation: its run cannot be older (less the clock skew).
    since: datetime
    inputs: Mapping[str, str] = field(default_factory=dict)


async def find_titled_run(github: GitHubClient, dispatch: Dispatch) -> WorkflowRun | None:
    """The listed `workflow_dispatch` run carrying the dispatch's title, if any."""
    runs = await dispatched_runs(
        github, dispatch.repo, dispatch.workflow_file, branch=dispatch.branch, since=dispatch.since
    )
    return next((run for run in runs if run.display_title == dispatch.title), None)


async def find_or_dispatch(
    github: GitHubClient,
    dispatch: Dispatch,
    *,
    last_sent: datetime | None,
    now: datetime,
    mark_sending: Callable[[datetime], Awaitable[bool]],
) -> WorkflowRun | None:
    """The run carrying the dispatch's title: the listed one, or a new one dispatched now.

    `last_sent` is when an earlier attempt may have sent the dispatch; within the listing
    grace of it nothing is sent (`RunNotListedError` asks for a later look).
    `mark_sending(now)` records, committed, that a dispatch is about to be sent; it returns
    False when the record no longer waits for one (then None is returned). A dispatch GitHub
    accepted without saying which run it created is looked for again after it is sent.
    """
    # Never sent (the mark is committed before any send): there is no run to look for.
    if last_sent is not None:
        found = await find_titled_run(github, dispatch)
        if found is not None:
            return found
        if now - last_sent < LISTING_GRACE:
            raise RunNotListedError(dispatch.title, look_again_at=last_sent + LISTING_GRACE)
    if not await mark_sending(now):
        return None
    result = await github.dispatch_workflow(
        dispatch.repo, dispatch.workflow_file, ref=dispatch.branch, inputs=dict(dispatch.inputs)
    )
    if result.workflow_run_id is not None:
        return await github.get_workflow_run(dispatch.repo, result.workflow_run_id)
    found = await find_titled_run(github, dispatch)
    if found is None:
        raise RunNotListedError(dispatch.title, look_again_at=now + LISTING_RECHECK)
    return found


async def dispatched_runs(
    github: GitHubClient, repo: str, workflow_file: str, *, branch: str, since: datetime
) -> list[WorkflowRun]:
    """The branch's `workflow_dispatch` runs created since `since`, allowing for the two
    clocks to disagree, oldest first."""
    created = (since - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")
    runs = await github.list_workflow_runs(
        repo, workflow_file, branch=branch, event="workflow_dispatch", created=f">={created}"
    )
    return sorted(runs, key=lambda run: run.id)


def poll_delay(first_seconds: float, *, polls: int) -> timedelta:
    """The wait before poll number `polls` + 1 of a run (0: the first poll)."""
    return timedelta(seconds=first_seconds * min(POLL_BACKOFF_CAP, 2**polls))


def ending_when_given_up(
    end: Callable[[JobContext[Any], RefT, str], Awaitable[None]], step: Step[RefT]
) -> Step[RefT]:
    """Run a job's step; when the job gives up on it, `end(context, ref, error)` first
    records the end on what the step worked for (the error, redacted, is for the log), and
    the job goes to `dead`. A run not listed yet is looked for again when it may be, and
    that look costs no attempt."""

    async def handler(context: JobContext[Any], ref: RefT) -> None:
        try:
            await step(context, ref)
        except RunNotListedError as exc:
            raise RetryLaterError(str(exc), at=exc.look_again_at) from exc
        except Exception as exc:
            final = (
                isinstance(exc, PermanentJobError)
                or (isinstance(exc, GitHubError) and not exc.retryable)
                or context.attempt >= context.max_attempts
            )
            if not final:
                raise
            await end(context, ref, redact_text(f"{type(exc).__name__}: {exc}"))
            if isinstance(exc, PermanentJobError):
                raise
            raise PermanentJobError(str(exc)) from exc

    return handler


async def unexpired_artifacts(github: GitHubClient, repo: str, run_id: int) -> list[Artifact]:
    artifacts = await github.list_run_artifacts(repo, run_id)
    return [artifact for artifact in artifacts if not artifact.expired]


@dataclass(frozen=True)
class CollectedArtifacts:
    results: ParsedResults
    # Hex SHA-256 of each artifact's zip as downloaded, by artifact name.
    sha256: Mapping[str, str]


async def read_completed_run(
    github: GitHubClient, repo: str, run_id: int
) -> tuple[WorkflowRun, CollectedArtifacts]:
    """A completed run as GitHub reports it, and its unexpired artifacts collected. Raises
    what the downloads raise, `ArtifactTooLargeError` among them."""
    github_run = await github.get_workflow_run(repo, run_id)
    artifacts = await unexpired_artifacts(github, repo, run_id)
    return github_run, await collect(github, repo, artifacts)


async def download_and_parse(
    github: GitHubClient, repo: str, artifacts: Sequence[Artifact]
) -> ParsedResults:
    """Download the artifacts and parse them together (`runs.results`). Raises what the
    downloads raise, `ArtifactTooLargeError` among them."""
    return (await collect(github, repo, artifacts)).results


async def collect(
    github: GitHubClient, repo: str, artifacts: Sequence[Artifact]
) -> CollectedArtifacts:
    """`download_and_parse`, with each downloaded zip's SHA-256."""
    with tempfile.TemporaryDirectory(prefix="tenon-artifacts-") as scratch:
        downloaded = []
        for artifact in artifacts:
            path = Path(scratch) / f"{artifact.id}.zip"
            await github.download_artifact(repo, artifact.id, path)
            downloaded.append((artifact.name, path))
        return await asyncio.to_thread(_hash_and_parse, downloaded)


def _hash_and_parse(downloaded: Sequence[tuple[str, Path]]) -> CollectedArtifacts:
    digests = {}
    for name, path in downloaded:
        with path.open("rb") as file:
            digests[name] = hashlib.file_digest(file, "sha256").hexdigest()
    return CollectedArtifacts(parse_artifacts(downloaded), digests)
