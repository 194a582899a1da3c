"""A report as people read it: each figure rounded as shown, with its n and its change, marked better or worse.

The change of a figure is the difference of the two figures as shown (both rounded first), so "85% (↑ +1 pts)"
always means the previous period showed 84%. No change is given against a period the workspace did not exist
for ("first period"), nor for a median, percentile or rate resting on fewer than SECREVIEW_MIN_SAMPLE reviews
in either period ("too few to compare"). Whether up is better depends on the figure (SPECS). The same shown
figures serve the digest, `/secreview metrics`, App Home and the exported table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.common import numbers, render
from bot.common.calendar import WorkCalendar
from bot.figures import reports
from bot.figures.periods import period_for
from bot.figures.reports import Figures, Report

DEFAULT_MIN_SAMPLE = 5


@dataclass(frozen=True)
class Spec:
    """How a figure is shown and judged: its unit, which way is better, and the field holding its n."""

    key: str
    unit: str  # count, percent, hours, days or money
    better: int  # +1: up is better; -1: down is better; 0: neither (more announcements are not "better")
    sample: str | None = None  # medians, percentiles and rates: the Figures field with their n


SPECS = {
    spec.key: spec
    for spec in (
        Spec("announced", "count", 0),
        Spec("decided", "count", 0),
        Spec("approval_rate", "percent", +1, "decided"),
        Spec("sla_met_rate", "percent", +1, "sla_due"),
        Spec("first_response_met_rate", "percent", +1, "first_response_due"),
        Spec("first_response_median_hours", "hours", -1, "first_response_n"),
        Spec("first_response_p90_hours", "hours", -1, "first_response_n"),
        Spec("decision_median_days", "days", -1, "decision_n"),
        Spec("decision_p90_days", "days", -1, "decision_n"),
        Spec("early_engagement_median_days", "days", +1, "early_engagement_n"),
        Spec("went_live", "count", 0),
        Spec("reviewed_before_go_live_rate", "percent", +1, "went_live"),
        Spec("live_without_decision", "count", -1),
        Spec("live_despite_rejection", "count", -1),
        Spec("backlog_end", "count", -1),
        Spec("overdue_count", "count", -1),
        Spec("conditions_opened", "count", 0),
        Spec("conditions_closed", "count", +1),
        Spec("conditions_overdue", "count", -1),
        Spec("savings_period", "money", +1),
    )
}
# The summary's "went well" and "needs attention": the improved (or worsened) figures a CIO cares for first.
WENT_WELL = ("sla_met_rate", "reviewed_before_go_live_rate", "decision_median_days", "first_response_median_hours",
             "backlog_end", "overdue_count", "live_without_decision", "conditions_overdue", "conditions_closed",
             "early_engagement_median_days", "first_response_met_rate", "approval_rate")
ATTENTION = ("sla_met_rate", "reviewed_before_go_live_rate", "decision_median_days", "backlog_end",
             "first_response_median_hours", "early_engagement_median_days", "first_response_met_rate",
             "decision_p90_days", "approval_rate")
NAMED_IN_ATTENTION = ("overdue_count", "live_without_decision", "live_despite_rejection", "conditions_overdue")
SUMMARY_ITEMS = 3
MINUS = "\u2212"


@dataclass(frozen=True)
class Shown:
    """One figure as shown: its text, the number shown, its n, and its change against the previous period."""

    key: str
    unit: str
    value: str | None  # the number as shown ("67", "4.4", "€1,500"); None: nothing to show
    text: str | None  # with its unit ("67%", "4.4 d")
    number: Decimal | None  # the shown number itself: what changes are computed from
    n: int | None
    previous: str | None  # the previous period's text
    previous_number: Decimal | None
    change: str | None  # the signed difference of the shown numbers, with its unit ("+2", "−0.5 d", "+€1,500")
    trend: str | None  # up, down or same
    verdict: str | None  # better or worse (None: no change, or a figure where neither way is better)
    note: str | None  # first_period or too_few: why no change is given

    @property
    def label(self) -> str:
        """The figure's name."""
        return render.message(f"figure.label.{self.key}")


def _decimals(unit: str, value: Decimal) -> int:
    if unit in ("hours", "days"):
        return 1 if abs(numbers.rounded(value, 1)) < 10 else 0
    return 0


def _as_shown(unit: str, raw: Any) -> tuple[Decimal, int] | None:
    if raw is None:
        return None
    value = Decimal(str(raw)) * (100 if unit == "percent" else 1)
    decimals = _decimals(unit, value)
    return numbers.rounded(value, decimals), decimals


def _format(unit: str, number: Decimal, decimals: int, locale: str, currency: str) -> str:
    if unit == "money":
        return numbers.money(abs(number), currency, locale)
    return numbers.number(abs(number), decimals, locale)


def _signed(unit: str, number: Decimal, decimals: int, locale: str, currency: str) -> str:
    sign = MINUS if number < 0 else ""
    return sign + _format(unit, number, decimals, locale, currency)


