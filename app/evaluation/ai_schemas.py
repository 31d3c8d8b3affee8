"""Request and response models of the AI drafts: the scorecard drafts of a candidate
session's days and the scenario drafts of a simulation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from app.core.schemas import ApiModel
from app.evaluation.models import AiDraftStatus, ScenarioDraftStatus
from app.evaluation.schemas import Criterion, ScoreEntry
from app.simulations.models import FIRST_DAY, LAST_DAY, TaskType

_Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
_Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class AiUsageOut(ApiModel):
    """What the call a draft was made by used: the model, its tokens and cost (USD)."""

    provider: str
    model: str
    prompt_hash: str
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float


class AiDraftContent(ApiModel):
    """A day's draft scores: one entry per criterion of the day, only verified evidence."""

    summary: Annotated[str, StringConstraints(max_length=5000)] = ""
    entries: list[ScoreEntry]


class AiDraftOut(ApiModel):
    """The AI's draft scorecard of one day: a suggestion, never a reviewer's scorecard."""

    day_index: int
    status: AiDraftStatus
    rubric_version_id: int | None
    content: AiDraftContent | None
    usage: AiUsageOut | None
    dropped_evidence: int = Field(description="AI evidence items dropped as unverifiable.")
    error_code: str | None
    error_detail: str | None
    updated_at: datetime
    completed_at: datetime | None


class AiDraftsQueued(ApiModel):
    day_indexes: list[int] = Field(description="The days whose draft was queued now.")


class ScenarioDraftCreate(ApiModel):
    """What the scenario is drafted from; an omitted field is the simulation's own."""

    role: _Line | None = None
    tech_stack: _Line | None = None
    seniority: _Line | None = None
    focus: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class ScenarioTask(ApiModel):
    day_index: int = Field(ge=FIRST_DAY, le=LAST_DAY)
    type: TaskType
    title: _Line
    description: _Prose


class ScenarioContent(ApiModel):
    """A simulation's tasks, one per day, and the rubric criteria that score them."""

    tasks: list[ScenarioTask] = Field(min_length=1, max_length=LAST_DAY)
    criteria: list[Criterion] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        days = [task.day_index for task in self.tasks]
        if len(days) != len(set(days)):
            raise ValueError("each task dayIndex may appear only once")
        keys = [criterion.key for criterion in self.criteria]
        if len(keys) != len(set(keys)):
            raise ValueError("each criterion key may appear only once")
        scored = {criterion.day_index for criterion in self.criteria}
        if stray := sorted(scored - set(days)):
            raise ValueError(f"criteria name days without a task: {stray}")
        if unscored := sorted(set(days) - scored):
            raise ValueError(f"days without a criterion: {unscored}")
        return self


class ScenarioDraftOut(ApiModel):
    id: int
    simulation_id: int
    status: ScenarioDraftStatus
    content: ScenarioContent | None
    usage: AiUsageOut | None
    error_code: str | None
    error_detail: str | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
