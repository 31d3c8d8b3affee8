"""Workspaces: the GitHub repository generated for one candidate session from one template."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Text, UniqueConstraint, column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

WorkspaceStatus = TypeAliasType(
    "WorkspaceStatus", Literal["pending", "provisioning", "ready", "failed"]
)
WORKSPACE_STATUSES: tuple[WorkspaceStatus, ...] = get_args(WorkspaceStatus.__value__)

# The states of a test run (app.runs). Named here, below runs, because a workspace keeps the
# result of its last run (`last_run_summary`, written through `service.record_run_result`).
TestRunStatus = TypeAliasType(
    "TestRunStatus", Literal["queued", "dispatching", "running", "passed", "failed", "error"]
)


class Workspace(TimestampMixin, Base):
    __tablename__ = "workspaces"
    __table_args__ = (
        # One repository per (session, template), ever: tasks sharing a template share it.
        UniqueConstraint("candidate_session_id", "template_repo"),
        CheckConstraint(column("status").in_(WORKSPACE_STATUSES), name="status"),
    )

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    template_repo: Mapped[str] = mapped_column(Text)
    template_key: Mapped[str] = mapped_column(Text)
    repo_full_name: Mapped[str | None] = mapped_column(Text, unique=True)
    repo_id: Mapped[int | None] = mapped_column(BigInteger)
    repo_url: Mapped[str | None] = mapped_column(Text)
    default_branch: Mapped[str | None] = mapped_column(Text)
    base_template_sha: Mapped[str | None] = mapped_column(Text)
    latest_commit_sha: Mapped[str | None] = mapped_column(Text)
    # When the branch head in `latest_commit_sha` was read from GitHub: a read that started
    # earlier never overwrites it (webhooks can arrive out of order).
    latest_commit_observed_at: Mapped[datetime | None]
    last_run_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    codespace_url: Mapped[str | None] = mapped_column(Text)
    # The GitHub login that was given push access (revoked later by the deadline jobs).
    collaborator_login: Mapped[str | None] = mapped_column(Text)
    # When retention archived (or deleted) the repository.
    retired_at: Mapped[datetime | None]
    status: Mapped[WorkspaceStatus] = mapped_column(Text, server_default=text("'pending'"))
    # Why provisioning failed, for the candidate: a stable code and a human message (the
    # exception itself goes to the log and the job's last error).
    error_code: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
