"""submission reflection

A Day 5 (documentation) task can be turned in as a structured reflection: its sections are
kept as JSON, their Markdown rendering in content_text as before. Null for every other
submission, those made before included.

Revision ID: a9b8c7d6e5f4
Revises: f3a1d2c4b5e6
Create Date: 2026-12-05 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a9b8c7d6e5f4"
down_revision: str | None = "f3a1d2c4b5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "submissions",
        sa.Column("reflection", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("submissions", "reflection")
