"""Admin request and response models: template health (SPEC §6.5, §10), graders included
(SPEC §11.1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.core.schemas import ApiModel

HealthMode = TypeAliasType("HealthMode", Literal["static", "live"])
# A catalog template has two repositories: the code day's and the debug day's.
TemplateVariant = TypeAliasType("TemplateVariant", Literal["code", "debug"])
# ok: usable. not_installed: GitHub has no such repository (404): the catalog knows the
# template but nobody installed it here. broken: it exists but fails a check, or GitHub
# could not be asked.
TemplateStatus = TypeAliasType("TemplateStatus", Literal["ok", "not_installed", "broken"])


class TemplateHealthRun(ApiModel):
    """Live check request; no template keys means every template in the catalog."""

    template_keys: list[str] | None = None
    timeout_seconds: int = Field(default=180, ge=1, le=600)
    concurrency: int = Field(default=2, ge=1, le=5)


class TemplateHealthChecks(ApiModel):
    """True passed, false failed, null not checked (an earlier check failed, or static mode
    for `producesResultsJson`)."""

    repo_reachable: bool | None = None
    default_branch_usable: bool | None = None
    workflow_file_exists: bool | None = None
    workflow_has_dispatch: bool | None = None
    workflow_uploads_artifact: bool | None = None
    artifact_name_matches: bool | None = None
    # The `tenon-test-results` upload's `path` lists `tenon-test-results.json`.
    artifact_includes_results_json: bool | None = None
    produces_results_json: bool | None = None


class TemplateHealthResults(ApiModel):
    """What the live run's artifact parsed to."""

    result_code: str
    passed: int
    failed: int
    skipped: int
    total: int


class TemplateHealth(ApiModel):
    """One template repository. `templateKey` is the catalog key; `variant` says whether this
    is its code repository or its debug repository, each reported as its own entry."""

    template_key: str
    variant: TemplateVariant
    repo_full_name: str
    workflow_file: str
    default_branch: str | None = None
    ok: bool = False
    status: TemplateStatus = "broken"
    errors: list[str] = Field(default_factory=list)
    checks: TemplateHealthChecks = Field(default_factory=TemplateHealthChecks)
    workflow_run_id: int | None = None
    workflow_conclusion: str | None = None
    results: TemplateHealthResults | None = None


class GraderHealthChecks(ApiModel):
    """True passed, false failed, null not checked (an earlier check failed, or static mode
    for the last three)."""

    repo_reachable: bool | None = None
    # A public grader shows anyone its hidden tests.
    repo_private: bool | None = None
    default_branch_usable: bool | None = None
    workflow_file_exists: bool | None = None
    workflow_has_dispatch: bool | None = None
    # `workflow_dispatch` declares candidate_repo, candidate_sha and tenon_grading_id.
    dispatch_inputs_declared: bool | None = None
    # An actions/checkout step checks out inputs.candidate_repo at inputs.candidate_sha with
    # a token.
    checks_out_candidate: bool | None = None
    workflow_uploads_artifact: bool | None = None
    artifact_name_matches: bool | None = None
    artifact_includes_results_json: bool | None = None
    produces_results_json: bool | None = None
    # Some test's JUnit classname is `hidden` or starts with `hidden.`.
    has_hidden_tests: bool | None = None
    # Grading the code template passes every test; grading the debug template fails some.
    outcome_as_expected: bool | None = None


class GraderHealthResults(TemplateHealthResults):
    """What the live grading's artifact parsed to; `hidden*` count the hidden tests."""

    hidden_passed: int
    hidden_total: int


class GraderHealth(ApiModel):
    """The grader repository of one template variant: `repoFullName` grades submissions made
    from `templateRepoFullName` (the `variant` repository of `templateKey`). The live check
    grades that template repository's head commit (`candidateSha`), correlating the run by
    its name `tenon-grade <gradingId>`."""

    template_key: str
    variant: TemplateVariant
    repo_full_name: str
    template_repo_full_name: str
    workflow_file: str
    default_branch: str | None = None
    ok: bool = False
    status: TemplateStatus = "broken"
    errors: list[str] = Field(default_factory=list)
    checks: GraderHealthChecks = Field(default_factory=GraderHealthChecks)
    grading_id: str | None = None
    candidate_sha: str | None = None
    workflow_run_id: int | None = None
    workflow_conclusion: str | None = None
    results: GraderHealthResults | None = None


class TemplateHealthReport(ApiModel):
    """`ok`: some repository checked is usable, none is broken, and every installed template
    variant that is graded has a working grader; repositories not installed otherwise do not
    count against it (optional templates need not be installed)."""

    ok: bool
    mode: HealthMode
    templates: list[TemplateHealth]
    # The graders of the graded keys checked (SPEC §11.1), two per key.
    graders: list[GraderHealth] = Field(default_factory=list)
