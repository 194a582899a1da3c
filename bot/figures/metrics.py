"""Every figure of the digest, defined once, computed in SQL over a period's window.

The digest, `/secreview metrics`, App Home and the CLI all get them from `reports.compute()`. Each figure is
one function below whose docstring is its definition. Every query is a range predicate on an indexed
column (announced_at, decided_at, first_response_at, go_live, created_at, closed_at, audit `at`, or
the open states), so the cost follows the window, never the whole history. Medians and percentiles
are taken in Python over the window's rows only: portable to SQLite, and still bounded by the window.

Durations are measured in working time by the workspace's calendar (bot/common/calendar.py): Monday to Friday in
its time zone, less public holidays and company closing days (the same rule as the SLA).
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.common.calendar import WorkCalendar, weekdays_only
from bot.figures.periods import DAY, Period, midnight, period_for, shift_start, shifted, unit_start
from bot.review.states import APPROVED_STATES, CLOSED_STATES, OPEN_STATES, Outcome
from storage.models import AuditEvent, Condition, Decision, Review

TREND_WINDOWS = 4  # trends compare a period with the average of this many before it
UPCOMING_WEEKS = 4
LIST_CAP = 50  # lists in a Report are capped (with their full count) so a report stays small


# ---------------------------------------------------------------------------------------- arithmetic


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


# --------------------------------------------------------------------------------------- the figures


class Window(NamedTuple):
    """One window of one workspace, as the figure functions take it."""

    session: Session
    workspace_id: str
    start: datetime
    end: datetime
    tz: ZoneInfo
    calendar: WorkCalendar | None = None  # None: Monday to Friday in tz

    @property
    def work(self) -> WorkCalendar:
        """The calendar durations are counted in."""
        return self.calendar or weekdays_only(self.tz)


    def has(self, column: Any) -> tuple[Any, Any]:
        """The range predicate start <= column < end (on an indexed column)."""
        return column >= self.start, column < self.end


def announced(w: Window) -> int:
    """Announced: reviews opened in the window (announced_at in it), whatever their state now."""
    where = (Review.workspace_id == w.workspace_id, *w.has(Review.announced_at))
    return w.session.scalar(select(func.count()).select_from(Review).where(*where)) or 0


def decided_by_outcome(w: Window) -> dict[str, int]:
    """Decided: decisions recorded in the window (decided_at in it), by outcome.

    A review decided again after a reopen counts once per decision.
    """
    rows = w.session.execute(
        select(Decision.outcome, func.count())
        .where(Decision.workspace_id == w.workspace_id, *w.has(Decision.decided_at))
        .group_by(Decision.outcome)
    ).all()
    counts = {str(outcome): 0 for outcome in Outcome}
    counts.update({str(outcome): int(n) for outcome, n in rows})
    return counts


def approval_rate(by_outcome: dict[str, int]) -> float | None:
    """Approval rate: (approved + approved with conditions) / decided; None when nothing was decided."""
    approved = sum(n for outcome, n in by_outcome.items() if outcome in APPROVED_STATES)
    return ratio(approved, sum(by_outcome.values()))


def first_response_hours(w: Window) -> list[float]:
    """Time to first response: working hours from announcement to the first response.

    Reviews first answered (taken, assigned, info asked, decided or closed) in the window; median and
    90th percentile are reported.
    """
    rows = w.session.execute(
        select(Review.announced_at, Review.first_response_at)
        .where(Review.workspace_id == w.workspace_id, *w.has(Review.first_response_at))
    ).all()
    work = w.work
    return [work.working_seconds(a, r) / 3600 for a, r in rows]


class _DecisionRow(NamedTuple):
    decided_at: datetime
    announced_at: datetime
    due_at: datetime
    review_decided_at: datetime | None
    first: bool


def decision_rows(w: Window) -> list[_DecisionRow]:
    """The window's decisions with their review's dates, and whether each was the review's first."""
    # One query serves time to decision and SLA met: the window's decisions with their review.
    earlier = aliased(Decision)
    first = ~exists().where(earlier.review_id == Decision.review_id, earlier.id < Decision.id)
    rows = w.session.execute(
        select(Decision.decided_at, Review.announced_at, Review.due_at, Review.decided_at, first)
        .join(Review, Review.id == Decision.review_id)
        .where(Decision.workspace_id == w.workspace_id, *w.has(Decision.decided_at))
    ).all()
    return [_DecisionRow(d, a, due, rd, bool(f)) for d, a, due, rd, f in rows]


