"""Tables for several workspaces: slack_sdk's installation and OAuth state stores.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 19:30:00
"""

from collections.abc import Sequence

from alembic import op

from storage.oauth_tables import oauth_metadata

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # slack_sdk defines these tables; creating them here keeps every schema change in migrations,
    # so replicas never race on create_all at start-up.
    oauth_metadata().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    oauth_metadata().drop_all(op.get_bind(), checkfirst=True)
