"""Shared fixtures: a migrated database per test, on SQLite or on PostgreSQL (SECREVIEW_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import db
from storage.models import Base
from storage.oauth_tables import oauth_metadata

TEST_DATABASE_URL = os.environ.get("SECREVIEW_TEST_DATABASE_URL", "")


def is_postgres() -> bool:
    """Whether this run of the suite is against PostgreSQL."""
    return TEST_DATABASE_URL.startswith("postgresql")


@pytest.fixture(scope="session")
def _pg_schema_url() -> Iterator[str]:
    # A schema of its own per test run, so runs (and developers) never share tables.
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = db.make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    engine = db.make_engine(rendered)
    db.upgrade(engine)
    engine.dispose()
    yield rendered
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for this test (a SQLite file copy, or truncated PostgreSQL tables)."""
    if is_postgres():
        url = request.getfixturevalue("_pg_schema_url")
        engine = db.make_engine(url)
        with engine.begin() as connection:
            _empty_postgres_tables(connection)
        engine.dispose()
        yield url
    else:
        template = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "secreview.db"
        shutil.copyfile(template, path)
        path.chmod(0o600)  # as secreview creates its files: a readable copy would be warned about
        yield f"sqlite:///{path}"


def _empty_postgres_tables(connection: Connection) -> None:
    # DELETE and setval, not TRUNCATE: on tables this small TRUNCATE costs 100-160 ms a test (it swaps files),
    # these 18 ms. The audit guard is a trigger, which replica mode skips for this transaction only.
    tables = [*Base.metadata.sorted_tables, *oauth_metadata().sorted_tables]
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    connection.execute(text("; ".join(f'DELETE FROM "{table.name}"' for table in reversed(tables))))
    sequences = connection.scalars(text("SELECT sequence_name FROM information_schema.sequences "
                                        "WHERE sequence_schema = current_schema()")).all()
    if sequences:
        connection.execute(text("SELECT " + ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the test database."""
    return db.make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, rolled back and closed after the test."""
    session = session_factory()
    yield session
    session.rollback()
    session.close()


# Modules that never touch the database run once, in the SQLite pass; the PostgreSQL pass skips them.
DATABASE_INDEPENDENT = ("test_intake.py", "test_intake_fuzz.py", "test_questionnaire.py", "test_commands.py",
                        "test_render.py", "test_views.py", "test_fake_slack.py", "test_bench_quick.py",
                        "test_sandbox_browser.py", "test_sandbox_tour.py", "test_architecture.py", "test_jira.py",
                        "test_demo.py", "test_words_in_templates.py", "test_edit_views.py",
                        # Who may do what, and what a forged, malformed or unsigned request is told: decided before
                        # any query, the same whatever the database (a refusal's empty outbox is a rollback on both).
                        "test_authorization.py", "test_bad_payloads.py", "test_unverified_requests.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, leave out what the SQLite pass already proved and the database cannot change."""
    if not is_postgres():
        return
    kept = [item for item in items if item.path.name not in DATABASE_INDEPENDENT]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.path.name in DATABASE_INDEPENDENT])
        items[:] = kept
