"""Engine, sessions and migrations: the only place that knows how to reach the database."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class SchemaNotCurrent(RuntimeError):
    """The database schema is behind the code: run `secreview db upgrade` first."""


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling starts transactions late and turns a SAVEPOINT outside a
    # transaction into a commit of its own; we take over (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    # Python 3.11's sqlite3 has no Connection.autocommit; pragmas go through a cursor.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_sqlite_begin(connection: Any) -> None:
    # A writer takes SQLite's write lock up front (waiting up to the busy timeout), so it never fails
    # half-way when another writer committed after its first read; readers stay deferred and never block.
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITE_OPTION = "secreview_write"


class WriterQueue:
    """SQLite's single writer slot, handed over within this process in order, and to the ack path first.

    SQLite admits one writer at a time; the others wait in its busy handler, which polls with sleeps of up to
    100 ms and in no order, so under load a writer can be passed over again and again (bench/ack.py saw the
    insert an announcement's ack waits for take over 3 s behind the announcements being processed). Writers
    of this process queue here instead, get the slot the moment it is free, and an `urgent` writer (one that
    a Slack request's acknowledgement waits for) goes before every writer that is not. Other processes are
    still kept apart by SQLite's own lock and busy timeout.
    """

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0

    def acquire(self, *, urgent: bool = False, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> bool:
        """Takes the slot (again, for a thread that holds it); False after `timeout` (SQLite's busy wait decides)."""
        me = threading.get_ident()
        deadline = time.monotonic() + timeout
        with self._free:
            if self._owner == me:
                self._depth += 1
                return True
            self._urgent_waiting += urgent
            try:
                while self._owner is not None or (self._urgent_waiting and not urgent):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._free.wait(remaining)
                self._owner, self._depth = me, 1
                return True
            finally:
                self._urgent_waiting -= urgent

    def release(self) -> None:
        """Gives the slot back (after the commit or the rollback)."""
        with self._free:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._free.notify_all()


_WRITER_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The writer queue of a SQLite engine made by make_engine (None for PostgreSQL, whose locks are per row)."""
    return _WRITER_QUEUES.get(engine)


def _create_private(path: Path) -> None:
    """Creates an empty database file readable by its owner only (0600) unless it exists.

    It holds every review and audit row, and with OAuth the bot token of every installed workspace. SQLite
    creates its -wal and -shm files with the main file's permissions, so they are private too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def warn_if_readable_by_others(engine: Engine) -> None:
    """A line in the log when a SQLite database file may be read by other users of the machine."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        mode = Path(database).expanduser().stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        log.warning("%s can be read by other users (mode %o): chmod 600 it; it holds reviews, the audit log and "
                    "OAuth bot tokens", database, mode & 0o777)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Creates an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _create_private(Path(parsed.database).expanduser())
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        _WRITER_QUEUES[engine] = WriterQueue()
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (cards are rendered after the commit)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session], *, write: bool = False, urgent: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close; `write` locks SQLite up front.

    `urgent` marks a write that a Slack request's acknowledgement waits for: on SQLite it goes first.
    """
    bind = getattr(factory, "kw", {}).get("bind")  # a plain callable (tests) has no bind: no queue
    queue = writer_queue(bind) if write and isinstance(bind, Engine) else None
    held = queue.acquire(urgent=urgent) if queue is not None else False
    try:
        session = factory()
        if write:
            session.connection(execution_options={WRITE_OPTION: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    finally:
        if held:
            assert queue is not None
            queue.release()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrates the schema to the newest revision (idempotent)."""
    command.upgrade(_alembic_config(engine), revision)


def head_revision() -> str:
    """The newest migration the code knows."""
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_schema(engine: Engine) -> None:
    """SQLite migrates itself on start; PostgreSQL must have been upgraded before a (rolling) start."""
    if engine.dialect.name == "sqlite":
        warn_if_readable_by_others(engine)
        upgrade(engine)
        return
    if current_revision(engine) != head_revision():
        raise SchemaNotCurrent(
            "DATABASE_URL: the PostgreSQL schema is not current; run `secreview db upgrade` before starting"
        )


class SchemaState(StrEnum):
    """Where a database stands against the code's migrations."""

    NO_FILE = "no_file"  # SQLite: the file does not exist yet (`secreview run` creates it)
    MEMORY = "memory"  # SQLite in memory: made afresh by every process
    EMPTY = "empty"  # reachable, no secreview tables
    BEHIND = "behind"  # an older revision this code can upgrade
    CURRENT = "current"
    AHEAD = "ahead"  # a revision this code does not know: a newer secreview migrated it


def inspect_schema(url: str) -> tuple[SchemaState, str | None]:
    """The state and revision of the database at `url`, read without creating or changing anything.

    A SQLite file that does not exist is not created (nor its folder); one that does is opened without the
    pragmas of make_engine, which would switch an empty file to WAL. Connection errors propagate.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return SchemaState.MEMORY, None
        path = Path(parsed.database).expanduser()
        if not path.exists():
            return SchemaState.NO_FILE, None
        # mode=rw never creates the file, and unlike mode=ro it removes the -wal and -shm files when it closes.
        uri = path.resolve().as_uri() + "?mode=rw"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool)
    else:
        engine = create_engine(url, poolclass=NullPool)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        return SchemaState.EMPTY, None
    if revision == head_revision():
        return SchemaState.CURRENT, revision
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    known = {entry.revision for entry in script.walk_revisions()}
    return (SchemaState.BEHIND if revision in known else SchemaState.AHEAD), revision


def ping(engine: Engine) -> bool:
    """Whether the database answers a trivial query now."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not ready"; the caller only reports it
        log.warning("database ping failed", exc_info=True)
        return False
