"""The go-live dates of the labelled corpus (tests/fixtures/go_live_corpus.tsv and the hold-out set beside it).

bench/dates.py prints the full comparison with dateparser; this test keeps the shipped grammar from slipping.
The thresholds leave room for two sentences of the corpus and one of the hold-out set beyond what the grammar
misses today (the corpus: "on 23/12", a day and month with a slash but no year, which the rules do not read as
a date since "24/7" is not one; the hold-out: "Thursday, December 3rd" and "am Montag, den 25. Januar"), so a
change that costs more than that fails here, and one that trades precision for recall does too.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from bench.dates import CORPUS, HOLDOUT, LANGUAGES, Reader, Sentence, load, own_reader, score

TODAY, SENTENCES = load(CORPUS)
HOLDOUT_TODAY, HELD_OUT = load(HOLDOUT)
FIVE = own_reader(LANGUAGES)


def found(sentences: list[Sentence], read: Reader = FIVE) -> list[date | None]:
    """What a reader gives for each sentence."""
    return [read(s.text, TODAY) for s in sentences]


def test_the_corpus_is_big_and_covers_every_language_both_ways() -> None:
    """At least 300 sentences; every language has dated and undated ones."""
    assert len(SENTENCES) >= 300
    by_language = Counter(s.language for s in SENTENCES)
    assert set(by_language) == set(LANGUAGES) and min(by_language.values()) >= 50
    for language in LANGUAGES:
        kinds = Counter(s.expected is None for s in SENTENCES if s.language == language)
        assert kinds[True] >= 4 and kinds[False] >= 40, language
    assert HOLDOUT_TODAY == TODAY and len(HELD_OUT) >= 50


def test_the_corpus_figures_of_the_five_language_grammar() -> None:
    """Overall and per language: a wrong date counts against precision and recall both."""
    overall = score(SENTENCES, found(SENTENCES))
    assert overall.precision >= 0.99 and overall.recall >= 0.985, overall
    for language in LANGUAGES:
        part = [s for s in SENTENCES if s.language == language]
        figures = score(part, found(part))
        assert figures.precision >= 0.98 and figures.recall >= 0.95, (language, figures)


def test_the_hold_out_figures() -> None:
    """Sentences written after the grammar was built from the corpus: what to expect of new wording."""
    figures = score(HELD_OUT, found(HELD_OUT))
    assert figures.precision >= 0.94 and figures.recall >= 0.94, figures


@pytest.mark.parametrize("language", ["fr", "de", "es", "nl"])
def test_english_alone_does_not_read_the_other_languages(language: str) -> None:
    """SECREVIEW_LANGUAGES=en reads numeric dates only in them; the language is what makes the difference."""
    part = [s for s in SENTENCES if s.language == language]
    english = score(part, found(part, own_reader(("en",))))
    assert english.recall < 0.3
    assert english.precision >= 0.98  # what it does read, it reads right


def test_adding_languages_changes_nothing_in_english() -> None:
    """The English sentences read the same with five languages as with English alone."""
    english = [s for s in SENTENCES if s.language == "en"]
    assert found(english) == found(english, own_reader(("en",)))
