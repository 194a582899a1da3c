"""Builders of the payloads Slack sends to an app: Events API, slash commands, interactivity, Socket Mode.

Every builder returns a plain dict in exactly the shape of a file in tests/fixtures/payloads/ (captured
from Slack's own SDK test suites): the same field sets, only ids, text and timestamps change. Ids that
are not given (event ids, trigger ids, envelope ids, timestamps) are generated unique per process, so
two calls never collide in a de-duplication table.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, Final

# Defaults shared with sandbox.fake_slack, so events built here carry the same app/bot identity that the
# fake's auth.test reports (Bolt drops "its own" messages by comparing these).
DEFAULT_TEAM_ID: Final = "T0SECREV"
DEFAULT_TEAM_DOMAIN: Final = "secreview-sandbox"
DEFAULT_TEAM_NAME: Final = "secreview sandbox"
DEFAULT_APP_ID: Final = "A0SECREV"
DEFAULT_BOT_USER_ID: Final = "U0SECBOT"
DEFAULT_BOT_ID: Final = "B0SECBOT"
DEFAULT_BOT_NAME: Final = "secreview"
# The legacy verification token Slack still puts in payloads; Bolt ignores it unless configured.
DEFAULT_VERIFICATION_TOKEN: Final = "verification_token"
# A response_url nobody registered must never reach hooks.slack.com (tests run offline); port 9 (discard)
# on loopback refuses at once, so a forgotten response_url fails fast instead of hanging.
DEFAULT_HOOKS_BASE: Final = "http://127.0.0.1:9"

_lock = threading.Lock()
_counter = itertools.count(1)
_last_ts_us = 0


# ----------------------------------------------------------------------------------------------- ids


def new_ts() -> str:
    """Return a Slack message timestamp ("1700000000.000100") unique and increasing within this process."""
    global _last_ts_us
    with _lock:
        # Slack's ts doubles as the message id, so two builders called in the same microsecond must differ.
        _last_ts_us = max(int(time.time() * 1_000_000), _last_ts_us + 1)
        return format_ts(_last_ts_us)


def format_ts(microseconds: int) -> str:
    """Format integer microseconds since the epoch as a Slack ts string."""
    return f"{microseconds // 1_000_000}.{microseconds % 1_000_000:06d}"


def parse_ts(ts: str) -> int:
    """Parse a Slack ts ("1700000000.000100") into integer microseconds; raise ValueError if malformed."""
    if not isinstance(ts, str) or not re.fullmatch(r"\d{1,12}(\.\d{1,6})?", ts):
        raise ValueError(f"not a Slack ts: {ts!r}")
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction or "0").ljust(6, "0"))


def _serial() -> int:
    with _lock:
        return next(_counter)


def new_event_id() -> str:
    """Return a unique Events API event id ("Ev…")."""
    return f"Ev{_serial():06X}{secrets.token_hex(3).upper()}"


def new_trigger_id() -> str:
    """Return a unique trigger id in Slack's "<digits>.<digits>.<hex>" format."""
    first = f"{int(time.time() * 1000)}{_serial() % 1000:03d}"
    return f"{first}.{secrets.randbelow(10**11):011d}.{secrets.token_hex(16)}"


def new_envelope_id() -> str:
    """Return a unique Socket Mode envelope id (a UUID, as Slack sends)."""
    return str(uuid.uuid4())


def new_block_id() -> str:
    """Return a short random block id like the ones Slack assigns ("8KR")."""
    return secrets.token_urlsafe(4)[:5]


def dm_channel_id(user_id: str) -> str:
    """Return the stable DM channel id ("D…") between the app and a user, as the fake Web API assigns it."""
    # Derived from the user id so payloads built here (app_home_opened.channel) match the fake's DMs.
    return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()


def make_response_url(
    kind: str = "commands", team_id: str = DEFAULT_TEAM_ID, base: str = DEFAULT_HOOKS_BASE
) -> str:
    """Return a response_url in Slack's /commands|actions/<team>/<n>/<secret> form under `base`."""
    return f"{base.rstrip('/')}/{kind}/{team_id}/{secrets.randbelow(10**12):012d}/{secrets.token_urlsafe(18)}"


def _channel_type(channel: str) -> str:
    return {"D": "im", "G": "group"}.get(channel[:1], "channel")


# ------------------------------------------------------------------------------------------ rich text

