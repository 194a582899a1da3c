"""What an outbox row becomes at the moment it is sent, and what its delivery leaves behind.

Most rows go to Slack as they were written. Three kinds are finished here, late, because only now is it known
what they should say or where they go:
- an update of a message secreview posted finds that message's channel and ts (the post may have been delivered
  after the update was written); the card's update posts the card instead when it never went out;
- an App Home publish is rendered now from the database, so the home is never older than its delivery (and a
  publish with a newer one waiting behind it for the same person is skipped);
- a DM that links to the announcement's thread gets the link's permalink from Slack (chat.getPermalink);
- a reply in the card's thread finds the card where it was posted (it goes to the channel itself when the card
  never was).
A post that shows a review's state is recorded (PostedMessage) when Slack accepted it, so later changes update it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.review import outbox
from bot.review.messages import THREAD_LINK
from storage.db import session_scope
from storage.models import OutboxMessage, PostedMessage, Review

# Renders one person's App Home in a session: (session, workspace id, user id) -> the view.
HomeRenderer = Callable[[Session, str, str], dict[str, Any]]

_LINK_RE = re.compile(r"<" + re.escape(THREAD_LINK) + r"\|([^<>]*)>")
_PERMALINK_CACHE_SIZE = 2048


@dataclass(frozen=True)
class Row:
    """The outbox row being delivered, as read when its claim was renewed."""

    id: int
    workspace_id: str
    review_id: int | None
    purpose: str
    method: str
    payload: dict[str, Any]
    ordering_key: str


@dataclass
class Prepared:
    """What to send for a row: the Slack method and payload, or why nothing is sent (`skip`)."""

    method: str
    payload: dict[str, Any]
    record: dict[str, Any] | None = None  # the view a successful post is recorded as (kind, data)
    posted_id: int | None = None  # the recorded message an update is for
    skip: str | None = None
    link: dict[str, Any] | None = field(default=None)


class WaitForPost(Exception):
    """The message an update is for has not been posted yet: try again later."""


class Preparer:
    """Finishes outbox rows for sending (see the module's docstring)."""

    def __init__(self, *, session_factory: sessionmaker[Session], render_home: HomeRenderer | None) -> None:
        self._session_factory = session_factory
        self._render_home = render_home
        self._permalinks: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def prepare(self, row: Row) -> Prepared:
        """The method and payload to send for the row (reads the database; raises WaitForPost)."""
        payload = dict(row.payload)
        view = payload.pop(outbox.VIEW_KEY, None)
        link = payload.pop(outbox.LINK_KEY, None)
        card_thread = payload.pop(outbox.CARD_THREAD_KEY, None)
        with session_scope(self._session_factory) as session:
            if row.method == "views.publish":
                prepared = self._home(session, row, payload)
            elif row.method == "chat.update":
                prepared = self._update(session, row, payload, view)
            else:
                record = view if row.method == "chat.postMessage" and isinstance(view, dict) else None
                if record is None and row.purpose == "card" and row.method == "chat.postMessage":
                    record = {"kind": "card", "data": {}}  # a card written before views were recorded
                if card_thread and row.review_id is not None:
                    payload = self._in_card_thread(session, row.review_id, payload)
                prepared = Prepared(row.method, payload, record=record)
        prepared.link = link if isinstance(link, dict) else None
        return prepared

    def with_permalink(self, prepared: Prepared, client: WebClient, workspace_id: str) -> None:
        """Swaps the thread link's permalink into the payload (Slack errors propagate to the caller)."""
        if prepared.link is None or prepared.skip:
            return
        channel, ts = str(prepared.link.get("channel") or ""), str(prepared.link.get("ts") or "")
        key = (workspace_id, channel, ts)
        with self._lock:
            url = self._permalinks.get(key)
        if url is None:
            answer = client.chat_getPermalink(channel=channel, message_ts=ts)
            url = str(answer.get("permalink") or "")
            with self._lock:
                if len(self._permalinks) >= _PERMALINK_CACHE_SIZE:
                    self._permalinks.clear()
                self._permalinks[key] = url
        prepared.payload = swap_link(prepared.payload, url)

    def _home(self, session: Session, row: Row, payload: dict[str, Any]) -> Prepared:
        newer = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.ordering_key == row.ordering_key,
                                           OutboxMessage.state == "pending", OutboxMessage.id > row.id).limit(1)
        ).first()
        if newer is not None:
            return Prepared(row.method, payload, skip=f"superseded by #{newer}")
        if self._render_home is None:
            return Prepared(row.method, payload, skip="this process renders no App Home")
        user = str(payload.get("user_id") or "")
        return Prepared(row.method, {"user_id": user, "view": self._render_home(session, row.workspace_id, user)})

    @staticmethod
    def _in_card_thread(session: Session, review_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        # The card's post went first on the same ordering key, so its ts is known unless it was never posted.
        review = session.get(Review, review_id)
        if review is None or not review.card_ts:
            return {k: v for k, v in payload.items() if k != "reply_broadcast"}
        return {**payload, "channel": review.card_channel or payload["channel"], "thread_ts": review.card_ts}

    def _update(self, session: Session, row: Row, payload: dict[str, Any], view: Any) -> Prepared:
        card = row.purpose == "card_update"
        target = view if isinstance(view, dict) else {}
        posted: PostedMessage | None = None
        if target.get("posted_id") is not None:
            posted = session.get(PostedMessage, target["posted_id"])
        elif target.get("outbox_id") is not None:
            posted = session.scalars(
                select(PostedMessage).where(PostedMessage.outbox_id == target["outbox_id"])).first()
            if posted is None:
                state = session.scalar(select(OutboxMessage.state).where(OutboxMessage.id == target["outbox_id"]))
                if state == "pending":
                    raise WaitForPost(f"outbox #{target['outbox_id']} is not posted yet")
        elif card:  # an update written before views were recorded: the card's ts is on the review
            review = session.get(Review, row.review_id) if row.review_id else None
            if review is not None and review.card_ts:
                return Prepared(row.method, {**payload, "channel": review.card_channel or payload["channel"],
                                             "ts": review.card_ts})
        if posted is not None:
            return Prepared(row.method, {**payload, "channel": posted.channel, "ts": posted.ts}, posted_id=posted.id)
        if card:
            # The card was never posted (refused, or the channel was set later): post it now instead.
            return Prepared("chat.postMessage", {k: v for k, v in payload.items() if k != "ts"},
                            record={"kind": "card", "data": {}})
        return Prepared(row.method, payload, skip="the message it updates was never posted or is gone")


def swap_link(payload: dict[str, Any], url: str) -> dict[str, Any]:
    """The payload with the thread link pointing at `url`; with no url, the link's label alone."""
    text = json.dumps(payload, ensure_ascii=False)
    if url:
        text = text.replace(THREAD_LINK, url.replace("\\", "").replace('"', ""))
    else:
        text = _LINK_RE.sub(lambda m: m.group(1), text)
    return dict(json.loads(text))


def record_post(session: Session, row: OutboxMessage, prepared: Prepared, result: dict[str, Any]) -> None:
    """After Slack accepted a post that shows a review's state: where it landed, so later changes update it."""
    if prepared.record is None or row.review_id is None or prepared.method != "chat.postMessage":
        return
    channel, ts = result.get("channel"), result.get("ts")
    if not channel or not ts:
        return
    kind = str(prepared.record.get("kind") or "")
    session.add(PostedMessage(workspace_id=row.workspace_id, review_id=row.review_id, kind=kind, channel=channel,
                              ts=ts, outbox_id=row.id, data=dict(prepared.record.get("data") or {})))
    if kind == "card":
        review = session.get(Review, row.review_id)
        if review is not None:
            review.card_channel, review.card_ts = channel, ts


def forget_posted(session: Session, posted_id: int | None) -> None:
    """A message Slack says is gone (deleted, its channel archived): no later change tries to update it."""
    if posted_id is not None:
        found = session.get(PostedMessage, posted_id)
        if found is not None:
            if found.kind == "card":  # the next change posts a new card (bot/review/posted.py)
                review = session.get(Review, found.review_id)
                if review is not None and review.card_ts == found.ts:
                    review.card_channel = review.card_ts = None
            session.delete(found)
