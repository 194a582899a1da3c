"""Go-lives: how early security hears of a project, what went live reviewed (or not), and what goes live next.

Each figure is a function whose docstring is its definition (the README repeats them). A go-live date and a
review's state are read as of the period's end from the audit log (history.Log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.figures.periods import midnight
from bot.figures.window import Window
from bot.review.states import APPROVED_STATES, CLOSED_STATES, State
from storage.models import Review

UPCOMING_WEEKS = 4
LIST_CAP = 50  # lists in a report are capped (with their full count) so a report stays small

_CLOSED = {str(s) for s in CLOSED_STATES}
_APPROVED = {str(s) for s in APPROVED_STATES}
_LIVE = (Review.id, Review.number, Review.title, Review.state, Review.announced_at, Review.go_live)


def early_engagement_days(w: Window) -> list[float]:
    """Early engagement: calendar days from announcement (local date) to go-live; the median is reported.

    Reviews announced in the period with a go-live date on record at its end; left out: those withdrawn or
    closed as not a project by then. 0 when security hears of a project on the day it goes live.
    """
    days = []
    for row in w.reviews(*w.has(Review.announced_at), columns=(Review.id, Review.state, Review.announced_at,
                                                                Review.go_live)):
        if w.log.state_at(row.id, row.state, w.end) in _CLOSED:
            continue
        go_live = w.log.value_at(row.id, "go_live", row.go_live, w.end)
        if go_live is not None:
            days.append(float((go_live - row.announced_at.astimezone(w.tz).date()).days))
    return days


class Live(NamedTuple):
    """A project whose go-live date fell in the period, and where its review stood on that day."""

    key: str
    title: str
    go_live: date
    state: str | None  # at the end of the go-live day; None: security had not heard of it yet


@dataclass(frozen=True)
class WentLive:
    """The projects live in a period, by where their review stood at go-live."""

    reviewed: list[Live] = field(default_factory=list)
    without_decision: list[Live] = field(default_factory=list)
    despite_rejection: list[Live] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every project live in the period."""
        return len(self.reviewed) + len(self.without_decision) + len(self.despite_rejection)


def went_live(w: Window) -> WentLive:
    """Reviewed before go-live: of the projects whose go-live date fell in the period, those approved by then.

    The go-live date is the one on record at the period's end (in a period to date, up to today). Approved by
    then: approved or approved with conditions at the end of the go-live day (local time); a decision reopened
    before that does not count, and a rejection is not a review "before go-live". Named beside it: projects
    live without a decision (still open at go-live, or announced only after it) and live despite a rejection.
    Left out: reviews withdrawn or closed as not a project by the period's end, and those announced after it.
    """
    first, last = w.first_day, w.last_day
    rows = {row.id: row for row in w.reviews(Review.go_live >= first, Review.go_live <= last, columns=_LIVE)}
    # A go-live date changed since the period's end: the one it had then may have been in the period.
    moved = {rid for rid in w.log.reviews()
             if any("go_live" in c.before and c.at >= w.end for c in w.log.changes(rid))} - rows.keys()
    rows.update((row.id, row) for row in w.reviews_by_id(moved, _LIVE))
    result = WentLive()
    for row in sorted(rows.values(), key=lambda r: r.number):
        go_live = w.log.value_at(row.id, "go_live", row.go_live, w.end)
        if row.announced_at >= w.end or go_live is None or not first <= go_live <= last:
            continue
        if w.log.state_at(row.id, row.state, w.end) in _CLOSED:
            continue
        day_end = min(midnight(go_live + timedelta(days=1), w.tz), w.end)
        state = w.log.state_at(row.id, row.state, day_end) if row.announced_at < day_end else None
        live = Live(f"SR-{row.number}", row.title, go_live, state)
        if state in _APPROVED:
            result.reviewed.append(live)
        elif state == State.REJECTED:
            result.despite_rejection.append(live)
        else:
            result.without_decision.append(live)
    return result


class GoLive(NamedTuple):
    """An upcoming go-live and where its review stands."""

    key: str
    title: str
    go_live: date
    state: str
    risk_tier: str | None


def upcoming_go_lives(
    session: Session, workspace_id: str, *, now: datetime, tz: ZoneInfo, weeks: int = UPCOMING_WEEKS,
    limit: int = LIST_CAP,
) -> tuple[list[GoLive], int]:
    """Upcoming go-lives: projects going live from today (local) in the next four weeks, soonest first.

    A list of today, not a figure of the period: withdrawn and not-a-project left out; the first `limit` and
    the total.
    """
    today = now.astimezone(tz).date()
    where = (
        Review.workspace_id == workspace_id,
        Review.go_live >= today,
        Review.go_live < today + timedelta(weeks=weeks),
        Review.state.not_in(sorted(_CLOSED)),
    )
    total = session.scalar(select(func.count()).select_from(Review).where(*where)) or 0
    rows = session.execute(
        select(Review.number, Review.title, Review.go_live, Review.state, Review.risk_tier)
        .where(*where).order_by(Review.go_live, Review.number).limit(limit)
    ).all()
    return [GoLive(f"SR-{n}", t, g, s, r) for n, t, g, s, r in rows], total