_TOKEN = re.compile(r"<([@#!][^>|]*|https?://[^>|]+|mailto:[^>|]+)(?:\|([^>]*))?>")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def rich_text_blocks(text: str, block_id: str | None = None) -> list[dict[str, Any]]:
    """Return the rich_text block Slack's clients attach to a typed message (mentions, links, text)."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": _unescape(text[position : match.start()])})
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            elements.append({"type": "user", "user_id": target[1:]})
        elif target.startswith("#"):
            elements.append({"type": "channel", "channel_id": target[1:]})
        elif target.startswith("!subteam^"):
            elements.append({"type": "usergroup", "usergroup_id": target[len("!subteam^") :]})
        elif target.startswith("!"):
            elements.append({"type": "broadcast", "range": target[1:]})
        else:
            link: dict[str, Any] = {"type": "link", "url": target}
            if label:
                link["text"] = _unescape(label)
            elements.append(link)
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": _unescape(text[position:])})
    return [
        {
            "type": "rich_text",
            "block_id": block_id or new_block_id(),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


# ---------------------------------------------------------------------------------------- Events API


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


# ------------------------------------------------------------------------------------ slash commands


def slash_command(
    team_id: str,
    channel: str,
    user: str,
    text: str,
    command: str = "/secreview",
    trigger_id: str | None = None,
    response_url: str | None = None,
    *,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    channel_name: str | None = None,
    user_name: str | None = None,
    api_app_id: str | None = None,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> dict[str, str]:
    """Build a slash command's form fields (HTTP mode); pass `api_app_id` for the Socket Mode field set."""
    form = {
        "token": token,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel,
        "channel_name": channel_name or ("directmessage" if channel.startswith("D") else channel.lower()),
        "user_id": user,
        "user_name": user_name or user.lower(),
        "command": command,
        "text": text,
    }
    if api_app_id is not None:
        form["api_app_id"] = api_app_id
    form["response_url"] = response_url or make_response_url("commands", team_id)
    form["trigger_id"] = trigger_id or new_trigger_id()
    return form


# ----------------------------------------------------------------------------------- interactivity


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _action(
    action_type: str, action_id: str, block_id: str, value: str, text: str, action_ts: str
) -> dict[str, Any]:
    if action_type == "button":
        return {
            "action_id": action_id,
            "block_id": block_id,
            "text": _plain(text),
            "value": value,
            "type": "button",
            "action_ts": action_ts,
        }
    if action_type in ("static_select", "overflow", "radio_buttons"):
        return {
            "type": action_type,
            "action_id": action_id,
            "block_id": block_id,
            "selected_option": {"text": _plain(text), "value": value},
            "action_ts": action_ts,
        }
    if action_type == "users_select":
        return {
            "type": "users_select",
            "action_id": action_id,
            "block_id": block_id,
            "selected_user": value,
            "action_ts": action_ts,
        }
    if action_type == "datepicker":
        return {
            "type": "datepicker",
            "action_id": action_id,
            "block_id": block_id,
            "selected_date": value,
            "action_ts": action_ts,
        }
    raise ValueError(f"no default shape for action type {action_type!r}; pass action=...")


def block_actions(
    team_id: str,
    user: str,
    action_id: str,
    value: str,
    channel: str | None = None,
    message_ts: str | None = None,
    view: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    block_id: str | None = None,
    container: dict[str, Any] | None = None,
    *,
    message: dict[str, Any] | None = None,
    action: dict[str, Any] | None = None,
    action_type: str = "button",
    text: str = "Click Me",
    is_ephemeral: bool = False,
    state_values: dict[str, Any] | None = None,
    response_url: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    bot_id: str = DEFAULT_BOT_ID,
) -> dict[str, Any]:
    """Build a `block_actions` payload: a click in a message (`channel`) or in a view (`view`, e.g. App Home).

    `message` is the clicked message as stored (e.g. from FakeSlack.messages()); one with a button is made up
    when absent. `action` replaces the generated action entry entirely.
    """
    block_id = block_id or new_block_id()
    action_ts = new_ts()
    entry = action or _action(action_type, action_id, block_id, value, text, action_ts)
    payload: dict[str, Any] = {"type": "block_actions", "user": {"id": user}, "api_app_id": api_app_id}
    if view is not None:
        payload["container"] = container or {"type": "view", "view_id": view.get("id")}
        payload.update(
            {
                "trigger_id": trigger_id or new_trigger_id(),
                "team": {"id": team_id},
                "enterprise": None,
                "is_enterprise_install": False,
                "view": view,
                "actions": [entry],
            }
        )
        return payload
    if channel is None:
        raise ValueError("block_actions needs a channel (message click) or a view")
    message_ts = message_ts or (message or {}).get("ts") or new_ts()
    payload["container"] = container or {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": is_ephemeral,
    }
    payload.update(
        {
            "trigger_id": trigger_id or new_trigger_id(),
            "team": {"id": team_id},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel},
        }
    )
    # Slack does not echo an ephemeral message back: it only exists in the user's client.
    if not is_ephemeral:
        payload["message"] = message or {
            "bot_id": bot_id,
            "type": "message",
            "text": text,
            "user": bot_user_id,
            "ts": message_ts,
            "app_id": api_app_id,
            "blocks": [
                {
                    "type": "section",
                    "block_id": block_id,
                    "text": {"type": "mrkdwn", "text": text, "verbatim": False},
                    "accessory": {
                        "type": "button",
                        "action_id": action_id,
                        "text": _plain(text),
                        "value": value,
                    },
                }
            ],
            "team": team_id,
        }
    payload.update(
        {
            "state": {"values": normalize_state_values(state_values or {})},
            "response_url": response_url or make_response_url("actions", team_id),
            "actions": [entry],
        }
    )
    return payload


