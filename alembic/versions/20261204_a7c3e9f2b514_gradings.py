"""gradings

One grading per code or debug submission: the grader repository's run over the cutoff
commit, its counts (hidden and visible apart), the artifact's hash, and its per-test
results (SPEC §11.1).

Revision ID: a7c3e9f2b514
Revises: d986488e4f51
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9f2b514"
down_revision: str | None = "d986488e4f51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gradings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("submission_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("grader_repo", sa.Text(), nullable=False),
        sa.Column("grader_sha", sa.Text(), nullable=True),
        sa.Column("candidate_repo", sa.Text(), nullable=False),
        sa.Column("candidate_sha", sa.Text(), nullable=False),
        sa.Column("github_run_id", sa.BigInteger(), nullable=True),
        sa.Column("github_run_url", sa.Text(), nullable=True),
        sa.Column("conclusion", sa.Text(), nullable=True),
        sa.Column("passed", sa.Integer(), nullable=True),
        sa.Column("failed", sa.Integer(), nullable=True),
        sa.Column("skipped", sa.Integer(), nullable=True),
        sa.Column("errors", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("hidden_passed", sa.Integer(), nullable=True),
        sa.Column("hidden_total", sa.Integer(), nullable=True),
        sa.Column("visible_passed", sa.Integer(), nullable=True),
        sa.Column("visible_total", sa.Integer(), nullable=True),
        sa.Column("tests_truncated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("artifact_name", sa.Text(), nullable=True),
        sa.Column("artifact_sha256", sa.Text(), nullable=True),
        sa.Column("result_code", sa.Text(), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('queued', 'dispatching', 'running', 'completed', 'error')",
            name=op.f("ck_gradings_status"),
        ),
        sa.CheckConstraint(
            "passed >= 0 AND failed >= 0 AND skipped >= 0 AND errors >= 0 AND total >= 0 "
            "AND hidden_passed >= 0 AND hidden_total >= 0 "
            "AND visible_passed >= 0 AND visible_total >= 0",
            name=op.f("ck_gradings_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_gradings_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gradings")),
        sa.UniqueConstraint("github_run_id", name=op.f("uq_gradings_github_run_id")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_gradings_submission_id")),
    )
    op.create_table(
        "grading_test_results",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("grading_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("classname", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('passed', 'failed', 'error', 'skipped')",
            name=op.f("ck_grading_test_results_status"),
        ),
        sa.CheckConstraint(
            "duration_ms >= 0", name=op.f("ck_grading_test_results_duration_ms_non_negative")
        ),
        sa.CheckConstraint(
            "position >= 0", name=op.f("ck_grading_test_results_position_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["grading_id"],
            ["gradings.id"],
            name=op.f("fk_grading_test_results_grading_id_gradings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_test_results")),
        sa.UniqueConstraint(
            "grading_id", "position", name=op.f("uq_grading_test_results_grading_id_position")
        ),
    )


def downgrade() -> None:
    op.drop_table("grading_test_results")
    op.drop_table("gradings")