def decision_days(rows: Iterable[_DecisionRow], calendar: WorkCalendar) -> list[float]:
    """Time to decision: working days from announcement to a review's first decision.

    Reviews first decided in the window (a re-decision after a reopen is not timed again); median and
    90th percentile are reported.
    """
    return [calendar.working_seconds(r.announced_at, r.decided_at) / DAY for r in rows if r.first]


def sla_met(rows: Iterable[_DecisionRow]) -> tuple[int, int]:
    """SLA met: the share of the window's decisions made by the review's due date.

    Only decisions still in force count (a reopen sets a fresh due date, judged at the next decision).
    """
    in_force = [r for r in rows if r.review_decided_at == r.decided_at]
    return sum(1 for r in in_force if r.decided_at <= r.due_at), len(in_force)


def early_engagement_days(w: Window) -> list[float]:
    """Early engagement: calendar days from announcement (local date) to go-live; the median is reported.

    Reviews announced in the window with a go-live date (withdrawn and not-a-project left out); negative
    when security heard of the project after its launch.
    """
    rows = w.session.execute(
        select(Review.announced_at, Review.go_live)
        .where(Review.workspace_id == w.workspace_id, *w.has(Review.announced_at))
        .where(Review.go_live.is_not(None), Review.state.not_in([str(s) for s in CLOSED_STATES]))
    ).all()
    return [float((go_live - a.astimezone(w.tz).date()).days) for a, go_live in rows]


def reviewed_before_go_live(w: Window) -> tuple[int, int]:
    """Reviewed before go-live: the share of projects live in the window that were decided by then.

    Projects whose go-live date falls in the window (and has come), withdrawn and not-a-project left
    out; decided means a decision in force dated on or before the go-live date (local).
    """
    first_day = w.start.astimezone(w.tz).date()
    after_last = (w.end - timedelta(microseconds=1)).astimezone(w.tz).date() + timedelta(days=1)
    rows = w.session.execute(
        select(Review.go_live, Review.decided_at).where(
            Review.workspace_id == w.workspace_id,
            Review.go_live >= first_day,
            Review.go_live < after_last,
            Review.state.not_in([str(s) for s in CLOSED_STATES]),
        )
    ).all()
    # A go-live later than the end of a period to date has not happened yet.
    now_day = w.end.astimezone(w.tz).date()
    live = [(g, d) for g, d in rows if g <= now_day]
    before = sum(1 for g, d in live if d is not None and d.astimezone(w.tz).date() <= g)
    return before, len(live)


class OpenReview(NamedTuple):
    """A review that was open at an instant."""

    key: str
    title: str
    due_at: datetime
    assignee_id: str | None


def open_at(session: Session, workspace_id: str, at: datetime) -> list[OpenReview]:
    """Backlog: reviews open (announced, in review, needs info) at the instant (the period's end).

    Rebuilt from the append-only audit log since then, so a past period's backlog stays what it was.
    """
    open_states = [str(s) for s in OPEN_STATES]
    # Candidates: open now (the state index: the backlog, not the history), decided since, or changed since
    # (ranges from `at` on). The audit log is append-only, so it tells the state at `at`: the from_state of
    # the first change after it. Three queries merged here, so no planner is tempted to walk every review
    # announced before `at`.
    columns = (Review.id, Review.number, Review.title, Review.due_at, Review.assignee_id, Review.state,
               Review.decided_at, Review.announced_at)
    since = (AuditEvent.workspace_id == workspace_id, AuditEvent.at >= at)
    first_change = (
        select(AuditEvent.review_id, func.min(AuditEvent.seq).label("seq"))
        .where(*since, AuditEvent.review_id.is_not(None), AuditEvent.from_state.is_not(None))
        .group_by(AuditEvent.review_id)
        .subquery()
    )
    then = (
        select(AuditEvent.review_id, AuditEvent.from_state)
        .join(first_change, and_(AuditEvent.review_id == first_change.c.review_id,
                                 AuditEvent.seq == first_change.c.seq))
        .where(AuditEvent.workspace_id == workspace_id)
        .subquery()
    )
    candidates: dict[int, Any] = {}
    for query in (
        select(*columns).where(Review.workspace_id == workspace_id, Review.state.in_(open_states)),
        select(*columns).where(Review.workspace_id == workspace_id, Review.decided_at >= at),
    ):
        candidates.update((row.id, row) for row in session.execute(query))
    state_then: dict[int, str] = {}
    for row in session.execute(select(*columns, then.c.from_state).join(then, then.c.review_id == Review.id)):
        candidates[row.id] = row
        state_then[row.id] = row.from_state
    result = []
    for row in candidates.values():
        if row.announced_at >= at:
            continue
        if row.id in state_then:
            state_at = state_then[row.id]
        elif row.decided_at is not None and row.decided_at >= at:
            state_at = "in_review"  # decided since, with no audit row: it was still undecided then
        else:
            state_at = row.state
        if state_at in open_states:
            result.append(OpenReview(f"SR-{row.number}", row.title, row.due_at, row.assignee_id))
    return sorted(result, key=lambda r: int(r.key[3:]))


