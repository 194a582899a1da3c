"""The Jira poll: every few minutes, the issues updated since the last poll, applied to their safeguards.

It works without a public URL (Socket Mode) and catches what a webhook missed. Each period is claimed by a
unique row (JiraPollRun) before Jira is asked, so with several replicas only one polls per period. The window
reaches back to the start of the last poll that finished (plus a margin), so a poll that failed, or a process
that was down, leaves no gap; applying a state twice changes nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.review import jira_notices
from bot.tracker import sync
from bot.tracker.client import JiraClient, TrackerRefused, TrackerUnavailable
from bot.tracker.issues import from_issue
from storage.db import session_scope
from storage.models import JiraPollRun, utcnow

log = logging.getLogger(__name__)

MARGIN_MINUTES = 2  # clocks differ, and Jira stamps `updated` when the change began
MAX_ISSUES = 5000
FIELDS = "status,updated,labels"


@dataclass(frozen=True)
class PollResult:
    """What one poll saw and changed."""

    period_start: datetime
    issues_seen: int
    changed: int
    jql: str


def period_start(now: datetime, minutes: int) -> datetime:
    """The start of the poll period `now` falls in (periods of `minutes`, aligned to the hour in UTC)."""
    now = now.astimezone(UTC)
    floored = (now.minute // minutes) * minutes if minutes < 60 else 0
    start = now.replace(minute=floored, second=0, microsecond=0)
    if minutes >= 60:
        hours = minutes // 60
        start = start.replace(hour=(start.hour // hours) * hours)
    return start


def _claim(session: Session, start: datetime, instance_id: str, now: datetime) -> bool:
    """Inserts the period's unique row in a SAVEPOINT; False when another run holds it."""
    try:
        with session.begin_nested():
            session.add(JiraPollRun(period_start=start, claimed_by=instance_id[:100], claimed_at=now, issues_seen=0,
                                    changed=0))
    except IntegrityError:
        return False
    return True


def jql_since(last_start: datetime | None, now: datetime) -> str:
    """Issues with secreview's label updated since `last_start` (every one of them on the first poll)."""
    query = f'labels = "{jira_notices.BASE_LABEL}"'
    if last_start is not None:
        minutes = math.ceil((now - last_start).total_seconds() / 60) + MARGIN_MINUTES
        query += f' AND updated >= "-{minutes}m"'
    return query + " ORDER BY updated ASC"


def run_poll(
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    instance_id: str,
    client: Callable[[], JiraClient],
    now: datetime | None = None,
) -> PollResult | None:
    """Claims this period and polls; None when another replica has it (or Jira could not be asked)."""
    now = now or utcnow()
    minutes = max(1, settings.secreview_jira_poll_minutes)
    start = period_start(now, minutes)
    with session_scope(session_factory, write=True) as session:
        if not _claim(session, start, instance_id, now):
            return None
        last_start = session.scalar(
            select(JiraPollRun.period_start).where(JiraPollRun.finished_at.is_not(None),
                                                   JiraPollRun.period_start < start)
            .order_by(JiraPollRun.period_start.desc()).limit(1)
        )
    query = jql_since(last_start, now)
    try:
        issues = client().search(query, fields=FIELDS, expand="changelog", limit=MAX_ISSUES)
    except (TrackerUnavailable, TrackerRefused) as exc:
        # Left unfinished: the next period's window reaches back over this one.
        log.warning("jira poll: Jira did not answer (%s); the next poll covers this period", exc)
        return None
    changed = 0
    for raw in issues:
        issue = from_issue(raw)
        if issue is None:
            continue
        try:
            with session_scope(session_factory, write=True) as session:
                changed += sync.apply(session, settings=settings, issue=issue, via="poll", now=utcnow()) is not None
        except Exception:  # one issue's trouble must not stop the rest; the next poll sees it again
            log.exception("jira poll: could not apply %s", issue.key)
    with session_scope(session_factory, write=True) as session:
        session.execute(update(JiraPollRun).where(JiraPollRun.period_start == start)
                        .values(finished_at=utcnow(), issues_seen=len(issues), changed=changed))
    if changed:
        log.info("jira poll: %s issue(s) seen, %s safeguard(s) changed", len(issues), changed)
    return PollResult(start, len(issues), changed, query)


def poll_interval(settings: Settings) -> timedelta | None:
    """How often the scheduler polls (None: the poll is off, or Jira is not configured)."""
    if not settings.jira_enabled or settings.secreview_jira_poll_minutes <= 0:
        return None
    return timedelta(minutes=settings.secreview_jira_poll_minutes)
