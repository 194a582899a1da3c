"""The hand-off between `secreview serve`'s HTTP process and its worker process.

One CPython process cannot answer Slack quickly while it also does the work behind the answers: every request
thread waits for the GIL behind the threads opening reviews, rendering cards and calling Slack, and
bench/ack.py measured acknowledgements 3 to 4 times slower than a bare Bolt app's at the same load. So the HTTP
process only verifies a request, stores it here and answers; a worker process, started beside it with a
lower CPU priority, claims what is stored (commands and clicks before events), runs the listeners and deletes
each row when its listener is done.

On SQLite the queue is a small database file of its own next to the main one: an insert an acknowledgement
waits for never queues behind the worker's transactions for SQLite's single writer. On PostgreSQL it is a table
of the main database, claimed with SKIP LOCKED so several replicas share it.

What is stored is never lost to a crash of either process: a claim is a lease, and a row whose worker died
is claimed again when the lease runs out, or at once by a worker started on the same host (the claim names
the dead process: bot/run/claims.py). An event is idempotent (its event_id is claimed in the listener's
transaction), so it may run again; a command or a click is run at most once (a person can ask again, but a
decision must not be recorded twice).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, event, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.run.background import BackgroundLoop
from bot.run.claims import holder_is_gone
from bot.run.replays import ReplayRecord
from bot.slack.queueing import EVENT, PERSON_WAITING
from storage import db
from storage.models import QueuedRequest, RequestReplay, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)  # longer than any listener runs (Slack calls time out after 10 s, retried twice)
MAX_EVENT_ATTEMPTS = 5
CHECKPOINT_SECONDS = 1.0
SLOW_PUT_SECONDS = 0.1


def queue_url(database_url: str) -> str | None:
    """Where the queue lives: a file beside a SQLite database file, the database itself on PostgreSQL.

    None for an in-memory SQLite database, which no second process can open.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return database_url
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        return None
    path = Path(url.database)
    return url.set(database=str(path.with_name(f"{path.stem}-queue{path.suffix or '.db'}"))).render_as_string(
        hide_password=False)


def _no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


_QUEUE_COLUMNS = ("dedupe_key", "priority", "workspace_id", "body", "received_at", "not_before", "attempts")


@dataclass(frozen=True)
class Claimed:
    """A row this worker holds a lease on."""

    id: int
    priority: int
    attempts: int  # including this one
    body: dict[str, Any]
    token: str  # the claim it belongs to


