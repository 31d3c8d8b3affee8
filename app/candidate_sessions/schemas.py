"""Request and response models for invites and candidate sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints
from typing_extensions import TypeAliasType

from app.candidate_sessions.models import InviteEmailStatus, SessionStatus
from app.core.schemas import ApiModel, Moment, example
from app.simulations.models import TaskType

InviteOutcome = TypeAliasType("InviteOutcome", Literal["created", "existing", "resent"])

# A session's status as clients see it: the portal calls a session nobody has started yet
# `not_started`; Tenon's own lifecycle word for it, `invited`, travels in `state`.
PublicSessionStatus = TypeAliasType(
    "PublicSessionStatus", Literal["not_started", "in_progress", "completed", "expired", "revoked"]
)
_STATE_DESCRIPTION = "Tenon's lifecycle state; `invited` is reported as status `not_started`."


def public_session_status(state: SessionStatus) -> PublicSessionStatus:
    return "not_started" if state == "invited" else state


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
    expires_at: Moment = Field(examples=["2026-12-01T18:00:00Z"])


class InviteResult(ApiModel):
    model_config = example(
        {
            "candidateSessionId": 42,
            "token": "q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
            "inviteUrl": "http://localhost:3000/candidate/session/q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
            "outcome": "created",
            "expiresAt": "2026-12-15T09:00:00Z",
            "inviteEmailStatus": "queued",
        }
    )

    candidate_session_id: int
    token: str | None = Field(description="Shown once, when created or rotated; else null.")
    invite_url: str
    outcome: InviteOutcome
    expires_at: datetime
    invite_email_status: InviteEmailStatus | None


class Progress(ApiModel):
    completed: int = Field(description="Tasks submitted.")
    current: int = Field(
        description="The position of the task being worked on (1-based); 0 before the "
        "candidate starts, `total` once every task is submitted."
    )
    total: int

    @classmethod
    def of(cls, *, completed: int, total: int, started: bool) -> Progress:
        current = min(completed + 1, total) if started else 0
        return cls(completed=completed, current=current, total=total)


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
            "state": "in_progress",
            "invitedAt": "2026-12-01T09:00:00Z",
            "claimedAt": "2026-12-01T10:12:00Z",
            "startedAt": "2026-12-01T10:12:00Z",
            "completedAt": None,
            "expiresAt": "2026-12-15T09:00:00Z",
            "progress": {"completed": 1, "current": 2, "total": 5},
            "inviteUrl": "http://localhost:3000/candidate/session/q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
            "inviteEmailStatus": "sent",
            "inviteEmailSentAt": "2026-12-01T09:00:03Z",
            "inviteEmailError": None,
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
    status: PublicSessionStatus
    state: SessionStatus = Field(description=_STATE_DESCRIPTION)
    invited_at: datetime
    claimed_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime
    progress: Progress
    invite_url: str | None = Field(description="The link, while the invite is open.")
    # Flat copies of the delivery fields, where the recruiter front end reads them.
    invite_email_status: InviteEmailStatus | None
    invite_email_sent_at: datetime | None
    invite_email_error: str | None
    invite_email_delivery: EmailDelivery


class SimulationRef(ApiModel):
    id: int
    title: str
    role: str
    company: str


INVITE_VIEW_EXAMPLE: dict[str, Any] = {
    "candidateSessionId": 42,
    "status": "in_progress",
    "state": "in_progress",
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


class InviteView(ApiModel):
    model_config = example(INVITE_VIEW_EXAMPLE)

    candidate_session_id: int
    status: PublicSessionStatus
    state: SessionStatus = Field(description=_STATE_DESCRIPTION)
    claimed_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime
    candidate_name: str
    simulation: SimulationRef


class CandidateInvite(InviteView):
    """An invite in the candidate's own list, flat as the portal's cards read it."""

    model_config = example(
        INVITE_VIEW_EXAMPLE
        | {
            "title": "Backend engineer, payments team",
            "role": "Backend Engineer",
            "company": "Acme Robotics",
            "token": "q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
            "inviteUrl": "http://localhost:3000/candidate/session/q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za",
            "progress": {"completed": 1, "current": 2, "total": 5},
            "isExpired": False,
        }
    )

    title: str
    role: str
    company: str
    token: str | None = Field(
        description="The link's token, for the candidate the invite is bound to; else null."
    )
    invite_url: str | None
    progress: Progress
    is_expired: bool


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
            "state": "in_progress",
            "currentDayIndex": 2,
            "currentTask": {
                "id": 82,
                "dayIndex": 2,
                "title": "Implement partial refunds",
                "type": "code",
                "description": "Make the refund tests pass.",
            },
            "completedTaskIds": [81],
            "progress": {"completed": 1, "current": 2, "total": 5},
            "isComplete": False,
        }
    )

    candidate_session_id: int
    status: PublicSessionStatus
    state: SessionStatus = Field(description=_STATE_DESCRIPTION)
    current_day_index: int | None
    current_task: CurrentTaskRef | None
    completed_task_ids: list[int]
    progress: Progress
    is_complete: bool
