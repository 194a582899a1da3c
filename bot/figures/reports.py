"""A period's report: its headline figures beside the previous period's, and the lists behind the digest.

The digest, `/secreview metrics`, App Home and the CLI all call `compute()` (App Home `home_figures()`);
every figure in a report is defined once (metrics.py, due.py, golive.py). Everything is as of the period's end:
one read of the audit log from the previous period's start on rebuilds what the reviews were then.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.common.calendar import WorkCalendar, weekdays_only
from bot.figures import due, golive, metrics
from bot.figures.golive import LIST_CAP, GoLive, Live
from bot.figures.history import Log
from bot.figures.metrics import Trend
from bot.figures.periods import DAY, Period, midnight, shifted
from bot.figures.window import Window, percentile, ratio
from bot.review.states import DECIDED_STATES
from storage.models import Review

OVERDUE_NAMED = 5
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Figures:
    """The headline figures of one window: what is compared period over period."""

    announced: int
    decided: int
    decided_by_outcome: dict[str, int]
    approval_rate: float | None
    first_response_median_hours: float | None
    first_response_p90_hours: float | None
    first_response_n: int
    decision_median_days: float | None
    decision_p90_days: float | None
    decision_n: int
    sla_met: int
    sla_due: int
    sla_undecided: int
    sla_met_rate: float | None
    first_response_met: int
    first_response_due: int
    first_response_met_rate: float | None
    early_engagement_median_days: float | None
    early_engagement_n: int
    went_live: int
    reviewed_before_go_live: int
    reviewed_before_go_live_rate: float | None
    live_without_decision: int
    live_despite_rejection: int
    backlog_end: int
    overdue_count: int
    conditions_opened: int
    conditions_closed: int
    conditions_overdue: int
    savings_period: Decimal


@dataclass(frozen=True)
class Report(Figures):
    """Every digest figure for a period, the previous period's figures, and the lists behind them."""

    period: Period
    previous_period: Period
    previous: Figures
    comparable: bool  # the workspace existed for the whole previous period: changes mean something
    tracking_since: datetime | None
    overdue_oldest: list[tuple[str, str, int]]  # (key, title, days overdue)
    live_without_decision_named: list[Live]
    live_despite_rejection_named: list[Live]
    trends: list[Trend]
    trend_periods: int  # earlier periods the trends average (0: the workspace's first period)
    savings_ytd: Decimal
    currency: str
    savings_other: dict[str, Decimal]  # amounts recorded in other currencies this period, never summed in
    regulations: list[tuple[str, int]]
    upcoming_go_lives: list[GoLive]
    upcoming_total: int
    timezone: str
    generated_at: datetime
    # What working time left out besides weekends, so the digest can say what its durations count.
    holidays: str | None = None
    closing_days: bool = False
    # Decided reviews whose announcement changed materially since (a list of today, like upcoming go-lives:
    # the flag is cleared on reopen, so a past period cannot be rebuilt from it): (key, title), and the total.
    changed_since_decision: list[tuple[str, str]] = field(default_factory=list)
    changed_since_decision_total: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (Decimals as strings, instants in ISO 8601)."""
        return jsonable(asdict(self))


def jsonable(value: Any) -> Any:
    """Decimals as strings, dates and instants in ISO 8601, tuples and named tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    return value


@dataclass(frozen=True)
class _Measured:
    figures: Figures
    live: golive.WentLive
    backlog: list[due.OpenReview]


def _measure(w: Window, *, currency: str) -> _Measured:
    by_outcome = metrics.decided_by_outcome(w)
    response = metrics.first_response_hours(w)
    days = metrics.decision_days(w)
    engagement = golive.early_engagement_days(w)
    decisions_due = due.sla(w)
    responses_due = due.first_response_sla(w)
    live = golive.went_live(w)
    backlog = due.open_at(w)
    figures = Figures(
        announced=metrics.announced(w),
        decided=sum(by_outcome.values()),
        decided_by_outcome=by_outcome,
        approval_rate=metrics.approval_rate(by_outcome),
        first_response_median_hours=percentile(response, 0.5),
        first_response_p90_hours=percentile(response, 0.9),
        first_response_n=len(response),
        decision_median_days=percentile(days, 0.5),
        decision_p90_days=percentile(days, 0.9),
        decision_n=len(days),
        sla_met=decisions_due.met,
        sla_due=decisions_due.due,
        sla_undecided=decisions_due.undecided,
        sla_met_rate=ratio(decisions_due.met, decisions_due.due),
        first_response_met=responses_due.met,
        first_response_due=responses_due.due,
        first_response_met_rate=ratio(responses_due.met, responses_due.due),
        early_engagement_median_days=percentile(engagement, 0.5),
        early_engagement_n=len(engagement),
        went_live=live.total,
        reviewed_before_go_live=len(live.reviewed),
        reviewed_before_go_live_rate=ratio(len(live.reviewed), live.total),
        live_without_decision=len(live.without_decision),
        live_despite_rejection=len(live.despite_rejection),
        backlog_end=len(backlog),
        overdue_count=len(due.overdue(backlog, w.end)),
        conditions_opened=metrics.conditions_opened(w),
        conditions_closed=metrics.conditions_closed(w),
        conditions_overdue=metrics.conditions_overdue_at(w.session, w.workspace_id, w.end, w.tz),
        savings_period=metrics.savings(w.session, w.workspace_id, w.start, w.end).get(currency, ZERO),
    )
    return _Measured(figures, live, backlog)


