"""The Detector: whether a message announces a project, and the Prefill an announcement gives (title,
go-live date, tags, vendors, regulation hints).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, Protocol

from bot.intake.dates import reader_for
from bot.intake.rules import IntakeRules
from bot.intake.text import _clean_for_detection, _PhraseMatcher, _Span, _words
from bot.intake.titles import make_title


@dataclass(frozen=True)
class Prefill:
    """What an announcement tells about the project before anyone fills in the intake."""

    title: str
    go_live: date | None
    tags: tuple[str, ...]
    vendors: tuple[str, ...]
    regulations: tuple[str, ...]


class _Analysis(NamedTuple):
    """A message cut into words, with the phrases of each kind found in it."""

    lowered: str
    words: list[str]
    word_set: frozenset[str]
    phrases: Sequence[_Span]
    tags: Sequence[_Span]
    vendors: Sequence[_Span]
    regulations: Sequence[_Span]


class WorkingDayCalendar(Protocol):
    """What the intake needs of the workspace's calendar (bot.common.calendar.WorkCalendar is one)."""

    def add_working_days(self, day: date, days: int) -> date:
        """The date `days` working days after `day`."""
        ...


def _values(spans: Sequence[_Span]) -> list[str]:
    """The values of matched phrases, in text order."""
    return [value for _, _, values in spans for value in values]


class Detector:
    """Matches messages against one set of rules; the tables are built once so that each call is cheap."""

    def __init__(self, rules: IntakeRules, *, calendar: WorkingDayCalendar | None = None) -> None:
        """Builds the phrase tables for one set of rules; "in 10 business days" counts the calendar's working
        days (Monday to Friday without one)."""
        self.rules = rules
        self._dates = reader_for(rules.languages)
        self._working_days = calendar.add_working_days if calendar is not None else None
        # One table for all four kinds, so that a message is looked up once.
        self._matcher = _PhraseMatcher(
            ((p, p) for p in rules.phrases),
            ((kw, tag) for tag, kws in rules.tags.items() for kw in kws),
            [*((v, v) for v in rules.vendors), *rules.vendor_aliases.items()],
            ((kw, rule.regulation) for rule in rules.regulation_rules for kw in rule.keywords),
        )
        # is_announcement() and prefill() are called one after the other on the same message.
        self._last: tuple[str, _Analysis] | None = None

    def _analyse(self, text: str) -> _Analysis:
        """The words and phrases of a message, computed once for consecutive calls on the same text."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        lowered = _clean_for_detection(text)
        words = _words(lowered)
        word_set = frozenset(words)
        phrases, tags, vendors, regulations = self._matcher.spans(lowered, words, word_set)
        analysis = _Analysis(lowered, words, word_set, phrases, tags, vendors, regulations)
        self._last = (text, analysis)
        return analysis

    def is_announcement(self, text: str) -> bool:
        """Whether a configured phrase occurs as whole words (case-insensitive; "kick-off" = "kick off")."""
        return bool(self._analyse(text).phrases)

    def matched_phrases(self, text: str) -> list[str]:
        """The configured phrases that occur, in order of first appearance (to explain a detection)."""
        return list(dict.fromkeys(_values(self._analyse(text).phrases)))

    def tags(self, text: str) -> list[str]:
        """The technology tags the text mentions, sorted."""
        return sorted(set(_values(self._analyse(text).tags)))

    def vendors(self, text: str) -> list[str]:
        """Canonical names of the vendors the text mentions, in order of first appearance."""
        return list(dict.fromkeys(_values(self._analyse(text).vendors)))

    def regulation_hints(self, text: str) -> list[str]:
        """Regulations whose keywords the text mentions, sorted."""
        return sorted(set(_values(self._analyse(text).regulations)))

    def prefill(self, text: str, *, today: date) -> Prefill:
        """Everything the intake can be pre-filled with from an announcement."""
        a = self._analyse(text)
        return Prefill(
            title=make_title(text),
            go_live=self._dates.go_live_in(a.lowered, a.words, a.word_set, today, self._working_days),
            tags=tuple(sorted(set(_values(a.tags)))) if a.tags else (),
            vendors=tuple(dict.fromkeys(_values(a.vendors))) if a.vendors else (),
            regulations=tuple(sorted(set(_values(a.regulations)))) if a.regulations else (),
        )


_DETECTORS: dict[int, tuple[IntakeRules, Detector]] = {}


def _detector_for(rules: IntakeRules) -> Detector:
    """A cached Detector per rules object (rules hold dicts, so they cannot be a dict key themselves)."""
    hit = _DETECTORS.get(id(rules))
    if hit is not None and hit[0] is rules:  # holding the rules keeps id() from being reused
        return hit[1]
    detector = Detector(rules)
    if len(_DETECTORS) >= 16:
        _DETECTORS.clear()
    _DETECTORS[id(rules)] = (rules, detector)
    return detector
