"""Daily reminders: overdue reviews, first responses, unanswered questions, close go-lives, safeguards due.

Each reminder is claimed first (a unique ReminderLog row per item, reminder and local day), so runs on
several replicas, restarts and manual runs send it at most once a day. Claimed reminders are grouped
per recipient: one message per person or channel, listing every item due a reminder today.
Business days are those of the workspace's calendar (settings.calendar: Monday to Friday, less public holidays and
closing days); on a day that is not one, no reminder is sent.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.common.render import LIMIT_FALLBACK_TEXT, cut, render_json
from bot.figures.digest import claim
from bot.figures.periods import DAY
from bot.review import outbox
from bot.review.states import APPROVED_STATES, OPEN_STATES, ConditionState, State
from storage.models import Condition, ReminderLog, Review, utcnow

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

# Reminder names (ReminderLog.reminder), in the order a message lists them.
OVERDUE = "overdue"
FIRST_RESPONSE = "first_response"
NEEDS_INFO = "needs_info"
GO_LIVE = "go_live"
CONDITION_DUE = "condition_due"
OPEN_AT_GO_LIVE = "open_at_go_live"
ORDER = (OVERDUE, FIRST_RESPONSE, NEEDS_INFO, GO_LIVE, CONDITION_DUE, OPEN_AT_GO_LIVE)

NEEDS_INFO_BUSINESS_DAYS = 3
GO_LIVE_WITHIN_DAYS = 7
GO_LIVE_LOOKBACK_DAYS = 7  # a weekend go-live is still flagged on the next weekday run
LIST_TOP = 10

Target = tuple[str, str | None]  # (channel or user ID, thread_ts)


@dataclass
class Due:
    """One reminder an item is due today, with where it goes."""

    item_kind: str
    item_id: int
    reminder: str
    day: date
    targets: list[Target]
    item: dict[str, Any]
    review_id: int | None = None


def _review_item(review: Review, now: datetime, today: date, **extra: Any) -> dict[str, Any]:
    days_overdue = (now - review.due_at).total_seconds() / DAY
    return {
        "key": review.key, "title": review.title, "state": review.state, "owner_id": review.owner_id,
        "assignee_id": review.assignee_id, "announced_at": review.announced_at, "due_at": review.due_at,
        "days_overdue": math.ceil(days_overdue) if days_overdue > 0 else 0,
        "go_live": review.go_live,
        "days_to_go_live": (review.go_live - today).days if review.go_live else None,
        "info_requested_at": review.info_requested_at, **extra,
    }


def due_reminders(session: Session, *, settings: Settings, workspace_id: str, now: datetime) -> list[Due]:
    """Every reminder due now, per PRODUCT.md, in a stable order (so concurrent claimers never deadlock)."""
    tz = settings.timezone
    today = now.astimezone(tz).date()
    channel = settings.secreview_security_channel
    security: list[Target] = [(channel, None)] if channel else []
    found: list[Due] = []
    # Open reviews are the backlog, not the history: the (workspace, state, due_at) index serves it.
    open_states = [str(s) for s in OPEN_STATES]
    open_reviews = session.scalars(
        select(Review).where(Review.workspace_id == workspace_id, Review.state.in_(open_states))
    ).all()
    soon = today + timedelta(days=GO_LIVE_WITHIN_DAYS)
    for review in open_reviews:
        item = _review_item(review, now, today)
        overdue = review.due_at < now
        if overdue:
            # The assignee owns it; nobody assigned: the whole security team hears.
            targets = [(review.assignee_id, None)] if review.assignee_id else security
            found.append(Due("review", review.id, OVERDUE, today, targets, item, review.id))
        elif review.first_response_at is None and review.first_response_due < now:
            # Not when overdue as well: that reminder already goes to the security channel about this review.
            found.append(Due("review", review.id, FIRST_RESPONSE, today, security, item, review.id))
        if review.state == State.NEEDS_INFO:
            touched = max(t for t in (review.info_requested_at, review.updated_at, review.announced_at) if t)
            if settings.calendar.working_seconds(touched, now) >= NEEDS_INFO_BUSINESS_DAYS * DAY:
                found.append(Due("review", review.id, NEEDS_INFO, today, [(review.owner_id, None)],
                                 {**item, "touched_at": touched}, review.id))
        if review.go_live is not None and today <= review.go_live <= soon:
            thread: list[Target] = []
            # A deleted announcement has no thread left to reply in; the reviewers still hear.
            if review.source_channel and review.source_ts and not review.deleted_in_slack:
                thread = [(review.source_channel, review.source_ts)]
            # The reviewer who has it hears it too, by DM: a post in a busy channel is easy to miss. One claim
            # covers all three, so each hears it once a day like every reminder.
            assignee: list[Target] = [(review.assignee_id, None)] if review.assignee_id else []
            found.append(Due("review", review.id, GO_LIVE, today, thread + security + assignee, item, review.id))
    conditions = session.execute(
        select(Condition, Review).join(Review, Review.id == Condition.review_id).where(
            Condition.workspace_id == workspace_id, Condition.state == ConditionState.OPEN,
            Condition.due_date <= today,
        )
    ).all()
    for condition, review in conditions:
        assert condition.due_date is not None
        item = {"key": review.key, "title": review.title, "text": condition.text,
                "due_date": condition.due_date, "days_late": (today - condition.due_date).days,
                "condition_id": condition.id}
        found.append(Due("condition", condition.id, CONDITION_DUE, today, [(condition.owner_id, None)], item,
                         review.id))
    live_with_open = session.scalars(
        select(Review).where(
            Review.workspace_id == workspace_id,
            Review.go_live >= today - timedelta(days=GO_LIVE_LOOKBACK_DAYS), Review.go_live <= today,
            Review.state.in_([str(s) for s in APPROVED_STATES]),
            exists().where(Condition.review_id == Review.id, Condition.state == ConditionState.OPEN),
        )
    ).all()
    for review in live_with_open:
        open_count = sum(1 for c in review.conditions if c.state == ConditionState.OPEN)
        assert review.go_live is not None
        # Claimed for the go-live date itself: flagged once, whichever weekday run first sees it.
        found.append(Due("review", review.id, OPEN_AT_GO_LIVE, review.go_live, security,
                         _review_item(review, now, today, open_conditions=open_count), review.id))
    return sorted(found, key=lambda d: (d.item_kind, d.item_id, ORDER.index(d.reminder)))


def _ordering_key(workspace_id: str, target: Target, review_id: int | None, audience: str) -> str:
    # The keys notices use for threads and DMs, so a reminder never overtakes an earlier message there.
    if audience == "thread":
        return f"thread:{workspace_id}:{review_id}"
    if audience == "dm":
        return f"dm:{workspace_id}:{target[0]}"
    return f"reminder:{workspace_id}:{target[0]}"[:64]


def run_reminders(
    session: Session, *, settings: Settings, workspace_id: str, now: datetime | None = None
) -> list[ReminderLog]:
    """Claims and queues today's reminders (at most one per item, reminder and day); the caller commits."""
    now = now or utcnow()
    if not settings.calendar.is_working_day(settings.calendar.local_date(now)):
        # Nobody is there to act on a public holiday or a closing day; what is still due goes out on the next
        # working day's run (claims are per day, and a go-live is looked back on for a week).
        log.info("reminders for %s: none today, %s is not a working day", workspace_id, now.date())
        return []
    claimed: list[ReminderLog] = []
    by_target: dict[Target, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    review_of_target: dict[Target, int | None] = {}
    for due in due_reminders(session, settings=settings, workspace_id=workspace_id, now=now):
        if not due.targets:
            # Never to nobody: left unclaimed, so it goes out once SECREVIEW_SECURITY_CHANNEL is set.
            log.warning("reminder %s for %s %s has no recipient (set SECREVIEW_SECURITY_CHANNEL)",
                        due.reminder, due.item_kind, due.item_id)
            continue
        row = ReminderLog(workspace_id=workspace_id, item_kind=due.item_kind, item_id=due.item_id,
                          reminder=due.reminder, day=due.day, sent_at=now)
        if not claim(session, row):
            continue
        claimed.append(row)
        for target in due.targets:
            by_target[target][due.reminder].append(due.item)
            # A thread belongs to one review; a DM or channel message may list several.
            review_of_target[target] = due.review_id if target[1] else None
    for target, sections in by_target.items():
        channel, thread_ts = target
        audience = "thread" if thread_ts else ("channel" if channel == settings.secreview_security_channel
                                               else "dm")
        ordered = [
            {"reminder": name, "items": items[:LIST_TOP], "more": max(0, len(items) - LIST_TOP),
             "total": len(items)}
            for name in ORDER if (items := sections.get(name))
        ]
        message = render_json("reminder_message", audience=audience, sections=ordered,
                              today=now.astimezone(settings.timezone).date())
        payload: dict[str, Any] = {"channel": channel, "text": cut(message["text"], LIMIT_FALLBACK_TEXT),
                                   "blocks": message["blocks"], "unfurl_links": False, "unfurl_media": False}
        if thread_ts:
            payload["thread_ts"] = thread_ts
        outbox.enqueue(session, workspace_id=workspace_id, method="chat.postMessage", payload=payload,
                       purpose="reminder", review_id=review_of_target[target],
                       ordering_key=_ordering_key(workspace_id, target, review_of_target[target], audience))
    if claimed:
        log.info("reminders for %s: %d queued to %d recipients", workspace_id, len(claimed), len(by_target))
    return claimed
