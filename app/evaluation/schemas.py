"""The shapes the evaluation domain shares: rubric criteria, evidence references and score
entries. They are stored as JSON in the same camelCase form as on the wire."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator
from typing_extensions import TypeAliasType

from app.core.schemas import MAX_ID, ApiModel
from app.evaluation.models import MAX_LEVEL, MIN_LEVEL
from app.simulations.models import FIRST_DAY, LAST_DAY

CriterionKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$"),
]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Level = Annotated[int, Field(ge=MIN_LEVEL, le=MAX_LEVEL)]


class Anchors(ApiModel):
    """The anchor sentence of each level of the 1-4 scale."""

    level1: Prose = Field(alias="1")
    level2: Prose = Field(alias="2")
    level3: Prose = Field(alias="3")
    level4: Prose = Field(alias="4")


class Criterion(ApiModel):
    key: CriterionKey
    day_index: int = Field(ge=FIRST_DAY, le=LAST_DAY)
    title: Line
    description: Prose
    weight: float = Field(gt=0, le=100)
    anchors: Anchors


EvidenceKind = TypeAliasType(
    "EvidenceKind", Literal["diff", "test", "text", "transcript", "commit", "run"]
)


# Why an evidence item's quote was removed.
Redaction = TypeAliasType("Redaction", Literal["recording_removed"])


class Evidence(ApiModel):
    """A reference into the candidate's work, and optionally a quote that must occur in it.

    `ref` by kind (ids are the candidate session's own):
    - `diff`: `{submissionId}:{path}` or `{submissionId}:{path}#L{start}-L{end}` (lines of
      the file at the submission's cutoff commit);
    - `test`: `run:{testRunId}:{testName}` or `grading:{gradingId}:{testName}`;
    - `text`: `{submissionId}` (a text answer);
    - `transcript`: `{recordingId}:{segmentIndex}` (a segment of a Day 4 recording's
      transcript, numbered from 0 in order; `startMs`/`endMs` may narrow it);
    - `commit`: a commit SHA of a submission's repository, up to its cutoff;
    - `run`: `{testRunId}` (its output).
    """

    kind: EvidenceKind
    ref: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    quote: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    start_ms: int | None = Field(default=None, ge=0, le=MAX_ID)
    end_ms: int | None = Field(default=None, ge=0, le=MAX_ID)
    redacted: Redaction | None = Field(
        default=None,
        description="Set by Tenon on a transcript item whose recording was deleted or "
        "purged: its quote was removed (`recording_removed`). Such an item may be saved "
        "again as it is.",
    )

    @model_validator(mode="after")
    def _span_in_order(self) -> Self:
        if self.start_ms is not None and self.end_ms is not None and self.end_ms < self.start_ms:
            raise ValueError("endMs must not be before startMs")
        return self

    @model_validator(mode="after")
    def _redacted_without_quote(self) -> Self:
        if self.redacted is not None and (self.kind != "transcript" or self.quote is not None):
            raise ValueError("only a transcript item without a quote is redacted")
        return self


class ScoreEntry(ApiModel):
    """One criterion's score on a scorecard."""

    criterion_key: CriterionKey
    level: Level
    note: Note = ""
    evidence: list[Evidence] = Field(default_factory=list, max_length=20)
