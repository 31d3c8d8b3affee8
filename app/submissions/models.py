"""Submissions: the final turn-in of one task by one candidate session."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    column,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

# A code submission's cutoff tag, made by a job after the submit: `pending` until GitHub has
# it (the final run is queued then), `created`, or `failed` for good (no final run).
CutoffTagStatus = TypeAliasType("CutoffTagStatus", Literal["pending", "created", "failed"])
CUTOFF_TAG_STATUSES: tuple[CutoffTagStatus, ...] = get_args(CutoffTagStatus.__value__)


class Submission(TimestampMixin, Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("candidate_session_id", "task_id"),
        CheckConstraint(
            column("cutoff_tag_status").in_(CUTOFF_TAG_STATUSES), name="cutoff_tag_status"
        ),
    )

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    content_text: Mapped[str | None] = mapped_column(Text)
    # A Day 5 reflection's sections (wire names), as submitted; content_text holds their
    # Markdown rendering. Null for a plain text answer.
    reflection: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    workspace_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("workspaces.id", ondelete="SET NULL")
    )
    cutoff_sha: Mapped[str | None] = mapped_column(Text)
    cutoff_tag_status: Mapped[CutoffTagStatus | None] = mapped_column(Text)
    test_run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("test_runs.id", ondelete="SET NULL")
    )
    diff_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    integrity_findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    late: Mapped[bool] = mapped_column(server_default=false())


Index("ix_submissions_task_id_submitted_at", Submission.task_id, Submission.submitted_at)
Index("ix_submissions_submitted_at_id", Submission.submitted_at, Submission.id)
