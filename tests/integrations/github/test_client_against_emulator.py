"""Tenon's GitHub client against the GitHub emulator over real HTTP: the whole workspace
sequence (generate, wait for the branch, collaborator, commit, dispatch, run, artifact,
compare), also with 30 % of responses failing with 502 and a secondary rate limit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import httpx
from pydantic import SecretStr

from app.core.metrics import Metrics
from app.core.settings import GitHubSettings
from app.github_emulator.faults import FaultRule
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubNotFoundError
from app.integrations.github.schemas import FileContent
from app.runs.results import parse_artifacts
from tests.support.emulator import TOKEN, emulator_config, eventually, running_emulator
from tests.support.metrics import sample

T = TypeVar("T")
FIXED_LINE = "        start = (page - 1) * page_size\n"
BROKEN_LINE = "        start = page * page_size\n"
NOTES = "# Notes\nDay 2: filtering and sorting.\n"


@asynccontextmanager
async def github_client(
    base_url: str, metrics: Metrics | None = None
) -> AsyncIterator[GitHubClient]:
    settings = GitHubSettings(
        _env_file=None,
        api_base=base_url,
        token=SecretStr(TOKEN),
        max_retries=8,
        mutation_interval_seconds=0.05,
        rate_limit_max_wait_seconds=5,
    )
    async with httpx.AsyncClient(timeout=30) as http:
        yield GitHubClient(http, settings, TokenAuth(SecretStr(TOKEN)), metrics or Metrics())


async def as_a_job(step: Callable[[], Awaitable[T]], attempts: int = 10) -> T:
    """Retry a step on retryable GitHub errors, as the job system retries a job."""
    for attempt in range(1, attempts + 1):
        try:
            return await step()
        except GitHubError as exc:
            if not exc.retryable or attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def _branch_head(client: GitHubClient, full_name: str) -> str | None:
    try:
        return (await client.get_branch(full_name, "main")).commit.sha
    except GitHubNotFoundError:
        return None  # a freshly generated repository is empty for a moment


async def _current(client: GitHubClient, full_name: str, path: str) -> FileContent | None:
    try:
        return await client.get_file(full_name, path)
    except GitHubNotFoundError:
        return None


async def workspace_sequence(
    client: GitHubClient,
    template: str,
    tmp_path: Path,
    *,
    path: str,
    rewrite: Callable[[str], str],
) -> dict[str, object]:
    """The provisioning and test-run calls, with one commit that rewrites `path`."""
    name = f"ws-{uuid.uuid4().hex[:8]}"
    repo = await as_a_job(
        lambda: client.generate_repository(
            f"tenon-templates/{template}", owner="acme-workspaces", name=name
        )
    )
    assert repo.full_name == f"acme-workspaces/{name}"
    assert repo.template_repository is not None
    assert repo.template_repository.full_name == f"tenon-templates/{template}"
    base_sha = await eventually(lambda: as_a_job(lambda: _branch_head(client, repo.full_name)))

    invitation = await as_a_job(lambda: client.add_collaborator(repo.full_name, "octocat"))
    assert invitation is not None
    assert invitation.invitee.login == "octocat"
    assert await as_a_job(lambda: client.add_collaborator(repo.full_name, "octocat")) is None

    current = await as_a_job(lambda: _current(client, repo.full_name, path))
    content = rewrite(current.decoded().decode() if current else "")
    commit = await as_a_job(
        lambda: client.put_file(
            repo.full_name,
            path,
            message=f"Update {path}",
            content=content.encode(),
            branch="main",
            sha=current.sha if current else None,
        )
    )
    head_sha = commit.commit.sha

    dispatched = await as_a_job(
        lambda: client.dispatch_workflow(
            repo.full_name, "tenon-ci.yml", ref="main", inputs={"tenon_run_id": "run-1"}
        )
    )
    assert dispatched.workflow_run_id is not None
    run_id = dispatched.workflow_run_id

    async def completed() -> object | None:
        run = await as_a_job(lambda: client.get_workflow_run(repo.full_name, run_id))
        return run if run.status == "completed" else None

    run = await eventually(completed, within=120, interval=0.2)
    artifacts = await as_a_job(lambda: client.list_run_artifacts(repo.full_name, run_id))
    [artifact] = artifacts
    zip_path = tmp_path / f"{name}.zip"
    await as_a_job(lambda: client.download_artifact(repo.full_name, artifact.id, zip_path))
    results = parse_artifacts([(artifact.name, zip_path)])
    comparison = await as_a_job(lambda: client.compare(repo.full_name, base_sha, head_sha))
    return {
        "run": run,
        "head_sha": head_sha,
        "artifact": artifact.name,
        "results": results,
        "comparison": comparison,
    }


async def test_the_workspace_sequence_on_the_working_template(tmp_path: Path) -> None:
    metrics = Metrics()
    async with (
        running_emulator(emulator_config(tmp_path)) as github,
        github_client(github.base_url, metrics) as client,
    ):
        outcome = await workspace_sequence(
            client, "python-fastapi", tmp_path, path="NOTES.md", rewrite=lambda _: NOTES
        )
        # The polled run came back as 304s.
        assert sample(metrics, "tenon_github_not_modified_total") >= 1
    run = outcome["run"]
    assert run.conclusion == "success"  # type: ignore[attr-defined]
    assert run.head_sha == outcome["head_sha"]  # type: ignore[attr-defined]
    assert outcome["artifact"] == "tenon-test-results"
    results = outcome["results"]
    assert (results.result_code, results.passed, results.failed) == ("OK", 15, 0)  # type: ignore[attr-defined]
    comparison = outcome["comparison"]
    assert comparison.ahead_by == 1  # type: ignore[attr-defined]
    [added] = comparison.files  # type: ignore[attr-defined]
    assert (added.filename, added.status, added.additions) == ("NOTES.md", "added", 2)


async def test_the_planted_bug_fails_then_the_fix_is_compared(tmp_path: Path) -> None:
    async with (
        running_emulator(emulator_config(tmp_path)) as github,
        github_client(github.base_url) as client,
    ):
        outcome = await workspace_sequence(
            client,
            "python-fastapi-debug",
            tmp_path,
            path="app/store.py",
            rewrite=lambda source: source.replace(BROKEN_LINE, FIXED_LINE),
        )
    results = outcome["results"]
    # One of the three planted bugs is fixed by the commit; the other two still fail.
    assert results.result_code == "OK"  # type: ignore[attr-defined]
    assert results.failed == 2  # type: ignore[attr-defined]
    assert outcome["run"].conclusion == "failure"  # type: ignore[attr-defined]
    comparison = outcome["comparison"]
    assert comparison.ahead_by == 1  # type: ignore[attr-defined]
    [changed] = comparison.files  # type: ignore[attr-defined]
    assert (changed.filename, changed.additions, changed.deletions) == ("app/store.py", 1, 1)


async def test_the_sequence_completes_through_502s_and_a_secondary_rate_limit(
    tmp_path: Path,
) -> None:
    faults = (
        FaultRule(route=r"^POST .*/dispatches$", rate_limit="secondary", retry_after=1, times=1),
        FaultRule(route=r"^(GET|POST|PUT) /(repos|users)/", error_rate=0.3, status=502),
    )
    config = emulator_config(tmp_path, faults=faults, fault_seed=7)
    metrics = Metrics()
    async with (
        running_emulator(config) as github,
        github_client(github.base_url, metrics) as client,
    ):
        outcome = await workspace_sequence(
            client, "python-fastapi", tmp_path, path="NOTES.md", rewrite=lambda _: NOTES
        )
        async with github.client() as control:
            stats = (await control.get("/_emulator/stats")).json()
        retries = sample(metrics, "tenon_github_retries_total")
    assert outcome["run"].conclusion == "success"  # type: ignore[attr-defined]
    assert outcome["results"].passed == 15  # type: ignore[attr-defined]
    assert stats["faults_injected_total"] >= 3
    assert retries >= 1
