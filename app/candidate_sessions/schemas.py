"""Request and response models for invites and candidate sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, EmailStr, Field, StringConstraints
from typing_extensions import TypeAliasType

from app.candidate_sessions.models import InviteEmailStatus, SessionStatus
from app.core.schemas import ApiModel
from app.simulations.models import TaskType

InviteOutcome = TypeAliasType("InviteOutcome", Literal["created", "existing", "resent"])


class InviteCreate(ApiModel):
    candidate_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ] = Field(examples=["Ada Lovelace"])
    invite_email: EmailStr = Field(examples=["ada@example.com"])


class ResendRequest(ApiModel):
    rotate_token: bool = Field(
        default=False, description="Issue a new link; the old one stops working."
    )


class ExtendRequest(ApiModel):
    expires_at: AwareDatetime = Field(examples=["2026-12-01T18:00:00Z"])


class InviteResult(ApiModel):
    candidate_session_id: uuid.UUID
    token: str | None = Field(description="Shown once, when created or rotated; else null.")
    invite_url: str | None
    outcome: InviteOutcome
    expires_at: datetime
    invite_email_status: InviteEmailStatus | None


class Progress(ApiModel):
    completed: int
    total: int


class EmailDelivery(ApiModel):
    status: InviteEmailStatus | None
    provider: str | None
    provider_message_id: str | None
    error: str | None
    attempts: int
    sent_at: datetime | None


class CandidateRow(ApiModel):
    candidate_session_id: uuid.UUID
    candidate_name: str
    invite_email: str
    status: SessionStatus
    invited_at: datetime
    claimed_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime
    progress: Progress
    invite_email_delivery: EmailDelivery


class SimulationRef(ApiModel):
    id: uuid.UUID
    title: str
    role: str
    company: str


class InviteView(ApiModel):
    candidate_session_id: uuid.UUID
    status: SessionStatus
    claimed_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime
    candidate_name: str
    simulation: SimulationRef


class CurrentTaskRef(ApiModel):
    id: uuid.UUID
    day_index: int
    title: str
    type: TaskType
    description: str


class CurrentTask(ApiModel):
    candidate_session_id: uuid.UUID
    status: SessionStatus
    current_day_index: int | None
    current_task: CurrentTaskRef | None
    completed_task_ids: list[uuid.UUID]
    progress: Progress
    is_complete: bool
