"""Business days and periods in the workspace's time zone (Monday to Friday; no holiday calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def add_business_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The instant `days` working days after `start`, same local time of day; weekends are skipped."""
    local = start.astimezone(tz)
    # Work on the naive wall-clock time so a DST change does not shift the hour.
    wall = local.replace(tzinfo=None)
    if wall.weekday() >= 5:  # announced on a weekend: the clock starts Monday 09:00
        wall = (wall + timedelta(days=7 - wall.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    remaining = days
    while remaining > 0:
        wall += timedelta(days=1)
        if wall.weekday() < 5:
            remaining -= 1
    return wall.replace(tzinfo=tz).astimezone(UTC)


def business_days_between(start: datetime, end: datetime, tz: ZoneInfo) -> int:
    """Whole working days from `start`'s local date to `end`'s local date (0 when end is not later)."""
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    if last <= first:
        return 0
    whole_weeks, extra = divmod((last - first).days, 7)
    count = whole_weeks * 5
    for offset in range(1, extra + 1):
        if (first + timedelta(days=whole_weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date of an instant in the workspace's time zone."""
    return instant.astimezone(tz).date()
