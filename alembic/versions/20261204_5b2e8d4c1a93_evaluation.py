"""evaluation

Rubric versions, review assignments, scorecards and their submitted versions, fit profiles,
AI scorecard and scenario drafts, the AI spending ledger with a per-company monthly limit,
and the owner notifications sent once.

Revision ID: 5b2e8d4c1a93
Revises: e41b7c9a2f63
Create Date: 2026-12-04 04:10:26.397936
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5b2e8d4c1a93"
down_revision: str | None = "e41b7c9a2f63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_usage",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'reserved'"), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("prompt_hash", sa.Text(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('scorecard_draft', 'scenario_draft')", name=op.f("ck_ai_usage_purpose")
        ),
        sa.CheckConstraint(
            "status IN ('reserved', 'settled', 'released')", name=op.f("ck_ai_usage_status")
        ),
        sa.CheckConstraint("cost_usd >= 0", name=op.f("ck_ai_usage_cost_non_negative")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ai_usage_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_usage")),
    )
    op.create_index(
        "ix_ai_usage_company_id_created_at", "ai_usage", ["company_id", "created_at"], unique=False
    )
    op.create_table(
        "rubric_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("simulation_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
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
        sa.CheckConstraint("version >= 1", name=op.f("ck_rubric_versions_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_rubric_versions_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_rubric_versions_simulation_id_simulations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_versions")),
        sa.UniqueConstraint(
            "simulation_id", "version", name=op.f("uq_rubric_versions_simulation_id_version")
        ),
    )
    op.create_table(
        "scenario_drafts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("simulation_id", sa.BigInteger(), nullable=False),
        sa.Column("requested_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("ai_usage_id", sa.BigInteger(), nullable=True),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("approved_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('queued', 'running', 'ready', 'failed', 'refused', 'budget_exhausted', "
            "'approved')",
            name=op.f("ck_scenario_drafts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["ai_usage_id"],
            ["ai_usage.id"],
            name=op.f("fk_scenario_drafts_ai_usage_id_ai_usage"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_user_id"],
            ["users.id"],
            name=op.f("fk_scenario_drafts_approved_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_user_id"],
            ["users.id"],
            name=op.f("fk_scenario_drafts_requested_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_scenario_drafts_simulation_id_simulations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_drafts")),
    )
    op.create_index(
        op.f("ix_scenario_drafts_simulation_id"), "scenario_drafts", ["simulation_id"], unique=False
    )
    op.create_table(
        "ai_scorecard_drafts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("day_index", sa.SmallInteger(), nullable=False),
        sa.Column("rubric_version_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("input_fingerprint", sa.Text(), nullable=True),
        sa.Column("ai_usage_id", sa.BigInteger(), nullable=True),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("dropped_evidence", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
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
            "status IN ('queued', 'running', 'ready', 'failed', 'refused', 'budget_exhausted')",
            name=op.f("ck_ai_scorecard_drafts_status"),
        ),
        sa.CheckConstraint(
            "dropped_evidence >= 0",
            name=op.f("ck_ai_scorecard_drafts_dropped_evidence_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["ai_usage_id"],
            ["ai_usage.id"],
            name=op.f("fk_ai_scorecard_drafts_ai_usage_id_ai_usage"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_ai_scorecard_drafts_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name=op.f("fk_ai_scorecard_drafts_rubric_version_id_rubric_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_scorecard_drafts")),
        sa.UniqueConstraint(
            "candidate_session_id",
            "day_index",
            name=op.f("uq_ai_scorecard_drafts_candidate_session_id_day_index"),
        ),
    )
    op.create_table(
        "evaluation_notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('candidate_completed', 'reviews_completed')",
            name=op.f("ck_evaluation_notifications_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_evaluation_notifications_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_notifications")),
        sa.UniqueConstraint(
            "candidate_session_id",
            "kind",
            name=op.f("uq_evaluation_notifications_candidate_session_id_kind"),
        ),
    )
    op.create_table(
        "fit_profiles",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'generating'"), nullable=False),
        sa.Column("input_fingerprint", sa.Text(), nullable=True),
        sa.Column("signals", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('generating', 'ready', 'failed')", name=op.f("ck_fit_profiles_status")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_fit_profiles_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fit_profiles")),
        sa.UniqueConstraint(
            "candidate_session_id", name=op.f("uq_fit_profiles_candidate_session_id")
        ),
    )
    op.create_table(
        "review_assignments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_user_id", sa.BigInteger(), nullable=False),
        sa.Column("assigned_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_user_id"],
            ["users.id"],
            name=op.f("fk_review_assignments_assigned_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_review_assignments_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"],
            ["users.id"],
            name=op.f("fk_review_assignments_reviewer_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignments")),
        sa.UniqueConstraint(
            "candidate_session_id",
            "reviewer_user_id",
            name=op.f("uq_review_assignments_candidate_session_id_reviewer_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_review_assignments_reviewer_user_id"),
        "review_assignments",
        ["reviewer_user_id"],
        unique=False,
    )
    op.create_table(
        "scorecards",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_user_id", sa.BigInteger(), nullable=False),
        sa.Column("rubric_version_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column(
            "entries",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
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
            "recommendation IN ('strong_no', 'no', 'yes', 'strong_yes')",
            name=op.f("ck_scorecards_recommendation"),
        ),
        sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f("ck_scorecards_status")),
        sa.CheckConstraint("version >= 0", name=op.f("ck_scorecards_version_non_negative")),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_scorecards_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"],
            ["users.id"],
            name=op.f("fk_scorecards_reviewer_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name=op.f("fk_scorecards_rubric_version_id_rubric_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecards")),
        sa.UniqueConstraint(
            "candidate_session_id",
            "reviewer_user_id",
            name=op.f("uq_scorecards_candidate_session_id_reviewer_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_scorecards_reviewer_user_id"), "scorecards", ["reviewer_user_id"], unique=False
    )
    op.create_index(
        op.f("ix_scorecards_rubric_version_id"), "scorecards", ["rubric_version_id"], unique=False
    )
    op.create_table(
        "scorecard_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scorecard_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rubric_version_id", sa.BigInteger(), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=False),
        sa.Column("entries", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "recommendation IN ('strong_no', 'no', 'yes', 'strong_yes')",
            name=op.f("ck_scorecard_versions_recommendation"),
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name=op.f("fk_scorecard_versions_rubric_version_id_rubric_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_scorecard_versions_scorecard_id_scorecards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_versions")),
        sa.UniqueConstraint(
            "scorecard_id", "version", name=op.f("uq_scorecard_versions_scorecard_id_version")
        ),
    )
    op.create_index(
        op.f("ix_scorecard_versions_rubric_version_id"),
        "scorecard_versions",
        ["rubric_version_id"],
        unique=False,
    )
    op.add_column(
        "companies",
        sa.Column("ai_monthly_budget_usd", sa.Numeric(precision=12, scale=2), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("companies", "ai_monthly_budget_usd")
    op.drop_index(op.f("ix_scorecard_versions_rubric_version_id"), table_name="scorecard_versions")
    op.drop_table("scorecard_versions")
    op.drop_index(op.f("ix_scorecards_rubric_version_id"), table_name="scorecards")
    op.drop_index(op.f("ix_scorecards_reviewer_user_id"), table_name="scorecards")
    op.drop_table("scorecards")
    op.drop_index(op.f("ix_review_assignments_reviewer_user_id"), table_name="review_assignments")
    op.drop_table("review_assignments")
    op.drop_table("fit_profiles")
    op.drop_table("evaluation_notifications")
    op.drop_table("ai_scorecard_drafts")
    op.drop_index(op.f("ix_scenario_drafts_simulation_id"), table_name="scenario_drafts")
    op.drop_table("scenario_drafts")
    op.drop_table("rubric_versions")
    op.drop_index("ix_ai_usage_company_id_created_at", table_name="ai_usage")
    op.drop_table("ai_usage")
