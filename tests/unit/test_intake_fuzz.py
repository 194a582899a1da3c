"""Property tests for bot/intake.py: no message makes detection, pre-fill or date extraction fail."""

import re
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.intake import (
    DEFAULT_RULES,
    TIERS,
    Detector,
    IntakeAnswers,
    extract_go_live,
    make_title,
    parse_answers,
    rules_from_config,
    score_risk,
)
from bot.intake.text import _words as words_of

DETECTOR = Detector(DEFAULT_RULES)
FUZZ = settings(max_examples=300, deadline=None)

# Pieces of real announcements, so that generated text reaches the interesting paths (phrases, dates in
# every form, Slack markup), not only random characters that match nothing.
FRAGMENTS = [
    "kick-off", "kickoff", "new project", "we're launching", "go-live", "go live", "rollout", "pilot", "poc",
    "proof of concept", "launch", "release", "due", "meeting", "on", "in", "by", "the", "end", "of", "next",
    "this", "early", "mid", "late", "within", "a", "couple", "weeks", "days", "business", "months", "year",
    "quarter", "week", "from", "now", "today", "tomorrow", "q1", "Q2", "h2", "eoy", "year-end", "may",
    "March",
    "jan", "15th", "29", "31", "02", "2026", "2027", "9999", "0000", "2027-02-30", "2026-03-11", "15/01/2027",
    "01/15/27", "15.01.2027", "1.2.27", "10:30", "Monday", "friday", "Salesforce", "AWS", "ChatGPT",
    "personal data", "general ledger", "<@U123ABC>", "<@U1|bob>", "<#C1|pilot>", "<!here>",
    "<https://x.io/pilot|the pilot doc>", "<https://x.io/a.b>", "<!date^1|Jan 15, 2027>", "<", ">", "|",
    ":rocket:", ":skin-tone-2:", "*bold*", "_it_", "~s~", "`code`", "&amp;", "&lt;", "Hi team,", "Heads-up:",
    "> ", "• ", "1. ", "…", "’", "–", "ß", "İ", "٣", "\u200b", "\x00",
]
SEPARATORS = [" ", "", "-", ". ", "! ", "\n", ", ", "/", ":", "'", "\t"]

pieces = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8))
slack_text = st.lists(st.tuples(pieces, st.sampled_from(SEPARATORS)), max_size=20).map(
    lambda parts: "".join(piece + sep for piece, sep in parts)
)
messages = st.one_of(slack_text, st.text(max_size=200))
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))


@FUZZ
@given(messages)
def test_detection_never_fails(text: str) -> None:
    assert isinstance(DETECTOR.is_announcement(text), bool)
    tags = DETECTOR.tags(text)
    assert tags == sorted(set(tags))
    vendors = DETECTOR.vendors(text)
    assert len(vendors) == len(set(vendors))
    assert set(vendors) <= set(DEFAULT_RULES.vendors) | set(DEFAULT_RULES.vendor_aliases.values())
    hints = DETECTOR.regulation_hints(text)
    assert hints == sorted(set(hints))
    assert set(DETECTOR.matched_phrases(text)) <= set(DEFAULT_RULES.phrases)


@FUZZ
@given(messages, days)
def test_prefill_never_fails_and_stays_in_bounds(text: str, today: date) -> None:
    prefill = DETECTOR.prefill(text, today=today)
    assert len(prefill.title) <= 150
    assert "\n" not in prefill.title
    assert prefill.title == prefill.title.strip()
    assert prefill.go_live is None or prefill.go_live >= today
    assert prefill.tags == tuple(sorted(set(prefill.tags)))
    assert prefill.regulations == tuple(sorted(set(prefill.regulations)))
    assert prefill.title == make_title(text)


@FUZZ
@given(messages, st.dates())
def test_go_live_is_none_or_not_in_the_past(text: str, today: date) -> None:
    result = extract_go_live(text, today=today)
    assert result is None or (isinstance(result, date) and result >= today)


