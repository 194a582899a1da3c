"""The subset of JQL the fake Jira understands: what secreview's poll and its duplicate check send, and a little more.

`clause (AND clause)* [ORDER BY field [ASC|DESC]]`, a clause being `field op value` with the operators =, !=, IN,
NOT IN, >, >=, <, <=, over project, key (issuekey), labels, status, statusCategory, assignee, created and updated.
Dates are relative ("-15m", "-2h", "-1d", "-1w") or absolute ("2026/12/01 10:00", "2026-12-01"). Anything else is
refused the way Jira refuses a query it cannot parse: HTTP 400 with "Error in the JQL Query: …".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIELDS = {"project", "key", "issuekey", "labels", "status", "statuscategory", "assignee", "created", "updated"}
DATE_FIELDS = {"created", "updated"}
TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|>=|<=|=|>|<|\(|\)|,)'
                   r'|(?P<word>[^\s=!<>(),"\']+))')
RELATIVE = re.compile(r"^([+-]?\d+)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class JqlError(ValueError):
    """The query cannot be parsed; the message is what Jira would say."""


@dataclass(frozen=True)
class Query:
    """A parsed query: issues match when every predicate holds; `order` sorts them."""

    predicates: tuple[Callable[[dict[str, Any]], bool], ...]
    order_field: str = "key"
    descending: bool = False

    def matches(self, issue: dict[str, Any]) -> bool:
        """Whether the issue (the fake's stored form) is selected."""
        return all(predicate(issue) for predicate in self.predicates)


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise JqlError(f"Error in the JQL Query: The character '{text[position]}' is a reserved JQL character.")
        position = match.end()
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.append((kind, value))
    return found


def parse(text: str, *, now: datetime | None = None) -> Query:
    """Parses the query; JqlError with Jira's wording when it is outside the subset."""
    now = now or datetime.now(UTC)
    tokens = _tokens(text)
    order_field, descending = "key", False
    lowered = [(k, v.lower()) for k, v in tokens]
    for i in range(len(lowered) - 1):
        if lowered[i] == ("word", "order") and lowered[i + 1] == ("word", "by"):
            rest = tokens[i + 2:]
            if not rest or rest[0][0] != "word":
                raise JqlError("Error in the JQL Query: Expecting a field name after 'ORDER BY'.")
            order_field = rest[0][1].lower()
            descending = len(rest) > 1 and rest[1][1].lower() == "desc"
            tokens = tokens[:i]
            break
    predicates = []
    position = 0
    while position < len(tokens):
        predicate, position = _clause(tokens, position, now)
        predicates.append(predicate)
        if position < len(tokens):
            if tokens[position][1].lower() != "and":
                raise JqlError(f"Error in the JQL Query: Expecting 'AND' but got '{tokens[position][1]}'.")
            position += 1
    return Query(tuple(predicates), order_field, descending)


def _clause(tokens: list[tuple[str, str]], position: int, now: datetime) -> tuple[Callable[[dict[str, Any]], bool],
                                                                                    int]:
    if position >= len(tokens) or tokens[position][0] != "word":
        raise JqlError("Error in the JQL Query: Expecting a field name.")
    field = tokens[position][1].lower()
    if field not in FIELDS:
        raise JqlError(f"Error in the JQL Query: Field '{tokens[position][1]}' does not exist or you do not have "
                       "permission to view it.")
    position += 1
    if position >= len(tokens):
        raise JqlError(f"Error in the JQL Query: Expecting an operator after '{field}'.")
    op = tokens[position][1].lower()
    if op == "not" and position + 1 < len(tokens) and tokens[position + 1][1].lower() == "in":
        op, position = "not in", position + 1
    if op not in ("=", "!=", ">", ">=", "<", "<=", "in", "not in"):
        raise JqlError(f"Error in the JQL Query: Expecting an operator but got '{tokens[position][1]}'.")
    position += 1
    values: list[str] = []
    if op in ("in", "not in"):
        if position >= len(tokens) or tokens[position][1] != "(":
            raise JqlError("Error in the JQL Query: Expecting '(' after IN.")
        position += 1
        while position < len(tokens) and tokens[position][1] != ")":
            if tokens[position][1] != ",":
                values.append(tokens[position][1])
            position += 1
        if position >= len(tokens):
            raise JqlError("Error in the JQL Query: Expecting ')' to close the list.")
        position += 1
    else:
        if position >= len(tokens) or tokens[position][0] == "op":
            raise JqlError(f"Error in the JQL Query: Expecting a value after '{op}'.")
        values.append(tokens[position][1])
        position += 1
    if field in DATE_FIELDS:
        if op not in (">", ">=", "<", "<=", "=", "!="):
            raise JqlError(f"Error in the JQL Query: The operator '{op}' is not supported by the '{field}' field.")
        return _date_predicate(field, op, _instant(values[0], now)), position
    if op in (">", ">=", "<", "<="):
        raise JqlError(f"Error in the JQL Query: The operator '{op}' is not supported by the '{field}' field.")
    wanted = {v.lower() for v in values}
    negate = op in ("!=", "not in")
    return (lambda issue: (bool(_values(issue, field) & wanted)) != negate), position


def _values(issue: dict[str, Any], field: str) -> set[str]:
    fields = issue["fields"]
    if field in ("key", "issuekey"):
        return {issue["key"].lower(), str(issue["id"])}
    if field == "project":
        return {fields["project"]["key"].lower(), str(fields["project"]["id"])}
    if field == "labels":
        return {label.lower() for label in fields.get("labels") or []}
    if field == "status":
        return {fields["status"]["name"].lower(), str(fields["status"]["id"])}
    if field == "statuscategory":
        category = fields["status"]["statusCategory"]
        return {category["key"].lower(), category["name"].lower(), str(category["id"])}
    if field == "assignee":
        assignee = fields.get("assignee")
        return {assignee["accountId"].lower(), assignee.get("emailAddress", "").lower()} if assignee else {"empty"}
    return set()


def _instant(value: str, now: datetime) -> datetime:
    relative = RELATIVE.match(value.strip())
    if relative:
        return now + timedelta(**{UNITS[relative.group(2)]: int(relative.group(1))})
    for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise JqlError(f"Error in the JQL Query: Date value '{value}' for field is invalid. Valid formats include: "
                   "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. "
                   "'-5d', '4w 2d'.")


def _date_predicate(field: str, op: str, at: datetime) -> Callable[[dict[str, Any]], bool]:
    compare: dict[str, Callable[[datetime], bool]] = {
        ">": lambda t: t > at, ">=": lambda t: t >= at, "<": lambda t: t < at, "<=": lambda t: t <= at,
        "=": lambda t: t == at, "!=": lambda t: t != at,
    }
    check = compare[op]
    return lambda issue: check(issue["_times"][field])
