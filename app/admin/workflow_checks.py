"""What template health and grader health share: reading a repository's workflow file, the
checks on its YAML, recording GitHub's failures on an entry, and waiting for a live run.

An entry is whichever health model is being filled (`TemplateHealth`, `GraderHealth`): each
has `errors`; a failed GitHub call is recorded there and the report still answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any, Protocol, TypeVar

import yaml

from app.admin.schemas import TemplateStatus
from app.core.clock import Clock
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubNotFoundError
from app.integrations.github.schemas import Artifact, FileContent, Repository, WorkflowRun
from app.runs import workflow
from app.runs.results import PREFERRED_FILE

T = TypeVar("T")

WORKFLOWS_DIR = ".github/workflows"
UPLOAD_ACTION = "actions/upload-artifact"
CHECKOUT_ACTION = "actions/checkout"
# upload-artifact's name when the step gives none.
DEFAULT_ARTIFACT_NAME = "artifact"


class Entry(Protocol):
    errors: list[str]


@dataclass(frozen=True)
class LiveRun:
    """What every live check of one request shares."""

    github: GitHubClient
    clock: Clock
    # The first wait before polling a run (`runs.workflow.poll_delay`).
    poll_seconds: float
    semaphore: asyncio.Semaphore
    deadline: float
    timeout_seconds: int


def github_error(exc: GitHubError) -> str:
    return f"{exc.code}: {exc.detail}"


async def fetch(entry: Entry, call: Awaitable[T], not_found: str) -> T | None:
    """The call's answer; None, with the reason recorded on the entry, when GitHub fails."""
    try:
        return await call
    except GitHubNotFoundError:
        entry.errors.append(not_found)
    except GitHubError as exc:
        entry.errors.append(github_error(exc))
    return None


async def load_workflow(entry: Entry, found: FileContent) -> dict[Any, Any] | None:
    """The workflow file's YAML document; None, with the reason on the entry, when it is not a
    readable YAML mapping."""
    try:
        text = found.decoded().decode("utf-8")
    except ValueError as exc:  # no inline content (over 1 MB), or not UTF-8
        entry.errors.append(f"workflow file {found.path} is unreadable: {exc}")
        return None
    try:
        # Up to 1 MB of YAML: parsed off the event loop.
        document = await asyncio.to_thread(yaml.safe_load, text)
    except yaml.YAMLError as exc:
        entry.errors.append(f"workflow file is not valid YAML: {' '.join(str(exc).split())}")
        return None
    if not isinstance(document, dict):
        entry.errors.append("workflow file is not a YAML mapping")
        return None
    return document


def _triggers(workflow: dict[Any, Any]) -> Any:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def declares_dispatch(workflow: dict[Any, Any]) -> bool:
    """Whether `on:` names workflow_dispatch, as a string, a list or a mapping key."""
    triggers = _triggers(workflow)
    if isinstance(triggers, str):
        return triggers == "workflow_dispatch"
    if isinstance(triggers, list | dict):
        return "workflow_dispatch" in triggers
    return False


def check_run_name(workflow: dict[Any, Any], entry: Entry, expected: str) -> None:
    """Record on the entry a `run-name` other than `expected` (spaces aside): Tenon finds the
    run it dispatched by the title that gives it."""
    run_name = workflow.get("run-name")
    if not isinstance(run_name, str) or "".join(run_name.split()) != "".join(expected.split()):
        entry.errors.append(
            f"workflow's run-name is not {expected!r}: Tenon finds the runs it dispatches "
            "by that title"
        )


def dispatch_inputs(workflow: dict[Any, Any]) -> set[str]:
    """The names of the inputs `on.workflow_dispatch.inputs` declares."""
    triggers = _triggers(workflow)
    dispatch = triggers.get("workflow_dispatch") if isinstance(triggers, dict) else None
    inputs = dispatch.get("inputs") if isinstance(dispatch, dict) else None
    return {str(name) for name in inputs} if isinstance(inputs, dict) else set()


def steps_using(workflow: dict[Any, Any], action: str) -> Iterator[dict[Any, Any]]:
    """Every step of every job that uses `action` (any version)."""
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict):
        return
    for job in jobs.values():
        steps = job.get("steps") if isinstance(job, dict) else None
        for step in steps if isinstance(steps, list) else []:
            uses = step.get("uses") if isinstance(step, dict) else None
            if isinstance(uses, str) and uses.split("@")[0].strip().casefold() == action:
                yield step


def upload_steps(workflow: dict[Any, Any]) -> Iterator[dict[Any, Any]]:
    return steps_using(workflow, UPLOAD_ACTION)


def step_input(step: dict[Any, Any], key: str) -> Any:
    inputs = step.get("with")
    return inputs.get(key) if isinstance(inputs, dict) else None


def artifact_name(step: dict[Any, Any]) -> str:
    name = step_input(step, "name")
    return DEFAULT_ARTIFACT_NAME if name is None else str(name).strip()


