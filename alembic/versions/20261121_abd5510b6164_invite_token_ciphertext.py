"""invite token ciphertext

Revision ID: abd5510b6164
Revises: 18474c3c81f9
Create Date: 2026-11-21 23:48:59.927241
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "abd5510b6164"
down_revision: str | None = "18474c3c81f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No invites exist before this revision is deployed, so no default is needed.
    op.add_column(
        "candidate_sessions", sa.Column("token_ciphertext", sa.LargeBinary(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("candidate_sessions", "token_ciphertext")
