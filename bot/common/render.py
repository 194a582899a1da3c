"""Jinja2 → Block Kit and text: every user-visible word lives in templates/, escaped for mrkdwn."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.common import numbers

# Slack's limits (https://api.slack.com/reference/block-kit): what we cut to instead of being refused.
LIMIT_SECTION_TEXT = 3000
LIMIT_HEADER = 150
LIMIT_BUTTON = 75
LIMIT_MODAL_TITLE = 24
LIMIT_CONTEXT_TEXT = 2000
LIMIT_OPTION_TEXT = 75
LIMIT_FALLBACK_TEXT = 4000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

_MRKDWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MRKDWN_RE = re.compile(r"[&<>]")


def escape_mrkdwn(value: object) -> str:
    """Neutralises &, < and > so user text can never become a ping (<!channel>, <@U…>) or a link."""
    return _MRKDWN_RE.sub(lambda m: _MRKDWN_ESCAPES[m.group(0)], str(value))


# Jira's wiki markup (REST v2 descriptions and comments): links [a|b], macros {x}, tables |, emphasis *_-+^~,
# mentions, images !x!, headings h1. and lists # at a line's start. A backslash makes each one plain text.
_JIRA_RE = re.compile(r"([\\\[\]{}|*_+^~!#\-])")


def escape_jira(value: object) -> str:
    """Neutralises Jira wiki markup so user text in an issue can never become a link, macro or mention."""
    return _JIRA_RE.sub(r"\\\1", "" if value is None else str(value))


def cut(value: object, limit: int) -> str:
    """Shortens text to `limit` characters, ending in an ellipsis, rather than have Slack refuse it."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    # Never cut an escape (&amp;) or a surrogate pair in half.
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:] and len(head) - amp < 5:
        head = head[:amp]
    return head.rstrip() + "…"


def _json_inner(value: object) -> str:
    # A JSON string literal without its quotes, so templates can write "text": "{{ x|md }}".
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


def _md(value: object, limit: int = LIMIT_SECTION_TEXT) -> str:
    """Filter for mrkdwn fields: escape, cut, JSON-encode."""
    # Escaping only grows text, so the first `limit` characters are all that can survive the cut.
    text = "" if value is None else str(value)
    return _json_inner(cut(escape_mrkdwn(text[: limit + 1]), limit))


def _pt(value: object, limit: int = LIMIT_SECTION_TEXT) -> str:
    """Filter for plain_text fields: cut and JSON-encode (Slack shows plain_text verbatim)."""
    return _json_inner(cut("" if value is None else value, limit))


def _json_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _fmt_date(value: date | datetime | None, fmt: str = "%d %b %Y") -> str:
    if value is None:
        return ""
    return value.strftime(fmt)


def _money(value: Decimal | float | int | None, currency: str = "EUR", locale: str | None = None) -> str:
    # One currency format everywhere: Babel's, for the configured locale (numbers.money).
    if value is None:
        return ""
    return numbers.money(Decimal(value), currency, locale)


def _slack_date(value: datetime | None, fallback_fmt: str = "%d %b %Y %H:%M UTC") -> str:
    # <!date^…> shows the reader's own time zone; the fallback is for clients that cannot.
    if value is None:
        return ""
    return f"<!date^{int(value.timestamp())}^{{date_short_pretty}} {{time}}|{value.strftime(fallback_fmt)}>"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment, loading templates from the `templates` package."""
    env = Environment(
        loader=PackageLoader("templates", ""),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        md=_md, pt=_pt, json=_json_value, cut=cut, esc=escape_mrkdwn,
        date=_fmt_date, money=_money, slackdate=_slack_date, jira=escape_jira,
    )
    env.globals.update(message=lambda message_key, **params: message(message_key, **params))
    return env


@lru_cache(maxsize=1)
def _catalog() -> dict[str, str]:
    # messages.toml and any messages_*.toml beside it, merged: one catalog of sentences.
    data: dict[str, Any] = {}
    for entry in sorted(resources.files("templates").iterdir(), key=lambda p: p.name):
        if entry.name.startswith("messages") and entry.name.endswith(".toml"):
            for section, values in tomllib.loads(entry.read_text(encoding="utf-8")).items():
                if isinstance(values, dict):
                    data.setdefault(section, {}).update(values)
                else:
                    data[section] = values
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            else:
                flat[f"{prefix}{key}"] = str(value)

    walk("", data)
    return flat


@lru_cache(maxsize=1)
def risk_labels() -> dict[str, str]:
    """Labels for risk reason codes ("personal data"), from templates/risk_reasons.toml."""
    text = resources.files("templates").joinpath("risk_reasons.toml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in tomllib.loads(text).items()}


@lru_cache(maxsize=512)
def _compiled(key: str) -> Any:
    return environment().from_string(_catalog()[key])


def message(key: str, /, **params: Any) -> str:
    """A short user-visible sentence from templates/messages.toml, with user values mrkdwn-escaped."""
    safe = {k: (escape_mrkdwn(v) if isinstance(v, str) else v) for k, v in params.items()}
    return str(_compiled(key).render(**safe))


def has_message(key: str) -> bool:
    """Whether the catalogue has a sentence for `key`."""
    return key in _catalog()


def raw_message(key: str, /, **params: Any) -> str:
    """Like message(), for plain_text surfaces (modal errors, CLI output): values are not escaped."""
    return str(_compiled(key).render(**params))


def config_error(key: str, /, **params: Any) -> ValueError:
    """A mistake in the configuration (SECREVIEW_CONFIG's tables, SECREVIEW_HOLIDAYS, ...) as the ValueError its
    validator raises: templates/messages_cli.toml [config.invalid] `key`. bot/intake and bot/common cannot reach
    bot/config's invalid(), so they word their mistakes here; values arrive already quoted."""
    return ValueError(raw_message(f"config.invalid.{key}", **params))


def render_json(template: str, /, **context: Any) -> Any:
    """Renders templates/<name>.json.j2 and parses it, so a template error is caught at once."""
    text = environment().get_template(f"{template}.json.j2").render(**context)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"template {template}.json.j2 rendered invalid JSON: {exc}\n{text[:2000]}") from exc


def render_text(template: str, /, **context: Any) -> str:
    """Renders templates/<name>.txt.j2 (plain-text fallbacks, CLI output)."""
    return environment().get_template(f"{template}.txt.j2").render(**context).strip()
