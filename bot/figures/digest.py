"""The weekly digest and the optional monthly executive summary: claimed once per period, then queued."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.common.render import LIMIT_FALLBACK_TEXT, cut, render_json, render_text
from bot.figures import metrics, periods, reports
from bot.figures.periods import Period
from bot.figures.reports import Report
from bot.review import outbox
from storage.models import Base, DigestRun, utcnow

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

# Digest kinds (the DigestRun.kind column) and the period each one covers.
KIND_PERIODS = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}
TRIGGERS = ("schedule", "manual", "catch-up")
TOP_UPCOMING = 10
TOP_TRENDS = 8
TOP_REGULATIONS = 10
CHART_WEEKS = 12


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


def _view(report: Report, currency: str, *, executive: bool = False) -> dict[str, Any]:
    """What the templates need: the report, its local dates and the top-N cuts of its lists."""
    if currency != report.currency:
        log.warning("report computed in %s, digest asked for %s: showing %s", report.currency, currency,
                    report.currency)
    tz = ZoneInfo(report.timezone)
    previous_savings: Decimal = report.previous.savings_period
    return {
        "report": report,
        "kind": report.period.kind,
        "executive": executive,
        "start": report.period.local_start(tz),
        "last_day": report.period.local_last_day(tz),
        "complete": report.period.is_complete(tz),
        "prev_start": report.previous_period.local_start(tz),
        "prev_last_day": report.previous_period.local_last_day(tz),
        "timezone": report.timezone,
        "currency": report.currency,
        "savings_period": report.savings_period,
        "savings_delta": report.savings_period - previous_savings,
        "savings_ytd": report.savings_ytd,
        "savings_other": report.savings_other,
        "overdue": report.overdue_oldest,
        "upcoming": report.upcoming_go_lives[:TOP_UPCOMING],
        "upcoming_more": max(0, report.upcoming_total - TOP_UPCOMING),
        "trends": report.trends[:TOP_TRENDS],
        "trends_more": max(0, len(report.trends) - TOP_TRENDS),
        "regulations": report.regulations[:TOP_REGULATIONS],
        "regulations_more": max(0, len(report.regulations) - TOP_REGULATIONS),
        "upcoming_weeks": metrics.UPCOMING_WEEKS,
    }


def render_digest(report: Report, *, currency: str, executive: bool = False) -> dict[str, Any]:
    """The digest as a message {"text", "blocks"}, within Slack's limits whatever the data."""
    view = _view(report, currency, executive=executive)
    blocks = render_json("digest", v=view)["blocks"]
    text = render_text("digest", v=view, mrkdwn=True)
    return {"text": cut(text, LIMIT_FALLBACK_TEXT), "blocks": blocks}


def render_plain(report: Report, *, currency: str, executive: bool = False) -> str:
    """The digest as plain text for a terminal (nothing escaped for mrkdwn)."""
    return render_text("digest", v=_view(report, currency, executive=executive), mrkdwn=False)


def render_metrics_ephemeral(report: Report) -> dict[str, Any]:
    """The answer to `/secreview metrics`: the same headline figures, for one person."""
    return render_json("metrics", v=_view(report, report.currency))


def _settings_now(now: datetime | None) -> datetime:
    return now if now is not None else utcnow()


def preview(
    session: Session, *, settings: Settings, workspace_id: str, period_name: str = "last-week",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The digest for a period as it would be posted, without writing anything.

    Returns {"text", "blocks"} (the message), "plain_text" (for a terminal) and "period".
    """
    now = _settings_now(now)
    tz = settings.timezone
    period = periods.period_from_name(period_name, now=now, tz=tz)
    report = reports.compute(session, workspace_id=workspace_id, period=period, now=now, tz=tz,
                             calendar=settings.calendar,
                             currency=settings.secreview_currency)
    executive = period.kind != "week"
    message = render_digest(report, currency=settings.secreview_currency, executive=executive)
    return {
        **message,
        "plain_text": render_plain(report, currency=settings.secreview_currency, executive=executive),
        "period": {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat()},
    }


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
    """Claims the last complete period and queues its digest in the same transaction; None if already claimed.

    The caller commits. `period` overrides the last complete one (a catch-up posts the period its missed
    fire time was for).
    """
    if kind not in KIND_PERIODS:
        raise ValueError(f"unknown digest kind {kind!r}: use one of {', '.join(KIND_PERIODS)}")
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}: use one of {', '.join(TRIGGERS)}")
    settings.require("secreview_digest_channel")
    channel = str(settings.secreview_digest_channel)
    now = _settings_now(now)
    tz = settings.timezone
    period = period or periods.period_for(KIND_PERIODS[kind], now=now, tz=tz, which="last")
    run = DigestRun(
        workspace_id=workspace_id, kind=kind, period_start=period.local_start(tz),
        period_end=period.local_last_day(tz), claimed_at=now, claimed_by=claimed_by[:64], trigger=trigger,
    )
    if not claim(session, run):
        log.info("digest %s %s for %s already claimed: nothing to post", kind, run.period_start, workspace_id)
        return None
    report = reports.compute(session, workspace_id=workspace_id, period=period, now=now, tz=tz,
                             calendar=settings.calendar,
                             currency=settings.secreview_currency)
    message = render_digest(report, currency=settings.secreview_currency, executive=kind != "weekly")
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


def _enqueue_chart(
    session: Session, *, workspace_id: str, channel: str, period: Period, tz: ZoneInfo, ordering_key: str
) -> None:
    from bot.figures import chart  # matplotlib is slow to import: only when a chart is wanted

    series = metrics.weekly_series(session, workspace_id, end=period.end, tz=tz, weeks=CHART_WEEKS)
    labels = render_json("digest_chart", start=period.local_start(tz), weeks=CHART_WEEKS)
    png = chart.weekly_trend_png(series, title=labels["title"], announced_label=labels["announced"],
                                 decided_label=labels["decided"])
    outbox.enqueue(
        session, workspace_id=workspace_id, method="files_upload_v2", purpose="digest_chart",
        ordering_key=ordering_key,
        payload={"channel": channel, "filename": labels["filename"], "title": labels["title"],
                 "initial_comment": labels["initial_comment"],
                 "content_b64": base64.b64encode(png).decode("ascii")},
    )
