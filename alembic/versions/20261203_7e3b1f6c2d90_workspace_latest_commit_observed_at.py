"""workspace latest commit observed at

Revision ID: 7e3b1f6c2d90
Revises: 5c0d9e2a7b41
Create Date: 2026-12-03 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e3b1f6c2d90"
down_revision: str | None = "5c0d9e2a7b41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "workspaces",
        sa.Column("latest_commit_observed_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("workspaces", "latest_commit_observed_at")
