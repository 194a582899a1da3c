"""The periods figures are computed over, and working time: the durations Monday to Friday.

A Period is a window [start, end) of aware UTC instants: a local week, month or quarter, complete or to date,
and the ones before it to compare with. Durations are measured in working time by the workspace's calendar
(bot/common/calendar.py: Monday to Friday, less public holidays and closing days, the same rule as the SLA).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.common.render import raw_message

PERIOD_KINDS = ("week", "month", "quarter")
PERIOD_NAMES = ("last-week", "this-week", "last-month", "this-month", "last-quarter", "this-quarter")
DAY = 86400.0


# ------------------------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A window [start, end) of aware UTC instants; kind is week, month or quarter."""

    start: datetime
    end: datetime
    kind: str

    def local_start(self, tz: ZoneInfo) -> date:
        """The first local day of the period."""
        return self.start.astimezone(tz).date()

    def local_last_day(self, tz: ZoneInfo) -> date:
        """The last local day the period covers (its end is exclusive)."""
        return (self.end - timedelta(microseconds=1)).astimezone(tz).date()

    def is_complete(self, tz: ZoneInfo) -> bool:
        """Whether the period runs to its natural end (rather than to date)."""
        return self.end == midnight(shift_start(self.kind, self.local_start(tz), 1), tz)


def unit_start(kind: str, day: date) -> date:
    """The first day of the week (a Monday), month or quarter that holds the day."""
    if kind == "week":  # weeks start on Monday
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"unknown period kind {kind!r}: use one of {', '.join(PERIOD_KINDS)}")


def shift_start(kind: str, start: date, n: int) -> date:
    """The first day of the unit n units after the one starting on `start` (before it when n < 0)."""
    if kind == "week":
        return start + timedelta(days=7 * n)
    months = n * (3 if kind == "quarter" else 1)
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _wall_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """The day's local midnight in the zone, as a UTC instant."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def period_for(kind: str, *, now: datetime, tz: ZoneInfo, which: str = "last") -> Period:
    """The last complete period ("last") or the current one to date ("this"), in local time."""
    current = unit_start(kind, now.astimezone(tz).date())
    if which == "last":
        return Period(midnight(shift_start(kind, current, -1), tz), midnight(current, tz), kind)
    if which == "this":
        return Period(midnight(current, tz), now.astimezone(UTC), kind)
    raise ValueError(f"unknown period {which!r}: use 'last' or 'this'")


_WEEK = re.compile(r"(\d{4})-W(\d{1,2})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


def period_from_name(name: str, *, now: datetime, tz: ZoneInfo) -> Period:
    """Parses "last-week", "this-month", … or one named period ("2026-W47", "2026-11", "2026-Q3") into a Period.

    A named period must have begun; one still running is the period to date.
    """
    text = name.strip()
    if text in PERIOD_NAMES:
        which, _, kind = text.partition("-")
        return period_for(kind, now=now, tz=tz, which=which)
    start = _named_start(text.upper())
    if start is None:
        raise ValueError(raw_message("cli.period_unknown", quoted=repr(name)))
    kind, first = start
    if midnight(first, tz) > now:
        raise ValueError(raw_message("cli.period_not_begun", quoted=repr(name)))
    end = midnight(shift_start(kind, first, 1), tz)
    return Period(midnight(first, tz), min(end, now.astimezone(UTC)), kind)


def _named_start(text: str) -> tuple[str, date] | None:
    try:
        if match := _WEEK.fullmatch(text):
            return "week", date.fromisocalendar(int(match[1]), int(match[2]), 1)
        if match := _QUARTER.fullmatch(text):
            return "quarter", date(int(match[1]), 3 * int(match[2]) - 2, 1)
        if match := _MONTH.fullmatch(text):
            return "month", date(int(match[1]), int(match[2]), 1)
    except ValueError:  # week 60, month 13
        return None
    return None


def shifted(period: Period, n: int, tz: ZoneInfo) -> Period:
    """The period n units away; a period to date maps to the same elapsed span of the other one."""
    own_start = period.local_start(tz)
    start_day = shift_start(period.kind, own_start, n)
    natural_end = midnight(shift_start(period.kind, start_day, 1), tz)
    if period.is_complete(tz):
        return Period(midnight(start_day, tz), natural_end, period.kind)
    # Same wall-clock span ("Monday to Wednesday noon"), so a week to date compares like with like.
    elapsed = period.end.astimezone(tz).replace(tzinfo=None) - _wall_midnight(own_start)
    end = (_wall_midnight(start_day) + elapsed).replace(tzinfo=tz).astimezone(UTC)
    return Period(midnight(start_day, tz), min(end, natural_end), period.kind)
