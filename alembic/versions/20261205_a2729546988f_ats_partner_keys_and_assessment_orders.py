"""ats partner keys and assessment orders

Companies' partner keys for an applicant tracking system (hashed for look-up, encrypted for
the callbacks) and the assessment orders an ATS places (Greenhouse's send_test), each tied
to the candidate session it invited, with the state of its last callback.

Revision ID: a2729546988f
Revises: 87860c2228e4
Create Date: 2026-12-05 22:15:42.266123
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a2729546988f"
down_revision: str | None = "87860c2228e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ats_partner_keys",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("key_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("last4", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint("system IN ('greenhouse')", name=op.f("ck_ats_partner_keys_system")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ats_partner_keys_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_ats_partner_keys_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ats_partner_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_ats_partner_keys_key_hash")),
    )
    op.create_index(
        op.f("ix_ats_partner_keys_company_id"), "ats_partner_keys", ["company_id"], unique=False
    )
    op.create_table(
        "assessment_orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("external_candidate_id", sa.Text(), nullable=True),
        sa.Column("external_application_id", sa.Text(), nullable=True),
        sa.Column("external_test_id", sa.Text(), nullable=False),
        sa.Column("simulation_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_by", sa.Text(), nullable=True),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("sync_error", sa.Text(), nullable=True),
        sa.Column("attempted_payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("delivered_payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
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
        sa.CheckConstraint("system IN ('greenhouse')", name=op.f("ck_assessment_orders_system")),
        sa.ForeignKeyConstraint(
            ["candidate_session_id"],
            ["candidate_sessions.id"],
            name=op.f("fk_assessment_orders_candidate_session_id_candidate_sessions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_assessment_orders_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name=op.f("fk_assessment_orders_simulation_id_simulations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_orders")),
        sa.UniqueConstraint(
            "company_id",
            "system",
            "external_id",
            name=op.f("uq_assessment_orders_company_id_system_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_assessment_orders_candidate_session_id"),
        "assessment_orders",
        ["candidate_session_id"],
        unique=False,
    )
    op.create_index(
        "ix_assessment_orders_created_at", "assessment_orders", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_assessment_orders_created_at", table_name="assessment_orders")
    op.drop_index(op.f("ix_assessment_orders_candidate_session_id"), table_name="assessment_orders")
    op.drop_table("assessment_orders")
    op.drop_index(op.f("ix_ats_partner_keys_company_id"), table_name="ats_partner_keys")
    op.drop_table("ats_partner_keys")
