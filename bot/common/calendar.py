"""The workspace's working days: Monday to Friday in its time zone, less public holidays and closing days.

One WorkCalendar is built from Settings (SECREVIEW_TIMEZONE, SECREVIEW_HOLIDAYS and the `[calendar] closed`
days of SECREVIEW_CONFIG) and used by everything that counts business days: SLA and first-response due dates,
reminders, the figures' working time, and the intake's "in 10 business days". Public holidays come from the
`holidays` package (observed days included, as the package gives them for the country).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_data

from bot.common.render import config_error, raw_message

DAY_SECONDS = 86400.0
_HOLIDAYS_CODE = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z0-9]{1,4}))?")
_MONDAY = date(2001, 1, 1)
# Closed days are looked up per year; a span longer than this is a mistake in the data, not a review.
_MAX_YEARS = 200


def parse_holidays_code(code: str) -> tuple[str, str | None]:
    """'FR' → ('FR', None), 'us-ca' → ('US', 'CA'); ValueError naming what exists otherwise."""
    m = _HOLIDAYS_CODE.fullmatch(code.strip())
    if m is None:
        raise config_error("holidays_code", value=repr(code))
    country, subdiv = m.group(1).upper(), (m.group(2) or "").upper() or None
    supported = holiday_data.list_supported_countries()
    if country not in supported:
        raise config_error("holidays_country", value=repr(country))
    if subdiv is not None and subdiv not in supported[country]:
        known = ", ".join(supported[country][:12]) + (", …" if len(supported[country]) > 12 else "")
        raise config_error("holidays_subdivision", value=repr(subdiv), country=country,
                           known=known or raw_message("config.invalid.holidays_none"))
    return country, subdiv


def _wall_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _weekday_seconds_since_epoch(wall: datetime) -> float:
    """Seconds of Monday–Friday from a fixed Monday to a wall-clock time."""
    days = (wall.date() - _MONDAY).days
    weeks, weekday = divmod(days, 7)
    into_day = (wall - _wall_midnight(wall.date())).total_seconds()
    return weeks * 5 * DAY_SECONDS + min(weekday, 5) * DAY_SECONDS + (into_day if weekday < 5 else 0.0)


class WorkCalendar:
    """Working days in one time zone: Monday to Friday, less public holidays and the company's closing days."""

    __slots__ = ("_by_year", "_country", "_subdiv", "closing_days", "holidays", "tz")

    def __init__(self, tz: ZoneInfo, *, holidays: str | None = None, closing_days: Iterable[date] = ()) -> None:
        """holidays: a code for the `holidays` package ('FR', 'US-CA'); closing_days: extra days off."""
        self.tz = tz
        self.holidays = holidays
        self._country, self._subdiv = parse_holidays_code(holidays) if holidays else (None, None)
        self.closing_days: tuple[date, ...] = tuple(sorted(set(closing_days)))
        # year -> (sorted closed weekdays, the same as a set); filled on first use, so any year works. Two
        # threads may compute a year at once: both get the same answer, and the dict assignment is atomic.
        self._by_year: dict[int, tuple[tuple[date, ...], frozenset[date]]] = {}

    def __repr__(self) -> str:
        return f"WorkCalendar({self.tz.key!r}, holidays={self.holidays!r}, closing_days={len(self.closing_days)})"

    @property
    def excludes_days(self) -> bool:
        """Whether anything but weekends is left out (holidays or closing days configured)."""
        return bool(self.holidays or self.closing_days)

    def _year(self, year: int) -> tuple[tuple[date, ...], frozenset[date]]:
        hit = self._by_year.get(year)
        if hit is None:
            closed = {d for d in self.closing_days if d.year == year}
            if self._country is not None and 1 <= year <= 9999:
                closed.update(holiday_data.country_holidays(self._country, subdiv=self._subdiv, years=year))
            weekdays = tuple(sorted(d for d in closed if d.weekday() < 5))
            hit = self._by_year[year] = (weekdays, frozenset(weekdays))
        return hit

    def closed_weekdays(self, first: date, last: date) -> list[date]:
        """The Monday–Friday days from first to last (both included) that are holidays or closing days."""
        found: list[date] = []
        if last < first:
            return found
        for year in range(first.year, min(last.year, first.year + _MAX_YEARS) + 1):
            days = self._year(year)[0]
            found.extend(days[bisect_left(days, first) : bisect_right(days, last)])
        return found

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and neither a public holiday nor a closing day."""
        return day.weekday() < 5 and day not in self._year(day.year)[1]

    def add_working_days(self, day: date, days: int) -> date:
        """The date `days` working days after `day` ("in 10 business days")."""
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The instant `days` working days after `start`, same local time of day.

        Announced on a day off (weekend, holiday, closing day), the clock starts on the next working day at 09:00.
        """
        # Work on the naive wall-clock time so a DST change does not shift the hour.
        wall = start.astimezone(self.tz).replace(tzinfo=None)
        if not self.is_working_day(wall.date()):
            first = self.add_working_days(wall.date(), 1)
            wall = datetime.combine(first, datetime.min.time()).replace(hour=9)
        due = datetime.combine(self.add_working_days(wall.date(), days), wall.time())
        return due.replace(tzinfo=self.tz).astimezone(UTC)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds from start to end that fall on local working days (0 when end is not later)."""
        # Wall-clock arithmetic: DST changes fall on weekends in the zones that have them, so it is exact there.
        a = start.astimezone(self.tz).replace(tzinfo=None)
        b = end.astimezone(self.tz).replace(tzinfo=None)
        if b <= a:
            return 0.0
        seconds = _weekday_seconds_since_epoch(b) - _weekday_seconds_since_epoch(a)
        for day in self.closed_weekdays(a.date(), b.date()):
            day_start = _wall_midnight(day)
            overlap = min(b, day_start + timedelta(days=1)) - max(a, day_start)
            seconds -= max(overlap.total_seconds(), 0.0)
        return seconds

    def local_date(self, instant: datetime) -> date:
        """The calendar date of an instant in the workspace's time zone."""
        return instant.astimezone(self.tz).date()


