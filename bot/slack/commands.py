"""The `/secreview` grammar: one table of subcommands (arguments, who may use them, how their text is read) that
both the parser and `/secreview help` (and the sandbox's typing hint) are made from, so they cannot drift.

The parser is pure and total: it never raises anything but InvalidInput (fuzz-tested).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.review.errors import InvalidInput

MAX_COMMAND_TEXT = 4000


class Sub(StrEnum):
    HELP = "help"
    NEW = "new"
    LIST = "list"
    SHOW = "show"
    TAKE = "take"
    RELEASE = "release"
    ASSIGN = "assign"
    INFO = "info"
    DECIDE = "decide"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"
    DONE = "done"
    WAIVE = "waive"
    ROADMAP = "roadmap"
    METRICS = "metrics"
    DIGEST = "digest"
    EXPORT = "export"


LIST_FILTERS = ("open", "mine", "overdue", "decided", "all")
METRIC_PERIODS = ("week", "month", "quarter")
DIGEST_MODES = ("preview", "post")
EXPORT_FORMATS = ("csv", "json")
ALIASES = {"": Sub.HELP, "?": Sub.HELP, "ask": Sub.INFO, "approve": Sub.DECIDE, "ls": Sub.LIST}
# Who a subcommand is for, in the order help lists them.
AUDIENCES = ("everyone", "owners", "reviewers", "admins")

_KEY = re.compile(r"^(?:SR-?)?#?(\d{1,9})$", re.IGNORECASE)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_BARE_USER = re.compile(r"^@?([UW][A-Z0-9]{2,})$")


@dataclass(frozen=True)
class ParsedCommand:
    """What the user asked for, with its arguments checked."""

    sub: Sub
    key: int | None = None
    text: str = ""
    user_id: str | None = None
    option: str | None = None
    number: int | None = None


@dataclass(frozen=True)
class _Words:
    """The text after the subcommand's name: as typed, and split into words."""

    rest: str
    tokens: list[str]

    @property
    def first(self) -> str | None:
        return self.tokens[0] if self.tokens else None

    @property
    def after_first(self) -> str:
        return self.rest[len(self.tokens[0]):].strip() if self.tokens else ""


@dataclass(frozen=True)
class Command:
    """One subcommand: what help shows (its arguments, an example, who it is for) and how its text is read.

    `audience` is who help lists it for; the permission itself is checked by the change (bot/review), always.
    Its description is the sentence `help.command.<name>` in templates/messages_views.toml.
    """

    sub: Sub
    args: str
    audience: str
    read: Callable[[Sub, _Words], ParsedCommand]
    example: str = ""

    @property
    def usage(self) -> str:
        """`/secreview <name> <args>` as typed."""
        return f"/secreview {self.sub.value} {self.args}".rstrip()


