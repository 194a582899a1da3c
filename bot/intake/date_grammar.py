"""The date grammar: every not-past date a message names, numeric or in words, with the words it spans.

The decisions it follows are listed in bot/intake/dates.py. It reads English tokens; other languages are mapped
onto them word for word first (languages.py), which is why it also knows word orders English does not use:
"week next" ("semaine prochaine"), "days business" ("jours ouvrés"), "end March" ("Ende März").
"""

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import NamedTuple

from bot.intake.date_math import (
    WorkingDays,
    _add_business_days,
    _add_months,
    _day_month,
    _end_of,
    _half_span,
    _month_span,
    _quarter_span,
    _quarter_start,
    _safe_date,
    _shift,
    _upcoming,
)
from bot.intake.date_words import (
    _BUSINESS_UNITS,
    _COUNT_WORDS,
    _DIGITS,
    _LOOKBACK,
    _MONTH_PARTS,
    _MONTH_WORDS,
    _ORDINAL_SUFFIXES,
    _ORDINAL_WORDS,
    _PERIOD_UNITS,
    _PERIOD_WORDS,
    _UNIT_WORDS,
    _WEEKDAY_WORDS,
)
from bot.intake.text import _positions, _words

# 2027-01-15 (also with / or . and a time after it), 15/01/2027, 15.01.2027, 15-01-2027, 15/01/27. The
# first digit comes first so that the engine can skip to digits; the look-behind after it checks that the
# number does not continue a word, a version number or another date.
_NUMERIC_DATE_RE = re.compile(
    r"[0-9](?<![\w./-][0-9])"
    r"(?:(?P<ymd>[0-9]{3}(?P<s1>[-/.])[0-9]{1,2}(?P=s1)[0-9]{1,2})"
    r"|(?P<dmy>[0-9]?(?P<s2>[-/.])[0-9]{1,2}(?P=s2)[0-9]{4})"
    r"|(?P<dmy2>[0-9]?/[0-9]{1,2}/[0-9]{2}))"
    r"(?![0-9]|[./-][0-9])"
)
_NUMBERS_RE = re.compile(r"[0-9]+")

# A parser gets the words, the index where an expression may start and the context; it returns the index after
# the expression and the date it names (None when impossible, such as 30 February), or None if no match.
# The words are padded with "" beyond the longest look-ahead ("within the next a couple of business days").
_PADDING = [""] * 12
_Parsed = tuple[int, date | None] | None
_GLUE = ("of", "the")  # "the 3 of may of 2027", "end of the year", "within of 3 weeks" (dentro de, innerhalb von)


class _Context(NamedTuple):
    """What a parser reads against: today, and how to count working days (None: Monday to Friday)."""

    today: date
    working_days: WorkingDays | None


def _numeric_date(m: re.Match[str]) -> date | None:
    """The date of a _NUMERIC_DATE_RE match."""
    a, b, c = (int(n) for n in _NUMBERS_RE.findall(m.group(), 0)[:3])
    if m.lastgroup == "ymd":
        return _safe_date(a, b, c)
    year = c if m.lastgroup == "dmy" else 2000 + c
    # Day first; a date that cannot be day first (01/15/2027) is unambiguous the other way round.
    return _safe_date(year, b, a) or (_safe_date(year, a, b) if b > 12 else None)


def _day_of(word: str) -> int | None:
    """A day of the month written as "15", "15th", "1er", "2e", "1º", "1ste" (or "first", for "le premier avril")."""
    if word.isdecimal():
        return int(word) if len(word) <= 2 else None
    digits = 2 if word[1:2].isdecimal() else 1
    if word[:1].isdecimal() and word[digits:] in _ORDINAL_SUFFIXES and word[:digits].isdecimal():
        return int(word[:digits])
    return 1 if word == "first" else None


def _is_year(word: str) -> bool:
    """Whether a word is a four-digit year."""
    return len(word) == 4 and word.isdecimal()


def _year_at(t: list[str], j: int) -> tuple[int, int | None]:
    """An optional four-digit year at j: "jan 2027", "january 15, 2027", "q2 2027", "3 de mayo de 2027"."""
    if _is_year(t[j]):
        return j + 1, int(t[j])
    if t[j] == "of" and _is_year(t[j + 1]):
        return j + 2, int(t[j + 1])
    return j, None