def figures(session: Session, *, workspace_id: str, period: Period, tz: ZoneInfo, currency: str,
            calendar: WorkCalendar | None = None) -> Figures:
    """The headline figures of one period, as of its end (durations in `calendar`'s working time)."""
    log = Log(session, workspace_id, period.start)
    return _measure(Window(session, workspace_id, period.start, period.end, tz, log, calendar),
                    currency=currency).figures


def _main_currency(session: Session, workspace_id: str, since: datetime, end: datetime) -> str:
    # Without a configured currency, the one most savings were recorded in this year (EUR by default).
    amounts = metrics.savings(session, workspace_id, since, end)
    return max(amounts, key=lambda c: amounts[c]) if amounts else "EUR"


def compute(
    session: Session,
    *,
    workspace_id: str,
    period: Period,
    now: datetime,
    tz: ZoneInfo,
    currency: str | None = None,
    calendar: WorkCalendar | None = None,
) -> Report:
    """Every figure for the period and the previous period's headline figures, each as of its own end.

    Durations are working time by `calendar` (the workspace's, settings.calendar); None counts Monday to Friday.
    """
    calendar = calendar or weekdays_only(tz)
    year_start = midnight(period.local_last_day(tz).replace(month=1, day=1), tz)
    currency = currency or _main_currency(session, workspace_id, year_start, period.end)
    previous_period = shifted(period, -1, tz)
    log = Log(session, workspace_id, previous_period.start)  # one read serves both periods
    window = Window(session, workspace_id, period.start, period.end, tz, log, calendar)
    current = _measure(window, currency=currency)
    previous = _measure(Window(session, workspace_id, previous_period.start, previous_period.end, tz, log, calendar),
                        currency=currency).figures
    since = metrics.tracking_since(session, workspace_id)
    oldest = [
        (r.key, r.title, max(1, math.ceil((period.end - r.due_at).total_seconds() / DAY)))
        for r in due.overdue(current.backlog, period.end)[:OVERDUE_NAMED]
    ]
    trends, trend_periods = metrics.tag_trends(window, period, since=since)
    upcoming, upcoming_total = golive.upcoming_go_lives(session, workspace_id, now=now, tz=tz)
    this_period_savings = metrics.savings(session, workspace_id, period.start, period.end)
    changed, changed_total = changed_since_decision(session, workspace_id)
    values = {f.name: getattr(current.figures, f.name) for f in fields(Figures)}
    return Report(
        **values,
        period=period,
        previous_period=previous_period,
        previous=previous,
        comparable=since is not None and since <= previous_period.start,
        tracking_since=since,
        overdue_oldest=oldest,
        live_without_decision_named=current.live.without_decision[:LIST_CAP],
        live_despite_rejection_named=current.live.despite_rejection[:LIST_CAP],
        trends=trends[:LIST_CAP],
        trend_periods=trend_periods,
        savings_ytd=metrics.savings(session, workspace_id, year_start, period.end).get(currency, ZERO),
        currency=currency,
        savings_other={c: v for c, v in this_period_savings.items() if c != currency},
        regulations=metrics.regulations_touched(window)[:LIST_CAP],
        upcoming_go_lives=upcoming,
        upcoming_total=upcoming_total,
        timezone=str(tz.key),
        generated_at=now.astimezone(UTC),
        holidays=calendar.holidays,
        closing_days=bool(calendar.closing_days),
        changed_since_decision=changed,
        changed_since_decision_total=changed_total,
    )


def changed_since_decision(session: Session, workspace_id: str,
                           limit: int = LIST_CAP) -> tuple[list[tuple[str, str]], int]:
    """The decided reviews whose announcement changed materially since the decision, oldest key first."""
    where = (Review.workspace_id == workspace_id, Review.state.in_(sorted(DECIDED_STATES)),
             Review.changed_since_decision.is_not(None))
    total = session.scalar(select(func.count()).select_from(Review).where(*where)) or 0
    rows = session.execute(select(Review.number, Review.title).where(*where).order_by(Review.number).limit(limit))
    return [(f"SR-{number}", title) for number, title in rows], total
