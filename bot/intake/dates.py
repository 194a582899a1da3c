"""The go-live date of an announcement: DateReader (one per set of languages) chooses among the dates the
grammar finds; extract_go_live() is its one-call form."""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from bot.intake.date_grammar import _Context, _scan_dates
from bot.intake.date_math import WorkingDays
from bot.intake.date_words import _DATE_ANCHORS, _YEAR_WORDS
from bot.intake.languages import DATE_WORDS, EVENT_WORDS, GO_LIVE_WORDS, NOT_DATES, check_languages
from bot.intake.text import _clean_for_detection, _PhraseMatcher, _Span, _words

# ---------------------------------------------------------------------------------------------------------
# Dates
#
# Decisions, so that a go-live date means the same to everyone:
# - Numeric dates are day first, as written in Europe (15/01/2027, 15.01.2027, 15-01-2027); one that
#   cannot be day first (01/15/2027) is read month first, since it is then unambiguous. Two-digit years
#   only with slashes (15/01/27), so a version such as 1.2.27 is not a date; four-digit years 1900-2199.
# - A day without a year (15 Jan, January 15) is its next occurrence, today included.
# - A period (Q2, H2, "in March", "early May") stands for its earliest day that is not past: its first day,
#   or today once it has begun, because a security review must be done by the start of the window the
#   owner named. A period without a year is the next one that has not ended. "end of March", "end of Q2"
#   and "by the end of the year" are the period's last day.
# - "next week" is Monday of next week, "next month" the first of next month, "next Friday" the coming
#   Friday (never today), "on Friday" the next Friday (today included); "in 3 weeks", "in two months" and
#   "in 10 business days" count from today.
# - Past dates are ignored, and so are impossible ones (2027-02-30), never an error.
# - A weekday alone ("go-live Friday", "mise en prod vendredi") is the next such day, today included, as
#   "on Friday"; a weekday with a date ("Monday 8 February") is that date.
# - "in 10 business days" counts the working days of the workspace's calendar (holidays left out).
# - Of several dates, the one nearest a go-live word ("go-live", "launch", "release", "rollout", "due",
#   "mise en production", "Livegang", "lanzamiento", ...) in the same sentence wins, preferably one after
#   the word, unless it is a meeting's date ("Kick-off next Monday, go-live on 15 Jan"). Without one, the
#   first date that is not the date of a meeting is taken, else none.
# - Dates are read in English and the configured languages (SECREVIEW_LANGUAGES; languages.py says how).
#
# Numeric dates are found with a regex that starts with a digit, so the regex engine skips straight to
# digits; everything else works on the words. One large regex over the whole text was ten times too slow
# for the throughput target, because Python's engine tries every alternative at every character.
# ---------------------------------------------------------------------------------------------------------

# A sentence ends at . ! ? ; before white space, and at a line break; the charset comes first for speed.
_SENTENCE_END_SPLIT = re.compile(r"[.!?;\n](?:(?<=\n)|(?=\s))").split

_GO_LIVE_WINDOW = 12  # words between a go-live word and its date: "go-live is planned for the 15th of May"
_EVENT_WINDOW = 8


def _sentence_ends(lowered: str) -> list[int]:
    """The word indices at which a new sentence starts."""
    ends: list[int] = []
    count = 0
    for sentence in _SENTENCE_END_SPLIT(lowered):
        count += len(_words(sentence))
        ends.append(count)
    return ends


