"""Shortcuts: "Request security review" on any message, and "New security review" in the ⚡ menu.

Both open the intake modal; the review is opened when it is submitted (handlers/intake.py), so closing the
modal leaves nothing behind. A message shortcut pre-fills the intake from the message it was used on and links
the review to it: the review's thread reply goes into that message's thread (the thread the message is in, for a
reply). The message's text comes with the shortcut, so it works wherever the person can see the message; for
the thread reply secreview must be able to post there (public channels: always; private ones: once invited).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.common import render
from bot.common.ids import ShortcutId
from bot.review.errors import DomainError
from bot.review.states import OPEN_STATES
from bot.slack import views
from handlers.actions import tell
from handlers.common import actor_of, services_of, workspace_of
from handlers.intake import open_intake_modal
from storage.models import Review

log = logging.getLogger(__name__)

_USER_PREFIXES = ("U", "W")


def _existing(context: BoltContext, workspace_id: str, channel: str, ts: str) -> Review | None:
    """The review this message opened already, if any (one message opens at most one review)."""

    def load(session: Session) -> Review | None:
        review = session.scalars(select(Review).where(
            Review.workspace_id == workspace_id, Review.source_channel == channel, Review.source_ts == ts)).first()
        if review is not None:
            _ = (review.conditions, review.decisions)
        return review

    return services_of(context).read(load)


def request_review(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient,
                   context: BoltContext) -> None:
    """"Request security review" on a message: the intake pre-filled from it (or the review it already has)."""
    ack()
    try:
        user = str((body.get("user") or {}).get("id") or "")
        actor = actor_of(context, user, body)
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        ts = message.get("ts") or body.get("message_ts")
        if not isinstance(channel, str) or not isinstance(ts, str):
            log.warning("a message shortcut without a channel or message ts from %s", user)
            return
        existing = _existing(context, workspace_of(context, body), channel, ts)
        if existing is not None:
            may_edit = actor.user_id in (existing.owner_id, existing.announcer_id) or actor.may_review
            if existing.state in OPEN_STATES and may_edit:
                open_intake_modal(client=client, context=context, trigger_id=body.get("trigger_id"),
                                  review=existing, actor=actor)
            else:
                tell(body, respond, client, views.sentence(render.message(
                    "shortcut.exists", key=existing.key, state=render.message(f"state.{existing.state}"))))
            return
        author = message.get("user")
        thread_ts = message.get("thread_ts")
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        source = {
            "channel": channel, "ts": ts, "text": text,
            "thread_ts": thread_ts if isinstance(thread_ts, str) and thread_ts != ts else None,
            # The person who posted the project is its owner by default; a bot's message has none.
            "author": author if isinstance(author, str) and author.startswith(_USER_PREFIXES)
            and not message.get("bot_id") else None,
        }
        open_intake_modal(client=client, context=context, trigger_id=body.get("trigger_id"), review=None,
                          actor=actor, source=source, body=body)
    except DomainError as exc:
        tell(body, respond, client, views.sentence(exc.user_message))


def new_review(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """"New security review" in the ⚡ menu: an empty intake, as `/secreview new` opens it."""
    ack()
    try:
        actor = actor_of(context, str((body.get("user") or {}).get("id") or ""), body)
        open_intake_modal(client=client, context=context, trigger_id=body.get("trigger_id"), review=None,
                          actor=actor)
    except DomainError as exc:
        tell(body, respond, client, views.sentence(exc.user_message))


def register(app: App) -> None:
    """Binds the message shortcut and the global shortcut."""
    app.shortcut(ShortcutId.REQUEST_REVIEW.value)(request_review)
    app.shortcut(ShortcutId.NEW_REVIEW.value)(new_review)
