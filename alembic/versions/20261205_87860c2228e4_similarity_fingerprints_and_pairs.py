"""similarity fingerprints and pairs

One row of winnowing fingerprints per code submission (written once by a job) and the
pairs of a simulation's submissions that reached the similarity threshold, with their
matched regions. Submissions made before this revision are not fingerprinted.

Revision ID: 87860c2228e4
Revises: b4c5d6e7f8a9
Create Date: 2026-12-05 21:15:25.219626
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "87860c2228e4"
down_revision: str | None = "b4c5d6e7f8a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "similarity_fingerprints",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("submission_id", sa.BigInteger(), nullable=False),
        sa.Column("simulation_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("template_repo", sa.Text(), nullable=False),
        sa.Column("repo_full_name", sa.Text(), nullable=False),
        sa.Column("cutoff_sha", sa.Text(), nullable=False),
        sa.Column("base_template_sha", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("fingerprints", sa.LargeBinary(), nullable=True),
        sa.Column("fingerprint_count", sa.Integer(), nullable=True),
        sa.Column("file_count", sa.Integer(), nullable=True),
        sa.Column("fingerprinted_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('pending', 'ready', 'skipped', 'failed')",
            name=op.f("ck_similarity_fingerprints_status"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_similarity_fingerprints_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_similarity_fingerprints_simulation_id_simulations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_fingerprints_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_similarity_fingerprints_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_fingerprints")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_similarity_fingerprints_submission_id")),
    )
    op.create_index(
        "ix_similarity_fingerprints_group",
        "similarity_fingerprints",
        ["simulation_id", "template_repo", "status"],
        unique=False,
    )
    op.create_table(
        "similarity_pairs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("simulation_id", sa.BigInteger(), nullable=False),
        sa.Column("left_submission_id", sa.BigInteger(), nullable=False),
        sa.Column("right_submission_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("left_fraction", sa.Float(), nullable=False),
        sa.Column("right_fraction", sa.Float(), nullable=False),
        sa.Column("shared_fingerprints", sa.Integer(), nullable=False),
        sa.Column("regions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "left_submission_id < right_submission_id", name=op.f("ck_similarity_pairs_ordered")
        ),
        sa.CheckConstraint(
            "score BETWEEN 0 AND 1", name=op.f("ck_similarity_pairs_score_fraction")
        ),
        sa.ForeignKeyConstraint(
            ["left_submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_pairs_left_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["right_submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_pairs_right_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_similarity_pairs_simulation_id_simulations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_pairs")),
        sa.UniqueConstraint(
            "left_submission_id",
            "right_submission_id",
            name=op.f("uq_similarity_pairs_left_submission_id_right_submission_id"),
        ),
    )
    op.create_index(
        "ix_similarity_pairs_right_submission_id",
        "similarity_pairs",
        ["right_submission_id"],
        unique=False,
    )
    op.create_index(
        "ix_similarity_pairs_simulation_score",
        "similarity_pairs",
        ["simulation_id", "score"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_similarity_pairs_simulation_score", table_name="similarity_pairs")
    op.drop_index("ix_similarity_pairs_right_submission_id", table_name="similarity_pairs")
    op.drop_table("similarity_pairs")
    op.drop_index("ix_similarity_fingerprints_group", table_name="similarity_fingerprints")
    op.drop_table("similarity_fingerprints")
