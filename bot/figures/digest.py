"""The weekly digest and the monthly/quarterly executive summary: claimed once per period, stored, then queued.

A posted digest keeps its figures and the message as posted (DigestRun), so a preview of a posted period shows
exactly what was posted.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.common import numbers, render
from bot.common.render import LIMIT_FALLBACK_TEXT, cut, render_json, render_text
from bot.figures import golive, periods, reports
from bot.figures.periods import Period
from bot.figures.presentation import DEFAULT_MIN_SAMPLE, Presented, present, window_label
from bot.figures.reports import Report
from bot.review import outbox
from storage.models import Base, DigestRun, utcnow

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

# Digest kinds (the DigestRun.kind column) and the period each one covers.
KIND_PERIODS = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}
PERIOD_KINDS = {period: kind for kind, period in KIND_PERIODS.items()}
TRIGGERS = ("schedule", "manual", "catch-up")
TOP_UPCOMING = 10
TOP_TRENDS = 8
TOP_REGULATIONS = 10
TOP_NAMED = 5
CHART_WEEKS = 12
_THIS = {"week": "this week", "month": "this month", "quarter": "this quarter"}


@dataclass(frozen=True)
class Style:
    """How figures are written and judged: the locale, the smallest sample compared, the SLA in working days."""

    locale: str = numbers.DEFAULT_LOCALE
    min_sample: int = DEFAULT_MIN_SAMPLE
    sla_days: int = 5


def style_of(settings: Settings) -> Style:
    """The digest's style from the settings."""
    return Style(settings.secreview_locale, settings.secreview_min_sample, settings.secreview_sla_days)


def claim(session: Session, row: Base) -> bool:
    """Inserts a unique claim row in a SAVEPOINT; False if another run holds it (the session stays usable).

    Callers use a write session (storage.db.session_scope(write=True)), so on SQLite the claim and the
    messages it sends are one transaction that holds the write lock from its first statement.
    """
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def _title(kind: str, start: Any) -> str:
    return render.message(f"figure.window.{kind}", start=start)


def view(presented: Presented, style: Style, *, escape: bool = True) -> dict[str, Any]:
    """What the templates need: the shown figures, the report, its windows labelled exactly, the top-N lists."""
    report = presented.report
    tz = ZoneInfo(report.timezone)
    period, previous = report.period, report.previous_period
    complete = period.is_complete(tz)
    trends = [{"tag": t.tag, "count": t.count, "rising": (t.change or 0) > 0, "falling": (t.change or 0) < 0,
               "average": None if t.average is None else numbers.number(t.average, 1, presented.locale)}
              for t in report.trends[:TOP_TRENDS]]
    return {
        "v": {
            "p": presented, "r": report, "f": presented.figures,
            "kind": period.kind, "kind_plural": period.kind + "s", "this_period": _THIS[period.kind],
            "title": _title(period.kind, period.local_start(tz)),
            "prev_title": _title(previous.kind, previous.local_start(tz)),
            "span": window_label(period.start, period.end, tz, to_date=not complete),
            "to_date": not complete,
            "as_of": render.message("figure.window.as_of", end=period.end.astimezone(tz)),
            "timezone": report.timezone,
            "today": report.generated_at.astimezone(tz).date(),
            "savings_period": presented.money(report.savings_period),
            "savings_ytd": presented.money(report.savings_ytd),
            "savings_other": [presented.money(a, c) for c, a in sorted(report.savings_other.items())],
            "overdue": report.overdue_oldest,
            "upcoming": report.upcoming_go_lives[:TOP_UPCOMING],
            "upcoming_more": max(0, report.upcoming_total - TOP_UPCOMING),
            "upcoming_weeks": golive.UPCOMING_WEEKS,
            "trends": trends,
            "trends_more": max(0, len(report.trends) - TOP_TRENDS),
            "regulations": report.regulations[:TOP_REGULATIONS],
            "regulations_more": max(0, len(report.regulations) - TOP_REGULATIONS),
            "top_named": TOP_NAMED,
            "sla_days": style.sla_days,
            "min_sample": presented.min_sample,
        },
        "escape": escape,
    }


def _presented(report: Report, style: Style) -> Presented:
    return present(report, min_sample=style.min_sample, locale=style.locale)


def _template(report: Report, executive: bool | None) -> str:
    return "digest_executive" if (report.period.kind != "week" if executive is None else executive) else "digest"


def render_digest(report: Report, *, style: Style | None = None, executive: bool | None = None) -> dict[str, Any]:
    """The digest as a message {"text", "blocks"}, within Slack's limits whatever the data.

    A month or a quarter is the executive summary unless `executive` says otherwise.
    """
    style = style or Style()
    context = view(_presented(report, style), style)
    name = _template(report, executive)
    blocks = render_json(name, **context)["blocks"]
    text = render_text(name, **context)
    return {"text": cut(text, LIMIT_FALLBACK_TEXT), "blocks": blocks}


def render_plain(report: Report, *, style: Style | None = None, executive: bool | None = None) -> str:
    """The digest as plain text for a terminal (nothing escaped for mrkdwn)."""
    style = style or Style()
    return render_text(_template(report, executive), **view(_presented(report, style), style, escape=False))


def render_metrics_ephemeral(report: Report, *, style: Style | None = None) -> dict[str, Any]:
    """The answer to `/secreview metrics`: the same figures, for one person."""
    style = style or Style()
    return render_json("metrics", **view(_presented(report, style), style))


