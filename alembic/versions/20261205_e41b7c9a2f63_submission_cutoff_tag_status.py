"""submission cutoff tag status

A code submission's tag is now made by a job after the submit commits; the column says
whether it exists yet. Submissions made before were tagged in the request.

Revision ID: e41b7c9a2f63
Revises: a7c3e9f2b514
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e41b7c9a2f63"
down_revision: str | None = "a7c3e9f2b514"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("cutoff_tag_status", sa.Text(), nullable=True))
    op.execute("UPDATE submissions SET cutoff_tag_status = 'created' WHERE cutoff_sha IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_submissions_cutoff_tag_status"),
        "submissions",
        "cutoff_tag_status IN ('pending', 'created', 'failed')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_submissions_cutoff_tag_status"), "submissions", type_="check")
    op.drop_column("submissions", "cutoff_tag_status")
