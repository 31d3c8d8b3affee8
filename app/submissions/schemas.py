"""Request and response models for submissions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from app.candidate_sessions.schemas import Progress
from app.core.schemas import ApiModel
from app.events.schemas import EventOut
from app.runs.models import TestRunStatus
from app.runs.schemas import RunOut
from app.simulations.models import TaskType

MAX_CONTENT_LENGTH = 100_000


class SubmissionCreate(ApiModel):
    content_text: Annotated[str, StringConstraints(max_length=MAX_CONTENT_LENGTH)] | None = Field(
        default=None, description="Required for design, handoff and documentation tasks."
    )

    @field_validator("content_text")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        # Kept exactly as written (indentation matters in prose with code), only checked.
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


class SubmitResult(ApiModel):
    submission_id: uuid.UUID
    task_id: uuid.UUID
    candidate_session_id: uuid.UUID
    submitted_at: datetime
    cutoff_sha: str | None
    progress: Progress
    is_complete: bool


class TestSummary(ApiModel):
    status: TestRunStatus
    passed: int | None
    failed: int | None
    skipped: int | None
    total: int | None


class SubmissionItem(ApiModel):
    submission_id: uuid.UUID
    candidate_session_id: uuid.UUID
    candidate_name: str
    task_id: uuid.UUID
    day_index: int
    type: TaskType
    submitted_at: datetime
    late: bool
    repo_full_name: str | None = None
    repo_url: str | None = None
    commit_sha: str | None = None
    commit_url: str | None = None
    diff_url: str | None = None
    test_summary: TestSummary | None = None
    integrity_flags: list[str] = Field(default_factory=list)


class TaskRef(ApiModel):
    id: uuid.UUID
    day_index: int
    type: TaskType
    title: str
    prompt: str


class CodeRef(ApiModel):
    """Where a code submission lives: its repository and the commits it spans."""

    repo_full_name: str | None
    repo_url: str | None
    base_template_sha: str | None = Field(description="The commit the workspace started from.")
    cutoff_sha: str | None = Field(description="The commit that was submitted.")
    workflow_url: str | None = Field(description="The final test run's workflow run.")


# GitHub's words for a file's change in a comparison.
_FILE_CHANGE = "added, removed, modified, renamed, copied, changed or unchanged (GitHub's status)"


class DiffFile(ApiModel):
    filename: str
    status: str = Field(description=_FILE_CHANGE)
    additions: int
    deletions: int
    changes: int
    patch: str | None = Field(description="The unified diff, cut at 20,000 characters.")
    patch_truncated: bool
    previous_filename: str | None = Field(description="The old name of a renamed file.")


class DiffSummary(ApiModel):
    """What the submission changed since the template commit (SPEC §6.8)."""

    ahead_by: int
    behind_by: int
    total_commits: int
    files_changed: int
    additions: int
    deletions: int
    truncated: bool = Field(
        description="GitHub lists at most 300 files; at the cap the totals undercount."
    )
    files: list[DiffFile]


class IntegrityFinding(ApiModel):
    """A protected file (tests, workflows) the candidate touched (SPEC §6.7)."""

    path: str
    change: str = Field(description=_FILE_CHANGE)
    rule: str = Field(description="The protected-path pattern it matched.")


class SubmissionDetail(SubmissionItem):
    task: TaskRef
    content_text: str | None
    code: CodeRef | None = Field(default=None, description="Code and debug tasks only.")
    diff_summary: DiffSummary | None = Field(
        default=None, description="Null until the review job has compared the commits."
    )
    test_results: RunOut | None = Field(
        default=None, description="The final test run, at the submitted commit."
    )
    integrity: list[IntegrityFinding] = Field(default_factory=list)
    timeline: list[EventOut]
