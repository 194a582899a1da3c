"""The Slack messages each change sends, rendered now and written to the outbox in the change's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.review import messages, outbox
from storage.models import Decision, Review


def _card_key(review: Review) -> str:
    # The card's post and all its updates share one ordering key: an update never overtakes the post.
    return f"card:{review.workspace_id}:{review.id}"


def _thread_key(review: Review) -> str:
    return f"thread:{review.workspace_id}:{review.id}"


def _dm_key(review: Review, user_id: str) -> str:
    return f"dm:{review.workspace_id}:{user_id}"


def _post(session: Session, review: Review, *, channel: str, message: dict[str, Any], purpose: str,
          ordering_key: str, thread_ts: str | None = None) -> None:
    payload: dict[str, Any] = {"channel": channel, "text": message["text"], "blocks": message["blocks"],
                               "unfurl_links": False, "unfurl_media": False}
    if thread_ts:
        payload["thread_ts"] = thread_ts
    outbox.enqueue(session, workspace_id=review.workspace_id, method="chat.postMessage", payload=payload,
                   purpose=purpose, review_id=review.id, ordering_key=ordering_key)


def _to_thread(session: Session, review: Review, message: dict[str, Any], purpose: str) -> bool:
    if not (review.source_channel and review.source_ts):
        return False
    # A review opened from a reply answers in that reply's thread (Slack threads are one level deep).
    _post(session, review, channel=review.source_channel, thread_ts=review.source_thread_ts or review.source_ts,
          message=message,
          purpose=purpose, ordering_key=_thread_key(review))
    return True


def _to_user(session: Session, review: Review, user_id: str, message: dict[str, Any], purpose: str) -> None:
    # chat.postMessage to a user ID posts in the app's DM with that user (no conversations.open needed).
    _post(session, review, channel=user_id, message=message, purpose=purpose, ordering_key=_dm_key(review, user_id))


def review_opened(session: Session, *, settings: Settings, review: Review) -> None:
    """Thread reply with the key and the intake button; the review card in the security channel."""
    _to_thread(session, review, messages.thread_opened(review), "thread_opened")
    if settings.secreview_security_channel:
        _post(session, review, channel=settings.secreview_security_channel,
              message=messages.review_card(review, settings), purpose="card", ordering_key=_card_key(review))
    if not review.source_channel:
        _to_user(session, review, review.owner_id, messages.thread_opened(review), "owner_opened")


def card_changed(session: Session, *, settings: Settings, review: Review) -> None:
    """Updates the review card in place (the outbox fills in its ts once the card was posted)."""
    if not settings.secreview_security_channel:
        return
    card = messages.review_card(review, settings)
    outbox.enqueue(
        session, workspace_id=review.workspace_id, method="chat.update",
        payload={"channel": settings.secreview_security_channel, "text": card["text"], "blocks": card["blocks"]},
        purpose="card_update", review_id=review.id, ordering_key=_card_key(review),
    )


def assigned(session: Session, *, settings: Settings, review: Review, actor_id: str) -> None:
    """Tells the new assignee by DM."""
    assert review.assignee_id is not None
    _to_user(session, review, review.assignee_id, messages.notice("assigned", review=review, actor=actor_id),
             "assigned")


def info_requested(session: Session, *, settings: Settings, review: Review, actor_id: str, question: str) -> None:
    """The question goes to the thread and to the owner by DM; the card shows needs_info."""
    message = messages.notice("info_requested", review=review, actor=actor_id, question=question)
    _to_thread(session, review, message, "thread_info")
    _to_user(session, review, review.owner_id, message, "dm_info")
    card_changed(session, settings=settings, review=review)


def info_answered(session: Session, *, settings: Settings, review: Review, actor_id: str) -> None:
    """The assignee hears that the owner answered."""
    if review.assignee_id:
        _to_user(session, review, review.assignee_id, messages.notice("info_answered", review=review, actor=actor_id),
                 "dm_answered")


def decided(session: Session, *, settings: Settings, review: Review, decision: Decision) -> None:
    """The outcome in the thread, the card updated in place, the owner told by DM."""
    message = messages.decision_notice(review, decision, settings)
    _to_thread(session, review, message, "thread_decision")
    card_changed(session, settings=settings, review=review)
    _to_user(session, review, review.owner_id, message, "dm_decision")


def closed(session: Session, *, settings: Settings, review: Review, actor_id: str) -> None:
    """Withdrawn or not a project: the thread and the card say so."""
    _to_thread(session, review, messages.notice(str(review.state), review=review, actor=actor_id), "thread_closed")
    card_changed(session, settings=settings, review=review)


def reopened(session: Session, *, settings: Settings, review: Review, actor_id: str, reason: str) -> None:
    """A reopened review: the thread and the owner are told why."""
    message = messages.notice("reopened", review=review, actor=actor_id, reason=reason)
    _to_thread(session, review, message, "thread_reopened")
    _to_user(session, review, review.owner_id, message, "dm_reopened")
    card_changed(session, settings=settings, review=review)


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
        _post(session, review, channel=settings.secreview_security_channel, message=message,
              purpose="risk_lowered", ordering_key=f"alert:{review.workspace_id}:{review.id}")
