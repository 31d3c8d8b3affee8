"""Request and response models for test runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from typing_extensions import TypeAliasType

from app.core.schemas import ApiModel, example
from app.runs.models import TestCaseStatus
from app.workspaces.models import TestRunStatus

# A run's status as clients see it. `dispatching` (Tenon is asking GitHub to start the
# workflow) is reported as `queued`: clients built for the original system stop polling on
# a status they do not know. The finer state travels in `phase`.
PublicRunStatus = TypeAliasType(
    "PublicRunStatus", Literal["queued", "running", "passed", "failed", "error"]
)


def public_run_status(phase: TestRunStatus) -> PublicRunStatus:
    return "queued" if phase == "dispatching" else phase


POLL_AFTER_MS = 2000
# Also the example of a submission's final run.
RUN_EXAMPLE: dict[str, Any] = {
    "runId": 913,
    "status": "failed",
    "phase": "failed",
    "conclusion": "failure",
    "passed": 13,
    "failed": 2,
    "skipped": 0,
    "errors": 0,
    "total": 15,
    "durationMs": 48210,
    "stdout": "13 passed, 2 failed in 3.1s",
    "stderr": "",
    "stdoutTruncated": False,
    "stderrTruncated": False,
    "tests": [
        {
            "name": "test_partial_refund_keeps_the_rest",
            "classname": "tests.test_refunds",
            "status": "failed",
            "durationMs": 12,
            "message": "AssertionError: assert 40 == 60",
        }
    ],
    "workflowRunId": 9876543210,
    "workflowUrl": "https://github.com/tenon-workspaces/tenon-python-fastapi-6f1c2b9e/actions/runs/9876543210",
    "commitSha": "b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
    "artifactName": "tenon-test-results",
    "resultCode": "OK",
    "pollAfterMs": None,
}


class RunCreate(ApiModel):
    ref: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
        | None
    ) = Field(default=None, description="Branch or tag; the default branch if omitted.")


class TestOut(ApiModel):
    __test__ = False  # not a pytest test class, despite the name

    name: str
    classname: str | None
    status: TestCaseStatus
    duration_ms: int | None
    message: str | None


class RunOut(ApiModel):
    model_config = example(RUN_EXAMPLE)

    run_id: int
    status: PublicRunStatus
    phase: TestRunStatus = Field(description="Tenon's finer state, `dispatching` included.")
    conclusion: str | None
    passed: int | None
    failed: int | None
    skipped: int | None
    errors: int | None
    total: int | None
    duration_ms: int | None
    stdout: str | None
    stderr: str | None
    stdout_truncated: bool
    stderr_truncated: bool
    tests: list[TestOut]
    workflow_run_id: int | None
    workflow_url: str | None
    commit_sha: str | None
    artifact_name: str | None
    result_code: str | None
    poll_after_ms: int | None
