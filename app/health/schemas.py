"""Response models for liveness and readiness."""

from __future__ import annotations

from typing import Literal

from app.core.schemas import ApiModel


class Liveness(ApiModel):
    status: Literal["ok"] = "ok"


class Readiness(ApiModel):
    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"
