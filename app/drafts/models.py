"""Drafts: a candidate's autosaved answer to a text task, kept until and after the deadline."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Text, UniqueConstraint, column
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdPrimaryKey, TimestampMixin


class TaskDraft(TimestampMixin, Base):
    __tablename__ = "task_drafts"
    __table_args__ = (
        UniqueConstraint("candidate_session_id", "task_id"),
        # 0 is the version of "nothing saved yet"; the first save stores 1.
        CheckConstraint(column("version") >= 1, name="version_positive"),
    )

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    content_text: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
