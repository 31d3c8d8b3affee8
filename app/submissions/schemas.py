"""Request and response models for submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from app.candidate_sessions.schemas import Progress
from app.core.schemas import ApiModel, example
from app.events.schemas import EventOut
from app.grading.schemas import (
    GRADING_EXAMPLE,
    GRADING_SUMMARY_EXAMPLE,
    GradingOut,
    GradingSummary,
)
from app.recordings.schemas import RecruiterRecordingOut
from app.runs.schemas import RUN_EXAMPLE, PublicRunStatus, RunOut
from app.simulations.models import TaskType
from app.submissions import reflection
from app.submissions.models import CutoffTagStatus

MAX_CONTENT_LENGTH = 100_000
# Per section of the Day 5 reflection: a few careful paragraphs; five of them rendered stay
# far below MAX_CONTENT_LENGTH.
MAX_REFLECTION_SECTION_LENGTH = 4_000
REFLECTION_EXAMPLE: dict[str, str] = {
    "challenges": "The refund totals drifted when **partial refunds** overlapped.",
    "decisions": "I kept amounts in integer cents and locked the payment row per refund.",
    "tradeoffs": "Row locks serialise refunds of one payment; they are rare, so that is fine.",
    "communication": "I wrote the handoff note first and asked about currency rounding early.",
    "nextSteps": "### Soon\n- Idempotency keys on the refund endpoint\n- A reconciliation job",
}
SUBMISSION_ITEM_EXAMPLE: dict[str, Any] = {
    "submissionId": 305,
    "candidateSessionId": 42,
    "candidateName": "Ada Lovelace",
    "taskId": 82,
    "dayIndex": 2,
    "type": "code",
    "submittedAt": "2026-12-02T16:00:00Z",
    "late": False,
    "repoFullName": "tenon-workspaces/tenon-python-fastapi-6f1c2b9e",
    "repoUrl": "https://github.com/tenon-workspaces/tenon-python-fastapi-6f1c2b9e",
    "commitSha": "b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
    "commitUrl": "https://github.com/tenon-workspaces/tenon-python-fastapi-6f1c2b9e/commit/b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
    "diffUrl": "https://github.com/tenon-workspaces/tenon-python-fastapi-6f1c2b9e/compare/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567...b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
    "testSummary": {"status": "failed", "passed": 13, "failed": 2, "skipped": 0, "total": 15},
    "grading": GRADING_SUMMARY_EXAMPLE,
    "integrityFlags": ["modified:tests/test_refunds.py", "results-mismatch"],
}


def _section(value: str) -> str:
    # Kept exactly as written, like contentText; only checked.
    if not value.strip():
        raise ValueError("must not be blank")
    if not reflection.keeps_structure(value):
        raise ValueError(reflection.STRUCTURE_MESSAGE)
    return value


ReflectionSection = Annotated[
    str,
    StringConstraints(max_length=MAX_REFLECTION_SECTION_LENGTH),
    AfterValidator(_section),
    Field(
        description=(
            f"Markdown, at most {MAX_REFLECTION_SECTION_LENGTH} characters, not blank; "
            "headings from ### down (# and ## are the sections' own)."
        )
    ),
]


class Reflection(ApiModel):
    """The Day 5 reflection, section by section (SPEC §11.3)."""

    model_config = example(REFLECTION_EXAMPLE)

    challenges: ReflectionSection
    decisions: ReflectionSection
    tradeoffs: ReflectionSection
    communication: ReflectionSection
    next_steps: ReflectionSection


class ReflectionOut(ApiModel):
    """A stored reflection as submitted: shown as it is, not checked again, so a later
    change to the sections' rules never fails the reading of an earlier submission."""

    model_config = example(REFLECTION_EXAMPLE)

    challenges: str
    decisions: str
    tradeoffs: str
    communication: str
    next_steps: str


class SubmissionCreate(ApiModel):
    content_text: Annotated[str, StringConstraints(max_length=MAX_CONTENT_LENGTH)] | None = Field(
        default=None,
        description=(
            "Required for design and handoff tasks; for documentation tasks this or "
            "`reflection`, not both."
        ),
    )
    reflection: Reflection | None = Field(
        default=None,
        description=(
            "Documentation (Day 5) tasks only: the structured reflection, stored as given "
            "and rendered as Markdown into the submission's `contentText`."
        ),
    )

    @field_validator("content_text")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        # Kept exactly as written (indentation matters in prose with code), only checked.
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


