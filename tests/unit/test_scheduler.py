"""The schedules: local time across DST, exactly one digest per period, catch-up after a restart."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.run import scheduler
from storage.models import DigestRun, OutboxMessage, ReminderLog
from tests.unit.test_digest import make_settings
from tests.unit.test_metrics import WS, add_review, add_workspace

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    """A wall-clock time in Paris, as an aware instant."""
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def jobs_kwargs(
    session_factory: sessionmaker[Session], instance: str = "a", **settings: Any
) -> dict[str, Any]:
    """What every job function takes."""
    values = {"secreview_timezone": "Europe/Paris", **settings}
    return {
        "settings": make_settings(**values),
        "session_factory": session_factory,
        "workspace_ids": lambda: [WS],
        "instance_id": instance,
    }


@pytest.fixture
def workspace(session_factory: sessionmaker[Session]) -> None:
    """A committed workspace, for jobs that open their own sessions."""
    with session_factory() as session:
        add_workspace(session)
        session.commit()


def runs(session_factory: sessionmaker[Session]) -> list[tuple[str, date, str, str]]:
    """The claimed digest periods: (kind, first day, trigger, claimed by)."""
    with session_factory() as session:
        rows = session.scalars(select(DigestRun).order_by(DigestRun.id)).all()
        return [(r.kind, r.period_start, r.trigger, r.claimed_by) for r in rows]


def queued(session_factory: sessionmaker[Session]) -> list[OutboxMessage]:
    """The queued digest messages (each digest's chart follows it: tests/unit/test_digest.py)."""
    with session_factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "digest")
                                    .order_by(OutboxMessage.id)))


@pytest.mark.parametrize(
    ("travel_to", "next_digest", "utc_hour"),
    [
        (paris(2026, 3, 28, 12), paris(2026, 3, 30, 9), 7),  # spring forward on Sunday 29 March: CEST, UTC+2
        (paris(2026, 3, 21, 12), paris(2026, 3, 23, 9), 8),  # the week before: CET, UTC+1
        (paris(2026, 10, 24, 12), paris(2026, 10, 26, 9), 8),  # fall back on Sunday 25 October: CET again
    ],
)
def test_digest_fires_at_nine_local_across_dst(
    session_factory: sessionmaker[Session], travel_to: datetime, next_digest: datetime, utc_hour: int
) -> None:
    """The scheduler, started at a controlled time, plans the digest at Monday 09:00 Paris time."""
    with time_machine.travel(travel_to, tick=False):
        sched = scheduler.build_scheduler(**jobs_kwargs(session_factory))
        sched.start(paused=True)
        try:
            job = sched.get_job(scheduler.DIGEST_JOB)
            assert job.next_run_time == next_digest
            assert job.next_run_time.astimezone(UTC).hour == utc_hour
            reminders = sched.get_job(scheduler.REMINDERS_JOB)
            assert reminders.next_run_time.astimezone(PARIS).hour == 9
        finally:
            sched.shutdown(wait=False)


def test_weekday_reminders_skip_the_weekend_across_dst() -> None:
    """From Friday 10:00 before the spring change, the next reminder is Monday 09:00 CEST."""
    settings = make_settings(secreview_timezone="Europe/Paris")
    trigger = scheduler.reminder_trigger(settings)
    assert trigger.get_next_fire_time(None, paris(2026, 3, 27, 10)) == paris(2026, 3, 30, 9)


def test_the_job_at_its_fire_time_posts_last_week(
    session_factory: sessionmaker[Session], workspace: None
) -> None:
    """At Monday 09:00 CEST (07:00 UTC) the digest is for Monday 23 to Sunday 29 March, local."""
    with time_machine.travel(paris(2026, 3, 30, 9, 0, 2), tick=False):
        posted = scheduler.run_digest_job(**jobs_kwargs(session_factory))
    assert len(posted) == 1
    assert runs(session_factory) == [("weekly", date(2026, 3, 23), "schedule", "a")]
    (message,) = queued(session_factory)
    assert "week of 23 Mar 2026" in message.payload["blocks"][0]["text"]["text"]


