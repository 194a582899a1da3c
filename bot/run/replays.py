"""The record of signed interactive requests accepted recently: a captured command, click or submission sent
again within Slack's 5-minute window is acknowledged and does nothing.

The work queue's dedupe key (`trigger:<id>`) already drops a repeat while the first copy waits in the queue,
but the row is deleted once the worker ran it, and modal submissions (and `--inline-work`) never pass through
the queue: a replay a second later ran again. This record outlives the work; it is written on the
acknowledgement path, so it is one small insert, and it goes where the acknowledgement writes anyway: the SQLite
queue file beside the database with `secreview serve`, the main database otherwise (PostgreSQL: shared by every
replica, so a replay sent to another replica is dropped too).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from storage import db
from storage.models import RequestReplay, utcnow

log = logging.getLogger(__name__)

PURGE_SECONDS = 60.0  # expired rows are deleted at most this often, by the request that finds them due


class ReplayRecord:
    """`first_delivery(key, expires_at)` on one database; implements bot.slack.queueing.ReplayGuard."""

    def __init__(self, engine: Engine, *, own_connection: bool = False, clock: Callable[[], datetime] = utcnow) -> None:
        """`own_connection`: the SQLite queue file, written with single autocommitted statements as the work
        queue writes it (see WorkQueue._put_sqlite: no ORM session holds SQLite's writer on the ack path)."""
        self._engine = engine
        self._factory = db.make_session_factory(engine)
        self._raw = own_connection and engine.dialect.name == "sqlite"
        self._clock = clock
        column = RequestReplay.__table__.c.expires_at  # type: ignore[attr-defined]
        identity: Callable[[Any], Any] = lambda value: value  # noqa: E731
        self._stamp = column.type.bind_processor(engine.dialect) or identity
        self._purge_due = time.monotonic() + PURGE_SECONDS
        self._purge_lock = threading.Lock()

    def first_delivery(self, key: str, *, expires_at: datetime) -> bool:
        """Records the request; False when the same key is recorded already."""
        self._purge_if_due()
        key = key[:100]
        if self._raw:
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("INSERT INTO request_replays (key, expires_at) VALUES (?, ?) "
                               "ON CONFLICT (key) DO NOTHING", (key, self._stamp(expires_at)))
                return bool(cursor.rowcount == 1)
            finally:
                connection.close()
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        with db.session_scope(self._factory, write=True, urgent=True) as session:
            # RETURNING, not rowcount: psycopg reports -1 for an insert through the ORM session.
            inserted = session.execute(insert(RequestReplay).values(key=key, expires_at=expires_at)
                                       .on_conflict_do_nothing(index_elements=["key"])
                                       .returning(RequestReplay.key)).first()
            return inserted is not None

    def purge(self) -> int:
        """Deletes the rows whose window has passed; returns how many."""
        now = self._clock()
        if self._raw:
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("DELETE FROM request_replays WHERE expires_at < ?", (self._stamp(now),))
                return int(cursor.rowcount or 0)
            finally:
                connection.close()
        with db.session_scope(self._factory, write=True) as session:
            result = session.execute(delete(RequestReplay).where(RequestReplay.expires_at < now))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _purge_if_due(self) -> None:
        if time.monotonic() < self._purge_due or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._purge_due = time.monotonic() + PURGE_SECONDS
            self.purge()
        except (SQLAlchemyError, sqlite3.Error):  # the insert that follows will say whether the database is there
            log.warning("could not delete expired replay records", exc_info=True)
        finally:
            self._purge_lock.release()
