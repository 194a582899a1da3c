"""Jira: the issue that tracks each condition, and the claimed poll periods.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conditions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jira_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("jira_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("jira_sent_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("jira_updated_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_conditions_jira_key"), ["jira_key"])
    op.create_table(
        "jira_poll_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issues_seen", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jira_poll_runs")),
        sa.UniqueConstraint("period_start", name=op.f("uq_jira_poll_runs_period_start")),
    )


def downgrade() -> None:
    op.drop_table("jira_poll_runs")
    with op.batch_alter_table("conditions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_conditions_jira_key"), type_="unique")
        batch_op.drop_column("jira_updated_at")
        batch_op.drop_column("jira_sent_at")
        batch_op.drop_column("jira_url")
        batch_op.drop_column("jira_key")
