"""Day 4 recordings (SPEC §11.3): the candidate's video or audio of the handoff task, its
transcript, and the audit of every recording whose media was removed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Text, column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from typing_extensions import TypeAliasType

from app.core.db import Base, IdPrimaryKey, TimestampMixin

# `uploading` until `complete` verified the object; `deleted` by the candidate (or replaced
# by a new upload); `purged` by the retention job.
RecordingStatus = TypeAliasType(
    "RecordingStatus", Literal["uploading", "ready", "deleted", "purged"]
)
RECORDING_STATUSES: tuple[RecordingStatus, ...] = get_args(RecordingStatus.__value__)
LIVE_STATUSES: tuple[RecordingStatus, ...] = ("uploading", "ready")

TranscriptStatus = TypeAliasType(
    "TranscriptStatus", Literal["disabled", "queued", "processing", "ready", "failed"]
)
TRANSCRIPT_STATUSES: tuple[TranscriptStatus, ...] = get_args(TranscriptStatus.__value__)

# `replaced`: an unfinished upload dropped by the candidate's new `init`.
PurgeReason = TypeAliasType(
    "PurgeReason", Literal["retention", "abandoned", "candidate_deleted", "replaced"]
)
PURGE_REASONS: tuple[PurgeReason, ...] = get_args(PurgeReason.__value__)


class Recording(TimestampMixin, Base):
    __tablename__ = "recordings"
    __table_args__ = (
        CheckConstraint(column("status").in_(RECORDING_STATUSES), name="status"),
        CheckConstraint(column("transcript_status").in_(TRANSCRIPT_STATUSES), name="transcript"),
        CheckConstraint(column("declared_size_bytes") > 0, name="declared_size_positive"),
    )

    id: Mapped[IdPrimaryKey]
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE")
    )
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(Text, unique=True)
    filename: Mapped[str] = mapped_column(Text)
    declared_content_type: Mapped[str] = mapped_column(Text)
    declared_size_bytes: Mapped[int] = mapped_column(BigInteger)
    # The store's multipart upload, for files above the multipart threshold.
    upload_id: Mapped[str | None] = mapped_column(Text)
    part_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[RecordingStatus] = mapped_column(Text, server_default=text("'uploading'"))
    # What `complete` found: the type sniffed from the bytes, the duration measured by
    # demuxing the file, the stored size.
    content_type: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float | None]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # What the client claimed, never trusted; kept with a flag when it differs much.
    declared_duration_seconds: Mapped[float | None]
    duration_mismatch: Mapped[bool] = mapped_column(server_default=text("false"))
    consent_version: Mapped[str | None] = mapped_column(Text)
    consented_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    transcript_status: Mapped[TranscriptStatus] = mapped_column(
        Text, server_default=text("'disabled'")
    )
    transcript_error_code: Mapped[str | None] = mapped_column(Text)
    transcript_language: Mapped[str | None] = mapped_column(Text)
    transcript_model: Mapped[str | None] = mapped_column(Text)
    # [{"start": s, "end": s, "text": …}, …] in order. One JSONB value, not a table: a
    # transcript is written whole by one job, read whole by one view, and dropped whole on
    # deletion or purge; nothing queries a single segment.
    transcript_segments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    transcribed_at: Mapped[datetime | None]


_live = column("status").in_(LIVE_STATUSES)
# One live recording per session and task; deleted and purged ones stay for the audit.
Index(
    "uq_recordings_live_session_task",
    Recording.candidate_session_id,
    Recording.task_id,
    unique=True,
    postgresql_where=_live,
)
# The retention job's scans: unfinished uploads by age, ready recordings by completion.
Index("ix_recordings_status_created_at", Recording.status, Recording.created_at)


class MediaPurge(Base):
    """One removal of a recording's media (object and transcript), whoever asked for it:
    the candidate, a replacing upload, or the retention job. Kept after the media is gone,
    so what was removed, why and when can be shown, and so evaluations can redact what
    they quoted of a purged transcript."""

    __tablename__ = "media_purges"
    __table_args__ = (CheckConstraint(column("reason").in_(PURGE_REASONS), name="reason"),)

    id: Mapped[IdPrimaryKey]
    recording_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    candidate_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("candidate_sessions.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[PurgeReason] = mapped_column(Text)
    storage_key: Mapped[str] = mapped_column(Text)
    purged_at: Mapped[datetime] = mapped_column(index=True)
    # What was removed: {"object": bool, "multipartAborted": bool, "transcriptSegments": n}.
    removed: Mapped[dict[str, Any]] = mapped_column(JSONB)