class DateReader:
    """Reads the go-live date of a message in English and the given languages (tables built once)."""

    __slots__ = ("_anchors", "_canon", "_context", "_foreign", "_not_dates", "_not_dates_after", "languages")

    def __init__(self, languages: Iterable[str] = ("en",)) -> None:
        """languages: codes of languages.LANGUAGES; English date words are always read (the grammar's own)."""
        self.languages = check_languages(tuple(languages))
        canon: dict[str, str] = {}
        for language in self.languages:
            for word, token in DATE_WORDS[language].items():
                canon.setdefault(word, token)  # the first configured language that has the word decides
        self._canon = canon
        self._foreign = frozenset(canon)
        self._not_dates = frozenset(pair for language in ("en", *self.languages) for pair in NOT_DATES[language])
        self._not_dates_after = frozenset(second for _, second in self._not_dates)
        # The words near which parsing starts, in any configured language.
        self._anchors = _DATE_ANCHORS | {word for word, token in canon.items() if token in _DATE_ANCHORS}
        # English go-live and meeting words are read whatever the languages: "go-live" and "kick-off" are
        # written in every language's announcements.
        spoken = dict.fromkeys(("en", *self.languages))
        self._context = _PhraseMatcher(
            ((w, w) for language in spoken for w in GO_LIVE_WORDS[language]),
            ((w, w) for language in spoken for w in EVENT_WORDS[language]),
        )

    def _tokens(self, words: list[str], word_set: frozenset[str], anchors: frozenset[str]) -> tuple[
            list[str], frozenset[str]]:
        """The words as the grammar's tokens, one for one, and the anchors among them."""
        mapped = not self._foreign.isdisjoint(word_set)
        named = not self._not_dates_after.isdisjoint(word_set)
        if not mapped and not named:
            return words, anchors
        canon = self._canon
        tokens = [canon.get(w, w) for w in words] if mapped else list(words)
        if named:
            for k in range(1, len(words)):
                if (words[k - 1], words[k]) in self._not_dates:
                    tokens[k] = ""  # "Guten Morgen" is not tomorrow, nor "Black Friday" a Friday
        return tokens, frozenset(canon.get(a, a) for a in anchors)

    def go_live_in(
        self, lowered: str, words: list[str], word_set: frozenset[str], today: date,
        working_days: WorkingDays | None = None,
    ) -> date | None:
        """The go-live date of a message already cleaned and cut into words (rules above)."""
        anchors = self._anchors.intersection(word_set)
        # A numeric date has a year (1900-2199) or slashes (15/01/27).
        numeric = "/" in lowered or not _YEAR_WORDS.isdisjoint(word_set)
        if not anchors and not numeric:
            return None  # the common case: no date at all
        tokens, anchors = self._tokens(words, word_set, anchors)
        candidates = _scan_dates(lowered, tokens, anchors, numeric, _Context(today, working_days))
        if not candidates:
            return None
        keywords, events = self._context.spans(lowered, words, word_set, every=True)
        if not events and (not keywords or len(candidates) == 1):
            return candidates[0][2]  # nothing to choose between, and no meeting to rule out
        return _choose(lowered, candidates, keywords, events)

    def extract(self, text: str, *, today: date, working_days: WorkingDays | None = None) -> date | None:
        """The go-live date a message names, or None; never a date before today (rules above)."""
        lowered = _clean_for_detection(text)
        words = _words(lowered)
        return self.go_live_in(lowered, words, frozenset(words), today, working_days)


def _choose(lowered: str, candidates: list[tuple[int, int, date]], keywords: Iterable[_Span],
            events: Iterable[_Span]) -> date | None:
    """Of several dates, the go-live word's, else the first that is not a meeting's (rules above)."""
    ends: list[int] = []

    def same_sentence(a: int, b: int) -> bool:
        """Whether words a <= b are in one sentence."""
        if not ends:  # worked out only when a date is near enough to a word to matter
            ends.extend(_sentence_ends(lowered))
        return bisect_right(ends, a) == bisect_right(ends, b)

    # Only the nearest word on either side of a date can be the nearest in its sentence; bisect finds
    # them, so that many dates and many words do not multiply.
    k_starts, k_ends = [k[0] for k in keywords], [k[1] for k in keywords]
    e_starts, e_ends = [e[0] for e in events], [e[1] for e in events]

    def meeting(start: int, end: int, *, after: bool = True) -> bool:
        """Whether a date belongs to a meeting word just before it ("kick-off next Monday") or, with `after`,
        just after it ("Monday's kick-off"), with no go-live word in between."""
        j = bisect_right(e_ends, start) - 1
        if j >= 0 and start - e_ends[j] <= _EVENT_WINDOW and same_sentence(e_ends[j] - 1, start):
            k = bisect_left(k_starts, e_ends[j])
            if k == len(k_starts) or k_ends[k] > start:
                return True
        if not after:
            return False
        j = bisect_left(e_starts, end)
        if j < len(e_starts) and e_starts[j] - end <= _EVENT_WINDOW and same_sentence(end - 1, e_starts[j]):
            k = bisect_left(k_starts, end)
            return k == len(k_starts) or k_starts[k] >= e_starts[j]
        return False

    best: tuple[int, date] | None = None
    for start, end, d in candidates:
        # Next to a go-live word, only a meeting word before the date makes it the meeting's: in "go-live
        # 12 April, demo on Monday" the demo's word comes after the go-live's date.
        if e_starts and meeting(start, end, after=False):
            continue
        j = bisect_right(k_ends, start) - 1  # "go-live on 15 Jan": the usual order
        if j >= 0:
            gap = start - k_ends[j]
            closer = gap <= _GO_LIVE_WINDOW and (best is None or gap < best[0])
            if closer and same_sentence(k_ends[j] - 1, start):
                best = (gap, d)
        j = bisect_left(k_starts, end)  # "15 Jan go-live": rarer, so it counts double
        if j < len(k_starts):
            gap = (k_starts[j] - end) * 2 + 1
            closer = gap <= _GO_LIVE_WINDOW and (best is None or gap < best[0])
            if closer and same_sentence(end - 1, k_starts[j]):
                best = (gap, d)
    if best is not None:
        return best[1]
    for start, end, d in candidates:
        if not (e_starts and meeting(start, end)):
            return d
    return None


@lru_cache(maxsize=32)
def reader_for(languages: tuple[str, ...] = ("en",)) -> DateReader:
    """The DateReader of a set of languages, built once per process."""
    return DateReader(languages)


def extract_go_live(
    text: str, *, today: date, languages: tuple[str, ...] = ("en",), working_days: WorkingDays | None = None
) -> date | None:
    """The go-live date a message names, or None; never a date before today (rules above)."""
    return reader_for(tuple(languages)).extract(text, today=today, working_days=working_days)
