"""Events: announcements (messages, edits, deletions), the trigger reaction, App Home opened."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.common.ids import FunctionId
from bot.review import announcements, edits, lifecycle
from bot.slack import queueing
from handlers.common import services_of, workspace_of
from handlers.home import publish_home
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)

IGNORED_SUBTYPES_FOR_NEW = frozenset({"bot_message", "channel_join", "channel_leave", "thread_broadcast"})


def _claim_event(session: Session, body: dict[str, Any]) -> bool:
    """Records the delivery's event_id in this transaction; False when another delivery got there first."""
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return True
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id[:64]))
    except IntegrityError:
        return False
    return True


def _watched(context: BoltContext, event: dict[str, Any]) -> bool:
    settings = services_of(context).settings
    channel = event.get("channel")
    if not isinstance(channel, str):
        return False
    if settings.secreview_watch_channels:
        return channel in settings.secreview_watch_channels
    # Empty list: every public channel the bot is in (Slack only sends us those it is a member of).
    return event.get("channel_type", "channel") == "channel"


def _is_human_top_level(event: dict[str, Any]) -> bool:
    if event.get("bot_id") or event.get("subtype") or event.get("app_id"):
        return False  # bots (classic or modern), edits, joins and every other subtype
    thread_ts = event.get("thread_ts")
    if thread_ts and thread_ts != event.get("ts"):
        return False  # a reply in a thread
    return isinstance(event.get("user"), str) and isinstance(event.get("ts"), str)


def worth_keeping(context: BoltContext, event: dict[str, Any]) -> bool:
    """Events that change something: announcements, edits and deletions, the trigger reaction, a workflow step."""
    kind = event.get("type")
    if kind == "function_executed":
        function = event.get("function") if isinstance(event.get("function"), dict) else {}
        return function.get("callback_id") == FunctionId.OPEN_REVIEW
    if kind == "reaction_added":
        return event.get("reaction") == services_of(context).settings.secreview_trigger_emoji
    if kind != "message":
        return False
    if event.get("subtype") in ("message_changed", "message_deleted"):
        return True
    detector = services_of(context).detector
    text = event.get("text")
    return (_is_human_top_level(event) and _watched(context, event) and isinstance(text, str)
            and detector is not None and detector.is_announcement(text))


def keep_before_ack(body: dict[str, Any], context: BoltContext, next: Any) -> BoltResponse | None:
    """Stores an event that will change something before Bolt acknowledges it (see bot/run/inbox.py)."""
    event = body.get("event") if isinstance(body, dict) and body.get("type") == "event_callback" else None
    event_id = body.get("event_id") if isinstance(event, dict) else None
    replayed = bool(context.get(queueing.REPLAY))  # kept already: a second insert would only queue for the writer
    if (isinstance(event, dict) and isinstance(event_id, str) and event_id and not replayed
            and worth_keeping(context, event)):
        services = services_of(context)
        try:
            workspace_id = workspace_of(context, body)
            # urgent: Slack's ack waits for this insert, so it goes before the writers processing earlier events.
            services.write(lambda s: queueing.keep(s, event_id=event_id, workspace_id=workspace_id, body=body),
                           urgent=True)
        except (SQLAlchemyError, ValueError):
            # Not kept, so not acknowledged: Slack delivers it again later.
            log.error("could not keep event %s before acknowledging it", event_id, exc_info=True)
            return BoltResponse(status=503, body="")
    next()
    return None


def message_event(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    """A message in a watched channel: a new announcement, an edit or a deletion."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return _message_changed(body, event, context)
    if subtype == "message_deleted":
        return _message_deleted(body, event, context)
    if not _is_human_top_level(event) or not _watched(context, event):
        return None
    services = services_of(context)
    text = event.get("text") if isinstance(event.get("text"), str) else ""
    assert services.detector is not None
    if not services.detector.is_announcement(text):
        return None
    _open(body, context, channel=event["channel"], ts=event["ts"], user=event["user"], text=text, via="announcement")
    return None


def _open(body: dict[str, Any], context: BoltContext, *, channel: str, ts: str, user: str, text: str,
          via: str) -> None:
    services = services_of(context)
    workspace_id = workspace_of(context, body)

    def change(session: Session) -> announcements.Opened | None:
        if not _claim_event(session, body):
            return None
        assert services.detector is not None
        return announcements.open_review(
            session, settings=services.settings, detector=services.detector, workspace_id=workspace_id,
            actor=lifecycle.Actor(user), text=text, source_channel=channel, source_ts=ts, via=via,
        )

    try:
        opened = services.write(change)
    except IntegrityError:
        # Another replica opened it in the same instant; the unique key kept it to one review.
        log.info("announcement %s/%s already has a review", channel, ts)
        return
    if opened is not None and opened.created:
        log.info("opened %s for %s/%s (%s)", opened.review.key, channel, ts, via)


def _message_changed(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    channel, ts = event.get("channel"), message.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str) or message.get("bot_id"):
        return
    services = services_of(context)
    workspace_id = workspace_of(context, body)
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    editor = message.get("user") if isinstance(message.get("user"), str) else "unknown"

    def change(session: Session) -> None:
        if _claim_event(session, body):
            assert services.detector is not None
            edits.update_announcement(session, settings=services.settings, detector=services.detector,
                                      workspace_id=workspace_id, channel=channel, ts=ts, new_text=text,
                                      editor_id=editor)

    services.write(change)


def _message_deleted(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    channel, ts = event.get("channel"), event.get("deleted_ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return
    services = services_of(context)
    workspace_id = workspace_of(context, body)

    def change(session: Session) -> None:
        if _claim_event(session, body):
            edits.note_deleted(session, settings=services.settings, workspace_id=workspace_id, channel=channel, ts=ts)

    services.write(change)


def reaction_added(body: dict[str, Any], event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The trigger reaction on any message opens a review for that message (once)."""
    services = services_of(context)
    if event.get("reaction") != services.settings.secreview_trigger_emoji:
        return
    item = event.get("item") if isinstance(event.get("item"), dict) else {}
    channel, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if item.get("type") != "message" or not all(isinstance(v, str) for v in (channel, ts, user)):
        return
    # The reaction carries no text: fetch the message (the one Slack call this path needs).
    history = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
    messages = history.get("messages") or []
    if not messages:
        replies = client.conversations_replies(channel=channel, ts=ts, limit=1)
        messages = replies.get("messages") or []
    message = messages[0] if messages else {}
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    author = message.get("user") if isinstance(message.get("user"), str) else user
    _open(body, context, channel=channel, ts=ts, user=author, text=text, via="reaction")


def app_home_opened(event: dict[str, Any], context: BoltContext, body: dict[str, Any]) -> None:
    """Publishes the user's home tab."""
    if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
        return
    publish_home(context=context, user_id=event["user"], body=body)


def ignore_event() -> None:
    """Events we subscribe to but do not act on are acknowledged quietly."""


def register(app: App) -> None:
    """Binds the event listeners, and keeps the events that matter before they are acknowledged."""
    app.use(keep_before_ack)
    app.event("message")(message_event)
    app.event("reaction_added")(reaction_added)
    app.event("app_home_opened")(app_home_opened)
