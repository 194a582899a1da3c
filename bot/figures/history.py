"""Reviews as they stood at an instant, rebuilt from the append-only audit log.

The reviews table holds today's values; a figure of a past period needs the values of its end. Every change
appends an audit event that carries the state before it (from_state) and, where a change replaces a go-live
date, a due date or the tags, the value it replaced (`data["before"]`). So a review's value at an instant is the
one the first change after that instant replaced, or today's when nothing changed it since. A Log holds a
workspace's events from one instant on (one indexed range query) and answers for any instant after it.

Events written before a change recorded what it replaced read as "unchanged" (today's value).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent

# Values a change records as replaced (data["before"]), parsed back from the log's JSON.
TRACKED = ("go_live", "due_at", "tags", "regulations")
# The changes that record what they replaced: the intake (go-live), an applied announcement edit, a reopen.
RECORDING_ACTIONS = ("intake_submitted", "announcement_edited", "reopened")


class Change(NamedTuple):
    """One audit event of a review: when, what, the state before and after, the values it replaced."""

    seq: int
    at: datetime
    action: str
    from_state: str | None
    to_state: str | None
    before: dict[str, Any]


def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


_PARSERS = {"go_live": _day, "due_at": _instant, "tags": list, "regulations": list}


def parse_before(raw: Any) -> dict[str, Any]:
    """The tracked values an event's data["before"] holds, typed (a date, an instant, lists)."""
    if not isinstance(raw, dict):
        return {}
    return {key: _PARSERS[key](raw[key]) if raw[key] is not None else None for key in TRACKED if key in raw}


class Log:
    """A workspace's audit events from `since` on, per review, in log order."""

    def __init__(self, session: Session, workspace_id: str, since: datetime) -> None:
        self.since = since
        self._changes: dict[int, list[Change]] = defaultdict(list)
        # Only the changes that replace a tracked value carry data["before"]: the others skip the JSON entirely.
        before = case((AuditEvent.action.in_(RECORDING_ACTIONS), AuditEvent.data["before"]), else_=None)
        rows = session.execute(
            select(AuditEvent.review_id, AuditEvent.seq, AuditEvent.at, AuditEvent.action, AuditEvent.from_state,
                   AuditEvent.to_state, before)
            .where(AuditEvent.workspace_id == workspace_id, AuditEvent.at >= since,
                   AuditEvent.review_id.is_not(None))
        )
        # Sorted here, not by the database: asked for ORDER BY seq, a planner may walk the (workspace, seq)
        # index over the whole log instead of the range on `at`.
        for review_id, seq, at, action, from_state, to_state, before in sorted(rows, key=lambda r: r[1]):
            self._changes[review_id].append(Change(seq, at, action, from_state, to_state, parse_before(before)))

    def _check(self, at: datetime) -> None:
        if at < self.since:
            raise ValueError(f"the log starts at {self.since.isoformat()}, not early enough for {at.isoformat()}")

    def changes(self, review_id: int) -> list[Change]:
        """The review's changes from `since` on, oldest first."""
        return self._changes.get(review_id, [])

    def reviews(self) -> Iterable[int]:
        """Every review with a change from `since` on."""
        return self._changes.keys()

    def changed_since(self, at: datetime) -> set[int]:
        """The reviews with any change at or after the instant."""
        self._check(at)
        return {rid for rid, changes in self._changes.items() if changes[-1].at >= at}

    def state_at(self, review_id: int, current: str, at: datetime, *, inclusive: bool = False) -> str | None:
        """The review's state at the instant (after the changes at it too when inclusive); None before it existed.

        The first change after the instant started from the state the review then had (an announcement
        starts from nothing); with no change since, the state is today's.
        """
        self._check(at)
        for change in self._changes.get(review_id, ()):
            if change.at > at or (change.at == at and not inclusive):
                return change.from_state
        return current

    def state_if_changed(self, review_id: int, at: datetime) -> tuple[bool, str | None]:
        """(True, the state at the instant) when a change since tells it; (False, None) when today's state does."""
        self._check(at)
        for change in self._changes.get(review_id, ()):
            if change.at >= at:
                return True, change.from_state
        return False, None

    def value_at(self, review_id: int, key: str, current: Any, at: datetime) -> Any:
        """A tracked value (go_live, due_at, tags, regulations) at the instant: what the next change replaced."""
        self._check(at)
        for change in self._changes.get(review_id, ()):
            if change.at >= at and key in change.before:
                return change.before[key]
        return current

    def reopens(self) -> Iterator[tuple[int, Change]]:
        """Every reopen from `since` on, with its review."""
        for review_id, changes in self._changes.items():
            for change in changes:
                if change.action == "reopened":
                    yield review_id, change

    def first_at(self, review_id: int, actions: Iterable[str], after: datetime) -> datetime | None:
        """When the review first had one of these changes at or after the instant (None: not since)."""
        wanted = set(actions)
        return next((c.at for c in self._changes.get(review_id, ()) if c.at >= after and c.action in wanted), None)
