"""Request and response models for invites and candidate sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, EmailStr, Field, StringConstraints
from typing_extensions import TypeAliasType

from app.candidate_sessions.models import InviteEmailStatus, SessionStatus
from app.core.schemas import ApiModel, example
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
    model_config = example(
        {
            "candidateSessionId": 42,
            "token": "q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
            "inviteUrl": "http://localhost:3000/invite/q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
            "outcome": "created",
            "expiresAt": "2026-12-15T09:00:00Z",
            "inviteEmailStatus": "queued",
        }
    )

    candidate_session_id: int
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
    model_config = example(
        {
            "candidateSessionId": 42,
            "candidateName": "Ada Lovelace",
            "inviteEmail": "ada@example.com",
            "status": "in_progress",
            "invitedAt": "2026-12-01T09:00:00Z",
            "claimedAt": "2026-12-01T10:12:00Z",
            "startedAt": "2026-12-01T10:12:00Z",
            "completedAt": None,
            "expiresAt": "2026-12-15T09:00:00Z",
            "progress": {"completed": 1, "total": 5},
            "inviteEmailDelivery": {
                "status": "sent",
                "provider": "resend",
                "providerMessageId": "5e1b7c9a-2f4d-4b8e-a6c3-0d9f1e2a3b4c",
                "error": None,
                "attempts": 1,
                "sentAt": "2026-12-01T09:00:03Z",
            },
        }
    )

    candidate_session_id: int
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
    id: int
    title: str
    role: str
    company: str


class InviteView(ApiModel):
    model_config = example(
        {
            "candidateSessionId": 42,
            "status": "in_progress",
            "claimedAt": "2026-12-01T10:12:00Z",
            "startedAt": "2026-12-01T10:12:00Z",
            "completedAt": None,
            "expiresAt": "2026-12-15T09:00:00Z",
            "candidateName": "Ada Lovelace",
            "simulation": {
                "id": 17,
                "title": "Backend engineer, payments team",
                "role": "Backend Engineer",
                "company": "Acme Robotics",
            },
        }
    )

    candidate_session_id: int
    status: SessionStatus
    claimed_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime
    candidate_name: str
    simulation: SimulationRef


class CurrentTaskRef(ApiModel):
    id: int
    day_index: int
    title: str
    type: TaskType
    description: str


class CurrentTask(ApiModel):
    model_config = example(
        {
            "candidateSessionId": 42,
            "status": "in_progress",
            "currentDayIndex": 2,
            "currentTask": {
                "id": 82,
                "dayIndex": 2,
                "title": "Implement partial refunds",
                "type": "code",
                "description": "Make the refund tests pass.",
            },
            "completedTaskIds": [81],
            "progress": {"completed": 1, "total": 5},
            "isComplete": False,
        }
    )

    candidate_session_id: int
    status: SessionStatus
    current_day_index: int | None
    current_task: CurrentTaskRef | None
    completed_task_ids: list[int]
    progress: Progress
    is_complete: bool