def overdue(reviews: Iterable[OpenReview], at: datetime) -> list[OpenReview]:
    """Overdue: reviews open at the instant whose SLA due date had passed, oldest due first."""
    return sorted((r for r in reviews if r.due_at < at), key=lambda r: (r.due_at, r.key))


def conditions_opened(w: Window) -> int:
    """Conditions opened: safeguards created in the window (created_at in [start, end))."""
    where = (Condition.workspace_id == w.workspace_id, *w.has(Condition.created_at))
    return w.session.scalar(select(func.count()).select_from(Condition).where(*where)) or 0


def conditions_closed(w: Window) -> int:
    """Conditions closed: safeguards marked done or waived in the window (closed_at in [start, end))."""
    where = (Condition.workspace_id == w.workspace_id, *w.has(Condition.closed_at))
    return w.session.scalar(select(func.count()).select_from(Condition).where(*where)) or 0


def conditions_overdue_at(session: Session, workspace_id: str, at: datetime, tz: ZoneInfo) -> int:
    """Conditions overdue: safeguards still open at the instant whose due date (local) was before that day."""
    day = at.astimezone(tz).date()
    still_open = select(func.count()).select_from(Condition).where(
        Condition.workspace_id == workspace_id, Condition.state == "open",
        Condition.due_date < day, Condition.created_at < at,
    )
    # Closed since: a range on closed_at; created_at is checked on those few rows, so no planner picks the
    # created_at index (every condition ever created before the instant) instead.
    closed_since = session.scalars(
        select(Condition.created_at).where(
            Condition.workspace_id == workspace_id, Condition.closed_at >= at, Condition.due_date < day
        )
    ).all()
    return (session.scalar(still_open) or 0) + sum(1 for created in closed_since if created < at)


def savings(session: Session, workspace_id: str, start: datetime, end: datetime) -> dict[str, Decimal]:
    """Savings: the estimated cost avoided recorded with decisions made in [start, end), per currency."""
    rows = session.execute(
        select(Decision.currency, func.sum(Decision.cost_avoided)).where(
            Decision.workspace_id == workspace_id, Decision.decided_at >= start, Decision.decided_at < end,
            Decision.cost_avoided.is_not(None),
        ).group_by(Decision.currency)
    ).all()
    cents = Decimal("0.01")
    return {str(currency): Decimal(total).quantize(cents) for currency, total in rows if total is not None}


class Trend(NamedTuple):
    """One technology tag: this period's count against the average of the four before."""

    tag: str
    count: int
    avg_prev4: float
    change: float


