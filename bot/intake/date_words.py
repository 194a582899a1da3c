"""The vocabulary of the go-live date grammar: month, weekday, unit, period and count words, and the
anchors near which parsing starts.
"""

_MONTH_WORDS: dict[str, int] = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_WEEKDAY_WORDS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
_UNIT_WORDS: dict[str, str] = {
    "day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month", "months": "month",
    "year": "year", "years": "year", "workday": "day", "workdays": "day",
}
# Units that are business days by themselves ("10 workdays", "10 Werktage").
_BUSINESS_UNITS = frozenset({"workday", "workdays"})
# "the second half of 2027", "im 2. Quartal", "premier semestre": the n-th quarter or half of a year.
_PERIOD_UNITS: dict[str, str] = {"quarter": "q", "semester": "h", "half": "h"}
_ORDINAL_WORDS: dict[str, int] = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_PERIOD_WORDS: dict[str, tuple[str, int]] = {
    "q1": ("q", 1), "q2": ("q", 2), "q3": ("q", 3), "q4": ("q", 4), "h1": ("h", 1), "h2": ("h", 2),
}
_COUNT_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
# Parts of a month: "start of" and "beginning of" are the same as "early".
_MONTH_PARTS: dict[str, tuple[int, int]] = {
    "early": (1, 10), "start": (1, 10), "beginning": (1, 10), "mid": (11, 20), "late": (21, 31),
}
# Every date expression holds one of these words or a number; a message with neither names no date.
_DATE_WORDS = frozenset(
    {*_MONTH_WORDS, *_WEEKDAY_WORDS, *_UNIT_WORDS, *_PERIOD_WORDS, *_PERIOD_UNITS, "today", "tonight",
     "tomorrow", "eoy", "eom", "eoq"}
)
_DIGITS = frozenset("0123456789")
# Numeric dates are looked for only when a year (or a slash, for 15/01/27) is there at all.
_YEAR_WORDS = frozenset(str(year) for year in range(1900, 2200))
# Day endings of every language read (languages.py): 15th, 1er, 2e, 1º, 1ste, 2de. They are all accepted whatever
# the configured languages, since a number with such an ending is a day wherever it stands before a month.
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th", "er", "re", "e", "ème", "eme", "º", "ª", "ste", "de"})
# Every word date holds a date word, or is "end of 2027", so parsing starts only near these anchors: at
# most this many words before them ("the beginning of the March", "within the next couple of weeks").
_LOOKBACK: dict[str, int] = {
    **dict.fromkeys(_MONTH_WORDS, 4),
    **dict.fromkeys(_WEEKDAY_WORDS, 2),
    **dict.fromkeys(_UNIT_WORDS, 5),
    **dict.fromkeys(_PERIOD_WORDS, 3),
    **dict.fromkeys(_PERIOD_UNITS, 4),
}
_DATE_ANCHORS = _DATE_WORDS | {"end"}