def normalize_state_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Expand `{block: {action: "text"}}` shorthands into Slack's `{block: {action: {"type", "value"}}}`."""
    result: dict[str, dict[str, Any]] = {}
    for block_id, actions in state_values.items():
        result[block_id] = {}
        for action_id, state in actions.items():
            if isinstance(state, Mapping):
                result[block_id][action_id] = dict(state)
            else:
                result[block_id][action_id] = {"type": "plain_text_input", "value": state}
    return result


def _input_blocks(values: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    blocks = []
    for block_id, actions in values.items():
        action_id, state = next(iter(actions.items()), ("input", {"type": "plain_text_input"}))
        blocks.append(
            {
                "type": "input",
                "block_id": block_id,
                "label": _plain(block_id),
                "optional": False,
                "element": {"type": state.get("type", "plain_text_input"), "action_id": action_id},
            }
        )
    return blocks


def view_submission(
    team_id: str,
    user: str,
    callback_id: str | None,
    private_metadata: str | None,
    state_values: Mapping[str, Mapping[str, Any]],
    view_id: str | None = None,
    *,
    view: dict[str, Any] | None = None,
    blocks: list[dict[str, Any]] | None = None,
    title: str = "secreview",
    trigger_id: str | None = None,
    response_urls: list[dict[str, Any]] | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    user_name: str | None = None,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = DEFAULT_BOT_ID,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> dict[str, Any]:
    """Build a `view_submission` payload; `view` (e.g. from FakeSlack.views()) supplies id, blocks, hash.

    `state_values` leaves may be plain strings (a plain_text_input's value) or Slack's full state dicts.
    `callback_id` / `private_metadata` may be None to keep the values of `view`.
    """
    base = dict(view or {})
    values = normalize_state_values(state_values)
    view_id = view_id or base.get("id") or "V" + secrets.token_hex(5).upper()
    team: dict[str, Any] = {"id": team_id, "domain": team_domain}
    if enterprise_id is not None:
        team["enterprise_id"] = enterprise_id
        team["enterprise_name"] = enterprise_name or "Sandbox Org"
    name = user_name or user.lower()
    full_view = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": blocks if blocks is not None else base.get("blocks") or _input_blocks(values),
        "private_metadata": private_metadata
        if private_metadata is not None
        else base.get("private_metadata", ""),
        "callback_id": callback_id if callback_id is not None else base.get("callback_id", ""),
        "state": {"values": values},
        "hash": base.get("hash") or f"{int(time.time())}.{secrets.token_urlsafe(6)}",
        "title": base.get("title") or _plain(title),
        "clear_on_close": base.get("clear_on_close", False),
        "notify_on_close": base.get("notify_on_close", False),
        "close": base.get("close") or _plain("Cancel"),
        "submit": base.get("submit") or _plain("Submit"),
        "previous_view_id": base.get("previous_view_id"),
        "root_view_id": base.get("root_view_id") or view_id,
        "app_id": base.get("app_id") or api_app_id,
        "external_id": base.get("external_id") or "",
        "app_installed_team_id": team_id,
        "bot_id": base.get("bot_id") or bot_id,
    }
    return {
        "type": "view_submission",
        "team": team,
        "user": {"id": user, "username": name, "name": name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": full_view,
        "response_urls": response_urls or [],
    }


# ------------------------------------------------------------------------------------- Socket Mode


def socket_mode_envelope(
    type_: str,
    payload: dict[str, Any],
    envelope_id: str | None = None,
    retry_attempt: int = 0,
    retry_reason: str = "",
    *,
    accepts_response_payload: bool | None = None,
) -> dict[str, Any]:
    """Wrap a payload in a Socket Mode envelope (`events_api`, `slash_commands` or `interactive`)."""
    if accepts_response_payload is None:
        # Slack lets the app answer in the ack only where an HTTP response body would count too.
        accepts_response_payload = type_ == "slash_commands" or (
            type_ == "interactive" and payload.get("type") in ("view_submission", "block_suggestion")
        )
    envelope: dict[str, Any] = {
        "envelope_id": envelope_id or new_envelope_id(),
        "payload": payload,
        "type": type_,
        "accepts_response_payload": accepts_response_payload,
    }
    # Only Events API deliveries are retried by Slack, so only they carry the retry fields.
    if type_ == "events_api":
        envelope["retry_attempt"] = retry_attempt
        envelope["retry_reason"] = retry_reason
    return envelope


def socket_mode_hello(num_connections: int = 1, app_id: str = DEFAULT_APP_ID) -> dict[str, Any]:
    """Build the `hello` frame Slack sends when a Socket Mode connection opens."""
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060},
        "connection_info": {"app_id": app_id},
    }


def interaction_form(payload: dict[str, Any]) -> dict[str, str]:
    """Return the form fields Slack POSTs for an interaction over HTTP (`payload=<json>`)."""
    return {"payload": json.dumps(payload, separators=(",", ":"))}
