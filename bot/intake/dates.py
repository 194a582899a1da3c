"""The go-live date of an announcement: extract_go_live() chooses among the dates the grammar finds."""

import re
from bisect import bisect_left, bisect_right
from datetime import date

from bot.intake.date_grammar import _scan_dates
from bot.intake.date_words import _DATE_ANCHORS, _YEAR_WORDS
from bot.intake.text import _clean_for_detection, _PhraseMatcher, _words

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
# - Of several dates, the one nearest a go-live word ("go-live", "launch", "release", "rollout", "due",
#   ...) in the same sentence wins, preferably one after the word. Without one, the first date that is
#   not the date of a meeting ("kick-off next Monday") is taken, else none.
#
# Numeric dates are found with a regex that starts with a digit, so the regex engine skips straight to
# digits; everything else works on the words. One large regex over the whole text was ten times too slow
# for the throughput target, because Python's engine tries every alternative at every character.
# ---------------------------------------------------------------------------------------------------------

# A sentence ends at . ! ? ; before white space, and at a line break; the charset comes first for speed.
_SENTENCE_END_SPLIT = re.compile(r"[.!?;\n](?:(?<=\n)|(?=\s))").split

_GO_LIVE_WINDOW = 12  # words between a go-live word and its date: "go-live is planned for the 15th of May"
_EVENT_WINDOW = 8
_GO_LIVE_WORDS = (
    "go live", "golive", "goes live", "going live", "went live", "live on", "live date", "live by",
    "live from", "launch", "launches", "launched", "launching", "release", "releases", "released",
    "releasing", "rollout", "rollouts", "roll out", "rolls out", "rolling out", "cutover", "cut over", "due",
    "deadline", "target date", "in production",
)
# Dates next to these words are when people meet, not when the project goes live.
_EVENT_WORDS = (
    "kick off", "kickoff", "kickoffs", "kicking off", "meeting", "meetings", "meet", "workshop", "call",
    "demo", "session", "sync", "webinar", "town hall", "townhall", "standup", "stand up", "retro", "offsite",
    "training", "lunch", "brainstorm", "presentation",
)
_DATE_CONTEXT = _PhraseMatcher(((w, w) for w in _GO_LIVE_WORDS), ((w, w) for w in _EVENT_WORDS))


def _sentence_ends(lowered: str) -> list[int]:
    """The word indices at which a new sentence starts."""
    ends: list[int] = []
    count = 0
    for sentence in _SENTENCE_END_SPLIT(lowered):
        count += len(_words(sentence))
        ends.append(count)
    return ends


def _go_live_in(lowered: str, words: list[str], word_set: frozenset[str], today: date) -> date | None:
    """extract_go_live() on a message that is already cut into words."""
    anchors = _DATE_ANCHORS.intersection(word_set)
    # A numeric date has a year (1900-2199) or slashes (15/01/27).
    numeric = "/" in lowered or not _YEAR_WORDS.isdisjoint(word_set)
    if not anchors and not numeric:
        return None  # the common case: no date at all
    candidates = _scan_dates(lowered, words, anchors, numeric, today)
    if not candidates:
        return None
    keywords, events = _DATE_CONTEXT.spans(lowered, words, word_set, every=True)
    if not events and (not keywords or len(candidates) == 1):
        return candidates[0][2]  # nothing to choose between, and no meeting to rule out
    ends: list[int] = []

    def same_sentence(a: int, b: int) -> bool:
        """Whether words a <= b are in one sentence."""
        if not ends:  # worked out only when a date is near enough to a word to matter
            ends.extend(_sentence_ends(lowered))
        return bisect_right(ends, a) == bisect_right(ends, b)

    # Only the nearest word on either side of a date can be the nearest in its sentence; bisect finds
    # them, so that many dates and many words do not multiply.
    k_starts, k_ends = [k[0] for k in keywords], [k[1] for k in keywords]
    best: tuple[int, date] | None = None
    for start, end, d in candidates:
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
    e_starts, e_ends = [e[0] for e in events], [e[1] for e in events]
    for start, end, d in candidates:
        j = bisect_right(e_ends, start) - 1
        if j >= 0 and start - e_ends[j] <= _EVENT_WINDOW and same_sentence(e_ends[j] - 1, start):
            continue  # "kick-off next Monday"
        j = bisect_left(e_starts, end)
        if j < len(e_starts) and e_starts[j] - end <= _EVENT_WINDOW and same_sentence(end - 1, e_starts[j]):
            continue  # "Monday's kick-off"
        return d
    return None


def extract_go_live(text: str, *, today: date) -> date | None:
    """The go-live date a message names, or None; never a date before today (rules above)."""
    lowered = _clean_for_detection(text)
    words = _words(lowered)
    return _go_live_in(lowered, words, frozenset(words), today)
