"""A Jira issue as secreview reads it back (from a webhook or a search): its key, labels, status and who moved it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}-\d{1,12}$")
# Jira writes "2026-12-02T10:00:00.000+0000"; Python wants the offset with or without a colon, both fine here.
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


@dataclass(frozen=True)
class IssueState:
    """What secreview needs of an issue: is it done (status category "done"), since when, and by whom."""

    key: str
    labels: tuple[str, ...]
    status: str
    done: bool
    updated: datetime | None
    changed_by: str
    changed_by_account: str | None


def parse_time(value: Any) -> datetime | None:
    """Jira's timestamp as an aware datetime (None when missing or malformed)."""
    if not isinstance(value, str):
        return None
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _person(user: Any) -> tuple[str, str | None]:
    if not isinstance(user, dict):
        return "someone in Jira", None
    name = str(user.get("displayName") or user.get("name") or user.get("emailAddress") or "someone in Jira")
    account = user.get("accountId") or user.get("name")
    return name[:100], (str(account)[:128] if account else None)


def _last_status_author(issue: dict[str, Any]) -> Any:
    histories = ((issue.get("changelog") or {}).get("histories")) or []
    for history in reversed(histories):
        if any(item.get("field") == "status" for item in history.get("items") or []):
            return history.get("author")
    return None


def from_issue(issue: Any, *, user: Any = None) -> IssueState | None:
    """Reads a raw issue (GET /issue shape); `user` is who caused a webhook. None when it is not an issue."""
    if not isinstance(issue, dict) or not isinstance(issue.get("fields"), dict):
        return None
    key = str(issue.get("key") or "")
    if not KEY.match(key):
        return None
    fields = issue["fields"]
    status = fields.get("status") if isinstance(fields.get("status"), dict) else {}
    category = status.get("statusCategory") if isinstance(status.get("statusCategory"), dict) else {}
    labels = tuple(str(x) for x in fields.get("labels") or [] if isinstance(x, str))
    name, account = _person(user if user is not None else _last_status_author(issue))
    return IssueState(key=key, labels=labels, status=str(status.get("name") or "?")[:64],
                      done=category.get("key") == "done", updated=parse_time(fields.get("updated")),
                      changed_by=name, changed_by_account=account)
