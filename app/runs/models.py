"""Test runs (one dispatch of a workspace's test workflow) and their per-test results."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
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
from app.workspaces.models import TestRunStatus

TEST_RUN_STATUSES: tuple[TestRunStatus, ...] = get_args(TestRunStatus.__value__)
ACTIVE_TEST_RUN_STATUSES: tuple[TestRunStatus, ...] = ("queued", "dispatching", "running")

TestCaseStatus = TypeAliasType("TestCaseStatus", Literal["passed", "failed", "error", "skipped"])
TEST_CASE_STATUSES: tuple[TestCaseStatus, ...] = get_args(TestCaseStatus.__value__)

_COUNT_COLUMNS = ("passed", "failed", "skipped", "errors", "total", "duration_ms")


class TestRun(TimestampMixin, Base):
    __test__ = False  # not a pytest test class, despite the name
    __tablename__ = "test_runs"
    __table_args__ = (
        # A GitHub workflow run is claimed by at most one test run.
        UniqueConstraint("github_run_id"),
        CheckConstraint(column("status").in_(TEST_RUN_STATUSES), name="status"),
        CheckConstraint(
            and_(*(column(name) >= 0 for name in _COUNT_COLUMNS)), name="counts_non_negative"
        ),
    )

    id: Mapped[IdPrimaryKey]
    workspace_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    requested_ref: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TestRunStatus] = mapped_column(Text, server_default=text("'queued'"))
    github_run_id: Mapped[int | None] = mapped_column(BigInteger)
    github_run_url: Mapped[str | None] = mapped_column(Text)
    head_sha: Mapped[str | None] = mapped_column(Text)
    conclusion: Mapped[str | None] = mapped_column(Text)

    passed: Mapped[int | None]
    failed: Mapped[int | None]
    skipped: Mapped[int | None]
    errors: Mapped[int | None]
    total: Mapped[int | None]
    duration_ms: Mapped[int | None]

    stdout: Mapped[str | None] = mapped_column(Text)
    stderr: Mapped[str | None] = mapped_column(Text)
    stdout_truncated: Mapped[bool] = mapped_column(server_default=false())
    stderr_truncated: Mapped[bool] = mapped_column(server_default=false())
    artifact_name: Mapped[str | None] = mapped_column(Text)
    result_code: Mapped[str | None] = mapped_column(Text)

    dispatched_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    tests: Mapped[list[TestCaseResult]] = relationship(
        lazy="raise",
        order_by="TestCaseResult.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


Index("ix_test_runs_workspace_id_created_at", TestRun.workspace_id, TestRun.created_at.desc())
# The poller only ever looks at runs that are not final yet.
Index(
    "ix_test_runs_active_created_at",
    TestRun.created_at,
    postgresql_where=TestRun.status.in_(ACTIVE_TEST_RUN_STATUSES),
)


class TestCaseResult(Base):
    __test__ = False  # not a pytest test class, despite the name
    __tablename__ = "test_case_results"
    __table_args__ = (
        UniqueConstraint("test_run_id", "position"),
        CheckConstraint(column("status").in_(TEST_CASE_STATUSES), name="status"),
        CheckConstraint(column("position") >= 0, name="position_non_negative"),
        CheckConstraint(column("duration_ms") >= 0, name="duration_ms_non_negative"),
    )

    id: Mapped[IdPrimaryKey]
    test_run_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("test_runs.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    classname: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TestCaseStatus] = mapped_column(Text)
    duration_ms: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(Text)
