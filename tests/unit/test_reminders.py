"""Reminders: the right people, never nobody, at most once per item and reminder a (local) day."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.figures import reminders
from storage.db import WRITE_OPTION
from storage.models import Condition, Decision, OutboxMessage, ReminderLog, Review
from tests.unit.test_digest import make_settings, validate_message
from tests.unit.test_metrics import WS, add_review, add_workspace

NOW = datetime(2026, 3, 18, 9, 0, tzinfo=UTC)  # Wednesday 09:00
SECURITY = "C0SECURITY"


def ago(**delta: Any) -> datetime:
    """An instant before NOW."""
    return NOW - timedelta(**delta)


def add_condition(
    session: Session, review: Review, *, owner: str, due: date, state: str = "open"
) -> Condition:
    """A safeguard on a review (with the decision it belongs to)."""
    decision = Decision(
        workspace_id=WS,
        review_id=review.id,
        outcome="approved_with_conditions",
        decided_by="UREV",
        decided_at=ago(days=10),
    )
    session.add(decision)
    session.flush()
    row = Condition(
        workspace_id=WS,
        review_id=review.id,
        decision_id=decision.id,
        text="Enable <MFA> & SSO",
        owner_id=owner,
        due_date=due,
        state=state,
        created_at=ago(days=10),
    )
    session.add(row)
    session.flush()
    return row


def build(session: Session) -> dict[str, Any]:
    """One item per reminder, and one near miss for each."""
    add_workspace(session)
    today = NOW.date()
    rows: dict[str, Any] = {}
    rows["overdue_assigned"] = add_review(
        session,
        1,
        announced_at=ago(days=9),
        first_response_at=ago(days=8),
        due_at=ago(days=2),
        state="in_review",
        assignee_id="UASSIGNEE",
    )
    rows["overdue_unassigned"] = add_review(session, 2, announced_at=ago(days=9), due_at=ago(hours=1))
    rows["no_first_response"] = add_review(
        session, 3, announced_at=ago(days=2), first_response_due=ago(days=1), due_at=NOW + timedelta(days=3)
    )
    # Asked Thursday 12 March 09:00: four working days ago (one more than needed); the other, two.
    rows["needs_info"] = add_review(
        session,
        4,
        announced_at=ago(days=8),
        first_response_at=ago(days=6),
        info_requested_at=ago(days=6),
        due_at=NOW + timedelta(days=1),
        state="needs_info",
        owner_id="UOWNER4",
    )
    rows["needs_info_recent"] = add_review(
        session,
        5,
        announced_at=ago(days=3),
        first_response_at=ago(days=2),
        info_requested_at=ago(days=2),
        due_at=NOW + timedelta(days=2),
        state="needs_info",
    )
    rows["go_live"] = add_review(
        session,
        6,
        announced_at=ago(hours=2),
        first_response_at=ago(hours=1),
        due_at=NOW + timedelta(days=5),
        go_live=today + timedelta(days=3),
        state="in_review",
        source_channel="C0ANNOUNCE",
        source_ts="1700000000.000100",
    )
    rows["go_live_decided"] = add_review(
        session,
        7,
        announced_at=ago(days=3),
        go_live=today + timedelta(days=3),
        state="approved",
        decided_at=ago(days=1),
    )
    rows["go_live_far"] = add_review(
        session,
        8,
        announced_at=ago(hours=2),
        first_response_at=ago(hours=1),
        due_at=NOW + timedelta(days=5),
        go_live=today + timedelta(days=8),
        state="in_review",
    )
    live = add_review(
        session,
        9,
        announced_at=ago(days=30),
        go_live=today - timedelta(days=1),
        state="approved_with_conditions",
        decided_at=ago(days=10),
    )
    rows["condition_due"] = add_condition(session, live, owner="UCOND", due=today - timedelta(days=1))
    rows["condition_later"] = add_condition(session, live, owner="UCOND", due=today + timedelta(days=5))
    rows["condition_done"] = add_condition(
        session, live, owner="UCOND", due=today - timedelta(days=1), state="done"
    )
    rows["live"] = live
    return rows


def outbox_rows(session: Session) -> list[OutboxMessage]:
    """The queued messages, oldest first."""
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def by_channel(rows: list[OutboxMessage]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Queued payloads keyed by (channel, thread_ts)."""
    return {(r.payload["channel"], r.payload.get("thread_ts")): r.payload for r in rows}


