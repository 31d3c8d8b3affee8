"""Response models for gradings, as recruiters see them (candidates never do)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.core.schemas import ApiModel, example
from app.grading.models import GradingStatus
from app.runs.models import TestCaseStatus

GRADING_SUMMARY_EXAMPLE: dict[str, Any] = {"status": "completed", "passed": 19, "total": 21}
GRADING_EXAMPLE: dict[str, Any] = {
    "status": "completed",
    "graderRepo": "tenon-templates/python-fastapi-grader",
    "graderSha": "4f2a9c1e7b3d5a8c0e6f1b2d4a7c9e3f5b8d0a2c",
    "candidateSha": "b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
    "workflowRunId": 9876543299,
    "workflowUrl": "https://github.com/tenon-templates/python-fastapi-grader/actions/runs/9876543299",
    "conclusion": "failure",
    "artifactSha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "passed": 19,
    "failed": 2,
    "skipped": 0,
    "errors": 0,
    "total": 21,
    "hidden": {"passed": 5, "total": 6},
    "visible": {"passed": 14, "total": 15},
    "resultCode": "OK",
    "errorCode": None,
    "errorDetail": None,
    "completedAt": "2026-12-02T16:03:10Z",
    "testsTruncated": False,
    "tests": [
        {
            "name": "test_refund_of_a_refunded_payment_is_409",
            "classname": "hidden.test_refunds",
            "status": "failed",
            "hidden": True,
            "durationMs": 31,
            "message": "AssertionError: expected 409, got 200",
        },
        {
            "name": "test_partial_refund_keeps_the_rest",
            "classname": "visible.test_refunds",
            "status": "passed",
            "hidden": False,
            "durationMs": 12,
            "message": None,
        },
    ],
}


class GradingSummary(ApiModel):
    """A grading in a list: its state and the grader's overall count."""

    model_config = example(GRADING_SUMMARY_EXAMPLE)

    status: GradingStatus
    passed: int | None
    total: int | None


class GroupCounts(ApiModel):
    passed: int | None
    total: int | None


class GradingTestOut(ApiModel):
    name: str
    classname: str | None
    status: TestCaseStatus
    hidden: bool
    duration_ms: int | None
    message: str | None


class GradingOut(GradingSummary):
    """The grader's verdict on the submitted commit: its own tests, hidden ones included,
    run in the grader repository (SPEC §11.1)."""

    model_config = example(GRADING_EXAMPLE)

    grader_repo: str
    grader_sha: str | None = Field(description="The grader's commit the run used.")
    candidate_sha: str = Field(description="The commit graded: the submission's cutoff.")
    workflow_run_id: int | None
    workflow_url: str | None
    conclusion: str | None
    artifact_sha256: str | None = Field(description="Hex SHA-256 of the results artifact zip.")
    failed: int | None
    skipped: int | None
    errors: int | None
    hidden: GroupCounts = Field(description="Tests whose classname is `hidden[.…]`.")
    visible: GroupCounts = Field(
        description="Tests whose classname is `visible[.…]`: the template's own tests."
    )
    result_code: str | None = Field(description="How reading the results went (OK, …).")
    error_code: str | None = Field(
        description="Why the grading ended without results, e.g. GRADER_NOT_INSTALLED."
    )
    error_detail: str | None
    completed_at: datetime | None = Field(description="When the grading ended.")
    tests_truncated: bool = Field(description="More tests ran than are listed.")
    tests: list[GradingTestOut]
