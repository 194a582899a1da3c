"""Every figure of the digest, defined once, computed in SQL over a period's window as of its end.

The digest, `/secreview metrics`, App Home and the CLI all get them from `reports.compute()`. Each figure is
one function (here, in due.py for the backlog and the SLAs, in golive.py for go-lives) whose docstring is its
definition; `definitions()` gathers them for the README. Every query is a range predicate on an indexed column
(announced_at, decided_at, first_response_at, due_at, go_live, created_at, closed_at, audit `at`, or the open
states), so the cost follows the window, never the whole history. What a review was at the period's end (its
state, go-live date, due date, tags) is rebuilt from the audit log (history.Log), so a closed period's figures
never change. Medians and percentiles are taken in Python over the window's rows only: portable to SQLite, and
still bounded by the window.

Durations are measured in working time by the workspace's calendar (bot/common/calendar.py, Window.work): Monday
to Friday in its time zone, less public holidays and company closing days (the same rule as the SLA).
"""

from __future__ import annotations

import inspect
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.figures import due, golive
from bot.figures.periods import DAY, Period, shifted
from bot.figures.window import IN_CHUNK, Window, ratio
from bot.review.states import APPROVED_STATES, Outcome
from storage.models import AuditEvent, Condition, Decision, Review, Workspace

TREND_WINDOWS = 4  # trends compare a period with the average of this many before it
CENTS = Decimal("0.01")


def tracking_since(session: Session, workspace_id: str) -> datetime | None:
    """When the workspace started: its installation or its first audit event, whichever came first."""
    created = session.scalar(select(Workspace.created_at).where(Workspace.id == workspace_id))
    first = session.scalar(select(func.min(AuditEvent.at)).where(AuditEvent.workspace_id == workspace_id))
    known = [t for t in (created, first) if t is not None]
    return min(known) if known else None


def announced(w: Window) -> int:
    """Announced: reviews opened in the period (announced_at in it), whatever happened to them since."""
    where = (Review.workspace_id == w.workspace_id, *w.has(Review.announced_at))
    return w.session.scalar(select(func.count()).select_from(Review).where(*where)) or 0


def decided_by_outcome(w: Window) -> dict[str, int]:
    """Decided: decisions made in the period (decided_at in it), by outcome.

    A decision counts in the period it was made, even if the review was reopened later; a review decided
    again after a reopen counts once per decision.
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
    """Approval rate: (approved + approved with conditions) / decisions made in the period; none without one."""
    approved = sum(n for outcome, n in by_outcome.items() if outcome in APPROVED_STATES)
    return ratio(approved, sum(by_outcome.values()))


def first_response_hours(w: Window) -> list[float]:
    """Time to first response: working hours from announcement to the first response; median, p90 and n.

    Reviews first answered (taken, assigned, information asked, decided or closed as not a project) in the
    period; a review is answered once, so a reopen is not timed again.
    """
    rows = w.session.execute(
        select(Review.announced_at, Review.first_response_at)
        .where(Review.workspace_id == w.workspace_id, *w.has(Review.first_response_at))
    ).all()
    work = w.work
    return [work.working_seconds(a, r) / 3600 for a, r in rows]


def decision_days(w: Window) -> list[float]:
    """Time to decision: working days from announcement to a review's first decision; median, p90 and n.

    Reviews first decided in the period; a re-decision after a reopen is not timed again.
    """
    earlier = aliased(Decision)
    first = ~exists().where(earlier.review_id == Decision.review_id, earlier.id < Decision.id)
    rows = w.session.execute(
        select(Review.announced_at, Decision.decided_at)
        .join(Review, Review.id == Decision.review_id)
        .where(Decision.workspace_id == w.workspace_id, *w.has(Decision.decided_at), first)
    ).all()
    work = w.work
    return [work.working_seconds(a, d) / DAY for a, d in rows]


def conditions_opened(w: Window) -> int:
    """Conditions opened: safeguards a decision made in the period asked for (created_at in it)."""
    where = (Condition.workspace_id == w.workspace_id, *w.has(Condition.created_at))
    return w.session.scalar(select(func.count()).select_from(Condition).where(*where)) or 0


def conditions_closed(w: Window) -> int:
    """Conditions closed: safeguards marked done or waived in the period (closed_at in it)."""
    where = (Condition.workspace_id == w.workspace_id, *w.has(Condition.closed_at))
    return w.session.scalar(select(func.count()).select_from(Condition).where(*where)) or 0


def conditions_overdue_at(session: Session, workspace_id: str, at: datetime, tz: ZoneInfo) -> int:
    """Conditions overdue: safeguards open at the period's end whose due date (local) had passed by then.

    Due on the period's last day or earlier; open then: created before the end and not done or waived by it
    (closing one later does not change it).
    """
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
    """Savings: the estimated cost avoided recorded with decisions made in the period, per currency.

    Only decisions still in force at the period's end count: one reopened before then no longer does (its
    re-decision records its own estimate), so a reopened and re-decided review is never counted twice. Year
    to date: the same over 1 January to the period's end. Amounts in other currencies are never summed in.
    """
    rows = session.execute(
        select(Decision.review_id, Decision.decided_at, Decision.currency, Decision.cost_avoided, Review.decided_at)
        .join(Review, Review.id == Decision.review_id)
        .where(Decision.workspace_id == workspace_id, Decision.decided_at >= start, Decision.decided_at < end,
               Decision.cost_avoided.is_not(None))
    ).all()
    # In force today (the review's newest decision, never reopened) means in force at the end too; the others
    # were reopened at some point: when, the log says.
    reopened = sorted({rid for rid, decided, _, _, latest in rows if latest != decided})
    reopens: dict[int, list[datetime]] = {}
    for i in range(0, len(reopened), IN_CHUNK):
        for rid, at in session.execute(
            select(AuditEvent.review_id, AuditEvent.at).where(
                AuditEvent.review_id.in_(reopened[i : i + IN_CHUNK]), AuditEvent.action == "reopened")
        ):
            reopens.setdefault(rid, []).append(at)
    totals: dict[str, Decimal] = {}
    for rid, decided, currency, amount, _ in rows:
        if any(decided < at < end for at in reopens.get(rid, ())):
            continue
        totals[str(currency)] = totals.get(str(currency), Decimal(0)) + Decimal(amount)
    return {currency: total.quantize(CENTS) for currency, total in totals.items()}


class Trend(NamedTuple):
    """One technology tag: this period's count against the average of the periods before."""

    tag: str
    count: int
    average: float | None  # None: no earlier period to compare with
    change: float | None


