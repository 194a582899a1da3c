"""Every message posted about a review that shows its state, and who opened App Home when.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:52:37.074899
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What secreview posted before this revision and can re-render without more context: the thread reply, the DM
# that stands in for it when a review has no thread, and the card.
_BACKFILL_KINDS = {"thread_opened": "thread", "owner_opened": "owner"}


def upgrade() -> None:
    op.create_table(
        "home_tabs",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("is_reviewer", sa.Boolean(), nullable=False),
        sa.Column("opened_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_home_tabs_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_home_tabs")),
    )
    with op.batch_alter_table("home_tabs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_home_tabs_opened_at"), ["opened_at"], unique=False)

    op.create_table(
        "posted_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("posted_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_posted_messages_review_id_reviews")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_posted_messages_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_messages")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_posted_messages_outbox_id")),
    )
    with op.batch_alter_table("posted_messages", schema=None) as batch_op:
        batch_op.create_index("ix_posted_review", ["review_id", "kind"], unique=False)

    # Messages posted before this revision keep being updated: the cards (their ts is on the review) and the
    # thread replies (their ts is on the outbox row that posted them).
    empty = "CAST('{}' AS JSON)" if op.get_bind().dialect.name == "postgresql" else "'{}'"
    op.execute(
        "INSERT INTO posted_messages (workspace_id, review_id, kind, channel, ts, outbox_id, data, posted_at) "
        f"SELECT workspace_id, id, 'card', card_channel, card_ts, NULL, {empty}, updated_at FROM reviews "
        "WHERE card_channel IS NOT NULL AND card_ts IS NOT NULL"
    )
    for purpose, kind in _BACKFILL_KINDS.items():
        op.execute(
            "INSERT INTO posted_messages (workspace_id, review_id, kind, channel, ts, outbox_id, data, posted_at) "
            f"SELECT workspace_id, review_id, '{kind}', result_channel, result_ts, id, {empty}, "
            "COALESCE(sent_at, created_at) FROM outbox "
            f"WHERE purpose = '{purpose}' AND state = 'sent' AND review_id IS NOT NULL "
            "AND result_channel IS NOT NULL AND result_ts IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("posted_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_posted_review")
    op.drop_table("posted_messages")
    with op.batch_alter_table("home_tabs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_tabs_opened_at"))
    op.drop_table("home_tabs")
