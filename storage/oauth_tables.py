"""The tables of slack_sdk's SQLAlchemy installation and OAuth state stores, on secreview's own database."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData

OAUTH_TABLE_PREFIX = "slack_"


def oauth_metadata() -> MetaData:
    """slack_sdk's own table definitions (its stores own their shape; migrations only create them)."""
    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(
        metadata, SQLAlchemyInstallationStore.default_installations_table_name)
    SQLAlchemyInstallationStore.build_bots_table(metadata, SQLAlchemyInstallationStore.default_bots_table_name)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, SQLAlchemyOAuthStateStore.default_table_name)
    return metadata


def is_secreview_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic include_object: autogenerate compares secreview's models, not slack_sdk's store tables."""
    table = getattr(obj, "table", obj)
    table_name = getattr(table, "name", name) or ""
    return not str(table_name).startswith(OAUTH_TABLE_PREFIX)
