"""The messages posted about a review that show its state ("views"): posting them so that delivery records where
they landed, and rendering every one of them again from the review's current state after a change.

A view is posted through the outbox with its kind (and what it was rendered with) under outbox.VIEW_KEY; delivery
writes a PostedMessage row once Slack accepted it. `refresh_views` then finds every view of a review, the posted
ones and those whose post still waits in the outbox, and enqueues a `chat.update` for each on the same ordering key
as its post, so an update never overtakes the message it updates. A post written in this very transaction is
re-rendered in place instead: nothing has seen it yet.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.review import messages, outbox
from bot.review.facts import Facts
from bot.review.states import OPEN_STATES
from storage.models import OutboxMessage, PostedMessage, Review

# The posts that are views, and the kind each is recorded as.
VIEW_PURPOSES = {
    "thread_opened": "thread", "owner_opened": "owner", "card": "card", "thread_info": "info", "dm_info": "info",
    "thread_decision": "decision", "dm_decision": "decision", "dm_intake_differs": "differs",
}
# The outbox purpose of an update, by kind (the card's keeps its old name: the chaos tally counts it).
UPDATE_PURPOSES = {"thread": "thread_update", "owner": "owner_update", "card": "card_update",
                   "info": "info_update", "decision": "decision_update", "differs": "differs_update"}
_NEW_POSTS = "secreview_new_posts"  # session.info: the view posts written in this transaction


def render(kind: str, *, review: Review, settings: Settings, facts: Facts,
           data: dict[str, Any]) -> dict[str, Any] | None:
    """One view of the review as it stands now; None when it cannot be rendered any more (its decision is gone)."""
    if kind == "thread":
        return messages.thread_opened(review, facts, where="thread")
    if kind == "owner":
        return messages.thread_opened(review, facts, where="dm")
    if kind == "card":
        return messages.review_card(review, settings, facts)
    where = str(data.get("where") or "thread")
    if kind == "info" and data.get("question") and data.get("asked_by"):
        return messages.info_request(review, question=str(data["question"]), asked_by=str(data["asked_by"]),
                                     asked_at=data.get("asked_at"), where=where)
    if kind == "decision":
        decision = next((d for d in review.decisions if d.id == data.get("decision_id")), None)
        if decision is not None:
            return messages.decision_notice(review, decision, settings, facts, where=where)
    if kind == "differs" and data.get("go_live") and data.get("intake_go_live"):
        return _differs(review, go_live=date.fromisoformat(str(data["go_live"])),
                        intake_go_live=date.fromisoformat(str(data["intake_go_live"])))
    return None


def _differs(review: Review, *, go_live: date, intake_go_live: date) -> dict[str, Any]:
    """The owner's "the announcement says another go-live" DM: its button only while the question is still open
    (the review open, and its go-live still the intake's date the DM named)."""
    if review.state not in OPEN_STATES:
        settled = "closed"
    elif review.go_live != intake_go_live:
        settled = "updated"
    else:
        settled = ""
    return messages.announcement_change("intake_differs", review=review, go_live=go_live,
                                        intake_go_live=intake_go_live, settled=settled)


def post(session: Session, review: Review, *, purpose: str, channel: str, message: dict[str, Any],
         ordering_key: str, thread_ts: str | None = None, data: dict[str, Any] | None = None) -> OutboxMessage:
    """Enqueues one chat.postMessage about the review; a view's kind and data travel with it for delivery."""
    payload: dict[str, Any] = {"channel": channel, "text": message["text"], "blocks": message["blocks"],
                               "unfurl_links": False, "unfurl_media": False}
    if thread_ts:
        payload["thread_ts"] = thread_ts
    kind = VIEW_PURPOSES.get(purpose)
    if kind is not None:
        payload[outbox.VIEW_KEY] = {"kind": kind, "data": data or {}}
    _link_if_needed(payload, review)
    row = outbox.enqueue(session, workspace_id=review.workspace_id, method="chat.postMessage", payload=payload,
                         purpose=purpose, review_id=review.id, ordering_key=ordering_key)
    if kind is not None:
        session.info.setdefault(_NEW_POSTS, []).append(row)
    return row


def new_in_this_transaction(session: Session, review: Review, kind: str) -> bool:
    """Whether a view of this kind of the review was posted in this transaction (it shows the change already)."""
    return any(row.review_id == review.id and row.payload.get(outbox.VIEW_KEY, {}).get("kind") == kind
               for row in session.info.get(_NEW_POSTS, []))


def refresh_views(session: Session, *, settings: Settings, review: Review, facts: Facts) -> int:
    """Renders every view of the review again; returns how many updates were enqueued."""
    if review.id is None:
        return 0
    mine = session.info.get(_NEW_POSTS, [])
    waiting = session.scalars(
        select(OutboxMessage).where(OutboxMessage.review_id == review.id, OutboxMessage.state == "pending",
                                    OutboxMessage.method == "chat.postMessage",
                                    OutboxMessage.purpose.in_(list(VIEW_PURPOSES)))
        .order_by(OutboxMessage.id)
    ).all()
    updates = 0
    kinds: set[str] = set()
    for row in waiting:
        view = row.payload.get(outbox.VIEW_KEY) or {}
        kinds.add(str(view.get("kind")))
        rendered = render(str(view.get("kind")), review=review, settings=settings, facts=facts,
                          data=view.get("data") or {})
        if rendered is None:
            continue
        if any(row is new for new in mine):
            payload = {**row.payload, "text": rendered["text"], "blocks": rendered["blocks"]}
            _link_if_needed(payload, review)
            row.payload = payload  # a new dict, so the JSON column sees the change
            continue
        _update(session, review, kind=str(view["kind"]), rendered=rendered, channel=str(row.payload["channel"]),
                ordering_key=row.ordering_key, target={"outbox_id": row.id})
        updates += 1
    for posted in session.scalars(
        select(PostedMessage).where(PostedMessage.review_id == review.id).order_by(PostedMessage.id)
    ):
        kinds.add(posted.kind)
        rendered = render(posted.kind, review=review, settings=settings, facts=facts, data=posted.data or {})
        if rendered is None:
            continue
        _update(session, review, kind=posted.kind, rendered=rendered, channel=posted.channel,
                ordering_key=ordering_key_of(posted, review), target={"posted_id": posted.id})
        updates += 1
    if "card" not in kinds and settings.secreview_security_channel:
        # No card to update (refused, deleted, or the channel was set later): the reviewers get one now.
        post(session, review, purpose="card", channel=settings.secreview_security_channel,
             message=messages.review_card(review, settings, facts), ordering_key=card_key(review))
    return updates


def ordering_key_of(posted: PostedMessage, review: Review) -> str:
    """The conversation key its post went out on: updates share it, so they keep their order."""
    if posted.kind == "card":
        return card_key(review)
    if posted.data.get("where") == "dm" or posted.kind == "owner":
        return dm_key(review, str(posted.data.get("recipient") or review.owner_id))
    return thread_key(review)


def card_key(review: Review) -> str:
    """The card's post and all its updates share one ordering key: an update never overtakes the post."""
    return f"card:{review.workspace_id}:{review.id}"


def thread_key(review: Review) -> str:
    """Everything in the announcement's thread, in order."""
    return f"thread:{review.workspace_id}:{review.id}"


def dm_key(review: Review, user_id: str) -> str:
    """Everything in one person's DM with secreview, in order."""
    return f"dm:{review.workspace_id}:{user_id}"


def _update(session: Session, review: Review, *, kind: str, rendered: dict[str, Any], channel: str,
            ordering_key: str, target: dict[str, Any]) -> None:
    payload: dict[str, Any] = {"channel": channel, "text": rendered["text"], "blocks": rendered["blocks"],
                               outbox.VIEW_KEY: {"kind": kind, **target}}
    _link_if_needed(payload, review)
    outbox.enqueue(session, workspace_id=review.workspace_id, method="chat.update", payload=payload,
                   purpose=UPDATE_PURPOSES[kind], review_id=review.id, ordering_key=ordering_key)


def _link_if_needed(payload: dict[str, Any], review: Review) -> None:
    # A DM that links to the announcement's thread: delivery asks Slack for the permalink.
    if review.source_channel and review.source_ts and messages.THREAD_LINK in str(payload.get("blocks")):
        payload[outbox.LINK_KEY] = {"channel": review.source_channel, "ts": review.source_ts}
