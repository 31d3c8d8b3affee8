"""drop fit profiles

The table was a placeholder for an AI evaluation that nothing ever wrote; the evaluation
work will model what it needs. The downgrade recreates it, empty, as the integer-ids
revision left it.

Revision ID: d986488e4f51
Revises: c4d8a2e61f37
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d986488e4f51"
down_revision: str | None = "c4d8a2e61f37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("fit_profiles")


def downgrade() -> None:
    op.create_table(
        "fit_profiles",
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
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
        # id and candidate_session_id come last, where the integer-ids revision appended them.
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_session_id", sa.BigInteger(), nullable=False),
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
