"""Storage on SQLite and PostgreSQL: migrations match the models, constraints hold, the audit log is append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.review import audit, lifecycle, transitions
from storage import db
from storage.models import AuditEvent, Base, DigestRun, Review, Workspace
from storage.oauth_tables import is_secreview_object
from tests.support.builders import OWNER, REVIEWER, WS, make_settings, open_review

SETTINGS = make_settings()


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": is_secreview_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert db.current_revision(engine) == db.head_revision()


def test_upgrade_is_idempotent(engine: Engine) -> None:
    db.upgrade(engine)
    db.ensure_schema(engine)
    assert db.current_revision(engine) == db.head_revision()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == db.SQLITE_BUSY_TIMEOUT_MS


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    review = open_review(session, SETTINGS).review
    session.commit()
    session.expire_all()
    loaded = session.get(Review, review.id)
    assert loaded is not None and loaded.announced_at.tzinfo is not None
    assert loaded.announced_at == review.announced_at


def test_audit_rows_cannot_be_updated_or_deleted(session_factory: sessionmaker[Session]) -> None:
    with db.session_scope(session_factory) as session:
        open_review(session, SETTINGS)
    for statement in (update(AuditEvent).values(note="tampered"), AuditEvent.__table__.delete()):
        with pytest.raises(DBAPIError), db.session_scope(session_factory) as session:
            session.execute(statement)


def test_one_review_per_message_is_a_database_constraint(session: Session) -> None:
    review = open_review(session, SETTINGS, ts="7.7").review
    session.commit()
    clone = Review(workspace_id=WS, number=99, title="x", owner_id="U1", announcer_id="U1",
                   source_channel=review.source_channel, source_ts="7.7", state="announced",
                   announced_at=review.announced_at, first_response_due=review.due_at, due_at=review.due_at)
    session.add(clone)
    with pytest.raises(IntegrityError):
        session.commit()


def test_digest_period_can_be_claimed_once(session: Session) -> None:
    lifecycle.ensure_workspace(session, WS)
    start = SETTINGS.timezone
    del start
    from datetime import date

    session.add(DigestRun(workspace_id=WS, kind="weekly", period_start=date(2027, 3, 1), period_end=date(2027, 3, 7),
                          claimed_by="a"))
    session.commit()
    session.add(DigestRun(workspace_id=WS, kind="weekly", period_start=date(2027, 3, 1), period_end=date(2027, 3, 7),
                          claimed_by="b"))
    with pytest.raises(IntegrityError):
        session.commit()


def _tamper(engine: Engine, statement: str) -> None:
    # What someone with database access would do: disable the guard, then edit.
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        connection.execute(text(statement))
        if engine.dialect.name != "sqlite":
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def _history(session_factory: sessionmaker[Session]) -> None:
    with db.session_scope(session_factory) as session:
        for index in range(3):
            review = open_review(session, SETTINGS, ts=f"3.{index}").review
            transitions.take(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number)
        transitions.withdraw(session, settings=SETTINGS, workspace_id=WS, actor=OWNER, key=1)


def test_audit_verify_passes_on_an_untouched_log(session_factory: sessionmaker[Session]) -> None:
    _history(session_factory)
    with db.session_scope(session_factory) as session:
        result = audit.verify(session)
    assert result.ok and result.checked == 7


@pytest.mark.parametrize(
    ("statement", "bad_seq", "words"),
    [
        ("UPDATE audit_events SET note = 'approved by CISO' WHERE seq = 4", 4, "changed"),
        ("UPDATE audit_events SET actor = 'UEVIL0001' WHERE seq = 2", 2, "changed"),
        ("DELETE FROM audit_events WHERE seq = 3", 4, "missing"),
        ("DELETE FROM audit_events WHERE seq = 7", 7, "deleted"),
    ],
)
def test_audit_verify_names_the_first_bad_row(engine: Engine, session_factory: sessionmaker[Session],
                                              statement: str, bad_seq: int, words: str) -> None:
    _history(session_factory)
    _tamper(engine, statement)
    with db.session_scope(session_factory) as session:
        result = audit.verify(session)
    assert not result.ok and result.problem is not None
    assert result.problem.seq == bad_seq
    assert words in result.problem.reason


def test_concurrent_changes_keep_one_chain(session_factory: sessionmaker[Session]) -> None:
    import threading

    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with db.session_scope(session_factory) as session:
                open_review(session, SETTINGS, ts=f"8.{index}")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with db.session_scope(session_factory) as session:
        numbers = sorted(session.scalars(select(Review.number)))
        assert numbers == list(range(1, 9))
        assert audit.verify(session).ok
        assert session.scalar(select(Workspace.audit_head_seq)) == session.scalar(
            select(func.count()).select_from(AuditEvent))