def tag_trends(session: Session, workspace_id: str, period: Period, tz: ZoneInfo) -> list[Trend]:
    """Trends: per technology tag, reviews announced in the period against the previous four periods.

    The change is this period's count minus the average of the four before (same span); rising first.
    """
    windows = [period] + [shifted(period, -k, tz) for k in range(1, TREND_WINDOWS + 1)]
    rows = session.execute(
        select(Review.announced_at, Review.tags).where(
            Review.workspace_id == workspace_id, Review.announced_at >= windows[-1].start,
            Review.announced_at < period.end,
        )
    ).all()
    counts = [Counter[str]() for _ in windows]
    for announced_at, tags in rows:
        for index, window in enumerate(windows):
            if window.start <= announced_at < window.end:
                counts[index].update({str(t) for t in (tags or [])})
                break
    trends = []
    for tag in set().union(*counts):
        average = sum(c[tag] for c in counts[1:]) / TREND_WINDOWS
        trends.append(Trend(tag, counts[0][tag], average, counts[0][tag] - average))
    return sorted(trends, key=lambda t: (-t.change, -t.count, t.tag))


def regulations_touched(w: Window) -> list[tuple[str, int]]:
    """Regulations touched: per regulation, the reviews announced or decided in the window that touch it."""
    announced_rows = w.session.execute(
        select(Review.id, Review.regulations)
        .where(Review.workspace_id == w.workspace_id, *w.has(Review.announced_at))
    ).all()
    decided_rows = w.session.execute(
        select(Decision.review_id, Decision.regulations)
        .where(Decision.workspace_id == w.workspace_id, *w.has(Decision.decided_at))
    ).all()
    per_review: dict[int, set[str]] = {}
    for review_id, regulations in [*announced_rows, *decided_rows]:
        per_review.setdefault(review_id, set()).update(str(r) for r in (regulations or []))
    counts = Counter(r for regs in per_review.values() for r in regs)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


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

    Withdrawn and not-a-project left out; returns the first `limit` and the total.
    """
    today = now.astimezone(tz).date()
    where = (
        Review.workspace_id == workspace_id,
        Review.go_live >= today,
        Review.go_live < today + timedelta(weeks=weeks),
        Review.state.not_in([str(s) for s in CLOSED_STATES]),
    )
    total = session.scalar(select(func.count()).select_from(Review).where(*where)) or 0
    rows = session.execute(
        select(Review.number, Review.title, Review.go_live, Review.state, Review.risk_tier)
        .where(*where).order_by(Review.go_live, Review.number).limit(limit)
    ).all()
    return [GoLive(f"SR-{n}", t, g, s, r) for n, t, g, s, r in rows], total


def weekly_series(
    session: Session, workspace_id: str, *, end: datetime, tz: ZoneInfo, weeks: int = 12
) -> list[tuple[date, int, int]]:
    """The chart's series: per local week ending at `end`, reviews announced and decisions made."""
    last = period_for("week", now=end - timedelta(microseconds=1), tz=tz, which="this")
    starts = [shift_start("week", last.local_start(tz), -k) for k in range(weeks - 1, -1, -1)]
    bounds = [midnight(s, tz) for s in starts]
    begin = bounds[0]
    announced_at = session.scalars(
        select(Review.announced_at).where(
            Review.workspace_id == workspace_id, Review.announced_at >= begin, Review.announced_at < end
        )
    ).all()
    decided_at = session.scalars(
        select(Decision.decided_at).where(
            Decision.workspace_id == workspace_id, Decision.decided_at >= begin, Decision.decided_at < end
        )
    ).all()

    def bucket(instants: Iterable[datetime]) -> Counter[date]:
        return Counter(unit_start("week", i.astimezone(tz).date()) for i in instants)

    a, d = bucket(announced_at), bucket(decided_at)
    return [(s, a[s], d[s]) for s in starts]


def definitions() -> dict[str, str]:
    """Each figure's definition (its function's docstring), for the README and `--help`."""
    functions = {
        "announced": announced,
        "decided": decided_by_outcome,
        "approval_rate": approval_rate,
        "time_to_first_response": first_response_hours,
        "time_to_decision": decision_days,
        "sla_met": sla_met,
        "early_engagement": early_engagement_days,
        "reviewed_before_go_live": reviewed_before_go_live,
        "backlog": open_at,
        "overdue": overdue,
        "conditions_opened": conditions_opened,
        "conditions_closed": conditions_closed,
        "conditions_overdue": conditions_overdue_at,
        "trends": tag_trends,
        "savings": savings,
        "regulations": regulations_touched,
        "upcoming_go_lives": upcoming_go_lives,
    }
    return {name: inspect.cleandoc(fn.__doc__ or "") for name, fn in functions.items()}
