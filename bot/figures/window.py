"""The window a figure is computed over, and the arithmetic every figure shares.

A Window is one workspace's period [start, end) with the audit Log that rebuilds what reviews were at its end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.common.calendar import WorkCalendar, weekdays_only
from bot.figures.history import Log
from storage.models import Review

IN_CHUNK = 500  # ids per IN (...) list: far below every database's limit on bound parameters

# The review columns the figures read, as of today; history.Log turns them into values at an instant. The JSON
# lists (tags, regulations) are read only by the figures that need them: decoding them is most of a row's cost.
REVIEW_COLUMNS = (Review.id, Review.number, Review.title, Review.state, Review.announced_at, Review.due_at,
                  Review.first_response_due, Review.first_response_at, Review.go_live, Review.assignee_id)


@dataclass(frozen=True)
class Window:
    """One window of one workspace, with the audit log from (at least) its start on."""

    session: Session
    workspace_id: str
    start: datetime
    end: datetime
    tz: ZoneInfo
    log: Log
    calendar: WorkCalendar | None = None  # None: Monday to Friday in tz

    @property
    def work(self) -> WorkCalendar:
        """The calendar durations are counted in (public holidays and closing days left out)."""
        return self.calendar or weekdays_only(self.tz)

    def has(self, column: Any) -> tuple[Any, Any]:
        """The range predicate start <= column < end (on an indexed column)."""
        return column >= self.start, column < self.end

    @property
    def first_day(self) -> date:
        """The first local day of the window."""
        return self.start.astimezone(self.tz).date()

    @property
    def last_day(self) -> date:
        """The last local day the window covers (its end is exclusive)."""
        return (self.end - timedelta(microseconds=1)).astimezone(self.tz).date()

    def reviews(self, *where: Any, columns: Sequence[Any] = REVIEW_COLUMNS) -> list[Any]:
        """Today's rows of this workspace's reviews matching the conditions."""
        return list(self.session.execute(select(*columns).where(Review.workspace_id == self.workspace_id, *where)))

    def reviews_by_id(self, ids: Iterable[int], columns: Sequence[Any] = REVIEW_COLUMNS) -> Iterator[Any]:
        """Today's rows of these reviews of this workspace."""
        wanted = sorted(set(ids))
        for i in range(0, len(wanted), IN_CHUNK):
            # By primary key alone: with the workspace in the WHERE clause as well, SQLite may walk one of the
            # workspace's indexes (every review it has) instead; the workspace is checked on the rows found.
            query = select(Review.workspace_id, *columns).where(Review.id.in_(wanted[i : i + IN_CHUNK]))
            for row in self.session.execute(query):
                if row.workspace_id == self.workspace_id:
                    yield row


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation (as SQL's percentile_cont); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(part: int, whole: int) -> float | None:
    """part / whole; None when whole is 0."""
    return part / whole if whole else None