def unescape_slack(text: str) -> str:
    """Undoes Slack's &amp; &lt; &gt; escaping of command text (we escape again on output)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _key(sub: Sub, token: str | None) -> int:
    if token is None:
        raise InvalidInput("command.missing_key", sub=sub.value)
    match = _KEY.match(token)
    if not match:
        raise InvalidInput("command.bad_key", sub=sub.value, text=token[:40])
    return int(match.group(1))


def _choice(sub: Sub, token: str | None, choices: tuple[str, ...], default: str) -> str:
    if token is None:
        return default
    value = token.lower()
    if value not in choices:
        raise InvalidInput("command.bad_option", sub=sub.value, text=token[:40], choices=", ".join(choices))
    return value


def _nothing(sub: Sub, words: _Words) -> ParsedCommand:
    return ParsedCommand(sub)


def _free_text(sub: Sub, words: _Words) -> ParsedCommand:
    return ParsedCommand(sub, text=unescape_slack(words.rest)[:200])


def _options(choices: tuple[str, ...], default: str) -> Callable[[Sub, _Words], ParsedCommand]:
    def read(sub: Sub, words: _Words) -> ParsedCommand:
        return ParsedCommand(sub, option=_choice(sub, words.first, choices, default))

    return read


def _key_only(sub: Sub, words: _Words) -> ParsedCommand:
    if len(words.tokens) > 1:
        raise InvalidInput("command.extra_words", sub=sub.value, text=words.after_first[:40])
    return ParsedCommand(sub, key=_key(sub, words.first))


def _key_and_user(sub: Sub, words: _Words) -> ParsedCommand:
    key = _key(sub, words.first)
    target = words.tokens[1] if len(words.tokens) > 1 else None
    if target is None:
        raise InvalidInput("command.missing_user", sub=sub.value)
    match = _MENTION.match(target) or _BARE_USER.match(target)
    if not match:
        raise InvalidInput("command.bad_user", text=unescape_slack(target)[:40])
    return ParsedCommand(sub, key=key, user_id=match.group(1))


def _key_and_text(required: bool) -> Callable[[Sub, _Words], ParsedCommand]:
    def read(sub: Sub, words: _Words) -> ParsedCommand:
        key = _key(sub, words.first)
        if required and not words.after_first:
            raise InvalidInput("command.missing_text", sub=sub.value)
        return ParsedCommand(sub, key=key, text=unescape_slack(words.after_first))

    return read


def _weeks(sub: Sub, words: _Words) -> ParsedCommand:
    first = words.first
    if first is None:
        return ParsedCommand(sub, number=8)
    if not first.isdigit() or not 1 <= int(first) <= 52:
        raise InvalidInput("command.bad_weeks", text=first[:20])
    return ParsedCommand(sub, number=int(first))


def _condition(needs_reason: bool) -> Callable[[Sub, _Words], ParsedCommand]:
    def read(sub: Sub, words: _Words) -> ParsedCommand:
        # A safeguard's number as the card shows it (#12). isascii: "²".isdigit() is True, but int("²") raises.
        first = words.first or ""
        digits = first.lstrip("#")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
            raise InvalidInput("command.bad_condition", sub=sub.value, text=first[:20])
        if needs_reason and not words.after_first:
            raise InvalidInput("command.missing_text", sub=sub.value)
        return ParsedCommand(sub, number=int(digits), text=unescape_slack(words.after_first))

    return read


COMMANDS: tuple[Command, ...] = (
    Command(Sub.HELP, "", "everyone", _nothing),
    Command(Sub.NEW, "[title]", "everyone", _free_text, "Payroll SaaS pilot"),
    Command(Sub.LIST, "[" + "|".join(LIST_FILTERS) + "]", "everyone", _options(LIST_FILTERS, "open"), "mine"),
    Command(Sub.SHOW, "SR-12", "everyone", _key_only),
    Command(Sub.ROADMAP, "[weeks]", "everyone", _weeks, "12"),
    Command(Sub.METRICS, "[" + "|".join(METRIC_PERIODS) + "]", "everyone", _options(METRIC_PERIODS, "week"),
            "month"),
    Command(Sub.DIGEST, "[" + "|".join(DIGEST_MODES) + "]", "everyone", _options(DIGEST_MODES, "preview")),
    Command(Sub.WITHDRAW, "SR-12 [reason]", "owners", _key_and_text(required=False), "SR-12 the project is off"),
    Command(Sub.DONE, "12", "owners", _condition(needs_reason=False)),
    Command(Sub.TAKE, "SR-12", "reviewers", _key_only),
    Command(Sub.RELEASE, "SR-12", "reviewers", _key_only),
    Command(Sub.ASSIGN, "SR-12 @user", "reviewers", _key_and_user),
    Command(Sub.INFO, "SR-12 <question>", "reviewers", _key_and_text(required=True),
            "SR-12 Which vendor hosts the data?"),
    Command(Sub.DECIDE, "SR-12", "reviewers", _key_only),
    Command(Sub.REOPEN, "SR-12 <reason>", "reviewers", _key_and_text(required=True),
            "SR-12 scope now includes card data"),
    Command(Sub.WAIVE, "12 <reason>", "reviewers", _condition(needs_reason=True), "12 compensating control in place"),
    Command(Sub.EXPORT, "[" + "|".join(EXPORT_FORMATS) + "]", "reviewers", _options(EXPORT_FORMATS, "csv")),
)
_BY_SUB = {command.sub: command for command in COMMANDS}
assert set(_BY_SUB) == set(Sub), "every subcommand needs its line in COMMANDS"


def parse(text: str | None) -> ParsedCommand:
    """Parses the text after `/secreview`; InvalidInput says what was wrong and what would work."""
    raw = (text or "").replace("\u00a0", " ").strip()
    if len(raw) > MAX_COMMAND_TEXT:
        raise InvalidInput("command.too_long", limit=MAX_COMMAND_TEXT)
    head, _, rest = raw.partition(" ")
    rest = rest.strip()
    name = head.lower()
    sub = ALIASES.get(name)
    if sub is None:
        try:
            sub = Sub(name)
        except ValueError:
            raise InvalidInput("command.unknown", text=unescape_slack(head)[:40]) from None
    return _BY_SUB[sub].read(sub, _Words(rest, rest.split()))


def usage_lines() -> list[str]:
    """Every subcommand as typed, in help's order (the sandbox's typing hint)."""
    return [command.usage.removeprefix("/secreview ") for audience in AUDIENCES for command in COMMANDS
            if command.audience == audience]