def test_each_reminder_goes_to_its_people(session: Session) -> None:
    """Assignee, security channel, owner, thread, condition owner: each gets what is theirs, once."""
    build(session)
    sent = reminders.run_reminders(session, settings=make_settings(), workspace_id=WS, now=NOW)
    kinds = sorted((r.item_kind, r.reminder) for r in sent)
    assert kinds == sorted(
        [
            ("review", "overdue"),
            ("review", "overdue"),
            ("review", "first_response"),
            ("review", "needs_info"),
            ("review", "go_live"),
            ("condition", "condition_due"),
            ("review", "open_at_go_live"),
        ]
    )
    messages = by_channel(outbox_rows(session))
    assert set(messages) == {
        ("UASSIGNEE", None),
        (SECURITY, None),
        ("UOWNER4", None),
        ("UCOND", None),
        ("C0ANNOUNCE", "1700000000.000100"),
    }
    for payload in messages.values():
        validate_message(payload)
    assignee = str(messages[("UASSIGNEE", None)]["blocks"])
    assert "SR-1" in assignee and "2 days overdue" in assignee
    channel = str(messages[(SECURITY, None)]["blocks"])
    for expected in (
        "SR-2",
        "nobody has taken",
        "SR-3",
        "first response",
        "SR-6",
        "within 7 days",
        "SR-9",
        "safeguards still open",
    ):
        assert expected in channel, expected
    for absent in ("SR-1", "SR-5", "SR-7", "SR-8"):
        assert f"*{absent}*" not in channel, absent
    assert "*SR-4*" in str(messages[("UOWNER4", None)]["blocks"])
    thread = str(messages[("C0ANNOUNCE", "1700000000.000100")]["blocks"])
    assert "goes live in 3 days" in thread and "*SR-6*" in thread
    condition = str(messages[("UCOND", None)]["blocks"])
    assert "Enable &lt;MFA&gt; &amp; SSO" in condition and "1 day late" in condition
    assert "<MFA>" not in condition


def test_a_close_go_live_reaches_the_reviewer_who_has_it_once_a_day(session: Session) -> None:
    """Going live within 7 days and undecided: the channel, the thread and, by DM, the assignee, once a day."""
    add_workspace(session)
    add_review(session, 1, announced_at=ago(hours=2), first_response_at=ago(hours=1), due_at=NOW + timedelta(days=5),
               go_live=NOW.date() + timedelta(days=2), state="in_review", assignee_id="UREVIEWER")
    add_review(session, 2, announced_at=ago(hours=2), due_at=NOW + timedelta(days=5),
               go_live=NOW.date() + timedelta(days=4))
    settings = make_settings()
    reminders.run_reminders(session, settings=settings, workspace_id=WS, now=NOW)
    reminders.run_reminders(session, settings=settings, workspace_id=WS, now=NOW + timedelta(hours=3))
    rows = outbox_rows(session)
    to_reviewer = [r.payload for r in rows if r.payload["channel"] == "UREVIEWER"]
    assert len(to_reviewer) == 1  # the second run the same day claimed nothing
    validate_message(to_reviewer[0])
    text = str(to_reviewer[0]["blocks"])
    assert "assigned to you" in text and "*SR-1*" in text and "*SR-2*" not in text
    channel = str(next(r.payload for r in rows if r.payload["channel"] == SECURITY)["blocks"])
    assert "*SR-1*" in channel and "*SR-2*" in channel  # the channel still hears of both


def test_at_most_once_a_day(session: Session) -> None:
    """A second run the same day sends nothing; the next day reminds again (the go-live flag only once)."""
    build(session)
    settings = make_settings()
    first = reminders.run_reminders(session, settings=settings, workspace_id=WS, now=NOW)
    queued = len(outbox_rows(session))
    assert (
        reminders.run_reminders(session, settings=settings, workspace_id=WS, now=NOW + timedelta(hours=8))
        == []
    )
    assert len(outbox_rows(session)) == queued
    tomorrow = reminders.run_reminders(
        session, settings=settings, workspace_id=WS, now=NOW + timedelta(days=1)
    )
    assert {r.reminder for r in tomorrow} == {r.reminder for r in first} - {"open_at_go_live"}
    assert all(r.day == date(2026, 3, 19) for r in tomorrow)


