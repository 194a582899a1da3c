"""Requests acknowledged by the HTTP process and waiting for its worker process.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queued_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_before", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queued_requests")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_queued_requests_dedupe_key")),
    )
    with op.batch_alter_table("queued_requests", schema=None) as batch_op:
        batch_op.create_index("ix_queued_due", ["priority", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("queued_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_queued_due")
    op.drop_table("queued_requests")
