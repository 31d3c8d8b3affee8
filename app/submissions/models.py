"""Submissions: the final turn-in of one task by one candidate session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Text, UniqueConstraint, false, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdPrimaryKey, TimestampMixin


class Submission(TimestampMixin, Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("candidate_session_id", "task_id"),)

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    content_text: Mapped[str | None] = mapped_column(Text)
    workspace_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("workspaces.id", ondelete="SET NULL")
    )
    cutoff_sha: Mapped[str | None] = mapped_column(Text)
    test_run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("test_runs.id", ondelete="SET NULL")
    )
    diff_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    integrity_findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    late: Mapped[bool] = mapped_column(server_default=false())


Index("ix_submissions_task_id_submitted_at", Submission.task_id, Submission.submitted_at)
Index("ix_submissions_submitted_at_id", Submission.submitted_at, Submission.id)
