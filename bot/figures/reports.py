"""A period's report: its headline figures beside the previous period's, and the lists behind the digest.

The digest, `/secreview metrics`, App Home and the CLI all call `compute()` (App Home `home_figures()`);
every figure in a report is defined once, in metrics.py.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.common.calendar import WorkCalendar, weekdays_only
from bot.figures.metrics import (
    LIST_CAP,
    GoLive,
    OpenReview,
    Trend,
    Window,
    announced,
    approval_rate,
    conditions_closed,
    conditions_opened,
    conditions_overdue_at,
    decided_by_outcome,
    decision_days,
    decision_rows,
    early_engagement_days,
    first_response_hours,
    open_at,
    overdue,
    percentile,
    ratio,
    regulations_touched,
    reviewed_before_go_live,
    savings,
    sla_met,
    tag_trends,
    upcoming_go_lives,
)
from bot.figures.periods import DAY, Period, midnight, period_for, shifted

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
    decision_median_days: float | None
    decision_p90_days: float | None
    sla_met_rate: float | None
    early_engagement_median_days: float | None
    reviewed_before_go_live_rate: float | None
    went_live: int
    backlog_end: int
    overdue_count: int
    conditions_opened: int
    conditions_closed: int
    conditions_overdue: int
    savings_period: Decimal


HEADLINES = tuple(f.name for f in fields(Figures) if f.name != "decided_by_outcome")


@dataclass(frozen=True)
class Report(Figures):
    """Every digest figure for a period, the previous period's figures, and the lists behind them."""

    period: Period
    previous_period: Period
    previous: Figures
    overdue_oldest: list[tuple[str, str, int]]  # (key, title, days overdue)
    trends: list[Trend]
    savings_ytd: Decimal
    currency: str
    savings_other: dict[str, Decimal]  # amounts recorded in other currencies this period, never summed in
    regulations: list[tuple[str, int]]
    upcoming_go_lives: list[GoLive]
    upcoming_total: int
    timezone: str
    generated_at: datetime
    deltas: dict[str, float | None] = field(default_factory=dict)
    # What working time left out besides weekends, so the digest can say what its durations count.
    holidays: str | None = None
    closing_days: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (Decimals as strings, instants in ISO 8601)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    return value


def _delta(current: Any, previous: Any) -> float | None:
    if current is None or previous is None or isinstance(current, dict):
        return None
    return float(current) - float(previous)


def figures(
    session: Session, *, workspace_id: str, period: Period, tz: ZoneInfo, currency: str,
    backlog: list[OpenReview] | None = None, calendar: WorkCalendar | None = None,
) -> Figures:
    """The headline figures of one period (one indexed query per figure or group)."""
    w = Window(session, workspace_id, period.start, period.end, tz, calendar)
    by_outcome = decided_by_outcome(w)
    response = first_response_hours(w)
    decisions = decision_rows(w)
    days = decision_days(decisions, w.work)
    met, judged = sla_met(decisions)
    live_before, live = reviewed_before_go_live(w)
    backlog = open_at(session, workspace_id, period.end) if backlog is None else backlog
    return Figures(
        announced=announced(w),
        decided=sum(by_outcome.values()),
        decided_by_outcome=by_outcome,
        approval_rate=approval_rate(by_outcome),
        first_response_median_hours=percentile(response, 0.5),
        first_response_p90_hours=percentile(response, 0.9),
        decision_median_days=percentile(days, 0.5),
        decision_p90_days=percentile(days, 0.9),
        sla_met_rate=ratio(met, judged),
        early_engagement_median_days=percentile(early_engagement_days(w), 0.5),
        reviewed_before_go_live_rate=ratio(live_before, live),
        went_live=live,
        backlog_end=len(backlog),
        overdue_count=len(overdue(backlog, period.end)),
        conditions_opened=conditions_opened(w),
        conditions_closed=conditions_closed(w),
        conditions_overdue=conditions_overdue_at(session, workspace_id, period.end, tz),
        savings_period=savings(session, workspace_id, period.start, period.end).get(currency, ZERO),
    )


def _main_currency(session: Session, workspace_id: str, since: datetime, end: datetime) -> str:
    # Without a configured currency, the one most savings were recorded in this year (EUR by default).
    amounts = savings(session, workspace_id, since, end)
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
    """Every figure for the period, the previous period's headline figures and their changes.

    Durations are working time by `calendar` (the workspace's, settings.calendar); None counts Monday to Friday.
    """
    calendar = calendar or weekdays_only(tz)
    year_start = midnight(period.local_last_day(tz).replace(month=1, day=1), tz)
    currency = currency or _main_currency(session, workspace_id, year_start, period.end)
    backlog = open_at(session, workspace_id, period.end)
    current = figures(session, workspace_id=workspace_id, period=period, tz=tz, currency=currency,
                      backlog=backlog, calendar=calendar)
    previous_period = shifted(period, -1, tz)
    previous = figures(session, workspace_id=workspace_id, period=previous_period, tz=tz, currency=currency,
                       calendar=calendar)
    oldest = [
        (r.key, r.title, max(1, math.ceil((period.end - r.due_at).total_seconds() / DAY)))
        for r in overdue(backlog, period.end)[:OVERDUE_NAMED]
    ]
    upcoming, upcoming_total = upcoming_go_lives(session, workspace_id, now=now, tz=tz)
    this_period_savings = savings(session, workspace_id, period.start, period.end)
    window = Window(session, workspace_id, period.start, period.end, tz, calendar)
    values = {f.name: getattr(current, f.name) for f in fields(Figures)}
    return Report(
        **values,
        period=period,
        previous_period=previous_period,
        previous=previous,
        overdue_oldest=oldest,
        trends=tag_trends(session, workspace_id, period, tz)[:LIST_CAP],
        savings_ytd=savings(session, workspace_id, year_start, period.end).get(currency, ZERO),
        currency=currency,
        savings_other={c: v for c, v in this_period_savings.items() if c != currency},
        regulations=regulations_touched(window)[:LIST_CAP],
        upcoming_go_lives=upcoming,
        upcoming_total=upcoming_total,
        timezone=str(tz.key),
        generated_at=now.astimezone(UTC),
        deltas={name: _delta(getattr(current, name), getattr(previous, name)) for name in HEADLINES},
        holidays=calendar.holidays,
        closing_days=bool(calendar.closing_days),
    )


def home_figures(
    session: Session, *, workspace_id: str, now: datetime, tz: ZoneInfo, calendar: WorkCalendar | None = None
) -> dict[str, Any]:
    """App Home's "this week so far": the same definitions over the current week to date."""
    period = period_for("week", now=now, tz=tz, which="this")
    week = figures(session, workspace_id=workspace_id, period=period, tz=tz, currency="EUR", calendar=calendar)
    return {
        "announced": week.announced,
        "decided": week.decided,
        "approval_rate": week.approval_rate,
        "median_decision_days": week.decision_median_days,
        "overdue": week.overdue_count,
        "backlog": week.backlog_end,
    }
