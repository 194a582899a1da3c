"""The demo data reads as a real team's quarter: its log in time order, varied projects, figures a team could have."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import demo
from bot.figures import periods, reports
from storage import db
from storage.models import AuditEvent, Condition, Decision, Review
from tests.support.builders import make_settings

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # a Thursday


Quarter = tuple[Session, demo.DemoSummary]


@pytest.fixture(scope="module")
def quarter(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quarter]:
    """The default quarter at a fixed moment, generated once for the module: every test here only reads it.
    (The PostgreSQL pass leaves this module out; `secreview demo-data` runs on PostgreSQL in test_cli.)"""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(_sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    session = db.make_session_factory(engine)()
    summary = demo.generate(session, settings=make_settings(), now=NOW)
    session.commit()
    yield session, summary
    session.close()
    engine.dispose()


def test_the_log_never_records_something_before_what_it_follows(quarter: Quarter) -> None:
    """Events in order of the log are in order of time, nothing happens before its review's announcement, and a
    safeguard is closed after it was asked for."""
    session, _summary = quarter
    events = session.execute(select(AuditEvent.seq, AuditEvent.at, AuditEvent.review_id, AuditEvent.action)
                             .where(AuditEvent.workspace_id == demo.DEMO_WORKSPACE).order_by(AuditEvent.seq)).all()
    times = [e.at for e in events]
    assert times == sorted(times)
    first: dict[int, str] = {}
    for event in events:
        first.setdefault(event.review_id, event.action)
    assert set(first.values()) == {"announced"}
    assert all(e.at < NOW for e in events)
    for created, closed in session.execute(select(Condition.created_at, Condition.closed_at)):
        assert closed is None or closed > created


def test_every_review_is_another_project(quarter: Quarter) -> None:
    """72 reviews, 72 titles: each project of the catalogue once (issue 14: no chatbot four times)."""
    session, summary = quarter
    titles = session.scalars(select(Review.title).where(Review.workspace_id == demo.DEMO_WORKSPACE)).all()
    assert summary.reviews == len(titles) == 72
    assert Counter(titles).most_common(1)[0][1] == 1
    # Reviews still open show the title their owner gave in the intake, not the announcement's first words.
    open_titles = session.scalars(select(Review.title).where(Review.workspace_id == demo.DEMO_WORKSPACE,
                                                             Review.state.in_(["announced", "in_review",
                                                                               "needs_info"]))).all()
    assert open_titles and not any(t.lower().startswith(("kick-off", "new project", "we are")) for t in open_titles)


def test_every_state_and_the_work_of_the_day(quarter: Quarter) -> None:
    """Every state appears; the newest reviews are still being worked on; a few decisions were reopened."""
    session, summary = quarter
    assert set(summary.by_state) == {"announced", "in_review", "needs_info", "approved", "approved_with_conditions",
                                     "rejected", "withdrawn", "not_applicable"}
    reopened = session.scalars(select(AuditEvent.review_id).where(AuditEvent.action == "reopened")).all()
    assert reopened
    redecided = Counter(session.scalars(select(Decision.review_id)).all())
    assert all(redecided[rid] == 2 for rid in reopened)


def test_its_quarter_reads_as_a_team_that_works_its_backlog(quarter: Quarter) -> None:
    """The quarter to date: most due dates met, most projects reviewed before go-live, a handful open."""
    session, _summary = quarter
    tz = make_settings().timezone
    quarter = periods.period_for("quarter", now=NOW, tz=tz, which="this")
    rep = reports.compute(session, workspace_id=demo.DEMO_WORKSPACE, period=quarter, now=NOW, tz=tz)
    assert rep.sla_met_rate is not None and 0.7 <= rep.sla_met_rate < 1
    assert rep.reviewed_before_go_live_rate is not None and rep.reviewed_before_go_live_rate >= 0.75
    assert rep.backlog_end <= 8 and rep.overdue_count <= 3
    assert rep.decision_median_days is not None and 1 <= rep.decision_median_days <= 4
    assert rep.approval_rate is not None and 0.7 <= rep.approval_rate <= 0.95
