"""The record of accepted requests: a key is accepted once until it expires, on the main database and in the
SQLite queue file, and expired keys are purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from bot.run.replays import ReplayRecord
from bot.run.workqueue import WorkQueue
from storage import db
from storage.models import RequestReplay, utcnow
from tests.conftest import is_postgres


def count(engine: Engine) -> int:
    with db.session_scope(db.make_session_factory(engine)) as session:
        return int(session.scalar(select(func.count()).select_from(RequestReplay)) or 0)


def test_a_key_is_accepted_once(engine: Engine) -> None:
    record = ReplayRecord(engine)
    later = utcnow() + timedelta(minutes=6)
    assert record.first_delivery("sig:" + "a" * 64, expires_at=later) is True
    assert record.first_delivery("sig:" + "a" * 64, expires_at=later) is False
    assert record.first_delivery("sig:" + "b" * 64, expires_at=later) is True
    assert count(engine) == 2


def test_expired_keys_are_purged(engine: Engine) -> None:
    now = utcnow()
    record = ReplayRecord(engine, clock=lambda: now)
    record.first_delivery("old", expires_at=now - timedelta(seconds=1))
    record.first_delivery("fresh", expires_at=now + timedelta(minutes=5))
    assert record.purge() == 1
    assert count(engine) == 1
    assert record.first_delivery("fresh", expires_at=now + timedelta(minutes=5)) is False


@pytest.mark.skipif(is_postgres(), reason="the queue file exists on SQLite only")
def test_beside_the_sqlite_queue_the_record_lives_in_the_queue_file(database_url: str, engine: Engine) -> None:
    queue = WorkQueue.open(database_url, engine)
    assert queue is not None
    try:
        record = queue.replay_record()
        later = utcnow() + timedelta(minutes=6)
        assert record.first_delivery("sig:queued", expires_at=later) is True
        assert ReplayRecord(queue.engine, own_connection=True).first_delivery("sig:queued", expires_at=later) is False
        assert count(queue.engine) == 1 and count(engine) == 0
        assert record.purge() == 0
    finally:
        queue.dispose()
