"""Template health (SPEC §6.5): can each catalog template repository run Tenon's tests?

Static mode reads every code and debug template repository and its workflow file. Live mode
then dispatches the workflow on the template repository itself and parses the artifact the
run uploads, following the same rules as candidates' test runs (`runs.workflow`). A GitHub
failure is recorded on its template's entry; the report still answers. A repository GitHub
does not have is `not_installed`, not `broken`: the catalog names more templates than a
given GitHub needs to carry.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any, TypeVar

import yaml

from app.admin.schemas import (
    HealthMode,
    TemplateHealth,
    TemplateHealthReport,
    TemplateHealthResults,
    TemplateVariant,
)
from app.core.clock import Clock
from app.core.errors import UnprocessableError
from app.core.openapi import ErrorSpec
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubNotFoundError
from app.integrations.github.schemas import Artifact, WorkflowRun
from app.integrations.github.template_catalog import TEMPLATE_NOT_INSTALLED, TemplateCatalog
from app.runs import workflow
from app.runs.results import PREFERRED_ARTIFACT, PREFERRED_FILE
from app.services import GITHUB_NOT_CONFIGURED

T = TypeVar("T")

WORKFLOWS_DIR = ".github/workflows"
UPLOAD_ACTION = "actions/upload-artifact"
# upload-artifact's name when the step gives none.
DEFAULT_ARTIFACT_NAME = "artifact"
# What the health routes declare with `@raises`; GitHub's own failures are reported per
# template inside the answer instead.
CHECK_ERRORS: tuple[ErrorSpec, ...] = (
    (UnprocessableError, "TEMPLATE_UNKNOWN"),
    GITHUB_NOT_CONFIGURED,
)


@dataclass(frozen=True)
class _Target:
    template_key: str
    variant: TemplateVariant
    repo_full_name: str
    workflow_file: str

    @property
    def workflow_path(self) -> str:
        return f"{WORKFLOWS_DIR}/{self.workflow_file}"


async def check_static(
    github: GitHubClient, catalog: TemplateCatalog, template_keys: list[str]
) -> TemplateHealthReport:
    """Check the repositories and workflows of the templates (every catalog template when no
    keys are given)."""
    targets = _targets(catalog, template_keys)
    entries = await asyncio.gather(*(_check_static(github, target) for target in targets))
    return _report("static", entries)


@dataclass(frozen=True)
class _LiveRun:
    """What every live check of one request shares."""

    github: GitHubClient
    clock: Clock
    # The first wait before polling a run (`runs.workflow.poll_delay`).
    poll_seconds: float
    semaphore: asyncio.Semaphore
    deadline: float
    timeout_seconds: int


async def check_live(
    github: GitHubClient,
    catalog: TemplateCatalog,
    clock: Clock,
    *,
    template_keys: list[str],
    timeout_seconds: int,
    concurrency: int,
    poll_seconds: float,
) -> TemplateHealthReport:
    """The static checks, then a real run of each passing template's workflow.

    This runs inside the admin's request rather than as a job: it is an operator's tool, and
    the request is bounded by `timeout_seconds` overall and by `concurrency` runs at a time.
    """
    targets = _targets(catalog, template_keys)
    live = _LiveRun(
        github,
        clock,
        poll_seconds,
        asyncio.Semaphore(concurrency),
        asyncio.get_running_loop().time() + timeout_seconds,
        timeout_seconds,
    )
    entries = await asyncio.gather(*(_check_live(live, target) for target in targets))
    return _report("live", entries)


def _targets(catalog: TemplateCatalog, template_keys: list[str]) -> list[_Target]:
    unknown = sorted(set(template_keys) - set(catalog.keys))
    if unknown:
        raise UnprocessableError(
            f"Unknown template keys: {', '.join(unknown)}.",
            code="TEMPLATE_UNKNOWN",
            errors=[
                {"loc": ["templateKeys"], "msg": f"unknown: {key}", "type": "template"}
                for key in unknown
            ],
        )
    targets: list[_Target] = []
    for key in dict.fromkeys(template_keys) or catalog.keys:
        template = catalog.get(key)
        assert template is not None
        targets.append(_Target(key, "code", template.code_repo, template.workflow_file))
        targets.append(_Target(key, "debug", template.debug_repo, template.workflow_file))
    return targets


def _report(mode: HealthMode, entries: list[TemplateHealth]) -> TemplateHealthReport:
    # Nothing installed at all (say, a wrong template owner) is not ok either.
    usable = any(entry.status == "ok" for entry in entries)
    broken = any(entry.status == "broken" for entry in entries)
    return TemplateHealthReport(ok=usable and not broken, mode=mode, templates=entries)


def _conclude(entry: TemplateHealth, *, ok: bool) -> TemplateHealth:
    entry.ok = ok
    if entry.status != "not_installed":
        entry.status = "ok" if ok else "broken"
    return entry


def _new_entry(target: _Target) -> TemplateHealth:
    return TemplateHealth(
        template_key=target.template_key,
        variant=target.variant,
        repo_full_name=target.repo_full_name,
        workflow_file=target.workflow_file,
    )


def _static_checks_pass(entry: TemplateHealth) -> bool:
    checks = entry.checks
    static = (
        checks.repo_reachable,
        checks.default_branch_usable,
        checks.workflow_file_exists,
        checks.workflow_has_dispatch,
        checks.workflow_uploads_artifact,
        checks.artifact_name_matches,
        checks.artifact_includes_results_json,
    )
    return not entry.errors and all(check is True for check in static)


def _github_error(exc: GitHubError) -> str:
    return f"{exc.code}: {exc.detail}"


# ---- static checks ------------------------------------------------------------------------


async def _check_static(github: GitHubClient, target: _Target) -> TemplateHealth:
    entry = _new_entry(target)
    await _inspect(github, target, entry)
    return _conclude(entry, ok=_static_checks_pass(entry))


async def _fetch(entry: TemplateHealth, call: Awaitable[T], not_found: str) -> T | None:
    """The call's answer; None, with the reason recorded on the entry, when GitHub fails."""
    try:
        return await call
    except GitHubNotFoundError:
        entry.errors.append(not_found)
    except GitHubError as exc:
        entry.errors.append(_github_error(exc))
    return None


