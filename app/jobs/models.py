"""Jobs: rows of the durable job queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, Index, Text, column, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

# 'failed' means the last attempt failed and a retry is scheduled at run_at;
# 'dead' means attempts are exhausted (or the error was not retryable).
JobState = TypeAliasType("JobState", Literal["pending", "running", "succeeded", "failed", "dead"])
JOB_STATES: tuple[JobState, ...] = get_args(JobState.__value__)
# States a worker may claim once run_at has come.
CLAIMABLE_JOB_STATES: tuple[JobState, ...] = ("pending", "failed")


class Job(TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(column("state").in_(JOB_STATES), name="state"),
        CheckConstraint(column("attempts") >= 0, name="attempts_non_negative"),
        CheckConstraint(column("max_attempts") > 0, name="max_attempts_positive"),
    )

    id: Mapped[IdPrimaryKey]
    type: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    state: Mapped[JobState] = mapped_column(Text, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(server_default=text("5"))
    run_at: Mapped[datetime] = mapped_column(server_default=func.now())
    locked_by: Mapped[str | None] = mapped_column(Text)
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]


_claimable = Job.state.in_(CLAIMABLE_JOB_STATES)
# At most one job waiting to run per dedupe key; finished ones do not block a new one.
Index("uq_jobs_waiting_dedupe_key", Job.dedupe_key, unique=True, postgresql_where=_claimable)
Index("ix_jobs_claimable_run_at_id", Job.run_at, Job.id, postgresql_where=_claimable)
# Lease recovery: running jobs whose lock expired.
Index("ix_jobs_running_locked_until", Job.locked_until, postgresql_where=Job.state == "running")


class PeriodicSchedule(Base):
    """When each periodic job is next due; the worker that advances it enqueues the tick."""

    __tablename__ = "periodic_schedules"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    next_run_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
