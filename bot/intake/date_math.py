"""Calendar arithmetic for the date grammar: months, business days, and the days a period stands for."""

import calendar
from collections.abc import Callable
from datetime import date, timedelta

from bot.intake.date_words import _MONTH_WORDS, _PERIOD_WORDS


def _safe_date(year: int, month: int, day: int) -> date | None:
    """A date, or None for an impossible one such as 30 February."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
    """The same day n months later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    year, month0 = divmod(d.month - 1 + months, 12)
    year += d.year
    return date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def _add_business_days(d: date, days: int) -> date:
    """Counts only Monday to Friday (when no calendar with holidays is given)."""
    weeks, rest = divmod(days, 5)
    d += timedelta(weeks=weeks)
    while rest:
        d += timedelta(days=1)
        if d.weekday() < 5:
            rest -= 1
    return d


def _upcoming(span: Callable[[int], tuple[date, date]], year: int | None, today: date) -> date | None:
    """The earliest not-past day of a period; without a year, of the next such period that has not ended."""
    for y in (year,) if year is not None else (today.year, today.year + 1):
        start, end = span(y)
        if end >= today:
            return max(start, today)
    return None


def _day_month(day: int, month: int, year: int | None, today: date) -> date | None:
    """An explicit day: as written with a year, else its next occurrence (29 Feb waits for a leap year)."""
    if year is not None:
        return _safe_date(year, month, day)
    for y in range(today.year, today.year + 9):
        d = _safe_date(y, month, day)
        if d is not None and d >= today:
            return d
    return None


def _quarter_span(q: int) -> Callable[[int], tuple[date, date]]:
    """First and last day of quarter q, per year."""
    return lambda y: (date(y, 3 * q - 2, 1), _month_end(y, 3 * q))


def _half_span(h: int) -> Callable[[int], tuple[date, date]]:
    """First and last day of half-year h, per year."""
    return lambda y: (date(y, 6 * h - 5, 1), _month_end(y, 6 * h))


def _month_span(month: int, first: int, last: int) -> Callable[[int], tuple[date, date]]:
    """Days first..last of a month (last is clamped to the month's length), per year."""

    def span(y: int) -> tuple[date, date]:
        end = _month_end(y, month)
        return date(y, month, first), end.replace(day=min(last, end.day))

    return span


def _quarter_start(d: date) -> date:
    """The first day of d's quarter."""
    return date(d.year, (d.month - 1) // 3 * 3 + 1, 1)


WorkingDays = Callable[[date, int], date]


def _shift(today: date, n: int, unit: str, business: WorkingDays | None) -> date:
    """today + n units ("in 3 weeks"); days are working days when `business` is given (the calendar's)."""
    if unit == "day":
        return business(today, n) if business is not None else today + timedelta(days=n)
    if unit == "week":
        return today + timedelta(weeks=n)
    return _add_months(today, n if unit == "month" else 12 * n)


def _end_of(unit: str, rel: str, year: int | None, today: date) -> date | None:
    """The last day of the named period ("end of March" is 31 March)."""
    ahead = 1 if rel == "next" else 0
    if unit == "week":
        return max(today + timedelta(days=4 - today.weekday() + 7 * ahead), today)  # Friday
    if unit == "month":
        first = _add_months(today.replace(day=1), ahead)
        return _month_end(first.year, first.month)
    if unit == "quarter":
        first = _add_months(_quarter_start(today), 3 * ahead)
        return _month_end(first.year, first.month + 2)
    if unit == "year":
        return date(today.year + ahead, 12, 31)
    if unit in _PERIOD_WORDS:
        kind, n = _PERIOD_WORDS[unit]
        month = 3 * n if kind == "q" else 6 * n
    else:
        month = _MONTH_WORDS[unit]
    if year is not None:
        return _month_end(year, month)
    end = _month_end(today.year, month)
    return end if end >= today else _month_end(today.year + 1, month)