async def _inspect(github: GitHubClient, target: _Target, entry: TemplateHealth) -> None:
    checks = entry.checks
    name = target.repo_full_name
    try:
        repo = await github.get_repository(name)
    except GitHubNotFoundError:
        checks.repo_reachable = False
        entry.status = "not_installed"
        entry.errors.append(
            f"{TEMPLATE_NOT_INSTALLED}: repository {name} not found (not installed on this GitHub, "
            "or not visible to Tenon's credentials)"
        )
        return
    except GitHubError as exc:
        checks.repo_reachable = False
        entry.errors.append(_github_error(exc))
        return
    checks.repo_reachable = True
    branch = entry.default_branch = repo.default_branch
    found = await _fetch(
        entry, github.get_branch(name, branch), f"default branch {branch} not found"
    )
    checks.default_branch_usable = found is not None
    if found is None:
        return
    workflow = await _fetch(
        entry,
        github.get_file(name, target.workflow_path, ref=branch),
        f"workflow file {target.workflow_path} not found on {branch}",
    )
    checks.workflow_file_exists = workflow is not None
    if workflow is None:
        return
    try:
        text = workflow.decoded().decode("utf-8")
    except ValueError as exc:  # no inline content (over 1 MB), or not UTF-8
        entry.errors.append(f"workflow file {target.workflow_path} is unreadable: {exc}")
        return
    await _inspect_workflow(text, entry)


async def _inspect_workflow(text: str, entry: TemplateHealth) -> None:
    checks = entry.checks
    try:
        # Up to 1 MB of YAML: parsed off the event loop.
        document = await asyncio.to_thread(yaml.safe_load, text)
    except yaml.YAMLError as exc:
        entry.errors.append(f"workflow file is not valid YAML: {' '.join(str(exc).split())}")
        return
    if not isinstance(document, dict):
        entry.errors.append("workflow file is not a YAML mapping")
        return
    checks.workflow_has_dispatch = declares_dispatch(document)
    if not checks.workflow_has_dispatch:
        entry.errors.append("workflow does not declare the workflow_dispatch trigger")
    uploads = list(upload_steps(document))
    checks.workflow_uploads_artifact = bool(uploads)
    if not uploads:
        entry.errors.append(f"no workflow step uses {UPLOAD_ACTION}")
        return
    names = [artifact_name(step) for step in uploads]
    named = [step for step in uploads if artifact_name(step).casefold() == PREFERRED_ARTIFACT]
    checks.artifact_name_matches = bool(named)
    if not named:
        entry.errors.append(
            f"no {UPLOAD_ACTION} step uploads an artifact named {PREFERRED_ARTIFACT} "
            f"(found: {', '.join(names)})"
        )
        return
    checks.artifact_includes_results_json = any(lists_results_file(step) for step in named)
    if not checks.artifact_includes_results_json:
        entry.errors.append(
            f"the {PREFERRED_ARTIFACT} artifact's path does not include {PREFERRED_FILE}"
        )


def declares_dispatch(workflow: dict[Any, Any]) -> bool:
    """Whether `on:` names workflow_dispatch, as a string, a list or a mapping key."""
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    if isinstance(triggers, str):
        return triggers == "workflow_dispatch"
    if isinstance(triggers, list | dict):
        return "workflow_dispatch" in triggers
    return False


def upload_steps(workflow: dict[Any, Any]) -> Iterator[dict[Any, Any]]:
    """Every step of every job that uses actions/upload-artifact (any version)."""
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict):
        return
    for job in jobs.values():
        steps = job.get("steps") if isinstance(job, dict) else None
        for step in steps if isinstance(steps, list) else []:
            uses = step.get("uses") if isinstance(step, dict) else None
            if isinstance(uses, str) and uses.split("@")[0].strip().casefold() == UPLOAD_ACTION:
                yield step


