"""Grader health (SPEC §11.1): can each graded template variant's grader repository grade?

Static mode reads the grader repository (it must be private: it holds the hidden tests) and
its grading workflow: the dispatch inputs Tenon sends, a checkout of the candidate's
repository at the given SHA with a token, and the `tenon-grade-results` upload. Live mode
then dispatches the grading workflow against the variant's own template repository at its
head commit, as the grading of a submission would, and judges the results: the code
template passes every test, the debug template (planted bugs) fails some, and hidden tests
are among them. A grader whose template variant is installed must be ok for the report to
be (`template_health`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from app.admin.schemas import GraderHealth, GraderHealthResults, TemplateVariant
from app.admin.workflow_checks import (
    CHECKOUT_ACTION,
    WORKFLOWS_DIR,
    LiveRun,
    check_run_name,
    completed_run,
    declares_dispatch,
    dispatch_inputs,
    dispatched_run,
    github_error,
    inspect_upload,
    named_artifact,
    open_workflow,
    step_input,
    steps_using,
)
from app.grading.jobs import run_title
from app.grading.transitions import is_hidden
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubNotFoundError
from app.integrations.github.template_catalog import GRADER_NOT_INSTALLED, TemplateCatalog
from app.runs import workflow
from app.runs.results import PREFERRED_FILE, ParsedResults

# What the grading workflow is dispatched with and uploads (CONTRACT of issue 13).
GRADE_INPUTS = ("candidate_repo", "candidate_sha", "tenon_grading_id")
GRADE_ARTIFACT = "tenon-grade-results"
# The grading workflow's `run-name`: the title Tenon finds its runs by.
RUN_NAME = run_title("${{ inputs.tenon_grading_id }}")


@dataclass(frozen=True)
class GraderTarget:
    template_key: str
    variant: TemplateVariant
    repo_full_name: str
    # The repository whose submissions it grades; the live check grades it.
    template_repo_full_name: str
    workflow_file: str

    @property
    def workflow_path(self) -> str:
        return f"{WORKFLOWS_DIR}/{self.workflow_file}"


def targets(catalog: TemplateCatalog, keys: list[str]) -> list[GraderTarget]:
    """The graders of these (known) keys, code variant then debug, skipping ungraded keys."""
    found: list[GraderTarget] = []
    for key in keys:
        template = catalog.get(key)
        assert template is not None
        variants: tuple[tuple[TemplateVariant, str], ...] = (
            ("code", template.code_repo),
            ("debug", template.debug_repo),
        )
        for variant, template_repo in variants:
            grader = template.grader_for(template_repo)
            workflow_file = template.grading_workflow_file
            if grader is not None:
                found.append(GraderTarget(key, variant, grader, template_repo, workflow_file))
    return found


def _new_entry(target: GraderTarget) -> GraderHealth:
    return GraderHealth(
        template_key=target.template_key,
        variant=target.variant,
        repo_full_name=target.repo_full_name,
        template_repo_full_name=target.template_repo_full_name,
        workflow_file=target.workflow_file,
    )


def _conclude(entry: GraderHealth, *, ok: bool) -> GraderHealth:
    entry.ok = ok
    if entry.status != "not_installed":
        entry.status = "ok" if ok else "broken"
    return entry


def _static_checks_pass(entry: GraderHealth) -> bool:
    checks = entry.checks
    static = (
        checks.repo_reachable,
        checks.repo_private,
        checks.default_branch_usable,
        checks.workflow_file_exists,
        checks.workflow_has_dispatch,
        checks.dispatch_inputs_declared,
        checks.checks_out_candidate,
        checks.workflow_uploads_artifact,
        checks.artifact_name_matches,
        checks.artifact_includes_results_json,
    )
    return not entry.errors and all(check is True for check in static)


def _live_checks_pass(entry: GraderHealth) -> bool:
    checks = entry.checks
    live = (checks.produces_results_json, checks.has_hidden_tests, checks.outcome_as_expected)
    return _static_checks_pass(entry) and all(check is True for check in live)


# ---- static checks ------------------------------------------------------------------------


async def check_static(github: GitHubClient, target: GraderTarget) -> GraderHealth:
    entry = _new_entry(target)
    await _inspect(github, target, entry)
    return _conclude(entry, ok=_static_checks_pass(entry))


async def _inspect(github: GitHubClient, target: GraderTarget, entry: GraderHealth) -> None:
    name = target.repo_full_name
    repo, document = await open_workflow(
        github,
        entry,
        name,
        target.workflow_path,
        f"{GRADER_NOT_INSTALLED}: repository {name} not found (not installed on this GitHub, "
        f"or not visible to Tenon's credentials): submissions from "
        f"{target.template_repo_full_name} cannot be graded",
    )
    if repo is not None:
        entry.checks.repo_private = repo.private
        if not repo.private:
            entry.errors.append(f"repository {name} is public: anyone can read its hidden tests")
    if document is not None:
        _inspect_workflow(document, entry)


def _inspect_workflow(document: dict[Any, Any], entry: GraderHealth) -> None:
    checks = entry.checks
    checks.workflow_has_dispatch = declares_dispatch(document)
    if not checks.workflow_has_dispatch:
        entry.errors.append("workflow does not declare the workflow_dispatch trigger")
    else:
        missing = [name for name in GRADE_INPUTS if name not in dispatch_inputs(document)]
        checks.dispatch_inputs_declared = not missing
        if missing:
            entry.errors.append(
                f"workflow_dispatch does not declare the inputs: {', '.join(missing)}"
            )
        check_run_name(document, entry, RUN_NAME)
    checks.checks_out_candidate = _checks_out_candidate(document, entry)
    inspect_upload(document, entry, GRADE_ARTIFACT)


def _mentions(step: dict[Any, Any], key: str, expression: str) -> bool:
    value = step_input(step, key)
    return isinstance(value, str) and expression in value.replace(" ", "")


def _checks_out_candidate(document: dict[Any, Any], entry: GraderHealth) -> bool:
    """An actions/checkout step takes `repository` from inputs.candidate_repo, `ref` from
    inputs.candidate_sha, and a `token` (the grader's own token cannot read the candidate's
    repository)."""
    candidate = [
        step
        for step in steps_using(document, CHECKOUT_ACTION)
        if _mentions(step, "repository", "inputs.candidate_repo")
    ]
    if not candidate:
        entry.errors.append(
            f"no {CHECKOUT_ACTION} step checks out the candidate's repository "
            "(repository: ${{ inputs.candidate_repo }})"
        )
        return False
    step = candidate[0]
    missing = []
    if not _mentions(step, "ref", "inputs.candidate_sha"):
        missing.append("ref: ${{ inputs.candidate_sha }}")
    if not step_input(step, "token"):
        missing.append("token")
    if missing:
        entry.errors.append(
            f"the {CHECKOUT_ACTION} step of the candidate's repository lacks " + ", ".join(missing)
        )
    return not missing


# ---- live checks --------------------------------------------------------------------------


async def check_live(live: LiveRun, target: GraderTarget) -> GraderHealth:
    entry = _new_entry(target)
    try:
        async with asyncio.timeout_at(live.deadline), live.semaphore:
            await _inspect(live.github, target, entry)
            if _static_checks_pass(entry):
                await _grade_template(live, target, entry)
    except TimeoutError:
        run_id = entry.workflow_run_id
        waiting = f" waiting for workflow run {run_id}" if run_id is not None else ""
        entry.errors.append(f"timed out after {live.timeout_seconds} s{waiting}")
    return _conclude(entry, ok=_live_checks_pass(entry))


async def _grade_template(live: LiveRun, target: GraderTarget, entry: GraderHealth) -> None:
    github, grader = live.github, target.repo_full_name
    assert entry.default_branch is not None
    try:
        entry.candidate_sha = sha = await _template_head(github, target.template_repo_full_name)
    except GitHubNotFoundError:
        entry.errors.append(
            f"template repository {target.template_repo_full_name} not found: nothing to grade"
        )
        return
    except GitHubError as exc:
        entry.errors.append(github_error(exc))
        return
    try:
        entry.grading_id = grading_id = f"health-{uuid.uuid4()}"
        entry.workflow_run_id = await _dispatch(
            live, target, branch=entry.default_branch, candidate_sha=sha, grading_id=grading_id
        )
        run = await completed_run(live, grader, entry.workflow_run_id)
        entry.workflow_conclusion = run.conclusion
        artifacts = await workflow.unexpired_artifacts(github, grader, run.id)
        artifact = named_artifact(artifacts, GRADE_ARTIFACT)
        if artifact is None:
            entry.checks.produces_results_json = False
            entry.errors.append(
                f"workflow run {run.id} ({run.conclusion}) uploaded no {GRADE_ARTIFACT} artifact"
            )
            return
        parsed = await workflow.download_and_parse(github, grader, [artifact])
    except GitHubError as exc:
        entry.errors.append(github_error(exc))
        return
    _judge(parsed, target, entry)


async def _template_head(github: GitHubClient, template_repo: str) -> str:
    repo = await github.get_repository(template_repo)
    branch = await github.get_branch(template_repo, repo.default_branch)
    return branch.commit.sha


async def _dispatch(
    live: LiveRun, target: GraderTarget, *, branch: str, candidate_sha: str, grading_id: str
) -> int:
    return await dispatched_run(
        live,
        workflow.Dispatch(
            repo=target.repo_full_name,
            workflow_file=target.workflow_file,
            branch=branch,
            title=run_title(grading_id),
            since=live.clock.now(),
            inputs={
                "candidate_repo": target.template_repo_full_name,
                "candidate_sha": candidate_sha,
                "tenon_grading_id": grading_id,
            },
        ),
    )


def _judge(parsed: ParsedResults, target: GraderTarget, entry: GraderHealth) -> None:
    checks = entry.checks
    hidden = [test for test in parsed.tests if is_hidden(test.classname)]
    entry.results = GraderHealthResults(
        result_code=parsed.result_code,
        passed=parsed.passed,
        failed=parsed.failed,
        skipped=parsed.skipped,
        total=parsed.total,
        hidden_passed=sum(test.status == "passed" for test in hidden),
        hidden_total=len(hidden),
    )
    checks.produces_results_json = parsed.result_code == "OK" and parsed.source == "json"
    if parsed.result_code != "OK":
        entry.errors.append(
            f"the {GRADE_ARTIFACT} artifact did not parse: {parsed.result_code}: {parsed.detail}"
        )
        return
    if not checks.produces_results_json:
        entry.errors.append(
            f"the {GRADE_ARTIFACT} artifact holds no {PREFERRED_FILE} (results came from JUnit)"
        )
        return
    checks.has_hidden_tests = bool(hidden)
    if not hidden:
        entry.errors.append(
            "the results list no hidden tests (JUnit classname `hidden` or `hidden.…`)"
        )
    checks.outcome_as_expected = _outcome_as_expected(parsed, target, entry)


def _outcome_as_expected(parsed: ParsedResults, target: GraderTarget, entry: GraderHealth) -> bool:
    graded = f"{target.template_repo_full_name} at {entry.candidate_sha}"
    failures = parsed.failed + parsed.errors
    if target.variant == "debug":
        if failures == 0:
            entry.errors.append(
                f"grading the debug template {graded} failed no test "
                f"({parsed.passed} of {parsed.total} passed): its planted bugs go unnoticed"
            )
        return failures > 0
    every_test_passed = parsed.total > 0 and parsed.passed == parsed.total
    if not every_test_passed:
        entry.errors.append(
            f"grading the code template {graded} should pass every test: "
            f"{parsed.passed} of {parsed.total} passed"
        )
    if entry.workflow_conclusion != "success":
        entry.errors.append(
            f"workflow run {entry.workflow_run_id} concluded {entry.workflow_conclusion} "
            "grading the code template"
        )
    return every_test_passed and entry.workflow_conclusion == "success"
