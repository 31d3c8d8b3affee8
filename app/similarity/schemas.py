"""Response models of the similarity views: pairs of submissions whose code is alike, with
where, shown to recruiters as a reason to look, never as a verdict."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.core.pagination import Page
from app.core.schemas import ApiModel, example

# A submission's fingerprints as recruiters are told: the stored status, or
# `not_fingerprinted` for a submission without a row (a text answer, or code turned in while
# similarity was off).
SimilarityState = TypeAliasType(
    "SimilarityState", Literal["pending", "ready", "skipped", "failed", "not_fingerprinted"]
)

SCORE_DESCRIPTION = (
    "The larger of the two fractions: the share of one submission's fingerprints (template "
    "code taken out) also found in the other."
)

_SIDE_EXAMPLE: dict[str, Any] = {
    "submissionId": 305,
    "candidateSessionId": 42,
    "candidateName": "Ada Lovelace",
    "inviteEmail": "ada@example.com",
    "taskId": 82,
    "dayIndex": 2,
}
_OTHER_EXAMPLE: dict[str, Any] = {
    "submissionId": 311,
    "candidateSessionId": 47,
    "candidateName": "Grace Hopper",
    "inviteEmail": "grace@example.com",
    "taskId": 82,
    "dayIndex": 2,
}
_COVERAGE_EXAMPLE: dict[str, Any] = {"ready": 11, "pending": 1, "skipped": 1, "failed": 0}

_PAIR_EXAMPLE: dict[str, Any] = {
    "pairId": 9,
    "score": 0.64,
    "left": _SIDE_EXAMPLE,
    "right": _OTHER_EXAMPLE,
    "leftFraction": 0.58,
    "rightFraction": 0.64,
    "sharedFingerprints": 212,
    "regionCount": 1,
    "regions": [
        {
            "left": {"file": "app/refunds.py", "startLine": 12, "endLine": 61},
            "right": {"file": "app/payments/refund.py", "startLine": 40, "endLine": 95},
            "fingerprints": 180,
        }
    ],
    "foundAt": "2026-12-02T16:01:30Z",
}


class SubmissionSide(ApiModel):
    """One submission of a pair, and whose it is."""

    model_config = example(_SIDE_EXAMPLE)

    submission_id: int
    candidate_session_id: int
    candidate_name: str
    invite_email: str
    task_id: int
    day_index: int


class Lines(ApiModel):
    file: str = Field(description="The path in the submission's repository.")
    start_line: int = Field(description="1-based, inclusive.")
    end_line: int = Field(description="Inclusive.")


class PairRegion(ApiModel):
    """A stretch of code found on both sides, in the same order (renamed identifiers and
    changed literals included)."""

    left: Lines
    right: Lines
    fingerprints: int = Field(description="Shared fingerprints inside the two spans.")


class SimilarPair(ApiModel):
    """Two submissions of the simulation whose code is alike; `left` is the earlier."""

    model_config = example(_PAIR_EXAMPLE)

    pair_id: int
    score: float = Field(description=SCORE_DESCRIPTION)
    left: SubmissionSide
    right: SubmissionSide
    left_fraction: float = Field(description="Of the left side's fingerprints, the share shared.")
    right_fraction: float = Field(description="Of the right side's fingerprints, the share shared.")
    shared_fingerprints: int
    region_count: int
    regions: list[PairRegion] = Field(description="Largest first.")
    found_at: datetime = Field(description="When the later submission was compared.")


class Coverage(ApiModel):
    """The simulation's code submissions by fingerprint status: while some are `pending` or
    `failed`, the pairs are not all known yet."""

    model_config = example(_COVERAGE_EXAMPLE)

    ready: int = Field(description="Fingerprinted and compared with the earlier ones.")
    pending: int = Field(description="Waiting for the fingerprint job.")
    skipped: int = Field(description="Nothing comparable (over a size cap, or no source).")
    failed: int = Field(description="The tree could not be fetched from GitHub.")


class SimulationSimilarity(Page[SimilarPair]):
    """Pairs of a simulation's code submissions whose score reached the threshold, highest
    first, for a human to review. Similar code is a reason for a human to look at both
    submissions, never a verdict."""

    model_config = example(
        {
            "simulationId": 7,
            "coverage": _COVERAGE_EXAMPLE,
            "items": [_PAIR_EXAMPLE],
            "total": 1,
            "nextCursor": None,
        }
    )

    simulation_id: int
    coverage: Coverage


class MatchRegion(ApiModel):
    """A stretch of code found in both submissions, `this` being the requested one's."""

    this: Lines
    other: Lines
    fingerprints: int = Field(description="Shared fingerprints inside the two spans.")


class SubmissionMatch(ApiModel):
    """A pair the submission is in, seen from it."""

    pair_id: int
    score: float = Field(description=SCORE_DESCRIPTION)
    this_fraction: float = Field(description="Of this submission's fingerprints, the share shared.")
    other_fraction: float = Field(description="Of the other's fingerprints, the share shared.")
    other: SubmissionSide
    shared_fingerprints: int
    region_count: int
    regions: list[MatchRegion] = Field(description="Largest first.")
    found_at: datetime


class SubmissionSimilarity(ApiModel):
    """A submission's fingerprint status and its pairs with the simulation's other
    submissions, highest score first, for a human to review. Similar code is a reason for a
    human to look at both submissions, never a verdict."""

    model_config = example(
        {
            "submissionId": 311,
            "status": "ready",
            "skipReason": None,
            "fingerprintedAt": "2026-12-02T16:01:30Z",
            "fileCount": 14,
            "fingerprintCount": 331,
            "matches": [
                {
                    "pairId": 9,
                    "score": 0.64,
                    "thisFraction": 0.64,
                    "otherFraction": 0.58,
                    "other": _SIDE_EXAMPLE,
                    "sharedFingerprints": 212,
                    "regionCount": 1,
                    "regions": [
                        {
                            "this": {
                                "file": "app/payments/refund.py",
                                "startLine": 40,
                                "endLine": 95,
                            },
                            "other": {"file": "app/refunds.py", "startLine": 12, "endLine": 61},
                            "fingerprints": 180,
                        }
                    ],
                    "foundAt": "2026-12-02T16:01:30Z",
                }
            ],
        }
    )

    submission_id: int
    status: SimilarityState = Field(
        description="`ready` once compared; `pending` while the job has not run; `skipped` "
        "(see `skipReason`) or `failed` when nothing could be compared; `not_fingerprinted` "
        "for a text answer or code turned in while similarity was off."
    )
    skip_reason: str | None = Field(
        description="Why it was skipped (a cap, or no source), or the error code of a failure."
    )
    fingerprinted_at: datetime | None
    file_count: int | None = Field(description="Source files fingerprinted.")
    fingerprint_count: int | None = Field(
        description="Fingerprints left once the template's are out."
    )
    matches: list[SubmissionMatch]
