"""periodic schedules

Revision ID: 18474c3c81f9
Revises: b1a47cf7e88d
Create Date: 2026-11-21 23:36:13.135624
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "18474c3c81f9"
down_revision: str | None = "b1a47cf7e88d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_schedules",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_periodic_schedules")),
    )


def downgrade() -> None:
    op.drop_table("periodic_schedules")
