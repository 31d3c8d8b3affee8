"""Request and response models for drafts."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.core.schemas import ApiModel, example


class DraftOut(ApiModel):
    model_config = example(
        {
            "taskId": 81,
            "contentText": "## Approach\nIdempotency keys on every refund request…",
            "version": 3,
            "updatedAt": "2026-12-02T15:42:10Z",
        }
    )

    task_id: int
    content_text: str | None = Field(description="null while nothing is saved (version 0).")
    version: int = Field(description="Send it back with the next save; 0 before the first.")
    updated_at: datetime | None = Field(description="null while nothing is saved.")


class DraftSave(ApiModel):
    # Its length is checked against TENON_DRAFT_MAX_CHARS (a setting, so not in the schema);
    # NUL and lone surrogates are refused at the request boundary like every text.
    content_text: str
    version: int = Field(ge=0, le=2**31 - 1, description="The version last read; 0 at first.")


class RecruiterDraftOut(ApiModel):
    model_config = example(
        {
            "taskId": 83,
            "dayIndex": 3,
            "contentText": "# Runbook\nRestart the worker with…",
            "version": 12,
            "updatedAt": "2026-12-04T16:59:58Z",
        }
    )

    task_id: int
    day_index: int
    content_text: str
    version: int
    updated_at: datetime
