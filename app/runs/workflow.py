"""Running a GitHub Actions workflow and reading what it produced: the rules that test runs
(`runs.jobs`, step by step) and template health (`admin.template_health`, inside
an operator's request) share, so the two cannot drift apart.

- A dispatch names Tenon's run in the `tenon_run_id` input.
- When the server does not say which run a dispatch created (GHES), the candidates are the
  branch's `workflow_dispatch` runs created since the dispatch, allowing for the two clocks
  to disagree, oldest first.
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
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from app.core.logging import redact_text
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError
from app.integrations.github.schemas import Artifact, DispatchResult, WorkflowRun
from app.jobs.registry import JobContext, PermanentJobError
from app.runs.results import ParsedResults, parse_artifacts

RefT = TypeVar("RefT", bound=BaseModel)
Step = Callable[[JobContext[Any], RefT], Awaitable[None]]

RUN_INPUT = "tenon_run_id"
# A dispatch and the run GitHub creates for it can disagree by a few seconds of clock.
CLOCK_SKEW = timedelta(seconds=30)
# Polls wait `first`, then twice, then at most four times as long.
POLL_BACKOFF_CAP = 4


async def dispatch(
    github: GitHubClient, repo: str, workflow_file: str, *, ref: str, run_input: str
) -> DispatchResult:
    return await github.dispatch_workflow(
        repo, workflow_file, ref=ref, inputs={RUN_INPUT: run_input}
    )


async def dispatched_runs(
    github: GitHubClient, repo: str, workflow_file: str, *, branch: str, dispatched_at: datetime
) -> list[WorkflowRun]:
    """The runs a dispatch at `dispatched_at` may have created, oldest first."""
    since = (dispatched_at - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")
    runs = await github.list_workflow_runs(
        repo, workflow_file, branch=branch, event="workflow_dispatch", created=f">={since}"
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
    the job goes to `dead`."""

    async def handler(context: JobContext[Any], ref: RefT) -> None:
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
