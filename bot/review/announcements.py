"""A review's announcement: opening a review for a message (or `/secreview new`); its edits are in edits.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import intake
from bot.common import render
from bot.config import Settings
from bot.review import notices
from bot.review.lifecycle import (
    MAX_TEXT,
    MAX_TITLE,
    Actor,
    clean,
    clean_name,
    lock_workspace,
    transition,
)
from bot.review.states import State
from storage.models import Review, utcnow


@dataclass
class Opened:
    """The result of opening a review: `created` is False when the message already had one."""

    review: Review
    created: bool
    extra: dict[str, Any] = field(default_factory=dict)


def open_review(
    session: Session,
    *,
    settings: Settings,
    detector: intake.Detector,
    workspace_id: str,
    actor: Actor,
    text: str,
    source_channel: str | None = None,
    source_ts: str | None = None,
    title: str | None = None,
    via: str = "announcement",
    now: datetime | None = None,
    source_thread_ts: str | None = None,
    go_live: date | None = None,
    summary: str = "",
    links: str = "",
    data: dict[str, Any] | None = None,
) -> Opened:
    """Opens a review for an announcement (or `/secreview new`, a shortcut, a workflow step); a message that has
    one already returns it.

    `go_live`, `summary` and `links` are what the caller knows for sure (a workflow's inputs): they win over what
    the text suggests. `data` goes into the opening audit event (a workflow's execution ids, ...).
    """
    now = now or utcnow()
    workspace = lock_workspace(session, workspace_id)
    if source_channel and source_ts:
        existing = session.scalars(
            select(Review).where(
                Review.workspace_id == workspace_id,
                Review.source_channel == source_channel,
                Review.source_ts == source_ts,
            )
        ).first()
        if existing is not None:
            return Opened(existing, created=False)
    text = clean(text, MAX_TEXT)
    prefill = detector.prefill(text, today=now.astimezone(settings.timezone).date())
    workspace.last_review_number += 1
    chosen_title = clean_name(clean(title, MAX_TITLE) or prefill.title or text, MAX_TITLE)
    review = Review(
        workspace_id=workspace_id,
        number=workspace.last_review_number,
        title=chosen_title or render.raw_message("review.untitled"),
        summary=clean(summary, MAX_TEXT),
        announcement_text=text,
        owner_id=actor.user_id,
        announcer_id=actor.user_id,
        source_channel=source_channel,
        source_ts=source_ts,
        source_thread_ts=source_thread_ts if source_thread_ts != source_ts else None,
        go_live=go_live or prefill.go_live,
        links=clean(links, 1000),
        tags=list(prefill.tags),
        vendors=list(prefill.vendors),
        regulations=list(prefill.regulations),
        risk_reasons=[],
        state=State.ANNOUNCED,
        announced_at=now,
        first_response_due=settings.calendar.add_business_days(now, 1),
        due_at=settings.calendar.add_business_days(now, settings.secreview_sla_days),
        updated_at=now,
        # A new review has no decisions or conditions: saying so spares the card and the thread reply
        # rendered below two lazy SELECTs (each with an autoflush) in the opening transaction.
        decisions=[],
        conditions=[],
    )
    session.add(review)
    session.flush()
    transition(
        session, workspace=workspace, review=review, actor=actor, action="announced", to_state=None, now=now,
        note=via, opening=True,
        data={"go_live": review.go_live, "tags": list(prefill.tags), "vendors": list(prefill.vendors),
              "regulations": list(prefill.regulations), "source": [source_channel, source_ts], **(data or {})},
    )
    notices.review_opened(session, settings=settings, review=review)
    return Opened(review, created=True)