def tag_trends(w: Window, period: Period, *, since: datetime | None) -> tuple[list[Trend], int]:
    """Trends: per technology tag, reviews announced in the period against the average of the four before.

    Tags as they were at the period's end. Only earlier periods the workspace existed in for their whole span
    are averaged (fewer than four for a young workspace, none in its first period); rising first.

    Returns the trends and how many earlier periods were averaged.
    """
    earlier = [shifted(period, -k, w.tz) for k in range(1, TREND_WINDOWS + 1)]
    earlier = [p for p in earlier if since is not None and since <= p.start]
    windows = [period, *earlier]
    rows = w.reviews(Review.announced_at >= windows[-1].start, Review.announced_at < period.end,
                     columns=(Review.id, Review.announced_at, Review.tags))
    counts = [Counter[str]() for _ in windows]
    for row in rows:
        tags = w.log.value_at(row.id, "tags", row.tags, w.end) if row.announced_at < w.end else row.tags
        for index, window in enumerate(windows):
            if window.start <= row.announced_at < window.end:
                counts[index].update({str(t) for t in (tags or [])})
                break
    trends = []
    for tag in set().union(*counts):
        if earlier:
            average = sum(c[tag] for c in counts[1:]) / len(earlier)
            trends.append(Trend(tag, counts[0][tag], average, counts[0][tag] - average))
        elif counts[0][tag]:
            trends.append(Trend(tag, counts[0][tag], None, None))
    return sorted(trends, key=lambda t: (-(t.change or 0), -t.count, t.tag)), len(earlier)


_REGULATION_EVENTS = ("announced", "intake_submitted", "announcement_edited", "decided")


def regulations_touched(w: Window) -> list[tuple[str, int]]:
    """Regulations touched: per regulation, the reviews announced or decided in the period that touch it.

    A decision made in the period counts with the regulations it recorded; a review announced in the period
    with those derived from its announcement and intake answers by the period's end.
    """
    per_review: dict[int, set[str]] = {}
    for review_id, regulations in w.session.execute(
        select(Decision.review_id, Decision.regulations)
        .where(Decision.workspace_id == w.workspace_id, *w.has(Decision.decided_at))
    ):
        per_review.setdefault(review_id, set()).update(str(r) for r in (regulations or []))
    announced_rows = w.reviews(*w.has(Review.announced_at), columns=(Review.id, Review.regulations))
    # A review announced in the period has its whole history before the end inside the period: the last event
    # that recorded regulations gives them as they were then.
    recorded: dict[int, list[str]] = {}
    events = w.session.execute(
        select(AuditEvent.seq, AuditEvent.review_id, AuditEvent.data["regulations"], AuditEvent.data["after"])
        .where(AuditEvent.workspace_id == w.workspace_id, *w.has(AuditEvent.at),
               AuditEvent.action.in_(_REGULATION_EVENTS))
    ).all()
    for _, review_id, regulations, after in sorted(events, key=lambda e: e[0]):  # in log order (history.Log)
        if isinstance(after, dict) and "regulations" in after:
            regulations = after["regulations"]
        if isinstance(regulations, list):
            recorded[review_id] = regulations
    for row in announced_rows:
        regulations = recorded.get(row.id, row.regulations)
        per_review.setdefault(row.id, set()).update(str(r) for r in (regulations or []))
    counts = Counter(r for regs in per_review.values() for r in regs)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def definitions() -> dict[str, str]:
    """Each figure's definition (its function's docstring), for the README and `--help`."""
    functions: dict[str, Any] = {
        "announced": announced,
        "decided": decided_by_outcome,
        "approval_rate": approval_rate,
        "time_to_first_response": first_response_hours,
        "time_to_decision": decision_days,
        "first_response_met": due.first_response_sla,
        "sla_met": due.sla,
        "early_engagement": golive.early_engagement_days,
        "reviewed_before_go_live": golive.went_live,
        "backlog": due.open_at,
        "overdue": due.overdue,
        "conditions_opened": conditions_opened,
        "conditions_closed": conditions_closed,
        "conditions_overdue": conditions_overdue_at,
        "trends": tag_trends,
        "savings": savings,
        "regulations": regulations_touched,
        "upcoming_go_lives": golive.upcoming_go_lives,
    }
    return {name: inspect.cleandoc(fn.__doc__ or "") for name, fn in functions.items()}
