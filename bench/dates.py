"""Go-live dates in five languages: secreview's own grammar against dateparser, on the labelled corpus.

Reads tests/fixtures/go_live_corpus.tsv (announcement sentences in English, French, German, Spanish and Dutch,
each with its true go-live date relative to a fixed today, or "none") and the hold-out set beside it, and
compares four readers:

- own grammar, English only: the grammar as it was before it read other languages (SECREVIEW_LANGUAGES=en);
- own grammar, all five languages (what secreview ships);
- dateparser: `dateparser.search.search_dates` with the five languages, the first date that is not past;
- combination: the own go-live words find the phrase ("mise en production", "Go-Live am", ...), dateparser
  reads the date in the words after it (else in the whole message).

Precision: of the dates a reader gave, the share that are right. Recall: of the sentences that name a go-live,
the share whose date it gave right. A wrong date counts against both. Messages/s: reading the corpus sentences
(best of the rounds; dateparser's first call, which loads its language data, is not timed).

    python bench/dates.py [--quick] [--rounds 5]

Prints the table (overall and per language), then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/dates.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bot import intake
from bot.intake.languages import GO_LIVE_WORDS

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
CORPUS = FIXTURES / "go_live_corpus.tsv"
HOLDOUT = FIXTURES / "go_live_holdout.tsv"
LANGUAGES = intake.LANGUAGES

Reader = Callable[[str, date], date | None]


@dataclass(frozen=True)
class Sentence:
    """One labelled sentence: its language, its true go-live date (None: it names none) and its text."""

    language: str
    expected: date | None
    text: str


def load(path: Path) -> tuple[date, list[Sentence]]:
    """The corpus file: its "today" (from the header) and its sentences."""
    today: date | None = None
    sentences: list[Sentence] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#"):
            if m := re.search(r"today: (\d{4}-\d{2}-\d{2})", line):
                today = date.fromisoformat(m.group(1))
            continue
        language, expected, text = line.split("\t")
        if language not in LANGUAGES:
            raise ValueError(f"{path.name}:{number}: unknown language {language!r}")
        sentences.append(Sentence(language, None if expected == "none" else date.fromisoformat(expected), text))
    if today is None:
        raise ValueError(f"{path.name}: no '# today: YYYY-MM-DD' line")
    return today, sentences


@dataclass(frozen=True)
class Score:
    """Precision and recall of one reader on some sentences."""

    sentences: int
    right: int
    given: int
    dated: int

    @property
    def precision(self) -> float:
        """Of the dates given, the share that are right."""
        return self.right / self.given if self.given else 1.0

    @property
    def recall(self) -> float:
        """Of the sentences that name a go-live, the share whose date was given right."""
        return self.right / self.dated if self.dated else 1.0


def score(sentences: Sequence[Sentence], found: Sequence[date | None]) -> Score:
    """Scores what a reader found against the labels."""
    right = sum(1 for s, d in zip(sentences, found, strict=True) if d is not None and d == s.expected)
    given = sum(1 for d in found if d is not None)
    return Score(len(sentences), right, given, sum(1 for s in sentences if s.expected is not None))


def own_reader(languages: Sequence[str]) -> Reader:
    """secreview's grammar in these languages."""
    reader = intake.DateReader(languages)
    return lambda text, today: reader.extract(text, today=today)


