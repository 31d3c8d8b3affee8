"""Request and response models for submissions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from app.candidate_sessions.schemas import Progress
from app.core.schemas import ApiModel
from app.events.schemas import EventOut
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
    status: str
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


class SubmissionDetail(SubmissionItem):
    task: TaskRef
    content_text: str | None
    code: dict[str, Any] | None = None
    diff_summary: dict[str, Any] | None = None
    test_results: dict[str, Any] | None = None
    integrity: list[dict[str, Any]] = Field(default_factory=list)
    timeline: list[EventOut]