def test_two_schedulers_on_one_database_post_one_digest(
    session_factory: sessionmaker[Session], workspace: None
) -> None:
    """Two replicas run the job for the same fire time; then a misfired rerun: one digest in all."""
    now = paris(2026, 3, 30, 9, 0, 1)
    assert len(scheduler.run_digest_job(**jobs_kwargs(session_factory, "replica-1"), now=now)) == 1
    assert scheduler.run_digest_job(**jobs_kwargs(session_factory, "replica-2"), now=now) == []
    assert (
        scheduler.run_digest_job(**jobs_kwargs(session_factory, "replica-2"), now=now + timedelta(hours=5))
        == []
    )
    assert runs(session_factory) == [("weekly", date(2026, 3, 23), "schedule", "replica-1")]
    assert len(queued(session_factory)) == 1


def test_two_schedulers_at_the_same_instant(session_factory: sessionmaker[Session], workspace: None) -> None:
    """Two threads fire the job at once: exactly one DigestRun and one message."""
    now = paris(2026, 3, 30, 9, 0, 1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def replica(name: str) -> None:
        barrier.wait()
        try:
            scheduler.run_digest_job(**jobs_kwargs(session_factory, name), now=now)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(f"replica-{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(runs(session_factory)) == 1
    assert len(queued(session_factory)) == 1


def test_a_restart_after_a_missed_monday_posts_it_once(
    session_factory: sessionmaker[Session], workspace: None
) -> None:
    """Down over Monday 09:00, up on Tuesday: the catch-up posts last week; later restarts post nothing."""
    kwargs = jobs_kwargs(session_factory)
    scheduler.catch_up(**kwargs, now=paris(2026, 3, 31, 10))
    assert runs(session_factory) == [("weekly", date(2026, 3, 23), "catch-up", "a")]
    scheduler.catch_up(**kwargs, now=paris(2026, 3, 31, 10, 5))
    scheduler.catch_up(**jobs_kwargs(session_factory, "b"), now=paris(2026, 4, 1, 8))
    assert len(runs(session_factory)) == 1
    assert len([m for m in queued(session_factory) if m.purpose == "digest"]) == 1
    # The next Monday's scheduled run posts the next week, as usual.
    scheduler.run_digest_job(**kwargs, now=paris(2026, 4, 6, 9, 0, 1))
    assert [r[1] for r in runs(session_factory)] == [date(2026, 3, 23), date(2026, 3, 30)]


def test_a_restart_after_the_grace_period_posts_nothing(
    session_factory: sessionmaker[Session], workspace: None
) -> None:
    """With 24 hours of grace, a restart on Wednesday leaves Monday's digest unposted."""
    scheduler.catch_up(
        **jobs_kwargs(session_factory, secreview_digest_grace_hours=24), now=paris(2026, 4, 1, 10)
    )
    assert runs(session_factory) == []


def test_a_misfired_run_posts_the_period_of_its_fire_time(
    session_factory: sessionmaker[Session], workspace: None
) -> None:
    """Scheduled Sunday 23:00, run late at Monday 00:30: still the week the Sunday run was for."""
    kwargs = jobs_kwargs(session_factory, secreview_digest_schedule="0 23 * * sun")
    scheduler.run_digest_job(**kwargs, now=paris(2026, 3, 30, 0, 30))
    assert [r[1] for r in runs(session_factory)] == [date(2026, 3, 16)]


def test_monthly_and_quarterly_summaries_by_configuration(
    session_factory: sessionmaker[Session], workspace: None
) -> None:
    """With summaries on, the first Monday after March also posts March and Q1, once."""
    kwargs = jobs_kwargs(session_factory, secreview_monthly_summary=True)
    scheduler.run_digest_job(**kwargs, now=paris(2026, 4, 6, 9, 0, 1))
    assert [(kind, start) for kind, start, _, _ in runs(session_factory)] == [
        ("weekly", date(2026, 3, 30)),
        ("monthly", date(2026, 3, 1)),
        ("quarterly", date(2026, 1, 1)),
    ]
    scheduler.run_digest_job(**kwargs, now=paris(2026, 4, 13, 9, 0, 1))
    assert [kind for kind, _, _, _ in runs(session_factory)] == ["weekly", "monthly", "quarterly", "weekly"]
    without = jobs_kwargs(session_factory, "b")
    scheduler.run_digest_job(**without, now=paris(2026, 5, 4, 9, 0, 1))
    assert runs(session_factory)[-1][:2] == ("weekly", date(2026, 4, 27))
    assert len(runs(session_factory)) == 5


def test_reminders_job_sends_once_a_day(session_factory: sessionmaker[Session], workspace: None) -> None:
    """Two runs on the same day (two replicas or a restart) claim each reminder once; the next day again."""
    with session_factory() as session:
        add_review(session, 1, announced_at=paris(2026, 3, 20, 9), due_at=paris(2026, 3, 27, 9))
        session.commit()
    now = paris(2026, 3, 30, 9, 0, 1)
    assert scheduler.run_reminders_job(**jobs_kwargs(session_factory, "a"), now=now) == 1
    assert scheduler.run_reminders_job(**jobs_kwargs(session_factory, "b"), now=now) == 0
    scheduler.catch_up(**jobs_kwargs(session_factory, "c"), now=now + timedelta(hours=2))
    assert scheduler.run_reminders_job(**jobs_kwargs(session_factory, "a"), now=now + timedelta(days=1)) == 1
    with session_factory() as session:
        days = sorted(session.scalars(select(ReminderLog.day)))
    assert days == [date(2026, 3, 30), date(2026, 3, 31)]


def test_catch_up_runs_on_start(session_factory: sessionmaker[Session], workspace: None) -> None:
    """A started scheduler runs the catch-up at once: the missed digest is posted, with trigger catch-up."""
    sched = scheduler.build_scheduler(**jobs_kwargs(session_factory), now=paris(2026, 3, 31, 10))
    done = threading.Event()
    events: list[JobExecutionEvent] = []

    def listener(event: JobExecutionEvent) -> None:
        if event.job_id == scheduler.CATCH_UP_JOB:
            events.append(event)
            done.set()

    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    sched.start()
    try:
        assert done.wait(timeout=60), "the catch-up job did not run"
    finally:
        sched.shutdown(wait=True)
    assert events[0].exception is None
    assert runs(session_factory) == [("weekly", date(2026, 3, 23), "catch-up", "a")]


def test_jobs_are_declared_with_coalescing_and_grace(session_factory: sessionmaker[Session]) -> None:
    """Coalesced, one instance at a time, misfire grace from SECREVIEW_DIGEST_GRACE_HOURS, local cron."""
    sched = scheduler.build_scheduler(**jobs_kwargs(session_factory, secreview_digest_grace_hours=6))
    sched.start(paused=True)  # job defaults are applied when the scheduler starts
    try:
        jobs = {job.id: job for job in sched.get_jobs()}
        assert set(jobs) == {scheduler.DIGEST_JOB, scheduler.REMINDERS_JOB, scheduler.CATCH_UP_JOB}
        digest_job = jobs[scheduler.DIGEST_JOB]
        assert digest_job.coalesce and digest_job.max_instances == 1
        assert digest_job.misfire_grace_time == 6 * 3600
        assert str(digest_job.trigger.timezone) == "Europe/Paris"
        assert jobs[scheduler.CATCH_UP_JOB].misfire_grace_time is None
    finally:
        sched.shutdown(wait=False)


def test_last_fire_time() -> None:
    """The latest fire time within the window, or None; fast even for a per-minute schedule."""
    settings = make_settings(secreview_timezone="Europe/Paris")
    trigger = scheduler.digest_trigger(settings)
    now = paris(2026, 4, 1, 10)
    assert scheduler.last_fire_time(trigger, now=now, within=timedelta(hours=72)) == paris(2026, 3, 30, 9)
    assert scheduler.last_fire_time(trigger, now=now, within=timedelta(hours=24)) is None
    minutely = make_settings(secreview_digest_schedule="* * * * *")
    last = scheduler.last_fire_time(scheduler.digest_trigger(minutely), now=now, within=timedelta(days=14))
    assert last == paris(2026, 4, 1, 10)


def test_no_digest_channel_posts_nothing(session_factory: sessionmaker[Session], workspace: None) -> None:
    """Without a digest channel the job claims nothing (so setting it later still posts this period)."""
    kwargs = jobs_kwargs(session_factory, secreview_digest_channel=None)
    assert scheduler.run_digest_job(**kwargs, now=paris(2026, 3, 30, 9, 0, 1)) == []
    assert runs(session_factory) == []
