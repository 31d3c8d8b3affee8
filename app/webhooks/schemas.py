"""Request and response models of the webhook endpoints and their delivery log, and the
event types a customer can subscribe to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import Field, StringConstraints, model_validator
from typing_extensions import TypeAliasType

from app.core.schemas import ApiModel, example
from app.webhooks.models import DeliveryStatus

WebhookEventType = TypeAliasType(
    "WebhookEventType",
    Literal[
        "candidate.invited",
        "candidate.claimed",
        "candidate.completed",
        "candidate.expired",
        "submission.created",
        "grading.completed",
        "scorecard.submitted",
    ],
)
WEBHOOK_EVENT_TYPES: tuple[WebhookEventType, ...] = get_args(WebhookEventType.__value__)
# Sent only by the endpoint's test route, whatever it subscribes to.
PING_EVENT = "ping"

EndpointUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
EventTypes = Annotated[
    list[WebhookEventType],
    Field(min_length=1, max_length=len(WEBHOOK_EVENT_TYPES), description="Each at most once."),
]

_ENDPOINT_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "url": "https://hooks.example.com/tenon",
    "description": "ATS sync",
    "eventTypes": ["candidate.completed", "grading.completed"],
    "enabled": True,
    "createdAt": "2026-12-01T09:00:00Z",
    "updatedAt": "2026-12-01T09:00:00Z",
    "secretRotatedAt": None,
    "previousSecretExpiresAt": None,
}
_SECRET_EXAMPLE = "whsec_Q2x1ZS1vbmx5LWV4YW1wbGUtc2VjcmV0LW5vdC1yZWFs"  # noqa: S105
_DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": 301,
    "endpointId": 7,
    "eventId": "evt_3f1c9a0d2b7e4c8a9e1f0a2b",
    "eventType": "candidate.completed",
    "status": "delivered",
    "attemptCount": 2,
    "lastStatusCode": 204,
    "lastError": None,
    "lastAttemptAt": "2026-12-01T09:01:10Z",
    "deliveredAt": "2026-12-01T09:01:10Z",
    "createdAt": "2026-12-01T09:00:00Z",
}


def _unique(event_types: list[WebhookEventType]) -> list[WebhookEventType]:
    if len(set(event_types)) != len(event_types):
        raise ValueError("each event type at most once")
    return event_types


class EndpointCreate(ApiModel):
    url: EndpointUrl = Field(description="https (plain http only on a local server).")
    description: Description = ""
    event_types: EventTypes
    enabled: bool = True

    @model_validator(mode="after")
    def _event_types_unique(self) -> Self:
        _unique(self.event_types)
        return self


class EndpointUpdate(ApiModel):
    """The fields to change; an absent field keeps its value (null is refused)."""

    url: EndpointUrl | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep its value")
        if self.event_types is not None:
            _unique(self.event_types)
        return self


class EndpointOut(ApiModel):
    model_config = example(_ENDPOINT_EXAMPLE)

    id: int
    url: str
    description: str
    event_types: list[WebhookEventType]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries also carry a signature by the previous secret."
    )


class EndpointWithSecret(EndpointOut):
    """The endpoint with its signing secret: shown once, when created or rotated."""

    model_config = example(_ENDPOINT_EXAMPLE | {"secret": _SECRET_EXAMPLE})

    secret: str = Field(description="The signing secret; no later answer shows it again.")


class DeliveryOut(ApiModel):
    model_config = example(_DELIVERY_EXAMPLE)

    id: int
    endpoint_id: int
    event_id: str = Field(description="The event's id: the same in every attempt.")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class AttemptOut(ApiModel):
    id: int
    manual: bool = Field(description="A redelivery or test, not the automatic schedule.")
    attempted_at: datetime
    status_code: int | None
    error: str | None = Field(description="Why no answer counted (network, refused target).")
    duration_ms: int
    response_body: str | None = Field(description="The answer's first KiB.")


class DeliveryDetail(DeliveryOut):
    model_config = example(
        _DELIVERY_EXAMPLE
        | {
            "payload": {
                "id": "evt_3f1c9a0d2b7e4c8a9e1f0a2b",
                "type": "candidate.completed",
                "apiVersion": "2026-12-01",
                "createdAt": "2026-12-01T09:00:00Z",
                "data": {"candidateSessionId": 42, "simulationId": 3},
            },
            "attempts": [
                {
                    "id": 900,
                    "manual": False,
                    "attemptedAt": "2026-12-01T09:00:01Z",
                    "statusCode": 503,
                    "error": None,
                    "durationMs": 112,
                    "responseBody": "upstream unavailable",
                },
                {
                    "id": 931,
                    "manual": False,
                    "attemptedAt": "2026-12-01T09:01:10Z",
                    "statusCode": 204,
                    "error": None,
                    "durationMs": 87,
                    "responseBody": "",
                },
            ],
        }
    )

    payload: dict[str, Any] = Field(description="The event exactly as sent (JSON).")
    attempts: list[AttemptOut] = Field(description="Oldest first.")
