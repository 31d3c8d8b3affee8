"""Gradings: one run of a template's grader repository over a code or debug submission at
its cutoff commit (SPEC §11.1), and the grader's per-test results."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Text,
    UniqueConstraint,
    and_,
    column,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin
from app.runs.models import TEST_CASE_STATUSES, TestCaseStatus

GradingStatus = TypeAliasType(
    "GradingStatus", Literal["queued", "dispatching", "running", "completed", "error"]
)
GRADING_STATUSES: tuple[GradingStatus, ...] = get_args(GradingStatus.__value__)
ACTIVE_GRADING_STATUSES: tuple[GradingStatus, ...] = ("queued", "dispatching", "running")

_COUNT_COLUMNS = (
    "passed",
    "failed",
    "skipped",
    "errors",
    "total",
    "hidden_passed",
    "hidden_total",
    "visible_passed",
    "visible_total",
)


class Grading(TimestampMixin, Base):
    __tablename__ = "gradings"
    __table_args__ = (
        UniqueConstraint("submission_id"),
        # A GitHub workflow run grades at most one submission.
        UniqueConstraint("github_run_id"),
        CheckConstraint(column("status").in_(GRADING_STATUSES), name="status"),
        CheckConstraint(
            and_(*(column(name) >= 0 for name in _COUNT_COLUMNS)), name="counts_non_negative"
        ),
    )

    id: Mapped[IdPrimaryKey]
    submission_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("submissions.id", ondelete="CASCADE")
    )
    status: Mapped[GradingStatus] = mapped_column(Text, server_default=text("'queued'"))
    grader_repo: Mapped[str] = mapped_column(Text)
    # The grader's commit the run used (its head_sha), known once the run is found.
    grader_sha: Mapped[str | None] = mapped_column(Text)
    candidate_repo: Mapped[str] = mapped_column(Text)
    # The submission's cutoff: the commit graded.
    candidate_sha: Mapped[str] = mapped_column(Text)
    github_run_id: Mapped[int | None] = mapped_column(BigInteger)
    github_run_url: Mapped[str | None] = mapped_column(Text)
    conclusion: Mapped[str | None] = mapped_column(Text)

    passed: Mapped[int | None]
    failed: Mapped[int | None]
    skipped: Mapped[int | None]
    errors: Mapped[int | None]
    total: Mapped[int | None]
    # Derived from the per-test classnames: `hidden`/`hidden.*` and `visible.*`.
    hidden_passed: Mapped[int | None]
    hidden_total: Mapped[int | None]
    visible_passed: Mapped[int | None]
    visible_total: Mapped[int | None]
    tests_truncated: Mapped[bool] = mapped_column(server_default=false())

    artifact_name: Mapped[str | None] = mapped_column(Text)
    # Hex SHA-256 of the artifact's zip, as downloaded.
    artifact_sha256: Mapped[str | None] = mapped_column(Text)
    result_code: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)

    dispatched_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    tests: Mapped[list[GradingTestResult]] = relationship(
        lazy="raise",
        order_by="GradingTestResult.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class GradingTestResult(Base):
    __tablename__ = "grading_test_results"
    __table_args__ = (
        UniqueConstraint("grading_id", "position"),
        CheckConstraint(column("status").in_(TEST_CASE_STATUSES), name="status"),
        CheckConstraint(column("position") >= 0, name="position_non_negative"),
        CheckConstraint(column("duration_ms") >= 0, name="duration_ms_non_negative"),
    )

    id: Mapped[IdPrimaryKey]
    grading_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("gradings.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    classname: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TestCaseStatus] = mapped_column(Text)
    hidden: Mapped[bool]
    duration_ms: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(Text)
