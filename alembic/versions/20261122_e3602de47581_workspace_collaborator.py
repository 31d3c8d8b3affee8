"""workspace collaborator

Revision ID: e3602de47581
Revises: abd5510b6164
Create Date: 2026-11-22 00:25:52.009655
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3602de47581"
down_revision: str | None = "abd5510b6164"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("collaborator_login", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("workspaces", "collaborator_login")