class WorkQueue:
    """The queue table on its engine: put (HTTP process), claim and finish (worker process)."""

    def __init__(self, engine: Engine, *, own_engine: bool) -> None:
        self.engine = engine
        self.session_factory: sessionmaker[Session] = db.make_session_factory(engine)
        self._own_engine = own_engine
        self._postgres = engine.dialect.name == "postgresql"
        # SQLite: the insert as one plain statement, with SQLAlchemy's own conversions of each value (so the
        # rows read back through the ORM exactly as if the ORM had written them).
        columns = QueuedRequest.__table__.c  # type: ignore[attr-defined]
        identity: Callable[[Any], Any] = lambda value: value  # noqa: E731
        self._sqlite_binds = {name: columns[name].type.bind_processor(engine.dialect) or identity
                              for name in _QUEUE_COLUMNS}
        self._sqlite_insert = (f"INSERT INTO queued_requests ({', '.join(_QUEUE_COLUMNS)}) "
                               f"VALUES ({', '.join('?' for _ in _QUEUE_COLUMNS)}) ON CONFLICT (dedupe_key) DO NOTHING")
        self._claims = itertools.count(1)

    @classmethod
    def open(cls, database_url: str, main_engine: Engine, *, threads: int = 16) -> WorkQueue | None:
        """The queue for this database (None when it cannot be shared between processes); `threads`: how many
        threads of this process may write to it at once."""
        url = queue_url(database_url)
        if url is None:
            return None
        if url == database_url:
            return cls(main_engine, own_engine=False)  # PostgreSQL: the migrations created the table
        # A pooled connection for every thread that may write at once: none waits for one.
        engine = db.make_engine(url, pool_size=threads + 4, max_overflow=threads)
        # SQLite copies its log into the database file (and syncs it to disk) at the end of a commit, every 1000
        # pages: that commit would be an acknowledgement's insert, which would then wait for an fsync. Here the
        # worker copies it, between batches (checkpoint()).
        event.listen(engine, "connect", _no_automatic_checkpoints)
        # The queue file holds transient rows only, so it has no migrations of its own: the table is created
        # when missing (a new layout would get a new table name). Replicas starting together race to create
        # the file (switching it to WAL needs it to themselves) and the table: the loser looks again.
        for attempt in range(1, 6):
            try:
                QueuedRequest.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
                RequestReplay.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
                break
            except OperationalError:
                if attempt == 5:
                    raise
                time.sleep(0.2 * attempt)
        return cls(engine, own_engine=True)

    def replay_record(self) -> ReplayRecord:
        """The record of accepted requests beside this queue: the acknowledgement writes here already."""
        return ReplayRecord(self.engine, own_connection=self._own_engine)

    def checkpoint(self) -> None:
        """Copies the SQLite queue file's log into the file without blocking its writers (the worker calls it)."""
        if self._own_engine:
            self._write_sqlite("PRAGMA wal_checkpoint(PASSIVE)", ())

    def put(self, *, dedupe_key: str, priority: int, workspace_id: str, body: dict[str, Any]) -> None:
        """Stores a request unless the same delivery is stored already (a retry from Slack)."""
        now = utcnow()
        values = {"dedupe_key": dedupe_key[:100], "priority": priority, "workspace_id": workspace_id[:32],
                  "body": body, "received_at": now, "not_before": now, "attempts": 0}
        if not self._postgres:
            self._put_sqlite(values)
            return
        with db.session_scope(self.session_factory, write=True, urgent=True) as session:
            session.execute(pg_insert(QueuedRequest).values(**values)
                            .on_conflict_do_nothing(index_elements=["dedupe_key"]))

    def _put_sqlite(self, values: dict[str, Any]) -> None:
        # The ack waits for this insert. Through an ORM session it took ~0.4 ms of Python holding SQLite's
        # writer, and bench/ack.py's acks that stored something had a p99 of 80 ms against 20 ms for those that
        # did not. Here the values are converted first and the insert is one autocommitted statement on a
        # connection of the request thread's own: SQLite holds its writer only while sqlite3 runs it (without
        # the GIL), and a collision waits in SQLite's busy handler.
        # Neither a lock around it (each hand-over waited for the GIL: 6 ms median in the slowest 15 %) nor one
        # writer thread committing for all (two GIL hand-overs per request: +2 ms median) did better.
        row = tuple(self._sqlite_binds[name](values[name]) for name in _QUEUE_COLUMNS)
        started = time.perf_counter()
        self._write_sqlite(self._sqlite_insert, row)
        took = time.perf_counter() - started
        if took > SLOW_PUT_SECONDS:
            # The ack waited for it: worth a line (the disk, or SQLite's writer held elsewhere).
            log.warning("storing a request for the worker took %.0f ms", took * 1000)

    def has_due(self, now: datetime) -> bool:
        """A cheap read, so an idle worker's polling never takes the writer's lock."""
        return self.most_urgent_due(now) is not None

    def most_urgent_due(self, now: datetime) -> int | None:
        """The best priority among the due rows (PERSON_WAITING, EVENT), None when nothing is due."""
        with db.session_scope(self.session_factory) as session:
            return session.scalar(select(QueuedRequest.priority).where(*self._due(now))
                                  .order_by(QueuedRequest.priority).limit(1))

    def claim(self, *, instance_id: str, limit: int, now: datetime) -> list[Claimed]:
        """Leases up to `limit` due rows to this worker: people waiting first, then in arrival order."""
        token = f"{instance_id[:80]}#{next(self._claims)}"  # names this one claim, so finish() touches only it
        due = (select(QueuedRequest.id).where(*self._due(now))
               .order_by(QueuedRequest.priority, QueuedRequest.id).limit(limit))
        if self._postgres:
            with db.session_scope(self.session_factory, write=True) as session:
                session.execute(
                    update(QueuedRequest)
                    .where(QueuedRequest.id.in_(due.with_for_update(skip_locked=True)))  # replicas take other rows
                    .values(claimed_by=token, claimed_until=now + LEASE, attempts=QueuedRequest.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
        else:
            stamp = self._sqlite_binds["not_before"]
            self._write_sqlite(
                "UPDATE queued_requests SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM queued_requests WHERE not_before <= ? "
                "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY priority, id LIMIT ?)",
                (token, stamp(now + LEASE), stamp(now), stamp(now), limit),
            )
        with db.session_scope(self.session_factory) as session:
            rows = session.execute(
                select(QueuedRequest.id, QueuedRequest.priority, QueuedRequest.attempts, QueuedRequest.body)
                .where(QueuedRequest.claimed_by == token).order_by(QueuedRequest.priority, QueuedRequest.id)
            ).all()
        return [Claimed(row.id, row.priority, row.attempts, row.body, token) for row in rows]

    def finish(self, claimed: list[Claimed], *, retry: dict[int, datetime]) -> None:
        """Releases the rows in `retry` for another attempt at the time given, and deletes the rest of the claim."""
        tokens = sorted({row.token for row in claimed})
        released = [(row.id, row.token, retry[row.id]) for row in claimed if row.id in retry]
        if self._postgres:
            with db.session_scope(self.session_factory, write=True) as session:
                for row_id, token, not_before in released:
                    session.execute(
                        update(QueuedRequest).where(QueuedRequest.id == row_id, QueuedRequest.claimed_by == token)
                        .values(claimed_by=None, claimed_until=None, not_before=not_before)
                        .execution_options(synchronize_session=False)
                    )
                session.execute(delete(QueuedRequest).where(QueuedRequest.claimed_by.in_(tokens)))
            return
        stamp = self._sqlite_binds["not_before"]
        for row_id, token, not_before in released:
            self._write_sqlite("UPDATE queued_requests SET claimed_by = NULL, claimed_until = NULL, not_before = ? "
                               "WHERE id = ? AND claimed_by = ?", (stamp(not_before), row_id, token))
        for token in tokens:
            self._write_sqlite("DELETE FROM queued_requests WHERE claimed_by = ?", (token,))

    def _write_sqlite(self, sql: str, params: tuple[Any, ...]) -> None:
        # One autocommitted statement on a pooled connection: SQLite's write lock is held only while
        # sqlite3 runs it, never across Python code of a lower-priority process that the scheduler may pause
        # (the HTTP process's inserts would wait behind it).
        connection = self.engine.raw_connection()
        try:
            connection.cursor().execute(sql, params)
        finally:
            connection.close()

    def release_claims_of_dead_processes(self, now: datetime) -> int:
        """Makes rows claimed by a process of this host that is gone due now (instead of after LEASE)."""
        with db.session_scope(self.session_factory) as session:
            tokens = session.scalars(select(QueuedRequest.claimed_by).distinct()
                                     .where(QueuedRequest.claimed_until > now)).all()
        gone = [token for token in tokens if token and holder_is_gone(token.split("#", 1)[0])]
        if not gone:
            return 0
        with db.session_scope(self.session_factory, write=True) as session:
            released = session.execute(
                update(QueuedRequest).where(QueuedRequest.claimed_by.in_(gone))
                .values(claimed_until=now - timedelta(microseconds=1))
                .execution_options(synchronize_session=False)
            ).rowcount
        log.info("took over %s queued requests from stopped processes", released)
        return int(released or 0)

    def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting row that no worker holds arrived (None: nothing waits)."""
        with db.session_scope(self.session_factory) as session:
            return session.scalar(select(func.min(QueuedRequest.received_at)).where(*self._due(now)))

    def depth(self) -> int:
        """Rows waiting or being worked on (for /metrics)."""
        with db.session_scope(self.session_factory) as session:
            return int(session.scalar(select(func.count()).select_from(QueuedRequest)) or 0)

    def dispose(self) -> None:
        """Closes the queue file's connections (the main engine is closed by its owner)."""
        if self._own_engine:
            self.engine.dispose()

    @staticmethod
    def _due(now: datetime) -> tuple[Any, ...]:
        return (QueuedRequest.not_before <= now,
                or_(QueuedRequest.claimed_until.is_(None), QueuedRequest.claimed_until < now))


class QueueWorker:
    """Claims queued requests and runs them through the app on a few threads; safe in several replicas."""

    def __init__(self, *, queue: WorkQueue, dispatch: Callable[[dict[str, Any]], bool], instance_id: str,
                 threads: int = 4, poll_seconds: float = 0.02, clock: Callable[[], datetime] = utcnow,
                 pause: Callable[[], None] | None = None) -> None:
        self._queue = queue
        self._pause = pause  # before each batch: lets a burst of acknowledgements go first (bot/run/busy.py)
        self._dispatch = dispatch
        self._instance_id = instance_id
        self._threads = threads
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="secreview-work")
        self._loop = BackgroundLoop("secreview-queue", self._pass, poll_seconds)
        self._last_checkpoint = time.monotonic()

    def run_once(self) -> int:
        """Runs one batch (up to `threads` requests at once); returns how many rows it claimed."""
        now = self._clock()
        if not self._queue.has_due(now):
            return 0
        claimed = self._queue.claim(instance_id=self._instance_id, limit=self._threads, now=now)
        runnable = []
        for row in claimed:  # what is not run is deleted with the rest of the claim
            if row.priority == PERSON_WAITING and row.attempts > 1:
                # Its worker died while running it; it may have taken effect, so it is not run twice.
                log.warning("dropping queued request %s: its worker stopped while running it", row.id)
            elif row.attempts > MAX_EVENT_ATTEMPTS:
                log.error("giving up on queued event %s after %s attempts", row.id, row.attempts - 1)
            else:
                runnable.append(row)
        outcomes = list(self._pool.map(self._run, runnable))
        retry: dict[int, datetime] = {}
        for row, ok in zip(runnable, outcomes, strict=True):
            if not ok and row.priority == EVENT:
                # The listener failed (the database away, Slack down): the event is kept, tried again later.
                retry[row.id] = self._clock() + timedelta(seconds=min(60, 2 ** row.attempts))
        self._queue.finish(claimed, retry=retry)
        return len(claimed)

    def _run(self, row: Claimed) -> bool:
        try:
            return self._dispatch(row.body)
        except Exception:  # the app's error boundary handles listener errors; this is anything around it
            log.exception("queued request %s could not be run", row.id)
            return False

    def _pass(self) -> bool:
        # A person waiting is never made to wait for the acks: a click may open a modal, and its trigger_id
        # lasts 3 s. Only events wait while the HTTP process answers a burst.
        if self._pause is not None and self._queue.most_urgent_due(self._clock()) != PERSON_WAITING:
            self._pause()
        claimed = self.run_once()
        if claimed and time.monotonic() - self._last_checkpoint > CHECKPOINT_SECONDS:
            self._last_checkpoint = time.monotonic()
            self._queue.checkpoint()
        return claimed > 0

    def start(self) -> None:
        """Takes over what killed processes of this host held, then starts the claiming thread."""
        try:
            self._queue.release_claims_of_dead_processes(self._clock())
        except SQLAlchemyError:
            log.warning("could not check for claims of stopped processes", exc_info=True)
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finishes the batch under way, then stops."""
        self._loop.stop(timeout)
        self._pool.shutdown(wait=True)