@FUZZ
@given(messages, days)
def test_prefill_agrees_with_extract_go_live(text: str, today: date) -> None:
    assert DETECTOR.prefill(text, today=today).go_live == extract_go_live(text, today=today)


@FUZZ
@given(messages)
def test_the_fast_word_split_equals_the_plain_regex(text: str) -> None:
    # Words are split with bytes.translate for speed; this is what that must be equivalent to.
    lowered = text.lower()
    assert words_of(lowered) == re.findall(r"[^\W_]+", lowered)


ascii_text = st.lists(
    st.tuples(st.sampled_from([f for f in FRAGMENTS if f.isascii() and not set(f) & set("<>&:|_*~`")]),
              st.sampled_from(SEPARATORS)),
    max_size=20,
).map(lambda parts: "".join(piece + sep for piece, sep in parts))


@FUZZ
@given(ascii_text)
def test_detection_ignores_case(text: str) -> None:
    assert DETECTOR.is_announcement(text) == DETECTOR.is_announcement(text.upper())
    assert DETECTOR.tags(text) == DETECTOR.tags(text.swapcase())


answers = st.builds(
    IntakeAnswers,
    data_classification=st.sampled_from(("public", "internal", "confidential", "restricted")),
    sensitive_data=st.frozensets(st.sampled_from(("personal", "payment_card", "health", "credentials"))),
    exposure=st.sampled_from(("internal", "partners", "internet")),
    hosting=st.sampled_from(("on_prem", "own_cloud", "saas")),
    third_parties=st.text(max_size=30),
    uses_ai=st.booleans(),
    changes_auth=st.booleans(),
)


@FUZZ
@given(answers)
def test_score_is_the_sum_of_its_reasons(a: IntakeAnswers) -> None:
    assessment = score_risk(a)
    assert assessment.score == sum(r.points for r in assessment.reasons)
    assert all(r.points > 0 for r in assessment.reasons)
    points = [r.points for r in assessment.reasons]
    assert points == sorted(points, reverse=True)
    reached = [t for t in TIERS if assessment.score >= DEFAULT_RULES.tier_thresholds[t]]
    assert assessment.tier == reached[-1]


raw_values = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.text(max_size=12),
    st.sampled_from(["yes", "no", "internet", "saas", "public", "personal", "none", "on-prem", "Restricted"]),
    st.lists(st.sampled_from(["personal", "health", "none", "dna", 3]), max_size=3),
)
raw_answers = st.dictionaries(
    st.sampled_from(["data_classification", "sensitive_data", "exposure", "hosting", "third_parties",
                     "uses_ai", "changes_auth", "title"]),
    raw_values,
)


@FUZZ
@given(raw_answers)
def test_parse_answers_fails_only_with_value_error(raw: dict[str, Any]) -> None:
    try:
        parsed = parse_answers(raw)
    except ValueError as exc:
        assert str(exc).split(":", 1)[0] in raw or str(exc).split(":", 1)[0] in {
            "data_classification", "exposure", "hosting", "uses_ai", "changes_auth",
        }
    else:
        assert isinstance(parsed, IntakeAnswers)


config_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 2000), st.text(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(st.sampled_from(["phrases", "names", "aliases", "weights", "tiers", "regulation",
                                       "when_sensitive", "keywords", "when_flags", "low", "medium", "uses_ai",
                                       "ai", "personal"]), st.text(max_size=6)),
            children, max_size=3,
        ),
    ),
    max_leaves=6,
)
configs = st.dictionaries(
    st.sampled_from(["announcements", "tags", "vendors", "risk", "regulations", "other"]),
    config_values,
    max_size=3,
)


@FUZZ
@given(configs)
def test_rules_from_config_fails_only_with_value_error(data: dict[str, Any]) -> None:
    try:
        rules = rules_from_config(data)
    except ValueError as exc:
        assert str(exc).split(".", 1)[0].split(":", 1)[0].split("[", 1)[0] in data
    else:
        Detector(rules).prefill("Kick-off: go-live 2027-01-15", today=date(2026, 1, 1))
