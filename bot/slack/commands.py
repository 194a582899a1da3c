"""The `/secreview` text parser: pure, total (never raises anything but InvalidInput), fuzz-tested."""

from __future__ import annotations

import re
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
    ASSIGN = "assign"
    INFO = "info"
    DECIDE = "decide"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"
    ROADMAP = "roadmap"
    METRICS = "metrics"
    DIGEST = "digest"
    EXPORT = "export"
    DONE = "done"
    WAIVE = "waive"


LIST_FILTERS = ("open", "mine", "overdue", "decided", "all")
METRIC_PERIODS = ("week", "month", "quarter")
DIGEST_MODES = ("preview", "post")
EXPORT_FORMATS = ("csv", "json")
ALIASES = {"": Sub.HELP, "?": Sub.HELP, "ask": Sub.INFO, "approve": Sub.DECIDE, "ls": Sub.LIST}

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
    tokens = rest.split()
    first = tokens[0] if tokens else None
    after_first = rest[len(first):].strip() if first else ""

    if sub is Sub.HELP:
        return ParsedCommand(sub)
    if sub is Sub.NEW:
        return ParsedCommand(sub, text=unescape_slack(rest)[:200])
    if sub is Sub.LIST:
        return ParsedCommand(sub, option=_choice(sub, first, LIST_FILTERS, "open"))
    if sub in (Sub.SHOW, Sub.TAKE, Sub.DECIDE):
        if len(tokens) > 1:
            raise InvalidInput("command.extra_words", sub=sub.value, text=after_first[:40])
        return ParsedCommand(sub, key=_key(sub, first))
    if sub is Sub.ASSIGN:
        key = _key(sub, first)
        target = tokens[1] if len(tokens) > 1 else None
        if target is None:
            raise InvalidInput("command.missing_user", sub=sub.value)
        match = _MENTION.match(target) or _BARE_USER.match(target)
        if not match:
            raise InvalidInput("command.bad_user", text=unescape_slack(target)[:40])
        return ParsedCommand(sub, key=key, user_id=match.group(1))
    if sub in (Sub.INFO, Sub.REOPEN):
        key = _key(sub, first)
        if not after_first:
            raise InvalidInput("command.missing_text", sub=sub.value)
        return ParsedCommand(sub, key=key, text=unescape_slack(after_first))
    if sub is Sub.WITHDRAW:
        return ParsedCommand(sub, key=_key(sub, first), text=unescape_slack(after_first))
    if sub is Sub.ROADMAP:
        if first is None:
            return ParsedCommand(sub, number=8)
        if not first.isdigit() or not 1 <= int(first) <= 52:
            raise InvalidInput("command.bad_weeks", text=first[:20])
        return ParsedCommand(sub, number=int(first))
    if sub is Sub.METRICS:
        return ParsedCommand(sub, option=_choice(sub, first, METRIC_PERIODS, "week"))
    if sub is Sub.DIGEST:
        return ParsedCommand(sub, option=_choice(sub, first, DIGEST_MODES, "preview"))
    if sub is Sub.EXPORT:
        return ParsedCommand(sub, option=_choice(sub, first, EXPORT_FORMATS, "csv"))
    # DONE / WAIVE take a condition number (shown on the card as #12).
    # isascii: "²".isdigit() is True, but int("²") raises.
    digits = (first or "").lstrip("#")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        raise InvalidInput("command.bad_condition", sub=sub.value, text=(first or "")[:20])
    number = int(digits)
    if sub is Sub.WAIVE and not after_first:
        raise InvalidInput("command.missing_text", sub=sub.value)
    return ParsedCommand(sub, number=number, text=unescape_slack(after_first))
