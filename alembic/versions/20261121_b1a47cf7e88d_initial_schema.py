"""initial schema

Revision ID: b1a47cf7e88d
Revises:
Create Date: 2026-11-21 23:27:23.005806
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b1a47cf7e88d"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_SESSION = sa.text("status IN ('invited', 'in_progress')")
ACTIVE_RUN = sa.text("status IN ('queued', 'dispatching', 'running')")
CLAIMABLE_JOB = sa.text("state IN ('pending', 'failed')")


def _timestamps() -> list[sa.Column[Any]]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    op.create_index(
        "uq_companies_lower_name", "companies", [sa.literal_column("lower(name)")], unique=True
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("auth0_sub", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_users_company_id_companies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("auth0_sub", name=op.f("uq_users_auth0_sub")),
    )
    op.create_index("ix_users_company_id", "users", ["company_id"])
    op.create_index(
        "uq_users_lower_email", "users", [sa.literal_column("lower(email)")], unique=True
    )

    op.create_table(
        "simulations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("tech_stack", sa.Text(), nullable=False),
        sa.Column("seniority", sa.Text(), nullable=False),
        sa.Column("focus", sa.Text(), nullable=True),
        sa.Column("template_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'active'"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')", name=op.f("ck_simulations_status")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_simulations_company_id_companies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_simulations_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulations")),
    )
    op.create_index(
        "ix_simulations_company_id_created_at",
        "simulations",
        ["company_id", sa.literal_column("created_at DESC"), "id"],
    )

    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("simulation_id", sa.Uuid(), nullable=False),
        sa.Column("day_index", sa.SmallInteger(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("max_score", sa.Integer(), nullable=True),
        sa.Column("template_repo", sa.Text(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("day_index BETWEEN 1 AND 5", name=op.f("ck_tasks_day_index")),
        sa.CheckConstraint(
            "type IN ('design', 'code', 'debug', 'handoff', 'documentation')",
            name=op.f("ck_tasks_type"),
        ),
        sa.CheckConstraint("max_score >= 0", name=op.f("ck_tasks_max_score_non_negative")),
        sa.CheckConstraint(
            "(type NOT IN ('code', 'debug')) OR template_repo IS NOT NULL",
            name=op.f("ck_tasks_code_task_has_template_repo"),
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_tasks_simulation_id_simulations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint(
            "simulation_id", "day_index", name=op.f("uq_tasks_simulation_id_day_index")
        ),
    )

    op.create_table(
        "candidate_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("simulation_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_name", sa.Text(), nullable=False),
        sa.Column("invite_email", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'invited'"), nullable=False),
        sa.Column("auth0_sub", sa.Text(), nullable=True),
        sa.Column("github_username", sa.Text(), nullable=True),
        sa.Column(
            "invited_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email_status", sa.Text(), nullable=True),
        sa.Column("email_provider", sa.Text(), nullable=True),
        sa.Column("email_provider_message_id", sa.Text(), nullable=True),
        sa.Column("email_error", sa.Text(), nullable=True),
        sa.Column("email_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('invited', 'in_progress', 'completed', 'expired', 'revoked')",
            name=op.f("ck_candidate_sessions_status"),
        ),
        sa.CheckConstraint(
            "email_status IN ('queued', 'sent', 'failed')",
            name=op.f("ck_candidate_sessions_email_status"),
        ),
        sa.CheckConstraint(
            "email_attempts >= 0", name=op.f("ck_candidate_sessions_email_attempts_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_candidate_sessions_simulation_id_simulations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_candidate_sessions_token_hash")),
    )
    # One open session per invite email and simulation; closed ones do not block a new invite.
    op.create_index(
        "uq_candidate_sessions_open_invite_email",
        "candidate_sessions",
        ["simulation_id", sa.literal_column("lower(invite_email)")],
        unique=True,
        postgresql_where=OPEN_SESSION,
    )
    op.create_index(
        "ix_candidate_sessions_simulation_id_invited_at",
        "candidate_sessions",
        ["simulation_id", "invited_at"],
    )
    op.create_index("ix_candidate_sessions_auth0_sub", "candidate_sessions", ["auth0_sub"])
    op.create_index(
        "ix_candidate_sessions_lower_invite_email",
        "candidate_sessions",
        [sa.literal_column("lower(invite_email)")],
    )
    op.create_index(
        "ix_candidate_sessions_open_expires_at",
        "candidate_sessions",
        ["expires_at"],
        postgresql_where=OPEN_SESSION,
    )

    op.create_table(
        "fit_profiles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("candidate_session_id", sa.Uuid(), nullable=False),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        *_timestamps(),
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
        "workspaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("candidate_session_id", sa.Uuid(), nullable=False),
        sa.Column("template_repo", sa.Text(), nullable=False),
        sa.Column("template_key", sa.Text(), nullable=False),
        sa.Column("repo_full_name", sa.Text(), nullable=True),
        sa.Column("repo_id", sa.BigInteger(), nullable=True),
        sa.Column("repo_url", sa.Text(), nullable=True),
        sa.Column("default_branch", sa.Text(), nullable=True),
        sa.Column("base_template_sha", sa.Text(), nullable=True),
        sa.Column("latest_commit_sha", sa.Text(), nullable=True),
        sa.Column("last_run_summary", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("codespace_url", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('pending', 'provisioning', 'ready', 'failed')",
            name=op.f("ck_workspaces_status"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_workspaces_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint(
            "candidate_session_id",
            "template_repo",
            name=op.f("uq_workspaces_candidate_session_id_template_repo"),
        ),
        sa.UniqueConstraint("repo_full_name", name=op.f("uq_workspaces_repo_full_name")),
    )

    op.create_table(
        "test_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("requested_ref", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("github_run_id", sa.BigInteger(), nullable=True),
        sa.Column("github_run_url", sa.Text(), nullable=True),
        sa.Column("head_sha", sa.Text(), nullable=True),
        sa.Column("conclusion", sa.Text(), nullable=True),
        sa.Column("passed", sa.Integer(), nullable=True),
        sa.Column("failed", sa.Integer(), nullable=True),
        sa.Column("skipped", sa.Integer(), nullable=True),
        sa.Column("errors", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("stdout", sa.Text(), nullable=True),
        sa.Column("stderr", sa.Text(), nullable=True),
        sa.Column(
            "stdout_truncated", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "stderr_truncated", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("artifact_name", sa.Text(), nullable=True),
        sa.Column("result_code", sa.Text(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('queued', 'dispatching', 'running', 'passed', 'failed', 'error')",
            name=op.f("ck_test_runs_status"),
        ),
        sa.CheckConstraint(
            "passed >= 0 AND failed >= 0 AND skipped >= 0 AND errors >= 0 AND total >= 0"
            " AND duration_ms >= 0",
            name=op.f("ck_test_runs_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_test_runs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_test_runs_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_runs")),
        sa.UniqueConstraint("github_run_id", name=op.f("uq_test_runs_github_run_id")),
    )
    op.create_index(
        "ix_test_runs_workspace_id_created_at",
        "test_runs",
        ["workspace_id", sa.literal_column("created_at DESC")],
    )
    op.create_index("ix_test_runs_task_id", "test_runs", ["task_id"])
    op.create_index(
        "ix_test_runs_active_created_at", "test_runs", ["created_at"], postgresql_where=ACTIVE_RUN
    )

    op.create_table(
        "test_case_results",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("test_run_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("classname", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('passed', 'failed', 'error', 'skipped')",
            name=op.f("ck_test_case_results_status"),
        ),
        sa.CheckConstraint(
            "position >= 0", name=op.f("ck_test_case_results_position_non_negative")
        ),
        sa.CheckConstraint(
            "duration_ms >= 0", name=op.f("ck_test_case_results_duration_ms_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_test_case_results_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_case_results")),
        sa.UniqueConstraint(
            "test_run_id", "position", name=op.f("uq_test_case_results_test_run_id_position")
        ),
    )

    op.create_table(
        "submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("candidate_session_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("content_text", sa.Text(), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=True),
        sa.Column("cutoff_sha", sa.Text(), nullable=True),
        sa.Column("test_run_id", sa.Uuid(), nullable=True),
        sa.Column("diff_summary", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("integrity_findings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_submissions_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_submissions_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_submissions_workspace_id_workspaces"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_submissions_test_run_id_test_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "candidate_session_id",
            "task_id",
            name=op.f("uq_submissions_candidate_session_id_task_id"),
        ),
    )
    op.create_index(
        "ix_submissions_task_id_submitted_at", "submissions", ["task_id", "submitted_at"]
    )
    op.create_index("ix_submissions_submitted_at_id", "submissions", ["submitted_at", "id"])

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("simulation_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_session_id", sa.Uuid(), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("actor_type", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Text(), nullable=True),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "actor_type IN ('recruiter', 'candidate', 'system', 'github', 'admin')",
            name=op.f("ck_events_actor_type"),
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_events_simulation_id_simulations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_events_candidate_session_id_candidate_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_candidate_session_id_id", "events", ["candidate_session_id", "id"])
    op.create_index("ix_events_simulation_id_id", "events", ["simulation_id", "id"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("state", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column(
            "run_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("locked_by", sa.Text(), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dedupe_key", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'succeeded', 'failed', 'dead')",
            name=op.f("ck_jobs_state"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts_non_negative")),
        sa.CheckConstraint("max_attempts > 0", name=op.f("ck_jobs_max_attempts_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(
        "uq_jobs_waiting_dedupe_key",
        "jobs",
        ["dedupe_key"],
        unique=True,
        postgresql_where=CLAIMABLE_JOB,
    )
    op.create_index(
        "ix_jobs_claimable_run_at_id", "jobs", ["run_at", "id"], postgresql_where=CLAIMABLE_JOB
    )
    op.create_index(
        "ix_jobs_running_locked_until",
        "jobs",
        ["locked_until"],
        postgresql_where=sa.text("state = 'running'"),
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("delivery_id", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'received'"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('received', 'processed', 'ignored', 'failed')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_webhook_deliveries_delivery_id")),
    )
    op.create_index("ix_webhook_deliveries_received_at", "webhook_deliveries", ["received_at"])


def downgrade() -> None:
    # Reverse dependency order; indexes and constraints go with their tables.
    for table in (
        "webhook_deliveries",
        "jobs",
        "events",
        "submissions",
        "test_case_results",
        "test_runs",
        "workspaces",
        "fit_profiles",
        "candidate_sessions",
        "tasks",
        "simulations",
        "users",
        "companies",
    ):
        op.drop_table(table)