def _p_day_month(t: list[str], i: int, c: _Context) -> _Parsed:
    """15 Jan, 15th of January 2027, 15-jan-2027, 3 de mayo (de 2027), 1. April."""
    day = _day_of(t[i])
    if day is None:
        return None
    j = i + 2 if t[i + 1] == "of" else i + 1
    month = _MONTH_WORDS.get(t[j])
    if month is None:
        return None
    j, year = _year_at(t, j + 1)
    return j, _day_month(day, month, year, c.today)


def _p_year_period(t: list[str], i: int, c: _Context) -> _Parsed:
    """2027 Q2, 2027-H1."""
    period = _PERIOD_WORDS.get(t[i + 1])
    if not _is_year(t[i]) or period is None:
        return None
    span = _quarter_span(period[1]) if period[0] == "q" else _half_span(period[1])
    return i + 2, _upcoming(span, int(t[i]), c.today)


def _p_nth_period(t: list[str], i: int, c: _Context) -> _Parsed:
    """the 2nd quarter (of) 2027, first half, im 2. Quartal, premier semestre, segundo semestre de 2027."""
    n = _ORDINAL_WORDS.get(t[i]) or _day_of(t[i])
    kind = _PERIOD_UNITS.get(t[i + 1])
    if n is None or kind is None or n > (4 if kind == "q" else 2):
        return None
    end, year = _year_at(t, i + 2)
    return end, _upcoming(_quarter_span(n) if kind == "q" else _half_span(n), year, c.today)


def _count_at(t: list[str], j: int) -> tuple[int | None, int]:
    """A count ("3", "three", "a", "a couple of") and the index after it."""
    word = t[j]
    if word.isdecimal() and len(word) <= 4:
        return int(word), j + 1
    if word == "a" and t[j + 1] == "couple":
        j, word = j + 1, "couple"
    if word == "couple":
        return 2, j + 2 if t[j + 1] == "of" else j + 1
    if word in _COUNT_WORDS:
        return _COUNT_WORDS[word], j + 1
    return None, j


def _count_units(t: list[str], j: int, c: _Context, *, from_now: bool) -> _Parsed:
    """A count and a unit ("3 weeks", "two business days", "10 jours ouvrés", "10 Werktage"), with "from now"
    after it when asked."""
    n, j = _count_at(t, j)
    if n is None:
        return None
    business = t[j] in ("business", "working")
    if business:
        j += 1
    unit = _UNIT_WORDS.get(t[j])
    if unit is None:
        return None
    business = business or t[j] in _BUSINESS_UNITS
    j += 1
    if t[j] == "business":  # the adjective after the noun: "jours ouvrés", "días hábiles"
        business, j = True, j + 1
    if from_now:
        if t[j] != "from" or t[j + 1] not in ("now", "today"):
            return None
        j += 2
    working_days = (c.working_days or _add_business_days) if business else None
    return j, _shift(c.today, n, unit, working_days)


def _p_from_now(t: list[str], i: int, c: _Context) -> _Parsed:
    """3 weeks from now, two months from today."""
    return _count_units(t, i, c, from_now=True)


def _p_within(t: list[str], i: int, c: _Context) -> _Parsed:
    """in 3 weeks, within two months, in a couple of days, in 10 business days, within the next 2 weeks."""
    j = i + 1
    if t[j] == "of":  # "dentro de dos meses", "innerhalb von 3 Wochen"
        j += 1
    if t[j] == "the" and t[j + 1] == "next":
        j += 2
    return _count_units(t, j, c, from_now=False)


def _month_tail(t: list[str], j: int, part: tuple[int, int], today: date) -> _Parsed:
    """A month after "in", "early", "the beginning of"...; not when a day follows ("in March 15")."""
    month = _MONTH_WORDS.get(t[j])
    if month is None or _day_of(t[j + 1]) is not None:
        return None
    j, year = _year_at(t, j + 1)
    return j, _upcoming(_month_span(month, *part), year, today)


def _p_month_part(t: list[str], i: int, c: _Context) -> _Parsed:
    """early March, mid-April, late May 2027, the beginning of June, start of July."""
    j = i + 1 if t[i] == "the" else i
    word = t[j]
    part = _MONTH_PARTS.get(word)
    if part is None:
        return None
    j += 1
    if t[j] == "of":
        j += 1
    elif word in ("start", "beginning"):
        return None
    if t[j] == "the":
        j += 1
    return _month_tail(t, j, part, c.today)


def _p_in_month(t: list[str], i: int, c: _Context) -> _Parsed:
    """in March, by June, in early May, à partir de mars (a bare "may" is a verb, so a month alone needs such a
    word; "for may" is too often one: "the plan for may change")."""
    j = i + 1
    while t[j] in _GLUE and j < i + 3:
        j += 1
    part = _MONTH_PARTS.get(t[j]) if t[j] in ("early", "mid", "late") else None
    if part is not None:
        j += 1
    if t[i] == "for" and t[j] == "may":
        return None
    return _month_tail(t, j, part or (1, 31), c.today)


