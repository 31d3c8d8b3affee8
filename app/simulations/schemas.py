"""Request and response models for simulations and tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from app.core.schemas import ApiModel, example
from app.simulations.models import FIRST_DAY, LAST_DAY, SimulationStatus, TaskType

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class TaskCreate(ApiModel):
    day_index: int = Field(ge=FIRST_DAY, le=LAST_DAY)
    type: TaskType
    title: Line
    description: Prose
    max_score: int | None = Field(default=None, ge=0, le=1000)


class SimulationCreate(ApiModel):
    title: Line = Field(examples=["Backend engineer, payments team"])
    role: Line = Field(examples=["Backend Engineer"])
    tech_stack: Line = Field(examples=["Python, FastAPI, PostgreSQL"])
    seniority: Line = Field(examples=["Senior"])
    focus: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    template_key: Line = Field(examples=["python-fastapi"])
    tasks: list[TaskCreate] | None = Field(
        default=None,
        min_length=1,
        max_length=LAST_DAY,
        description="Explicit tasks; omitted means the default five-day plan.",
    )

    @model_validator(mode="after")
    def _one_task_per_day(self) -> Self:
        if self.tasks is not None:
            days = [task.day_index for task in self.tasks]
            if len(days) != len(set(days)):
                raise ValueError("each dayIndex may appear only once")
        return self


class TaskOut(ApiModel):
    id: int
    day_index: int
    type: TaskType
    title: str
    description: str
    max_score: int | None
    template_repo: str | None


class SimulationSummary(ApiModel):
    id: int
    title: str
    role: str
    tech_stack: str
    seniority: str
    focus: str | None
    template_key: str
    status: SimulationStatus
    created_at: datetime


class SimulationListItem(SimulationSummary):
    candidate_count: int = Field(description="Candidates invited, in any status.")


class SimulationOut(SimulationSummary):
    model_config = example(
        {
            "id": 17,
            "title": "Backend engineer, payments team",
            "role": "Backend Engineer",
            "techStack": "Python, FastAPI, PostgreSQL",
            "seniority": "Senior",
            "focus": "APIs and data integrity",
            "templateKey": "python-fastapi",
            "status": "active",
            "createdAt": "2026-12-01T09:00:00Z",
            "tasks": [
                {
                    "id": 81,
                    "dayIndex": 1,
                    "type": "design",
                    "title": "Design the refunds API",
                    "description": "Propose endpoints and data model for partial refunds.",
                    "maxScore": 10,
                    "templateRepo": None,
                },
                {
                    "id": 82,
                    "dayIndex": 2,
                    "type": "code",
                    "title": "Implement partial refunds",
                    "description": "Make the refund tests pass.",
                    "maxScore": 10,
                    "templateRepo": "tenon-templates/python-fastapi",
                },
            ],
        }
    )

    tasks: list[TaskOut]
