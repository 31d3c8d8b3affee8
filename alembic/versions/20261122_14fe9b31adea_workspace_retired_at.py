"""workspace retired at

Revision ID: 14fe9b31adea
Revises: e3602de47581
Create Date: 2026-11-22 01:26:03.401056
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "14fe9b31adea"
down_revision: str | None = "e3602de47581"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("workspaces", "retired_at")
