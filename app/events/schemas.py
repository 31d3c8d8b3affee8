"""Timeline entries as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.schemas import ApiModel
from app.events.models import ActorType


class EventOut(ApiModel):
    id: int
    type: str
    actor_type: ActorType
    actor_id: str | None
    data: dict[str, Any]
    occurred_at: datetime
