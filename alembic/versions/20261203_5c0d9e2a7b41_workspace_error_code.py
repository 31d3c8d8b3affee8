"""workspace error code

Revision ID: 5c0d9e2a7b41
Revises: 14fe9b31adea
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c0d9e2a7b41"
down_revision: str | None = "14fe9b31adea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("error_code", sa.Text(), nullable=True))
    # Errors recorded before codes existed held exception text: keep none of it.
    op.execute(
        "UPDATE workspaces SET error_code = 'PROVISIONING_FAILED', "
        "error = 'Your repository could not be prepared. Try again in a few minutes.' "
        "WHERE error IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("workspaces", "error_code")