def test_the_day_is_the_configured_time_zones(session: Session) -> None:
    """23:30 and 00:30 in Paris are two days though one UTC date; 00:30 and 23:00 are one day."""
    add_workspace(session)
    add_review(
        session,
        1,
        announced_at=ago(days=9),
        due_at=ago(days=2),
        state="in_review",
        first_response_at=ago(days=8),
        assignee_id="UASSIGNEE",
    )
    settings = make_settings(secreview_timezone="Europe/Paris")
    monday_late = datetime(2026, 3, 16, 22, 30, tzinfo=UTC)  # 23:30 in Paris (CET)
    tuesday_early = datetime(2026, 3, 16, 23, 30, tzinfo=UTC)  # 00:30 Tuesday in Paris, still Monday in UTC
    tuesday_late = datetime(2026, 3, 17, 22, 0, tzinfo=UTC)  # 23:00 Tuesday in Paris
    assert len(reminders.run_reminders(session, settings=settings, workspace_id=WS, now=monday_late)) == 1
    again = reminders.run_reminders(session, settings=settings, workspace_id=WS, now=tuesday_early)
    assert [r.day for r in again] == [date(2026, 3, 17)]
    assert reminders.run_reminders(session, settings=settings, workspace_id=WS, now=tuesday_late) == []


def test_never_to_nobody(session: Session) -> None:
    """Without a security channel an unassigned item is not claimed (it goes out once one is set)."""
    add_workspace(session)
    add_review(session, 1, announced_at=ago(days=9), due_at=ago(days=1))
    add_review(
        session,
        2,
        announced_at=ago(days=9),
        due_at=ago(days=1),
        state="in_review",
        first_response_at=ago(days=8),
        assignee_id="UASSIGNEE",
    )
    sent = reminders.run_reminders(
        session, settings=make_settings(secreview_security_channel=None), workspace_id=WS, now=NOW
    )
    assert len(sent) == 1
    assert [r.payload["channel"] for r in outbox_rows(session)] == ["UASSIGNEE"]
    later = reminders.run_reminders(
        session, settings=make_settings(), workspace_id=WS, now=NOW + timedelta(hours=1)
    )
    assert len(later) == 1
    assert outbox_rows(session)[-1].payload["channel"] == SECURITY


def test_a_long_list_is_cut(session: Session) -> None:
    """Sixty overdue reviews: one channel message listing ten, "and 50 more", within Block Kit limits."""
    add_workspace(session)
    for number in range(1, 61):
        add_review(session, number, announced_at=ago(days=9), due_at=ago(days=1), title="x" * 500)
    sent = reminders.run_reminders(session, settings=make_settings(), workspace_id=WS, now=NOW)
    assert len(sent) == 60
    rows = outbox_rows(session)
    assert len(rows) == 1
    validate_message(rows[0].payload)
    assert "and 50 more" in str(rows[0].payload["blocks"])


def test_the_clock_is_used_when_no_time_is_given(session: Session) -> None:
    """With time-machine at Wednesday 09:00, a run without `now` uses that day."""
    add_workspace(session)
    add_review(session, 1, announced_at=ago(days=9), due_at=ago(days=1))
    with time_machine.travel(NOW, tick=False):
        sent = reminders.run_reminders(session, settings=make_settings(), workspace_id=WS)
    assert [r.day for r in sent] == [date(2026, 3, 18)]


def test_two_replicas_at_once_send_each_reminder_once(session_factory: sessionmaker[Session]) -> None:
    """Two threads run the reminders at the same moment: every reminder is claimed and queued once."""
    with session_factory() as setup:
        add_workspace(setup)
        for number in range(1, 21):
            add_review(setup, number, announced_at=ago(days=9), due_at=ago(days=1))
        setup.commit()
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def worker(name: str) -> None:
        with session_factory() as session:
            barrier.wait()
            # As the scheduler does: a write session, which on SQLite holds the write lock from the start.
            session.connection(execution_options={WRITE_OPTION: True})
            try:
                results[name] = len(
                    reminders.run_reminders(session, settings=make_settings(), workspace_id=WS, now=NOW)
                )
                session.commit()
            except Exception as exc:  # reported below, so a failure names its cause
                results[name] = exc

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values(), key=str) == [0, 20], results
    with session_factory() as check:
        assert check.scalar(select(func.count()).select_from(ReminderLog)) == 20
        assert check.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_no_thread_reply_under_a_deleted_announcement(session: Session) -> None:
    """The go-live reminder skips the thread of a deleted announcement; the security channel still hears."""
    add_workspace(session)
    add_review(
        session,
        1,
        announced_at=ago(hours=2),
        first_response_at=ago(hours=1),
        due_at=NOW + timedelta(days=5),
        go_live=NOW.date() + timedelta(days=2),
        state="in_review",
        source_channel="C0ANNOUNCE",
        source_ts="1.2",
        deleted_in_slack=True,
    )
    reminders.run_reminders(session, settings=make_settings(), workspace_id=WS, now=NOW)
    assert [r.payload["channel"] for r in outbox_rows(session)] == [SECURITY]