def weekdays_only(tz: ZoneInfo) -> WorkCalendar:
    """Monday to Friday in the zone, no holidays: what figures and dates count when no calendar is given."""
    return WorkCalendar(tz)


def closing_days_from_config(section: object) -> tuple[date, ...]:
    """The `[calendar]` table of SECREVIEW_CONFIG: `closed = [2026-12-24, "2026-12-28..2026-12-31"]`.

    Each item is a TOML date, a "YYYY-MM-DD" string, or a "first..last" range (both days included, at most a
    year). A ValueError names the key and what was wrong.
    """
    if not isinstance(section, dict):
        raise config_error("not_table", key="calendar", value=type(section).__name__)
    for key in section:
        if key != "closed":
            raise config_error("calendar_unknown", key=f"calendar.{key}")
    items = section.get("closed", [])
    if not isinstance(items, list):
        raise config_error("closed_list", key="calendar.closed")
    days: list[date] = []
    for i, item in enumerate(items):
        days.extend(_closed_item(item, f"calendar.closed[{i}]"))
    return tuple(sorted(set(days)))


def _one_day(value: object, key: str) -> date:
    if isinstance(value, datetime):
        raise config_error("day_with_time", key=key, value=value.isoformat())
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise config_error("day", key=key, value=repr(value))


def _closed_item(item: object, key: str) -> list[date]:
    if isinstance(item, str) and ".." in item:
        first_text, _, last_text = item.partition("..")
        first, last = _one_day(first_text, key), _one_day(last_text, key)
        if last < first:
            raise config_error("range_backwards", key=key, value=repr(item))
        if (last - first).days > 366:
            raise config_error("range_too_long", key=key, value=repr(item))
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [_one_day(item, key)]