def _dateparser_settings(today: date) -> dict[str, Any]:
    # Told what the product's rules say where it has a setting for them: future dates, day first, a month
    # alone is its first day.
    return {"RELATIVE_BASE": datetime.combine(today, datetime.min.time()), "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "first", "DATE_ORDER": "DMY"}


def _first_not_past(text: str, today: date, languages: list[str]) -> date | None:
    from dateparser.search import search_dates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateparser warns about pytz and tzlocal on some platforms
        found = search_dates(text, languages=languages, settings=_dateparser_settings(today)) or []
    return next((d.date() for _, d in found if d.date() >= today), None)


def dateparser_reader(languages: Sequence[str]) -> Reader:
    """dateparser's search_dates alone: the first date it finds that is not past."""
    codes = list(languages)
    return lambda text, today: _first_not_past(text, today, codes)


def _go_live_pattern(languages: Sequence[str]) -> re.Pattern[str]:
    words = sorted({w for language in ("en", *languages) for w in GO_LIVE_WORDS[language]}, key=len, reverse=True)
    # The own rules' phrases, with any run of spaces or hyphens between their words ("go-live", "go live").
    alternatives = (r"[\s-]+".join(map(re.escape, w.split())) for w in words)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def combined_reader(languages: Sequence[str]) -> Reader:
    """The own go-live words find the phrase; dateparser reads the date in the 12 words after it, in its sentence
    (the first phrase with a date wins); without one, dateparser reads the whole message."""
    pattern, codes = _go_live_pattern(languages), list(languages)

    def read(text: str, today: date) -> date | None:
        for m in pattern.finditer(text):
            after = re.split(r"[.!?;\n](?:\s|$)", text[m.end():], maxsplit=1)[0]
            window = " ".join(after.split()[:12])
            if window and (found := _first_not_past(window, today, codes)) is not None:
                return found
        return _first_not_past(text, today, codes)

    return read


READERS: dict[str, Callable[[Sequence[str]], Reader]] = {
    "own grammar, English only": lambda _: own_reader(("en",)),
    "own grammar, 5 languages": own_reader,
    "dateparser search_dates": dateparser_reader,
    "own phrase + dateparser": combined_reader,
}


def measure(sentences: Sequence[Sentence], today: date, *, rounds: int = 3,
            holdout: Sequence[Sentence] = ()) -> dict[str, dict[str, Any]]:
    """Per reader: its scores (overall, per language, hold-out) and its best messages/s over the rounds."""
    results: dict[str, dict[str, Any]] = {}
    for name, make in READERS.items():
        read = make(LANGUAGES)
        read("warm up: go-live 15 mars 2027", today)  # dateparser loads its language data on first use
        best = 0.0
        found: list[date | None] = []
        for _ in range(rounds):
            started = time.perf_counter()
            found = [read(s.text, today) for s in sentences]
            best = max(best, len(sentences) / (time.perf_counter() - started))
        per_language = {lang: score([s for s in sentences if s.language == lang],
                                    [d for s, d in zip(sentences, found, strict=True) if s.language == lang])
                        for lang in LANGUAGES}
        kept = [read(s.text, today) for s in holdout]
        results[name] = {"all": score(sentences, found), "languages": per_language,
                         "holdout": score(holdout, kept) if holdout else None, "messages_per_s": best}
    return results


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Loads the corpus, measures every reader, prints the tables and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed round")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (best one reported)")
    args = parser.parse_args(argv)
    today, sentences = load(CORPUS)
    _, holdout = load(HOLDOUT)
    results = measure(sentences, today, rounds=args.rounds or (1 if args.quick else 3), holdout=holdout)
    dated = sum(1 for s in sentences if s.expected is not None)
    print(f"# {len(sentences)} labelled sentences ({dated} with a go-live date), today {today}; "
          f"hold-out {len(holdout)}; languages {', '.join(LANGUAGES)}")
    print(common.table(
        ["reader", "precision", "recall", "messages/s", "hold-out P", "hold-out R"],
        [[name, round(r["all"].precision, 3), round(r["all"].recall, 3), round(r["messages_per_s"]),
          round(r["holdout"].precision, 3), round(r["holdout"].recall, 3)] for name, r in results.items()],
    ))
    print()
    print(common.table(
        ["reader (precision / recall)", *LANGUAGES],
        [[name, *(f"{r['languages'][lang].precision:.2f} / {r['languages'][lang].recall:.2f}" for lang in LANGUAGES)]
         for name, r in results.items()],
    ))
    figures = {
        name: {"precision": round(r["all"].precision, 4), "recall": round(r["all"].recall, 4),
               "messages_per_s": round(r["messages_per_s"]), "holdout_precision": round(r["holdout"].precision, 4),
               "holdout_recall": round(r["holdout"].recall, 4)}
        for name, r in results.items()
    }
    common.emit({"sentences": len(sentences), "holdout": len(holdout), "readers": figures})
    return figures


if __name__ == "__main__":
    main()