def _step_input(step: dict[Any, Any], key: str) -> Any:
    inputs = step.get("with")
    return inputs.get(key) if isinstance(inputs, dict) else None


def artifact_name(step: dict[Any, Any]) -> str:
    name = _step_input(step, "name")
    return DEFAULT_ARTIFACT_NAME if name is None else str(name).strip()


def lists_results_file(step: dict[Any, Any]) -> bool:
    """Whether one of the step's `path` lines (files or globs) names the results file.

    upload-artifact stores files relative to their common ancestor, so a results file in
    a folder, or matched by a glob such as `**/tenon-*.json`, still counts.
    """
    paths = _step_input(step, "path")
    if not isinstance(paths, str):
        return False
    patterns = [line.strip() for line in paths.splitlines()]
    return any(
        fnmatchcase(PREFERRED_FILE, PurePosixPath(pattern).name)
        for pattern in patterns
        if pattern and not pattern.startswith("!")
    )


# ---- live checks --------------------------------------------------------------------------


async def _check_live(live: _LiveRun, target: _Target) -> TemplateHealth:
    entry = _new_entry(target)
    try:
        async with asyncio.timeout_at(live.deadline), live.semaphore:
            await _inspect(live.github, target, entry)
            if _static_checks_pass(entry):
                await _run_workflow(live, target, entry)
    except TimeoutError:
        run_id = entry.workflow_run_id
        waiting = f" waiting for workflow run {run_id}" if run_id is not None else ""
        entry.errors.append(f"timed out after {live.timeout_seconds} s{waiting}")
    return _conclude(
        entry, ok=_static_checks_pass(entry) and entry.checks.produces_results_json is True
    )


async def _run_workflow(live: _LiveRun, target: _Target, entry: TemplateHealth) -> None:
    assert entry.default_branch is not None
    github, name = live.github, target.repo_full_name
    try:
        entry.workflow_run_id = await _dispatch(live, target, entry.default_branch)
        run = await _completed_run(live, name, entry.workflow_run_id)
        entry.workflow_conclusion = run.conclusion
        preferred = _preferred_artifact(await workflow.unexpired_artifacts(github, name, run.id))
        if preferred is None:
            entry.checks.produces_results_json = False
            entry.errors.append(f"workflow run {run.id} uploaded no {PREFERRED_ARTIFACT} artifact")
            return
        await _parse_results(github, name, preferred, entry)
    except GitHubError as exc:
        entry.errors.append(_github_error(exc))


async def _dispatch(live: _LiveRun, target: _Target, branch: str) -> int:
    dispatched_at = live.clock.now()
    result = await workflow.dispatch(
        live.github,
        target.repo_full_name,
        target.workflow_file,
        ref=branch,
        run_input=f"health-{uuid.uuid4()}",
    )
    if result.workflow_run_id is not None:
        return result.workflow_run_id
    return await _find_dispatched_run(live, target, branch, dispatched_at)


async def _find_dispatched_run(
    live: _LiveRun, target: _Target, branch: str, dispatched_at: datetime
) -> int:
    """For servers that return no run details (GHES): the oldest dispatch run since ours, as
    for test runs. With no claims to go by, a dispatch by someone else on the same template
    at the same moment could be taken for ours; a health check can live with that."""
    polls = 0
    while True:
        runs = await workflow.dispatched_runs(
            live.github,
            target.repo_full_name,
            target.workflow_file,
            branch=branch,
            dispatched_at=dispatched_at,
        )
        if runs:
            return runs[0].id
        await asyncio.sleep(workflow.poll_delay(live.poll_seconds, polls=polls).total_seconds())
        polls += 1


async def _completed_run(live: _LiveRun, full_name: str, run_id: int) -> WorkflowRun:
    """Polled as test runs are when no webhook reports on them (the first poll after one
    delay); template repositories send Tenon no webhooks."""
    polls = 0
    while True:
        await asyncio.sleep(workflow.poll_delay(live.poll_seconds, polls=polls).total_seconds())
        run = await live.github.get_workflow_run(full_name, run_id)
        if run.status == "completed":
            return run
        polls += 1


def _preferred_artifact(artifacts: list[Artifact]) -> Artifact | None:
    return next(
        (artifact for artifact in artifacts if artifact.name.casefold() == PREFERRED_ARTIFACT),
        None,
    )


async def _parse_results(
    github: GitHubClient, full_name: str, artifact: Artifact, entry: TemplateHealth
) -> None:
    parsed = await workflow.download_and_parse(github, full_name, [artifact])
    entry.results = TemplateHealthResults(
        result_code=parsed.result_code,
        passed=parsed.passed,
        failed=parsed.failed,
        skipped=parsed.skipped,
        total=parsed.total,
    )
    produces = parsed.result_code == "OK" and parsed.source == "json"
    entry.checks.produces_results_json = produces
    if parsed.result_code != "OK":
        entry.errors.append(
            f"the {artifact.name} artifact did not parse: {parsed.result_code}: {parsed.detail}"
        )
    elif not produces:
        entry.errors.append(
            f"the {artifact.name} artifact holds no {PREFERRED_FILE} (results came from JUnit)"
        )
