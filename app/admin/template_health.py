"""Template health (SPEC §6.5): can each catalog template repository run Tenon's tests?

Static mode reads every code and debug template repository and its workflow file (its
`run-name` must title runs `tenon-run <id>`: test runs are found by that title). Live mode
then dispatches the workflow on the template repository itself and parses the artifact the
run uploads, following the same rules as candidates' test runs (`runs.workflow`). A GitHub
failure is recorded on its template's entry; the report still answers. A repository GitHub
does not have is `not_installed`, not `broken`: the catalog names more templates than a
given GitHub needs to carry. Graded keys' grader repositories are checked alongside
(`grader_health`) and reported in the same answer.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from app.admin import grader_health
from app.admin.schemas import (
    GraderHealth,
    HealthMode,
    TemplateHealth,
    TemplateHealthReport,
    TemplateHealthResults,
    TemplateVariant,
)
from app.admin.workflow_checks import (
    WORKFLOWS_DIR,
    LiveRun,
    check_run_name,
    completed_run,
    declares_dispatch,
    dispatched_run,
    github_error,
    inspect_upload,
    named_artifact,
    open_workflow,
)
from app.core.clock import Clock
from app.core.errors import UnprocessableError
from app.core.openapi import ErrorSpec
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError
from app.integrations.github.schemas import Artifact
from app.integrations.github.template_catalog import TEMPLATE_NOT_INSTALLED, TemplateCatalog
from app.runs import workflow
from app.runs.results import PREFERRED_ARTIFACT, PREFERRED_FILE
from app.services import GITHUB_NOT_CONFIGURED

# The CI workflow's `run-name`: the title Tenon finds its runs by.
RUN_NAME = workflow.run_title("${{ inputs.tenon_run_id }}")
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
    keys are given) and of their graders."""
    keys = _keys(catalog, template_keys)
    entries, graders = await asyncio.gather(
        asyncio.gather(*(_check_static(github, target) for target in _targets(catalog, keys))),
        asyncio.gather(
            *(
                grader_health.check_static(github, target)
                for target in grader_health.targets(catalog, keys)
            )
        ),
    )
    return _report("static", entries, graders)


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
    """The static checks, then a real run of each passing template's workflow, and each
    passing grader's workflow grading its template.

    This runs inside the admin's request rather than as a job: it is an operator's tool, and
    the request is bounded by `timeout_seconds` overall and by `concurrency` runs at a time.
    """
    keys = _keys(catalog, template_keys)
    live = LiveRun(
        github,
        clock,
        poll_seconds,
        asyncio.Semaphore(concurrency),
        asyncio.get_running_loop().time() + timeout_seconds,
        timeout_seconds,
    )
    entries, graders = await asyncio.gather(
        asyncio.gather(*(_check_live(live, target) for target in _targets(catalog, keys))),
        asyncio.gather(
            *(
                grader_health.check_live(live, target)
                for target in grader_health.targets(catalog, keys)
            )
        ),
    )
    return _report("live", entries, graders)


def _keys(catalog: TemplateCatalog, template_keys: list[str]) -> list[str]:
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
    return list(dict.fromkeys(template_keys)) or catalog.keys


def _targets(catalog: TemplateCatalog, keys: list[str]) -> list[_Target]:
    targets: list[_Target] = []
    for key in keys:
        template = catalog.get(key)
        assert template is not None
        targets.append(_Target(key, "code", template.code_repo, template.workflow_file))
        targets.append(_Target(key, "debug", template.debug_repo, template.workflow_file))
    return targets


def _report(
    mode: HealthMode, entries: list[TemplateHealth], graders: list[GraderHealth]
) -> TemplateHealthReport:
    # Nothing installed at all (say, a wrong template owner) is not ok either.
    usable = any(entry.status == "ok" for entry in entries)
    broken = any(entry.status == "broken" for entry in entries)
    # An installed template's submissions are graded: its grader must work too.
    installed = {
        (entry.template_key, entry.variant) for entry in entries if entry.status != "not_installed"
    }
    graders_ok = all(
        grader.ok
        for grader in graders
        if grader.status == "broken" or (grader.template_key, grader.variant) in installed
    )
    return TemplateHealthReport(
        ok=usable and not broken and graders_ok, mode=mode, templates=entries, graders=graders
    )


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


# ---- static checks ------------------------------------------------------------------------


async def _check_static(github: GitHubClient, target: _Target) -> TemplateHealth:
    entry = _new_entry(target)
    await _inspect(github, target, entry)
    return _conclude(entry, ok=_static_checks_pass(entry))


async def _inspect(github: GitHubClient, target: _Target, entry: TemplateHealth) -> None:
    name = target.repo_full_name
    _, document = await open_workflow(
        github,
        entry,
        name,
        target.workflow_path,
        f"{TEMPLATE_NOT_INSTALLED}: repository {name} not found (not installed on this GitHub, "
        "or not visible to Tenon's credentials)",
    )
    if document is not None:
        _inspect_workflow(document, entry)


def _inspect_workflow(document: dict[Any, Any], entry: TemplateHealth) -> None:
    checks = entry.checks
    checks.workflow_has_dispatch = declares_dispatch(document)
    if not checks.workflow_has_dispatch:
        entry.errors.append("workflow does not declare the workflow_dispatch trigger")
    else:
        check_run_name(document, entry, RUN_NAME)
    inspect_upload(document, entry, PREFERRED_ARTIFACT)


# ---- live checks --------------------------------------------------------------------------


async def _check_live(live: LiveRun, target: _Target) -> TemplateHealth:
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


async def _run_workflow(live: LiveRun, target: _Target, entry: TemplateHealth) -> None:
    assert entry.default_branch is not None
    github, name = live.github, target.repo_full_name
    try:
        entry.workflow_run_id = await _dispatch(live, target, entry.default_branch)
        run = await completed_run(live, name, entry.workflow_run_id)
        entry.workflow_conclusion = run.conclusion
        artifacts = await workflow.unexpired_artifacts(github, name, run.id)
        preferred = named_artifact(artifacts, PREFERRED_ARTIFACT)
        if preferred is None:
            entry.checks.produces_results_json = False
            entry.errors.append(f"workflow run {run.id} uploaded no {PREFERRED_ARTIFACT} artifact")
            return
        await _parse_results(github, name, preferred, entry)
    except GitHubError as exc:
        entry.errors.append(github_error(exc))


async def _dispatch(live: LiveRun, target: _Target, branch: str) -> int:
    run_id = f"health-{uuid.uuid4()}"
    return await dispatched_run(
        live,
        workflow.Dispatch(
            repo=target.repo_full_name,
            workflow_file=target.workflow_file,
            branch=branch,
            title=workflow.run_title(run_id),
            since=live.clock.now(),
            inputs={workflow.RUN_INPUT: run_id},
        ),
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