def figures_record(report: Report, style: Style) -> dict[str, Any]:
    """The figures as data: the report and the table of shown figures (what `--format csv|json` exports)."""
    return {"table": reports.jsonable(_presented(report, style).table()), "report": report.to_dict()}


def _posted(session: Session, workspace_id: str, period: Period, tz: ZoneInfo) -> DigestRun | None:
    if not period.is_complete(tz):
        return None
    return session.scalars(select(DigestRun).where(
        DigestRun.workspace_id == workspace_id, DigestRun.kind == PERIOD_KINDS[period.kind],
        DigestRun.period_start == period.local_start(tz), DigestRun.figures.is_not(None),
    )).first()


def preview(
    session: Session, *, settings: Settings, workspace_id: str, period_name: str = "last-week",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The digest for a period as it would be posted, or as it was posted; writes nothing.

    Returns {"text", "blocks"} (the message), "plain_text" (for a terminal), "figures" (report and table),
    "period" and "posted_at" (when a digest of that period was posted, else None).
    """
    now = now or utcnow()
    tz = settings.timezone
    period = periods.period_from_name(period_name, now=now, tz=tz)
    period_info = {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat()}
    posted = _posted(session, workspace_id, period, tz)
    if posted is not None and posted.message and posted.plain_text is not None:
        return {"text": posted.message["text"], "blocks": posted.message["blocks"], "plain_text": posted.plain_text,
                "figures": posted.figures, "period": period_info, "posted_at": posted.claimed_at.isoformat()}
    style = style_of(settings)
    report = reports.compute(session, workspace_id=workspace_id, period=period, now=now, tz=tz,
                             calendar=settings.calendar,
                             currency=settings.secreview_currency)
    return {**render_digest(report, style=style), "plain_text": render_plain(report, style=style),
            "figures": figures_record(report, style), "period": period_info, "posted_at": None}


def post_digest(
    session: Session,
    *,
    settings: Settings,
    workspace_id: str,
    kind: str = "weekly",
    now: datetime | None = None,
    trigger: str = "schedule",
    claimed_by: str,
    period: Period | None = None,
) -> DigestRun | None:
    """Claims the last complete period, stores its figures and queues its digest in one transaction.

    None if the period was already claimed. The caller commits. `period` overrides the last complete one (a
    catch-up posts the period its missed fire time was for).
    """
    if kind not in KIND_PERIODS:
        raise ValueError(f"unknown digest kind {kind!r}: use one of {', '.join(KIND_PERIODS)}")
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}: use one of {', '.join(TRIGGERS)}")
    settings.require("secreview_digest_channel")
    channel = str(settings.secreview_digest_channel)
    now = now or utcnow()
    tz = settings.timezone
    period = period or periods.period_for(KIND_PERIODS[kind], now=now, tz=tz, which="last")
    run = DigestRun(
        workspace_id=workspace_id, kind=kind, period_start=period.local_start(tz),
        period_end=period.local_last_day(tz), claimed_at=now, claimed_by=claimed_by[:64], trigger=trigger,
    )
    if not claim(session, run):
        log.info("digest %s %s for %s already claimed: nothing to post", kind, run.period_start, workspace_id)
        return None
    style = style_of(settings)
    report = reports.compute(session, workspace_id=workspace_id, period=period, now=now, tz=tz,
                             calendar=settings.calendar,
                             currency=settings.secreview_currency)
    message = render_digest(report, style=style)
    run.figures = figures_record(report, style)
    run.message = message
    run.plain_text = render_plain(report, style=style)
    # One ordering key: the chart never arrives before the digest it belongs to.
    ordering_key = f"digest:{workspace_id}:{channel}"[:64]
    outbox.enqueue(
        session, workspace_id=workspace_id, method="chat.postMessage", purpose="digest",
        ordering_key=ordering_key,
        payload={"channel": channel, "text": message["text"], "blocks": message["blocks"],
                 "unfurl_links": False, "unfurl_media": False},
    )
    if settings.secreview_digest_chart and kind == "weekly":
        _enqueue_chart(session, workspace_id=workspace_id, channel=channel, period=period, tz=tz,
                       ordering_key=ordering_key)
    log.info("digest %s %s for %s queued (%s, by %s)", kind, run.period_start, workspace_id, trigger,
             claimed_by)
    return run


def chart_png(session: Session, *, workspace_id: str, period: Period, tz: ZoneInfo) -> tuple[bytes, dict[str, Any]]:
    """The chart of the weeks up to the period's end, and its words (templates/digest_chart.json.j2)."""
    from bot.figures import chart, series  # matplotlib is slow to import: only when a chart is wanted

    weeks = series.weekly_series(session, workspace_id, end=period.end, tz=tz, weeks=CHART_WEEKS)
    labels = render_json("digest_chart", start=period.local_start(tz), last_day=period.local_last_day(tz),
                         weeks=CHART_WEEKS)
    return chart.weekly_trend_png(weeks, labels=labels), labels


def _enqueue_chart(
    session: Session, *, workspace_id: str, channel: str, period: Period, tz: ZoneInfo, ordering_key: str
) -> None:
    # A failed upload (no files:write scope, say) is reported like any refused delivery; the digest went first.
    png, labels = chart_png(session, workspace_id=workspace_id, period=period, tz=tz)
    outbox.enqueue(
        session, workspace_id=workspace_id, method="files_upload_v2", purpose="digest_chart",
        ordering_key=ordering_key,
        payload={"channel": channel, "filename": labels["filename"], "title": labels["title"],
                 "initial_comment": labels["initial_comment"],
                 "content_b64": base64.b64encode(png).decode("ascii")},
    )