class SubmitResult(ApiModel):
    model_config = example(
        {
            "submissionId": 305,
            "taskId": 82,
            "candidateSessionId": 42,
            "submittedAt": "2026-12-02T16:00:00Z",
            "cutoffSha": "b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
            "progress": {"completed": 2, "current": 3, "total": 5},
            "isComplete": False,
        }
    )

    submission_id: int
    task_id: int
    candidate_session_id: int
    submitted_at: datetime
    cutoff_sha: str | None
    progress: Progress
    is_complete: bool


class TestSummary(ApiModel):
    status: PublicRunStatus
    passed: int | None
    failed: int | None
    skipped: int | None
    total: int | None


class SubmissionItem(ApiModel):
    model_config = example(SUBMISSION_ITEM_EXAMPLE)

    submission_id: int
    candidate_session_id: int
    candidate_name: str
    task_id: int
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
    grading: GradingSummary | None = Field(
        default=None, description="The grader's run; null when the task is not graded."
    )
    integrity_flags: list[str] = Field(
        default_factory=list,
        description=(
            "`<change>:<path>` per protected file touched; `run-not-at-cutoff`; "
            "`results-mismatch` when the final run's (passed, total) differs from the "
            "grader's visible tests'."
        ),
    )


class TaskRef(ApiModel):
    id: int
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
    cutoff_tag: str | None = Field(
        description="The tag pinning the cutoff, once it exists; the final run tests it."
    )
    cutoff_tag_status: CutoffTagStatus | None = Field(
        description=(
            "`pending` until the tag is made (shortly after the submit; then the final run "
            "is queued), `created`, or `failed` (no final run will come)."
        )
    )
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
    model_config = example(
        SUBMISSION_ITEM_EXAMPLE
        | {
            "task": {
                "id": 82,
                "dayIndex": 2,
                "type": "code",
                "title": "Implement partial refunds",
                "prompt": "Make the refund tests pass.",
            },
            "contentText": None,
            "reflection": None,
            "recording": None,
            "code": {
                "repoFullName": "tenon-workspaces/tenon-python-fastapi-6f1c2b9e",
                "repoUrl": "https://github.com/tenon-workspaces/tenon-python-fastapi-6f1c2b9e",
                "baseTemplateSha": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
                "cutoffSha": "b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
                "cutoffTag": "tenon-submission-305",
                "cutoffTagStatus": "created",
                "workflowUrl": RUN_EXAMPLE["workflowUrl"],
            },
            "diffSummary": {
                "aheadBy": 3,
                "behindBy": 0,
                "totalCommits": 3,
                "filesChanged": 2,
                "additions": 41,
                "deletions": 6,
                "truncated": False,
                "files": [
                    {
                        "filename": "app/refunds.py",
                        "status": "modified",
                        "additions": 38,
                        "deletions": 6,
                        "changes": 44,
                        "patch": "@@ -10,6 +10,38 @@ def refund(payment, amount):",
                        "patchTruncated": False,
                        "previousFilename": None,
                    },
                    {
                        "filename": "tests/test_refunds.py",
                        "status": "modified",
                        "additions": 3,
                        "deletions": 0,
                        "changes": 3,
                        "patch": "@@ -1,3 +1,6 @@",
                        "patchTruncated": False,
                        "previousFilename": None,
                    },
                ],
            },
            "testResults": RUN_EXAMPLE,
            "grading": GRADING_EXAMPLE,
            "integrity": [
                {"path": "tests/test_refunds.py", "change": "modified", "rule": "tests/**"}
            ],
            "timeline": [
                {
                    "id": 42,
                    "type": "task.submitted",
                    "actorType": "candidate",
                    "actorId": "auth0|65f0c1d2e3a4b5c6d7e8f901",
                    "data": {
                        "taskId": 82,
                        "dayIndex": 2,
                        "type": "code",
                    },
                    "occurredAt": "2026-12-02T16:00:00Z",
                }
            ],
        }
    )

    task: TaskRef
    content_text: str | None = Field(
        description="The text answer; for a structured reflection, its Markdown rendering."
    )
    reflection: ReflectionOut | None = Field(
        description="The Day 5 reflection's sections as submitted; null for a plain text answer."
    )
    recording: RecruiterRecordingOut | None = Field(
        default=None,
        description="Handoff tasks: the candidate's recording with a short-lived playback URL "
        "and its transcript; null when there is none (never made, deleted or purged).",
    )
    code: CodeRef | None = Field(default=None, description="Code and debug tasks only.")
    diff_summary: DiffSummary | None = Field(
        default=None, description="Null until the review job has compared the commits."
    )
    test_results: RunOut | None = Field(
        default=None, description="The final test run, at the submitted commit."
    )
    grading: GradingOut | None = Field(
        default=None,
        description="The grader's run at the submitted commit, hidden tests included; "
        "null when the task is not graded.",
    )
    integrity: list[IntegrityFinding] = Field(default_factory=list)
    timeline: list[EventOut]