def _p_month_first(t: list[str], i: int, c: _Context) -> _Parsed:
    """January 15, Jan 15th, 2027, March 2027."""
    month = _MONTH_WORDS[t[i]]
    day = _day_of(t[i + 1])
    if day is not None:
        end, year = _year_at(t, i + 2)
        return end, _day_month(day, month, year, c.today)
    end, year = _year_at(t, i + 1)
    if year is None:
        return None
    return end, _upcoming(_month_span(month, 1, 31), year, c.today)


def _p_end_of(t: list[str], i: int, c: _Context) -> _Parsed:
    """end of March, end of the year, end of next month, end of Q2 2027, end of 2027; "of" may be left out as
    other languages do ("fin mars", "Ende Juni", "eind 2027")."""
    today = c.today
    j = i + 1
    if t[j] == "of":
        j += 1
    if t[j] == "the":
        j += 1
    rel = t[j]
    if rel in ("next", "this", "current"):
        j += 1
    else:
        rel = ""
    unit = t[j]
    if unit in ("year", "month", "quarter", "week"):
        return j + 1, _end_of(unit, rel, None, today)
    if _is_year(unit):
        return j + 1, date(int(unit), 12, 31)
    if unit not in _PERIOD_WORDS and unit not in _MONTH_WORDS:
        return None
    end, year = _year_at(t, j + 1)
    return end, _end_of(unit, rel, year, today)


def _p_short_end(t: list[str], i: int, c: _Context) -> _Parsed:
    """eoy, eom, eoq, year-end, month end, quarter-end (Jahresende, Monatsende, jaareinde)."""
    word = t[i]
    if word in ("eoy", "eom", "eoq"):
        return i + 1, _end_of({"eoy": "year", "eom": "month", "eoq": "quarter"}[word], "", None, c.today)
    if t[i + 1] == "end":
        return i + 2, _end_of(word, "", None, c.today)
    return None


def _p_period(t: list[str], i: int, c: _Context) -> _Parsed:
    """Q2, Q2 2027, H2, T2 de 2027."""
    kind, n = _PERIOD_WORDS[t[i]]
    end, year = _year_at(t, i + 1)
    return end, _upcoming(_quarter_span(n) if kind == "q" else _half_span(n), year, c.today)


def _next(unit: str, today: date) -> date | None:
    """The day "next <unit>" names, or None when the word is no unit or weekday."""
    if unit == "week":
        d = today + timedelta(days=7 - today.weekday())
    elif unit == "month":
        d = _add_months(today.replace(day=1), 1)
    elif unit == "quarter":
        d = _add_months(_quarter_start(today), 3)
    elif unit == "year":
        d = date(today.year + 1, 1, 1)
    elif unit in _WEEKDAY_WORDS:
        d = today + timedelta(days=(_WEEKDAY_WORDS[unit] - today.weekday() - 1) % 7 + 1)
    else:
        return None
    return d


def _p_next(t: list[str], i: int, c: _Context) -> _Parsed:
    """next week (its Monday), next month (the 1st), next quarter, next year, next Friday (the coming one)."""
    d = _next(t[i + 1], c.today)
    return None if d is None else (i + 2, d)


def _p_unit_next(t: list[str], i: int, c: _Context) -> _Parsed:
    """The same with "next" after the unit: la semaine prochaine, lundi prochain, la semana que viene."""
    if t[i + 1] == "next":
        end = i + 2
    elif t[i + 1] == "que" and t[i + 2] == "viene":
        end = i + 3
    else:
        return None
    d = _next(t[i], c.today)
    return None if d is None else (end, d)


def _weekday_at(t: list[str], j: int, c: _Context) -> _Parsed:
    """The weekday at j, or the date written after it ("Monday 8 February", "vendredi 20 novembre")."""
    day = _WEEKDAY_WORDS.get(t[j])
    if day is None:
        return None
    dated = _p_day_month(t, j + 1, c)
    if dated is not None:
        return dated
    return j + 1, c.today + timedelta(days=(day - c.today.weekday()) % 7)


def _p_weekday(t: list[str], i: int, c: _Context) -> _Parsed:
    """this Friday, this coming Monday, coming Tuesday, on Monday: the next such day, today included."""
    return _weekday_at(t, i + 2 if t[i] == "this" and t[i + 1] == "coming" else i + 1, c)


