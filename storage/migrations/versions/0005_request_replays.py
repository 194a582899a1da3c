"""Signed interactive requests accepted recently, so a replay within Slack's 5-minute window runs once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_replays",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_request_replays")),
    )
    with op.batch_alter_table("request_replays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_replays_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_replays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_replays_expires_at"))
    op.drop_table("request_replays")
