"""SQLite's writer slot within one process: handed over in turn, urgent writers (an ack waits) first."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import db


def _wait_until(predicate: object, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)


def test_an_urgent_writer_goes_before_one_that_waited_longer() -> None:
    queue = db.WriterQueue()
    order: list[str] = []
    assert queue.acquire()

    def writer(name: str, urgent: bool) -> None:
        assert queue.acquire(urgent=urgent)
        order.append(name)
        queue.release()

    normal = threading.Thread(target=writer, args=("normal", False))
    normal.start()
    urgent = threading.Thread(target=writer, args=("urgent", True))
    urgent.start()
    _wait_until(lambda: queue._urgent_waiting == 1)
    queue.release()
    normal.join(5)
    urgent.join(5)
    assert order == ["urgent", "normal"]


def test_the_holder_may_nest_and_a_timeout_leaves_it_to_sqlite() -> None:
    queue = db.WriterQueue()
    assert queue.acquire() and queue.acquire()
    queue.release()
    got: list[bool] = []
    other = threading.Thread(target=lambda: got.append(queue.acquire(timeout=0.01)))
    other.start()
    other.join(5)
    assert got == [False]  # still held once
    queue.release()
    other = threading.Thread(target=lambda: got.append(queue.acquire(timeout=0.01)))
    other.start()
    other.join(5)
    assert got == [False, True]


def test_write_sessions_take_and_give_back_the_slot(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    factory = db.make_session_factory(engine)
    queue = db.writer_queue(engine)
    assert queue is not None
    with db.session_scope(factory, write=True, urgent=True) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert queue._owner == threading.get_ident()
    with db.session_scope(factory) as session:  # readers never queue
        assert queue._owner is None
        session.execute(text("SELECT count(*) FROM t")).scalar_one()
    with pytest.raises(RuntimeError), db.session_scope(factory, write=True) as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("rolled back")
    assert queue._owner is None
    assert db.writer_queue(db.make_engine("postgresql+psycopg://u@127.0.0.1:1/x")) is None
    engine.dispose()
