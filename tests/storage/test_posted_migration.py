"""Migration 0006: messages posted before it (cards, thread replies) are recorded, so changes keep updating them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from storage import db
from storage.models import PostedMessage
from tests.conftest import TEST_DATABASE_URL, is_postgres


@pytest.fixture
def engine_at_0004(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated to 0004 only (a schema of its own on PostgreSQL)."""
    if is_postgres():
        schema = f"m_{uuid.uuid4().hex[:10]}"
        admin = db.make_engine(TEST_DATABASE_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        engine = db.make_engine(url.render_as_string(hide_password=False))
    else:
        admin, schema = None, ""
        engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "0004")
    yield engine
    engine.dispose()
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_cards_and_thread_replies_posted_before_0009_are_recorded(engine_at_0004: Engine) -> None:
    now = datetime(2026, 11, 2, 9, tzinfo=UTC).replace(tzinfo=None)
    with engine_at_0004.begin() as connection:
        connection.execute(text(
            "INSERT INTO workspaces (id, name, last_review_number, write_version, audit_head_seq, created_at) "
            "VALUES ('T1', '', 2, 0, 0, :now)"), {"now": now})
        for number, card_ts in ((1, "1.000100"), (2, None)):
            connection.execute(text(
                "INSERT INTO reviews (id, workspace_id, number, title, summary, announcement_text, owner_id, "
                "announcer_id, source_channel, source_ts, card_channel, card_ts, links, tags, vendors, regulations, "
                "risk_reasons, state, announced_at, first_response_due, due_at, updated_at, deleted_in_slack) "
                "VALUES (:n, 'T1', :n, 't', '', '', 'U1', 'U1', 'C1', :src, :cc, :ts, '', '[]', '[]', '[]', '[]', "
                "'announced', :now, :now, :now, :now, false)"),
                {"n": number, "src": f"0.{number}", "cc": "CSEC" if card_ts else None, "ts": card_ts, "now": now})
        for row_id, purpose, state in ((1, "thread_opened", "sent"), (2, "thread_opened", "failed"),
                                       (3, "dm_decision", "sent")):
            connection.execute(text(
                "INSERT INTO outbox (id, workspace_id, review_id, purpose, method, payload, ordering_key, state, "
                "attempts, next_attempt_at, result_channel, result_ts, created_at, sent_at) VALUES (:id, 'T1', 1, "
                ":purpose, 'chat.postMessage', '{}', 'k', :state, 1, :now, 'C1', :ts, :now, :now)"),
                {"id": row_id, "purpose": purpose, "state": state, "ts": f"2.{row_id}", "now": now})
    db.upgrade(engine_at_0004)
    with db.make_session_factory(engine_at_0004)() as session:
        posted = [(p.review_id, p.kind, p.channel, p.ts, p.outbox_id, p.data)
                  for p in session.scalars(select(PostedMessage).order_by(PostedMessage.kind))]
    # The card of review 1 (review 2 never had one) and its delivered thread reply; a failed post is not a
    # message, and a decision DM cannot be re-rendered without knowing its decision, so it stays as it is.
    assert posted == [(1, "card", "CSEC", "1.000100", None, {}), (1, "thread", "C1", "2.1", 1, {})]
