"""assessment order sync claims

A callback sync no longer holds the order's row lock across its request: it claims the
order in one short transaction (a version, and until when its request may be under way)
and records the answer in another, only if its claim is still the latest.

Revision ID: c5e8a1f07b32
Revises: a2729546988f
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e8a1f07b32"
down_revision: str | None = "a2729546988f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "assessment_orders",
        sa.Column("sync_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "assessment_orders",
        sa.Column("sync_sending_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("assessment_orders", "sync_sending_until")
    op.drop_column("assessment_orders", "sync_version")
