"""The digest and reminder schedules (APScheduler 3, in the configured time zone), safe on every replica; with Jira,
the Jira poll (bot/tracker/poll.py, which claims each period the same way).

Each job claims its period (a DigestRun) or its item and day (a ReminderLog) in the database before it
sends anything, so several replicas, a restart, a misfire or a manual `secreview digest post` never
send twice. On start, a digest (or today's reminders) missed while the app was down is sent if its
fire time is within the grace period (SECREVIEW_DIGEST_GRACE_HOURS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.figures import digest, periods, reminders
from storage.db import session_scope
from storage.models import utcnow

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

DIGEST_JOB = "digest"
JIRA_POLL_JOB = "jira-poll"
REMINDERS_JOB = "reminders"
CATCH_UP_JOB = "catch-up"
# A summary is posted by the first digest run after its month (or quarter) ends, not weeks later.
SUMMARY_WINDOW = timedelta(days=7)


def digest_trigger(settings: Settings) -> CronTrigger:
    """SECREVIEW_DIGEST_SCHEDULE in SECREVIEW_TIMEZONE (so 09:00 stays 09:00 local across DST)."""
    return CronTrigger.from_crontab(settings.secreview_digest_schedule, timezone=settings.timezone)


def reminder_trigger(settings: Settings) -> CronTrigger:
    """SECREVIEW_REMINDER_SCHEDULE in SECREVIEW_TIMEZONE."""
    return CronTrigger.from_crontab(settings.secreview_reminder_schedule, timezone=settings.timezone)


def grace(settings: Settings) -> timedelta:
    """How late a missed digest may still be posted."""
    return timedelta(hours=settings.secreview_digest_grace_hours)


def last_fire_time(trigger: CronTrigger, *, now: datetime, within: timedelta) -> datetime | None:
    """The trigger's latest fire time in [now - within, now], or None."""
    # Widening windows, so a per-minute schedule with a two-week grace does not walk 20,000 fire times.
    for span in (timedelta(hours=1), timedelta(days=1), timedelta(days=8), within):
        span = min(span, within)
        fire = trigger.get_next_fire_time(None, now - span)
        last = None
        while fire is not None and fire <= now:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if last is not None or span == within:
            return last
    return None


def _summary_kinds(settings: Settings) -> list[str]:
    return ["monthly", "quarterly"] if settings.secreview_monthly_summary else []


def run_digest_job(
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    workspace_ids: Callable[[], list[str]],
    instance_id: str,
    trigger: str = "schedule",
    now: datetime | None = None,
) -> list[Any]:
    """Posts each workspace's digest for its latest fire time's period (claims make repeats do nothing)."""
    now = now or utcnow()
    tz = settings.timezone
    if not settings.secreview_digest_channel:
        log.warning("SECREVIEW_DIGEST_CHANNEL is not set: no digest is posted")
        return []
    # The period follows the fire time, not the moment the job got to run: a misfired or caught-up run
    # posts the period its schedule was for.
    fired = last_fire_time(digest_trigger(settings), now=now, within=grace(settings)) or now
    posted = []
    for workspace_id in workspace_ids():
        for kind in ["weekly", *_summary_kinds(settings)]:
            period = periods.period_for(digest.KIND_PERIODS[kind], now=fired, tz=tz, which="last")
            if kind != "weekly" and fired - period.end > SUMMARY_WINDOW + grace(settings):
                continue
            try:
                with session_scope(session_factory, write=True) as session:
                    run = digest.post_digest(session, settings=settings, workspace_id=workspace_id, kind=kind,
                                             now=now, trigger=trigger, claimed_by=instance_id, period=period)
            except Exception:  # one workspace's failure must not stop the others; the next run retries
                log.exception("digest %s for %s failed", kind, workspace_id)
                continue
            if run is not None:
                posted.append(run)
    return posted


def run_reminders_job(
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    workspace_ids: Callable[[], list[str]],
    instance_id: str,
    now: datetime | None = None,
) -> int:
    """Sends today's reminders in every workspace; returns how many were claimed here."""
    now = now or utcnow()
    count = 0
    for workspace_id in workspace_ids():
        try:
            with session_scope(session_factory, write=True) as session:
                count += len(reminders.run_reminders(session, settings=settings, workspace_id=workspace_id,
                                                     now=now))
        except Exception:  # as above: the other workspaces still get theirs
            log.exception("reminders for %s failed (instance %s)", workspace_id, instance_id)
    return count


def catch_up(
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    workspace_ids: Callable[[], list[str]],
    instance_id: str,
    now: datetime | None = None,
) -> None:
    """On start: post a digest whose fire time passed within the grace period; send today's reminders."""
    now = now or utcnow()
    jobs = {"settings": settings, "session_factory": session_factory, "workspace_ids": workspace_ids,
            "instance_id": instance_id, "now": now}
    if last_fire_time(digest_trigger(settings), now=now, within=grace(settings)) is not None:
        posted = run_digest_job(**jobs, trigger="catch-up")
        if posted:
            log.info("caught up %d missed digest(s)", len(posted))
    # Reminders are per day: only today's missed run is worth catching up.
    today = now.astimezone(settings.timezone).date()
    fired = last_fire_time(reminder_trigger(settings), now=now, within=timedelta(days=1))
    if fired is not None and fired.astimezone(settings.timezone).date() == today:
        run_reminders_job(**jobs)


def build_scheduler(
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    workspace_ids: Callable[[], list[str]],
    instance_id: str,
    now: datetime | None = None,
) -> BackgroundScheduler:
    """The digest and reminder jobs from the cron settings, plus a catch-up run as soon as it starts."""
    # APScheduler wants a positive grace; 0 hours means "only on time", i.e. one second.
    grace_seconds = max(1, int(grace(settings).total_seconds()))
    scheduler = BackgroundScheduler(
        timezone=settings.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace_seconds},
    )
    common = {"settings": settings, "session_factory": session_factory, "workspace_ids": workspace_ids,
              "instance_id": instance_id}
    scheduler.add_job(run_digest_job, digest_trigger(settings), id=DIGEST_JOB, name="weekly digest",
                      kwargs=common)
    scheduler.add_job(run_reminders_job, reminder_trigger(settings), id=REMINDERS_JOB, name="daily reminders",
                      kwargs=common)
    from bot.tracker.poll import poll_interval

    interval = poll_interval(settings)
    if interval is not None:
        from apscheduler.triggers.interval import IntervalTrigger

        from bot.run.jira_side import poll_job, shared_client

        # Every replica schedules it; the period's claim row lets one of them poll. A missed run is not caught up:
        # the next one's window reaches back over it.
        scheduler.add_job(poll_job, IntervalTrigger(seconds=int(interval.total_seconds()), timezone=settings.timezone),
                          id=JIRA_POLL_JOB, name="Jira poll", misfire_grace_time=int(interval.total_seconds()),
                          kwargs={"settings": settings, "session_factory": session_factory,
                                  "instance_id": instance_id, "client": shared_client(settings)})
    # A date trigger without a date runs once, right after start (however long after this start() comes).
    scheduler.add_job(catch_up, "date", id=CATCH_UP_JOB, name="catch up on start",
                      kwargs={**common, "now": now}, misfire_grace_time=None)
    return scheduler
