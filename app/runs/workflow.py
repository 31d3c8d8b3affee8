"""Running a GitHub Actions workflow and reading what it produced: the rules that test runs
(`runs.jobs`, step by step) and template health (`admin.template_health`, inside
an operator's request) share, so the two cannot drift apart.

- A dispatch names Tenon's run in the `tenon_run_id` input.
- When the server does not say which run a dispatch created (GHES), the candidates are the
  branch's `workflow_dispatch` runs created since the dispatch, allowing for the two clocks
  to disagree, oldest first.
- A run is polled with growing delays (conditional GETs: an unchanged run costs nothing).
- Artifacts are downloaded to a scratch folder and parsed in a worker thread: an artifact
  may hold up to 200 MiB, and the event loop is shared with the API.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from app.integrations.github.client import GitHubClient
from app.integrations.github.schemas import Artifact, DispatchResult, WorkflowRun
from app.runs.results import ParsedResults, parse_artifacts

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


async def unexpired_artifacts(github: GitHubClient, repo: str, run_id: int) -> list[Artifact]:
    artifacts = await github.list_run_artifacts(repo, run_id)
    return [artifact for artifact in artifacts if not artifact.expired]


async def download_and_parse(
    github: GitHubClient, repo: str, artifacts: Sequence[Artifact]
) -> ParsedResults:
    """Download the artifacts and parse them together (`runs.results`). Raises what the
    downloads raise, `ArtifactTooLargeError` among them."""
    with tempfile.TemporaryDirectory(prefix="tenon-artifacts-") as scratch:
        downloaded = []
        for artifact in artifacts:
            path = Path(scratch) / f"{artifact.id}.zip"
            await github.download_artifact(repo, artifact.id, path)
            downloaded.append((artifact.name, path))
        return await asyncio.to_thread(parse_artifacts, downloaded)
