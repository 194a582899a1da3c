"""How secreview says what is wrong with a setting: one line each, `VARIABLE: <value> is not <what is valid>`.

The words come from templates/messages_cli.toml; pydantic's own wording never reaches the user.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.common.render import has_message, raw_message


class SettingsError(Exception):
    """Settings are missing or malformed: one line per problem, each naming the variable and what is expected."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems


def shown(value: object) -> str:
    """A value as a settings message quotes it: numbers bare, text in quotes, cut short."""
    text = str(value).strip()
    if re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        return text
    return repr(text if len(text) <= 80 else text[:79] + "…")


def invalid(key: str, /, **params: Any) -> ValueError:
    """The error a validator raises: templates/messages_cli.toml [settings.invalid] `key`, values quoted."""
    quoted = {name: (shown(v) if name == "value" else v) for name, v in params.items()}
    return ValueError(raw_message(f"settings.invalid.{key}", **quoted))


def problem_line(field: str, problem: str) -> str:
    """One settings problem as secreview reports it: `VARIABLE: what is wrong` (each line of a problem that has
    several, such as a questionnaire's mistakes, names the variable)."""
    return "\n".join(raw_message("settings.line", name=field.upper(), problem=line)
                     for line in problem.splitlines() or [problem])


def setting_hint(name: str) -> str:
    """What a setting is for, from templates/messages_cli.toml [settings.hint] ("required here" without one)."""
    key = f"settings.hint.{name}"
    return raw_message(key) if has_message(key) else raw_message("settings.not_set_hint")


def not_set_line(name: str) -> str:
    """`VARIABLE is not set: what it is for`."""
    return raw_message("settings.not_set", name=name.upper(), hint=setting_hint(name))


def safe_database_url(value: str) -> str:
    """DATABASE_URL fit for a terminal or a log: the password, if any, replaced by ***."""
    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        # Unparsed, a password cannot be told apart: keep only what follows the last '@' (the host part).
        return "***@" + value.rpartition("@")[2] if "@" in value else value


def describe_error(settings_class: type[BaseSettings], error: ErrorDetails) -> str:
    """One of pydantic's errors as secreview says it: `VARIABLE: <value> is not <what a valid value is>`."""
    field = str(error["loc"][0]) if error["loc"] else "settings"
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "value_error":  # one of our validators: its message already says what is wrong
        return problem_line(field, str(context.get("error", error["msg"])))
    if kind == "missing":
        return not_set_line(field)
    info = settings_class.model_fields.get(field)
    value = raw_message("settings.hidden_value") if _is_secret(field) else shown(error["input"])
    expected = _expected(field, kind, info.annotation if info else None, context)
    if expected is None:
        return problem_line(field, raw_message("settings.unknown", value=value, detail=error["msg"]))
    bounds = {name: getattr(m, name) for m in (info.metadata if info else ()) for name in ("ge", "le", "gt", "lt")
              if getattr(m, name, None) is not None}
    crossed = {"greater_than_equal": ("at_least", "ge"), "less_than_equal": ("at_most", "le"),
               "greater_than": ("above", "gt"), "less_than": ("below", "lt")}
    if kind in crossed:
        key, bound = crossed[kind]
        problem = raw_message(f"settings.{key}", value=value, expected=expected, limit=context.get(bound))
    elif "ge" in bounds and "le" in bounds:
        problem = raw_message("settings.in_range", value=value, expected=expected, low=bounds["ge"], high=bounds["le"])
    elif bounds:  # a value that did not parse, for a field with one bound: say that bound
        key, bound = next((key, bound) for key, bound in crossed.values() if bound in bounds)
        problem = raw_message(f"settings.{key}", value=value, expected=expected, limit=bounds[bound])
    else:
        problem = raw_message("settings.not_valid", value=value, expected=expected)
    return problem_line(field, problem)


def _is_secret(field: str) -> bool:
    # Tokens, secrets and passwords are never echoed back, whatever field adds them.
    return any(word in field for word in ("token", "secret", "password", "database_url"))


def _expected(field: str, kind: str, annotation: Any, context: dict[str, Any]) -> str | None:
    # What a valid value is: the setting's own words, else by its type (a bound crossed), else by the error type.
    if has_message(f"settings.expected.{field}"):
        return raw_message(f"settings.expected.{field}")
    by_type = {int: "int_parsing", float: "float_parsing", bool: "bool_parsing"}.get(annotation)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than") and by_type:
        kind = by_type
    if not has_message(f"settings.kind.{kind}"):
        return None
    return raw_message(f"settings.kind.{kind}", choices=context.get("expected", ""))