def show(
    spec: Spec, current: Figures, previous: Figures, *, comparable: bool, min_sample: int, locale: str,
    currency: str,
) -> Shown:
    """One figure of the report as shown, with its change against the previous period."""
    now = _as_shown(spec.unit, getattr(current, spec.key))
    before = _as_shown(spec.unit, getattr(previous, spec.key))
    n = getattr(current, spec.sample) if spec.sample else None
    value = text = previous_text = change = trend = verdict = note = None
    if before is not None:
        previous_text = render.message(f"figure.unit.{spec.unit}",
                                       n=_signed(spec.unit, before[0], before[1], locale, currency))
    if now is not None:
        value = _signed(spec.unit, now[0], now[1], locale, currency)
        text = render.message(f"figure.unit.{spec.unit}", n=value)
        if not comparable:
            note = "first_period"
        elif spec.sample and min(n or 0, getattr(previous, spec.sample) or 0) < min_sample:
            note = "too_few"
        elif before is not None:
            difference = now[0] - before[0]
            digits = max(now[1], before[1])
            sign = "+" if difference > 0 else MINUS if difference < 0 else ""
            change = render.message(f"figure.change_unit.{spec.unit}",
                                    n=sign + _format(spec.unit, difference, digits, locale, currency))
            trend = "up" if difference > 0 else "down" if difference < 0 else "same"
            if difference and spec.better:
                verdict = "better" if (difference > 0) == (spec.better > 0) else "worse"
    return Shown(spec.key, spec.unit, value, text, now[0] if now else None, n, previous_text,
                 before[0] if before else None, change, trend, verdict, note)


@dataclass(frozen=True)
class Presented:
    """The report, each figure as shown, and the three-line summary's pieces."""

    report: Report
    figures: dict[str, Shown]
    went_well: list[Shown]
    worse: list[Shown]
    locale: str
    min_sample: int

    def money(self, amount: Decimal, currency: str | None = None) -> str:
        """An amount in the report's locale (the report's currency unless told)."""
        return numbers.money(amount, currency or self.report.currency, self.locale)

    def table(self) -> list[dict[str, Any]]:
        """Every headline figure as one row: for `digest preview --format csv|json` and the stored digest."""
        rows = []
        for shown in self.figures.values():
            row = asdict(shown)
            del row["key"]
            changed = shown.change is not None and shown.number is not None and shown.previous_number is not None
            rows.append({"figure": shown.key, "label": shown.label, **row,
                         "change_number": shown.number - shown.previous_number if changed else None})
        return rows


def present(report: Report, *, min_sample: int = DEFAULT_MIN_SAMPLE, locale: str | None = None) -> Presented:
    """Every headline figure of the report as shown, and what the summary says went well or worse."""
    locale = locale or numbers.default_locale()
    shown = {key: show(spec, report, report.previous, comparable=report.comparable, min_sample=min_sample,
                       locale=locale, currency=report.currency) for key, spec in SPECS.items()}
    went_well = [shown[k] for k in WENT_WELL if shown[k].verdict == "better"][:SUMMARY_ITEMS]
    worse = [shown[k] for k in ATTENTION if shown[k].verdict == "worse"][:SUMMARY_ITEMS - 1]
    return Presented(report, shown, went_well, worse, locale, min_sample)


def window_label(start: datetime, end: datetime, tz: ZoneInfo, *, to_date: bool) -> str:
    """"Mon 30 Nov – now" for a period to date, "Mon 23 – Sun 29 Nov 2026" for a complete one."""
    first = start.astimezone(tz).date()
    if to_date:
        return render.message("figure.window.to_date", start=first)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return render.message("figure.window.span", start=first, last=last)

HOME_FIGURES = ("announced", "decided", "approval_rate", "sla_met_rate", "decision_median_days", "overdue_count",
                "backlog_end")


def home_figures(
    session: Session, *, workspace_id: str, now: datetime, tz: ZoneInfo, locale: str | None = None,
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """App Home's figures: the current week so far ("Mon 30 Nov – now"), the digest's definitions and formats."""
    period = period_for("week", now=now, tz=tz, which="this")
    week = reports.figures(session, workspace_id=workspace_id, period=period, tz=tz, currency="EUR",
                           calendar=calendar)
    locale = locale or numbers.default_locale()
    rows = []
    for key in HOME_FIGURES:
        shown = show(SPECS[key], week, week, comparable=False, min_sample=1, locale=locale, currency="EUR")
        value = shown.text or "—"
        if key == "sla_met_rate" and week.sla_due:
            value = render.message("home.figure_value.sla", met=week.sla_met, due=week.sla_due)
        elif key == "decision_median_days" and shown.text:
            value = render.message("home.figure_value.median_days", value=shown.text, n=shown.n)
        rows.append({"label": shown.label, "value": value})
    return {"window": window_label(period.start, period.end, tz, to_date=True), "rows": rows}
