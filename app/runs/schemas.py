"""Request and response models for test runs."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.schemas import ApiModel
from app.runs.models import TestCaseStatus, TestRunStatus

POLL_AFTER_MS = 2000


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
    run_id: uuid.UUID
    status: TestRunStatus
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
