"""recordings and media purges

The Day 4 recording of a handoff task (at most one live per session and task, by a partial
unique index), its transcript as one JSONB value, and the audit of every removal of a
recording's media.

Revision ID: b4c5d6e7f8a9
Revises: a9b8c7d6e5f4
Create Date: 2026-12-05 12:06:55.132532
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b4c5d6e7f8a9"
down_revision: str | None = "a9b8c7d6e5f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("declared_content_type", sa.Text(), nullable=False),
        sa.Column("declared_size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("upload_id", sa.Text(), nullable=True),
        sa.Column("part_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'uploading'"), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("declared_duration_seconds", sa.Double(), nullable=True),
        sa.Column(
            "duration_mismatch", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("consent_version", sa.Text(), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "transcript_status", sa.Text(), server_default=sa.text("'disabled'"), nullable=False
        ),
        sa.Column("transcript_error_code", sa.Text(), nullable=True),
        sa.Column("transcript_language", sa.Text(), nullable=True),
        sa.Column("transcript_model", sa.Text(), nullable=True),
        sa.Column("transcript_segments", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("transcribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('uploading', 'ready', 'deleted', 'purged')",
            name=op.f("ck_recordings_status"),
        ),
        sa.CheckConstraint(
            "transcript_status IN ('disabled', 'queued', 'processing', 'ready', 'failed')",
            name=op.f("ck_recordings_transcript"),
        ),
        sa.CheckConstraint(
            "declared_size_bytes > 0", name=op.f("ck_recordings_declared_size_positive")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_recordings_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_recordings_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_recordings_storage_key")),
    )
    op.create_index(
        "ix_recordings_status_created_at", "recordings", ["status", "created_at"], unique=False
    )
    op.create_index(
        "uq_recordings_live_session_task",
        "recordings",
        ["candidate_session_id", "task_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('uploading', 'ready')"),
    )
    op.create_table(
        "media_purges",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("recording_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "reason IN ('retention', 'abandoned', 'candidate_deleted', 'replaced')",
            name=op.f("ck_media_purges_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_media_purges_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_media_purges_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_purges")),
    )
    op.create_index(
        op.f("ix_media_purges_candidate_session_id"),
        "media_purges",
        ["candidate_session_id"],
        unique=False,
    )
    op.create_index(op.f("ix_media_purges_purged_at"), "media_purges", ["purged_at"], unique=False)
    op.create_index(
        op.f("ix_media_purges_recording_id"), "media_purges", ["recording_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_media_purges_recording_id"), table_name="media_purges")
    op.drop_index(op.f("ix_media_purges_purged_at"), table_name="media_purges")
    op.drop_index(op.f("ix_media_purges_candidate_session_id"), table_name="media_purges")
    op.drop_table("media_purges")
    op.drop_index(
        "uq_recordings_live_session_task",
        table_name="recordings",
        postgresql_where=sa.text("status IN ('uploading', 'ready')"),
    )
    op.drop_index("ix_recordings_status_created_at", table_name="recordings")
    op.drop_table("recordings")
