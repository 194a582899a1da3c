"""Alembic environment: runs migrations on the engine secreview hands over (never from an ini file)."""

from alembic import context

from storage.models import Base
from storage.oauth_tables import is_secreview_object

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    # Batch mode rebuilds SQLite tables for ALTERs that SQLite cannot do in place.
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=is_secreview_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
