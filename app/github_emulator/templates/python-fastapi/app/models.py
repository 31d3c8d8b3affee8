"""Request and response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Priority = Literal["low", "medium", "high"]

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TaskCreate(_Input):
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    description: str = Field(default="", max_length=DESCRIPTION_MAX_LENGTH)
    priority: Priority = "medium"
    due_date: date | None = None


class TaskUpdate(_Input):
    """A partial update: only the fields present in the request body change."""

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX_LENGTH)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX_LENGTH)
    priority: Priority | None = None
    due_date: date | None = None

    @model_validator(mode="after")
    def _reject_null_for_required_fields(self) -> TaskUpdate:
        for name in ("title", "description", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Task(BaseModel):
    id: int
    title: str
    description: str
    priority: Priority
    due_date: date | None
    done: bool
    created_at: datetime
    completed_at: datetime | None


class TaskPage(BaseModel):
    items: list[Task]
    total: int
    page: int
    page_size: int
