"""The stored half of similarity: one fingerprint row per code submission, written once, and
the pairs of one simulation's submissions that scored at or above the threshold.

The rows name the submission and its group (simulation, template) by id only, so this layer
never imports the submissions domain: the submit queues the job with everything it needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

FingerprintStatus = TypeAliasType(
    "FingerprintStatus", Literal["pending", "ready", "skipped", "failed"]
)
FINGERPRINT_STATUSES: tuple[FingerprintStatus, ...] = get_args(FingerprintStatus.__value__)


class SubmissionFingerprints(TimestampMixin, Base):
    """`pending` from the submit until the job ends: `ready` (fingerprints stored and compared
    with every `ready` row of the group stored before, but the same candidate's), `skipped`
    (nothing comparable: the tree is over a cap or holds no source a lexer knows;
    `skip_reason` says which: TARBALL_TOO_LARGE, TARBALL_UNREADABLE, NO_SOURCE_FILES) or
    `failed` (GitHub never gave the tree; `skip_reason` holds the error's code, e.g.
    GITHUB_NOT_FOUND, GITHUB_UNAVAILABLE, or FINGERPRINT_FAILED for anything else)."""

    __tablename__ = "similarity_fingerprints"
    __table_args__ = (
        UniqueConstraint("submission_id"),
        CheckConstraint(column("status").in_(FINGERPRINT_STATUSES), name="status"),
        # The comparison group: a simulation's submissions of one template.
        Index("ix_similarity_fingerprints_group", "simulation_id", "template_repo", "status"),
    )

    id: Mapped[IdPrimaryKey]
    submission_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("submissions.id", ondelete="CASCADE")
    )
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="CASCADE")
    )
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    template_repo: Mapped[str] = mapped_column(Text)
    repo_full_name: Mapped[str] = mapped_column(Text)
    cutoff_sha: Mapped[str] = mapped_column(Text)
    # The candidate repository's commit holding the template as generated: its tree is the
    # template code subtracted.
    base_template_sha: Mapped[str] = mapped_column(Text)
    status: Mapped[FingerprintStatus] = mapped_column(Text, server_default=text("'pending'"))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    # `TreeFingerprints.to_bytes()`, template subtracted; set once, with status `ready`.
    fingerprints: Mapped[bytes | None] = mapped_column(LargeBinary)
    fingerprint_count: Mapped[int | None]
    file_count: Mapped[int | None]
    fingerprinted_at: Mapped[datetime | None]


class SimilarityPair(Base):
    """Two submissions of a group whose score reached the threshold in force when the later
    one was compared. `left` is always the earlier submission (the lower id)."""

    __tablename__ = "similarity_pairs"
    __table_args__ = (
        UniqueConstraint("left_submission_id", "right_submission_id"),
        CheckConstraint(
            column("left_submission_id") < column("right_submission_id"), name="ordered"
        ),
        CheckConstraint(column("score").between(0, 1), name="score_fraction"),
        Index("ix_similarity_pairs_simulation_score", "simulation_id", "score"),
        Index("ix_similarity_pairs_right_submission_id", "right_submission_id"),
    )

    id: Mapped[IdPrimaryKey]
    simulation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("simulations.id", ondelete="CASCADE")
    )
    left_submission_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("submissions.id", ondelete="CASCADE")
    )
    right_submission_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("submissions.id", ondelete="CASCADE")
    )
    # max(left_fraction, right_fraction): PairMatch.score.
    score: Mapped[float] = mapped_column(Float)
    left_fraction: Mapped[float] = mapped_column(Float)
    right_fraction: Mapped[float] = mapped_column(Float)
    shared_fingerprints: Mapped[int]
    # [{"left": {"file", "startLine", "endLine"}, "right": {…}, "fingerprints": n}, …],
    # largest first (`MatchedRegion`).
    regions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
