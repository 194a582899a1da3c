"""What each posted digest said, and the indexes the figures need to find what fell due in a period.

A posted digest keeps its figures (and the message as posted), so `secreview digest preview --period` of a
posted period shows what was posted, whatever changes later. The SLA figures look up the reviews whose due date
(or first-response due date) fell in a period: a range on each column.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("message", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("plain_text", sa.Text(), nullable=True))
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index("ix_reviews_ws_due", ["workspace_id", "due_at"], unique=False)
        batch_op.create_index("ix_reviews_ws_first_response_due", ["workspace_id", "first_response_due"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_ws_first_response_due")
        batch_op.drop_index("ix_reviews_ws_due")
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.drop_column("plain_text")
        batch_op.drop_column("message")
        batch_op.drop_column("figures")