def _p_bare_weekday(t: list[str], i: int, c: _Context) -> _Parsed:
    """Friday, Kick-off jeudi, Mise en prod vendredi: a weekday alone is the next such day, today included."""
    return _weekday_at(t, i, c)


def _p_today(t: list[str], i: int, c: _Context) -> _Parsed:
    """today, tonight, tomorrow."""
    return i + 1, c.today + timedelta(days=1) if t[i] == "tomorrow" else c.today


_Parser = Callable[[list[str], int, _Context], _Parsed]
_NUMBER_PARSERS: tuple[_Parser, ...] = (_p_day_month, _p_year_period, _p_nth_period, _p_from_now)
_STARTERS: dict[str, tuple[_Parser, ...]] = {
    **dict.fromkeys(_MONTH_WORDS, (_p_month_first,)),
    **dict.fromkeys(_PERIOD_WORDS, (_p_period,)),
    **dict.fromkeys(_COUNT_WORDS, (_p_from_now,)),
    **dict.fromkeys(_WEEKDAY_WORDS, (_p_unit_next, _p_bare_weekday)),
    **dict.fromkeys(_ORDINAL_WORDS, (_p_nth_period,)),
    "first": (_p_nth_period, _p_day_month),
    "couple": (_p_from_now,),
    "end": (_p_end_of,),
    **dict.fromkeys(("eoy", "eom", "eoq"), (_p_short_end,)),
    **dict.fromkeys(("year", "month", "quarter"), (_p_short_end, _p_unit_next)),
    "week": (_p_unit_next,),
    **dict.fromkeys(("early", "mid", "late", "start", "beginning", "the"), (_p_month_part,)),
    **dict.fromkeys(("by", "from", "during", "until", "till", "before", "for"), (_p_in_month,)),
    "in": (_p_in_month, _p_within),
    "within": (_p_within, _p_in_month),
    "next": (_p_next,),
    **dict.fromkeys(("this", "coming", "on"), (_p_weekday,)),
    **dict.fromkeys(("today", "tonight", "tomorrow"), (_p_today,)),
}


def _scan_dates(
    lowered: str, t: list[str], anchors: Iterable[str], numeric: bool, c: _Context
) -> list[tuple[int, int, date]]:
    """Every not-past date a message names, as (first word, word after, date), in text order."""
    taken: list[tuple[int, int, date | None]] = []
    if numeric:
        # Word positions are counted from one match to the next (each starts a word), never from the
        # start again, so that a long message full of dates stays linear.
        start, counted_to = 0, 0
        for m in _NUMERIC_DATE_RE.finditer(lowered):
            start += len(_words(lowered[counted_to : m.start()]))
            counted_to = m.start()
            taken.append((start, start + len(_words(m.group())), _numeric_date(m)))
    spans = list(taken)
    # Word dates: parse only the few words before and at each anchor, skipping numeric dates. The parsers
    # look ahead without bounds checks: the padding reads as "" past the end.
    t = t + _PADDING
    starters, lookback = _STARTERS, _LOOKBACK
    next_taken = taken[0] if taken else None
    k = 0
    i = 0
    for anchor in _positions(t, anchors):
        i = max(i, anchor - lookback.get(t[anchor], 0))
        while i <= anchor:
            if next_taken is not None:
                while next_taken is not None and next_taken[1] <= i:
                    k += 1
                    next_taken = taken[k] if k < len(taken) else None
                if next_taken is not None and next_taken[0] <= i:
                    i = next_taken[1]  # inside a numeric date
                    continue
            word = t[i]
            parsers = starters.get(word)
            if parsers is None:
                if word[0] not in _DIGITS:
                    i += 1
                    continue
                parsers = _NUMBER_PARSERS
            hit: _Parsed = None
            for parse in parsers:
                try:
                    hit = parse(t, i, c)
                except (ValueError, OverflowError):  # beyond year 9999 and the like: no usable date
                    hit = None
                if hit is not None:
                    break
            if hit is None:
                i += 1
                continue
            # A word date never runs into a numeric date ("in March 2027-01-15" names two dates).
            end = max(hit[0] if next_taken is None else min(hit[0], next_taken[0]), i + 1)
            spans.append((i, end, hit[1]))
            i = end  # an impossible date is consumed too, so that its parts are not read again
    if not spans:
        return []
    if taken:
        spans.sort(key=lambda s: s[0])
    # A past date cannot be a go-live still to review.
    return [(s, e, d) for s, e, d in spans if d is not None and d >= c.today]
