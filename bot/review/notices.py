"""The Slack messages each change sends, rendered now and written to the outbox in the change's transaction.

Every change calls `refresh`: everything secreview posted about the review that shows its state (the thread reply,
the card, the owner's DM, info requests, decision notices) is rendered again and updated in place, and the App
Home tabs it appears on are republished (rendered when delivered). The functions below add what the change itself
tells people: the question, the decision, a DM to the new and the previous reviewer, confirmations.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.review import messages, outbox, posted
from bot.review.facts import NONE, Facts, facts_of
from bot.review.lifecycle import SYSTEM_USER
from storage.models import Decision, HomeTab, Review, utcnow

if TYPE_CHECKING:
    from datetime import date

# A reviewer who opened App Home this recently is probably looking at the queue: it is republished on every change
# of an open review. Others see it current the next time they open the tab (Slack tells us, and we publish then).
HOME_WATCH_WINDOW = timedelta(hours=1)
_HOMES_QUEUED = "secreview_homes"  # session.info: the homes already republished by this transaction


def refresh(session: Session, *, settings: Settings, review: Review, homes: Iterable[str | None] = (),
            facts: Facts | None = None) -> Facts:
    """Renders everything posted about the review again from its current state, and republishes the homes it is on."""
    facts = facts if facts is not None else facts_of(session, review)
    posted.refresh_views(session, settings=settings, review=review, facts=facts)
    publish_homes(session, review=review, users=homes)
    return facts


def publish_homes(session: Session, *, review: Review, users: Iterable[str | None] = ()) -> None:
    """Republishes the App Home of the people the review concerns and of reviewers looking at their queue."""
    concerned = {review.owner_id, review.announcer_id, review.assignee_id, *users}
    since = utcnow() - HOME_WATCH_WINDOW
    watching = session.scalars(
        select(HomeTab.user_id).where(HomeTab.workspace_id == review.workspace_id, HomeTab.is_reviewer.is_(True),
                                      HomeTab.opened_at >= since)
    ).all()
    queued: set[tuple[str, str]] = session.info.setdefault(_HOMES_QUEUED, set())
    for user in sorted(u for u in concerned | set(watching) if u and u != SYSTEM_USER):
        if (review.workspace_id, user) in queued:
            continue
        queued.add((review.workspace_id, user))
        # Only the user travels: delivery renders the home as it is then, so a late delivery is never stale.
        outbox.enqueue(session, workspace_id=review.workspace_id, method="views.publish", payload={"user_id": user},
                       purpose="home", review_id=review.id, ordering_key=f"home:{review.workspace_id}:{user}")


def _to_thread(session: Session, review: Review, message: dict[str, Any], purpose: str,
               data: dict[str, Any] | None = None) -> bool:
    if not (review.source_channel and review.source_ts):
        return False
    # A review opened from a reply answers in that reply's thread (Slack threads are one level deep).
    posted.post(session, review, purpose=purpose, channel=review.source_channel,
                thread_ts=review.source_thread_ts or review.source_ts, message=message,
                ordering_key=posted.thread_key(review), data={**(data or {}), "where": "thread"})
    return True


def _to_user(session: Session, review: Review, user_id: str, message: dict[str, Any], purpose: str,
             data: dict[str, Any] | None = None) -> None:
    # chat.postMessage to a user ID posts in the app's DM with that user (no conversations.open needed).
    if not user_id or user_id == SYSTEM_USER:
        return
    posted.post(session, review, purpose=purpose, channel=user_id, message=message,
                ordering_key=posted.dm_key(review, user_id),
                data={**(data or {}), "where": "dm", "recipient": user_id})


def review_opened(session: Session, *, settings: Settings, review: Review) -> None:
    """Thread reply with the key and the intake button; the review card in the security channel."""
    _to_thread(session, review, messages.thread_opened(review, NONE), "thread_opened")
    if settings.secreview_security_channel:
        posted.post(session, review, purpose="card", channel=settings.secreview_security_channel,
                    message=messages.review_card(review, settings, NONE), ordering_key=posted.card_key(review))
    if not review.source_channel:
        _to_user(session, review, review.owner_id, messages.thread_opened(review, NONE, where="dm"), "owner_opened")
    publish_homes(session, review=review)


def assigned(session: Session, *, settings: Settings, review: Review, actor_id: str, previous: str | None) -> None:
    """The views show the new reviewer; the new assignee (when someone else assigned them) and the previous one
    (when someone else took it from them) are told by DM."""
    refresh(session, settings=settings, review=review, homes=[previous])
    assert review.assignee_id is not None
    if review.assignee_id != actor_id:
        _to_user(session, review, review.assignee_id, messages.notice("assigned", review=review, actor=actor_id),
                 "assigned")
    if previous and previous not in (actor_id, review.assignee_id):
        _to_user(session, review, previous, messages.notice("reassigned", review=review, actor=actor_id),
                 "reassigned")


def info_requested(session: Session, *, settings: Settings, review: Review, actor_id: str, question: str) -> None:
    """The question goes to the thread and to the owner by DM (each with its button while it waits)."""
    refresh(session, settings=settings, review=review)
    asked_at = review.info_requested_at.isoformat() if review.info_requested_at else None
    data = {"question": question, "asked_by": actor_id, "asked_at": asked_at}
    for where in ("thread", "dm"):
        message = messages.info_request(review, question=question, asked_by=actor_id, asked_at=asked_at,
                                        where=where)
        if where == "thread":
            _to_thread(session, review, message, "thread_info", data)
        else:
            _to_user(session, review, review.owner_id, message, "dm_info", data)


def intake_submitted(session: Session, *, settings: Settings, review: Review, actor_id: str, first: bool,
                     answered_question: bool) -> None:
    """The views show the intake; the owner gets a short confirmation, the assignee hears of an answer."""
    refresh(session, settings=settings, review=review)
    if answered_question and review.assignee_id and review.assignee_id != actor_id:
        _to_user(session, review, review.assignee_id,
                 messages.notice("info_answered", review=review, actor=actor_id), "dm_answered")
    if posted.new_in_this_transaction(session, review, "owner"):
        return  # opened with /secreview new a moment ago: the owner's DM about it says it all
    kind = "intake_in" if first else "intake_changed"
    _to_user(session, review, review.owner_id, messages.notice(kind, review=review, actor=actor_id), "dm_intake")


def decided(session: Session, *, settings: Settings, review: Review, decision: Decision,
            confirm_to: str | None = None) -> None:
    """The views show the decision; the outcome goes to the thread and to the owner by DM, and the reviewer who
    decided in a modal (no channel to answer in) gets a confirmation by DM."""
    facts = refresh(session, settings=settings, review=review)
    data = {"decision_id": decision.id}
    _to_thread(session, review, messages.decision_notice(review, decision, settings, facts), "thread_decision", data)
    _to_user(session, review, review.owner_id,
             messages.decision_notice(review, decision, settings, facts, where="dm"), "dm_decision", data)
    if confirm_to and confirm_to != SYSTEM_USER:
        _to_user(session, review, confirm_to, messages.notice("decision_recorded", review=review, decision=decision),
                 "dm_decided")


def closed(session: Session, *, settings: Settings, review: Review, actor_id: str) -> None:
    """Withdrawn or not a project: the views say so, and the thread is told."""
    refresh(session, settings=settings, review=review)
    _to_thread(session, review, messages.notice(str(review.state), review=review, actor=actor_id, where="thread"),
               "thread_closed")


def reopened(session: Session, *, settings: Settings, review: Review, actor_id: str, reason: str) -> None:
    """A reopened review: the views show it open again; the thread and the owner are told why."""
    refresh(session, settings=settings, review=review)
    for where in ("thread", "dm"):
        message = messages.notice("reopened", review=review, actor=actor_id, reason=reason, where=where)
        if where == "thread":
            _to_thread(session, review, message, "thread_reopened")
        else:
            _to_user(session, review, review.owner_id, message, "dm_reopened")


def owner_named(session: Session, *, review: Review, actor_id: str) -> None:
    """Someone named another person the owner of a review: that person hears it from secreview."""
    message = messages.review_alert("owner_named", actor=actor_id, key=review.key, title=review.title[:300])
    _to_user(session, review, review.owner_id, message, "dm_owner_named")


def risk_lowered(session: Session, *, settings: Settings, review: Review, actor_id: str, before: str,
                 changes: str) -> None:
    """A re-submitted intake lowered the tier: the assignee (or the security channel) is told what changed."""
    message = messages.review_alert(
        "risk_lowered", key=review.key, title=review.title[:300], before=before, after=review.risk_tier or "",
        actor=actor_id, by_owner=actor_id == review.owner_id, changes=changes)
    if review.assignee_id:
        _to_user(session, review, review.assignee_id, message, "dm_risk_lowered")
    elif settings.secreview_security_channel:
        posted.post(session, review, purpose="risk_lowered", channel=settings.secreview_security_channel,
                    message=message, ordering_key=f"alert:{review.workspace_id}:{review.id}")


def _to_card_thread(session: Session, settings: Settings, review: Review, message: dict[str, Any], purpose: str,
                    *, broadcast: bool) -> None:
    """A reply in the thread of the review's card (delivery finds the card; the card's key keeps it behind it)."""
    channel = review.card_channel or settings.secreview_security_channel
    if not channel:
        return
    payload: dict[str, Any] = {"channel": channel, "text": message["text"], "blocks": message["blocks"],
                               "unfurl_links": False, "unfurl_media": False, outbox.CARD_THREAD_KEY: True}
    if broadcast:
        payload["reply_broadcast"] = True  # nobody has it: the whole channel should see it, not only the thread
    outbox.enqueue(session, workspace_id=review.workspace_id, method="chat.postMessage", payload=payload,
                   purpose=purpose, review_id=review.id, ordering_key=posted.card_key(review))


def announcement_changed(session: Session, *, settings: Settings, review: Review, changes: dict[str, Any],
                         material: bool, actor_id: str) -> None:
    """An edit after a take or a decision: the assignee (a mention) or the channel hears what changed, in the
    card's thread."""
    message = messages.announcement_change("changed", review=review, changes=changes, material=material,
                                           actor=actor_id)
    _to_card_thread(session, settings, review, message, "card_thread_changed", broadcast=not review.assignee_id)


def announcement_deleted(session: Session, *, settings: Settings, review: Review) -> None:
    """The announcement of a taken or decided review is gone: the reviewers hear it in the card's thread."""
    message = messages.announcement_change("deleted", review=review)
    _to_card_thread(session, settings, review, message, "card_thread_deleted", broadcast=not review.assignee_id)


def intake_differs(session: Session, *, review: Review, go_live: date, intake_go_live: date) -> None:
    """The announcement now names another go-live than the owner's intake: the owner decides which holds (the
    intake's button opens it with the announcement's date)."""
    message = messages.announcement_change("intake_differs", review=review, go_live=go_live,
                                           intake_go_live=intake_go_live)
    # A view: when the owner updates the intake or the review closes, the DM is rendered again without its button.
    _to_user(session, review, review.owner_id, message, "dm_intake_differs",
             data={"go_live": go_live.isoformat(), "intake_go_live": intake_go_live.isoformat()})