def lists_results_file(step: dict[Any, Any]) -> bool:
    """Whether one of the step's `path` lines (files or globs) names the results file.

    upload-artifact stores files relative to their common ancestor, so a results file in
    a folder, or matched by a glob such as `**/tenon-*.json`, still counts.
    """
    paths = step_input(step, "path")
    if not isinstance(paths, str):
        return False
    patterns = [line.strip() for line in paths.splitlines()]
    return any(
        fnmatchcase(PREFERRED_FILE, PurePosixPath(pattern).name)
        for pattern in patterns
        if pattern and not pattern.startswith("!")
    )


def named_artifact(artifacts: list[Artifact], name: str) -> Artifact | None:
    return next((artifact for artifact in artifacts if artifact.name.casefold() == name), None)


async def dispatched_run(live: LiveRun, dispatch: workflow.Dispatch) -> int:
    """Dispatch a health run and the id of the run GitHub created, found by its title as
    test runs' are (`runs.workflow.find_or_dispatch`): listing it again while it is not
    listed (servers that return no run details), dispatching again past the grace."""
    last_sent: datetime | None = None

    async def mark_sending(now: datetime) -> bool:
        nonlocal last_sent
        last_sent = now
        return True

    polls = 0
    while True:
        try:
            found = await workflow.find_or_dispatch(
                live.github,
                dispatch,
                last_sent=last_sent,
                now=live.clock.now(),
                mark_sending=mark_sending,
            )
        except workflow.RunNotListedError:
            await asyncio.sleep(workflow.poll_delay(live.poll_seconds, polls=polls).total_seconds())
            polls += 1
            continue
        assert found is not None  # mark_sending never declines
        return found.id


async def completed_run(live: LiveRun, full_name: str, run_id: int) -> WorkflowRun:
    """Polled as test runs are when no webhook reports on them (the first poll after one
    delay); template and grader repositories send Tenon no webhooks."""
    polls = 0
    while True:
        await asyncio.sleep(workflow.poll_delay(live.poll_seconds, polls=polls).total_seconds())
        run = await live.github.get_workflow_run(full_name, run_id)
        if run.status == "completed":
            return run
        polls += 1


class RepoChecks(Protocol):
    repo_reachable: bool | None
    default_branch_usable: bool | None
    workflow_file_exists: bool | None


class RepoEntry(Entry, Protocol):
    default_branch: str | None
    status: TemplateStatus

    @property
    def checks(self) -> RepoChecks: ...


async def open_workflow(
    github: GitHubClient, entry: RepoEntry, full_name: str, workflow_path: str, not_installed: str
) -> tuple[Repository | None, dict[Any, Any] | None]:
    """The repository and its workflow file's YAML on the default branch, filling the
    entry's first checks; None for what could not be read, the reason on the entry (a
    repository GitHub does not have is `not_installed`, with that message)."""
    checks = entry.checks
    try:
        repo = await github.get_repository(full_name)
    except GitHubNotFoundError:
        checks.repo_reachable = False
        entry.status = "not_installed"
        entry.errors.append(not_installed)
        return None, None
    except GitHubError as exc:
        checks.repo_reachable = False
        entry.errors.append(github_error(exc))
        return None, None
    checks.repo_reachable = True
    branch = entry.default_branch = repo.default_branch
    found_branch = await fetch(
        entry, github.get_branch(full_name, branch), f"default branch {branch} not found"
    )
    checks.default_branch_usable = found_branch is not None
    if found_branch is None:
        return repo, None
    found = await fetch(
        entry,
        github.get_file(full_name, workflow_path, ref=branch),
        f"workflow file {workflow_path} not found on {branch}",
    )
    checks.workflow_file_exists = found is not None
    return repo, None if found is None else await load_workflow(entry, found)


class UploadChecks(Protocol):
    workflow_uploads_artifact: bool | None
    artifact_name_matches: bool | None
    artifact_includes_results_json: bool | None


class UploadEntry(Entry, Protocol):
    @property
    def checks(self) -> UploadChecks: ...


def inspect_upload(document: dict[Any, Any], entry: UploadEntry, artifact: str) -> None:
    """The workflow uploads an artifact named `artifact` whose path lists the results JSON."""
    checks = entry.checks
    uploads = list(upload_steps(document))
    checks.workflow_uploads_artifact = bool(uploads)
    if not uploads:
        entry.errors.append(f"no workflow step uses {UPLOAD_ACTION}")
        return
    named = [step for step in uploads if artifact_name(step).casefold() == artifact]
    checks.artifact_name_matches = bool(named)
    if not named:
        found = ", ".join(artifact_name(step) for step in uploads)
        entry.errors.append(
            f"no {UPLOAD_ACTION} step uploads an artifact named {artifact} (found: {found})"
        )
        return
    checks.artifact_includes_results_json = any(lists_results_file(step) for step in named)
    if not checks.artifact_includes_results_json:
        entry.errors.append(f"the {artifact} artifact's path does not include {PREFERRED_FILE}")
