"""Events API payloads: the `event_callback` envelope and the events secreview listens to.

Messages (posted, edited, deleted), reactions, app_home_opened, and the url_verification challenge, each in
exactly the shape of a file in tests/fixtures/payloads/ (captured from Slack's own SDK test suites).
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from sandbox.payloads.ids import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_NAME,
    DEFAULT_BOT_USER_ID,
    DEFAULT_VERIFICATION_TOKEN,
    dm_channel_id,
    new_event_id,
    new_ts,
)
from sandbox.payloads.rich_text import rich_text_blocks


def _channel_type(channel: str) -> str:
    return {"D": "im", "G": "group"}.get(channel[:1], "channel")


def event_callback(
    team_id: str,
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    event_time: int | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
    token: str = DEFAULT_VERIFICATION_TOKEN,
    channel: str | None = None,
) -> dict[str, Any]:
    """Wrap an event in the Events API `event_callback` envelope (with `authorizations`)."""
    if event_time is None:
        event_time = int(float(event.get("event_ts") or time.time()))
    envelope: dict[str, Any] = {"token": token, "team_id": team_id}
    # Slack adds the top-level enterprise_id only for Enterprise Grid workspaces.
    if enterprise_id is not None:
        envelope["enterprise_id"] = enterprise_id
    envelope.update(
        {
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or new_event_id(),
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    )
    # Events that happen in a conversation carry these two; app_home_opened does not.
    if channel is not None:
        envelope["is_ext_shared_channel"] = False
        envelope["event_context"] = f"1-{event.get('type', 'message')}-{team_id}-{channel}"
    return envelope


def message_event(
    team_id: str,
    channel: str,
    user: str | None,
    text: str,
    ts: str | None = None,
    event_id: str | None = None,
    thread_ts: str | None = None,
    bot_id: str | None = None,
    subtype: str | None = None,
    *,
    blocks: list[dict[str, Any]] | None = None,
    channel_type: str | None = None,
    parent_user_id: str | None = None,
    username: str | None = None,
    app_id: str = DEFAULT_APP_ID,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """Build an `event_callback` with a `message` event: a human post, an app bot post (bot_id), or a subtype.

    `text` is the message text as Slack delivers it (mrkdwn, with `&`, `<`, `>` escaped by the sender).
    `subtype="bot_message"` gives a classic bot message; `bot_id` without subtype a modern app bot's.
    """
    ts = ts or new_ts()
    channel_type = channel_type or _channel_type(channel)
    event: dict[str, Any]
    if subtype == "bot_message":
        event = {
            "type": "message",
            "subtype": "bot_message",
            "text": text,
            "ts": ts,
            "username": username or DEFAULT_BOT_NAME,
            "bot_id": bot_id or DEFAULT_BOT_ID,
        }
    elif subtype is not None:
        # Joins, topic changes and the like: no client_msg_id and no blocks.
        event = {"type": "message", "subtype": subtype, "ts": ts, "user": user, "text": text}
    elif bot_id is not None:
        # Modern app bots post with bot_id and user but without a subtype.
        event = {
            "bot_id": bot_id,
            "type": "message",
            "text": text,
            "user": user or bot_user_id,
            "ts": ts,
            "app_id": app_id,
            "blocks": blocks if blocks is not None else rich_text_blocks(text),
            "team": team_id,
            "bot_profile": {
                "id": bot_id,
                "deleted": False,
                "name": username or DEFAULT_BOT_NAME,
                "updated": int(time.time()),
                "app_id": app_id,
                "icons": {"image_36": "", "image_48": "", "image_72": ""},
                "team_id": team_id,
            },
        }
    else:
        event = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": team_id,
            "blocks": blocks if blocks is not None else rich_text_blocks(text),
        }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if subtype != "bot_message":
            event["parent_user_id"] = parent_user_id or user
    event.update({"channel": channel, "event_ts": ts, "channel_type": channel_type})
    return event_callback(
        team_id,
        event,
        event_id=event_id,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        enterprise_id=enterprise_id,
        channel=channel,
    )


def message_changed_event(
    team_id: str,
    channel: str,
    ts: str,
    new_text: str,
    user: str,
    *,
    old_text: str = "",
    edited_ts: str | None = None,
    event_id: str | None = None,
    thread_ts: str | None = None,
    channel_type: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """Build an `event_callback` for an edit: `message_changed` with `message` and `previous_message`."""
    edited_ts = edited_ts or new_ts()
    client_msg_id = str(uuid.uuid4())
    previous: dict[str, Any] = {
        "client_msg_id": client_msg_id,
        "type": "message",
        "text": old_text,
        "user": user,
        "ts": ts,
        "team": team_id,
        "blocks": rich_text_blocks(old_text),
    }
    message: dict[str, Any] = {
        "client_msg_id": client_msg_id,
        "type": "message",
        "text": new_text,
        "user": user,
        "team": team_id,
        "edited": {"user": user, "ts": edited_ts},
        "blocks": rich_text_blocks(new_text),
        "ts": ts,
        "source_team": team_id,
        "user_team": team_id,
    }
    if thread_ts is not None:
        for part in (previous, message):
            part["thread_ts"] = thread_ts
            part["parent_user_id"] = user
    event = {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": edited_ts,
        "event_ts": edited_ts,
        "channel_type": channel_type or _channel_type(channel),
    }
    return event_callback(
        team_id,
        event,
        event_id=event_id,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        enterprise_id=enterprise_id,
        channel=channel,
    )


def message_deleted_event(
    team_id: str,
    channel: str,
    ts: str,
    user: str,
    *,
    old_text: str = "",
    event_ts: str | None = None,
    event_id: str | None = None,
    thread_ts: str | None = None,
    channel_type: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """Build an `event_callback` for a deletion: `message_deleted` with `deleted_ts`, `previous_message`."""
    event_ts = event_ts or new_ts()
    previous: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": old_text,
        "user": user,
        "ts": ts,
        "team": team_id,
        "blocks": rich_text_blocks(old_text),
    }
    if thread_ts is not None:
        previous["thread_ts"] = thread_ts
        previous["parent_user_id"] = user
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "deleted_ts": ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": channel_type or _channel_type(channel),
    }
    return event_callback(
        team_id,
        event,
        event_id=event_id,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        enterprise_id=enterprise_id,
        channel=channel,
    )


def reaction_added_event(
    team_id: str,
    channel: str,
    user: str,
    reaction: str,
    item_ts: str,
    event_id: str | None = None,
    *,
    item_user: str | None = None,
    event_ts: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """Build an `event_callback` for `reaction_added` on a message (`reaction` without colons: "lock")."""
    event_ts = event_ts or new_ts()
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": item_ts},
        "item_user": item_user or user,
        "event_ts": event_ts,
    }
    return event_callback(
        team_id,
        event,
        event_id=event_id,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        enterprise_id=enterprise_id,
        channel=channel,
    )


def app_home_opened_event(
    team_id: str,
    user: str,
    *,
    channel: str | None = None,
    tab: str = "home",
    view: dict[str, Any] | None = None,
    event_id: str | None = None,
    event_ts: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """Build an `event_callback` for `app_home_opened`; `view` is the published home view, if any."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel or dm_channel_id(user),
        "tab": tab,
        "event_ts": event_ts or new_ts(),
    }
    # Slack adds the current view only once the app has published one for this user.
    if view is not None:
        event["view"] = view
    return event_callback(
        team_id,
        event,
        event_id=event_id,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        enterprise_id=enterprise_id,
    )


def url_verification(challenge: str | None = None, token: str = DEFAULT_VERIFICATION_TOKEN) -> dict[str, Any]:
    """Build the Events API `url_verification` challenge."""
    return {"token": token, "challenge": challenge or secrets.token_urlsafe(39), "type": "url_verification"}
