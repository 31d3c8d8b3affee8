"""Admin views of jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.schemas import ApiModel
from app.jobs.models import JobState


class JobOut(ApiModel):
    id: int
    type: str
    state: JobState
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    run_at: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None
    dedupe_key: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
