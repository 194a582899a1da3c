"""The /secreview parser: every subcommand, every mistake answered with what would work, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.review.errors import InvalidInput
from bot.slack.commands import ParsedCommand, Sub, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ParsedCommand(Sub.HELP)),
        ("help", ParsedCommand(Sub.HELP)),
        ("  HELP ", ParsedCommand(Sub.HELP)),
        ("new", ParsedCommand(Sub.NEW)),
        ("new CRM &amp; billing &lt;v2&gt;", ParsedCommand(Sub.NEW, text="CRM & billing <v2>")),
        ("list", ParsedCommand(Sub.LIST, option="open")),
        ("list OVERDUE", ParsedCommand(Sub.LIST, option="overdue")),
        ("show SR-12", ParsedCommand(Sub.SHOW, key=12)),
        ("show sr-3", ParsedCommand(Sub.SHOW, key=3)),
        ("show 7", ParsedCommand(Sub.SHOW, key=7)),
        ("take SR-12", ParsedCommand(Sub.TAKE, key=12)),
        ("assign SR-12 <@U123ABC|alice>", ParsedCommand(Sub.ASSIGN, key=12, user_id="U123ABC")),
        ("assign SR-12 <@U123ABC>", ParsedCommand(Sub.ASSIGN, key=12, user_id="U123ABC")),
        ("info SR-4 Which data &amp; where?", ParsedCommand(Sub.INFO, key=4, text="Which data & where?")),
        ("decide SR-12", ParsedCommand(Sub.DECIDE, key=12)),
        ("withdraw SR-2", ParsedCommand(Sub.WITHDRAW, key=2)),
        ("withdraw SR-2 postponed", ParsedCommand(Sub.WITHDRAW, key=2, text="postponed")),
        ("reopen SR-2 scope changed", ParsedCommand(Sub.REOPEN, key=2, text="scope changed")),
        ("roadmap", ParsedCommand(Sub.ROADMAP, number=8)),
        ("roadmap 12", ParsedCommand(Sub.ROADMAP, number=12)),
        ("metrics", ParsedCommand(Sub.METRICS, option="week")),
        ("metrics quarter", ParsedCommand(Sub.METRICS, option="quarter")),
        ("digest", ParsedCommand(Sub.DIGEST, option="preview")),
        ("digest post", ParsedCommand(Sub.DIGEST, option="post")),
        ("export", ParsedCommand(Sub.EXPORT, option="csv")),
        ("export json", ParsedCommand(Sub.EXPORT, option="json")),
        ("done 14", ParsedCommand(Sub.DONE, number=14)),
        ("waive #14 compensating control", ParsedCommand(Sub.WAIVE, number=14, text="compensating control")),
    ],
)
def test_parses(text: str, expected: ParsedCommand) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("frobnicate", "command.unknown", "/secreview help"),
        ("show", "command.missing_key", "SR-12"),
        ("show banana", "command.bad_key", "SR-12"),
        ("take SR-1 now", "command.extra_words", "only a review key"),
        ("assign SR-1", "command.missing_user", "@alice"),
        ("assign SR-1 bob", "command.bad_user", "@alice"),
        ("reopen SR-1", "command.missing_text", "reason"),
        ("list everything", "command.bad_option", "open, mine, overdue, decided, all"),
        ("roadmap 99", "command.bad_weeks", "1 to 52"),
        ("roadmap soon", "command.bad_weeks", "1 to 52"),
        ("metrics year", "command.bad_option", "week, month, quarter"),
        ("export xml", "command.bad_option", "csv, json"),
        ("done", "command.bad_condition", "12"),
        ("waive 3", "command.missing_text", "reason"),
        ("new " + "x" * 5000, "command.too_long", "4000"),
    ],
)
def test_mistakes_say_what_would_work(text: str, key: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(text)
    assert refused.value.key == key
    assert hint in refused.value.user_message


def test_unknown_subcommand_cannot_ping_anyone() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse("<!channel>")
    assert "<!channel>" not in refused.value.user_message
    assert "&lt;!channel&gt;" in refused.value.user_message


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parser_is_total(text: str) -> None:
    try:
        result = parse(text)
    except InvalidInput as refused:
        message = refused.user_message
        assert "<!" not in message and "<@" not in message and "<http" not in message
    else:
        assert isinstance(result.sub, Sub)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([s.value for s in Sub]), st.text(max_size=120))
def test_every_subcommand_with_any_argument_is_total(sub: str, rest: str) -> None:
    try:
        parse(f"{sub} {rest}")
    except InvalidInput as refused:
        assert refused.user_message
