"""Interactivity payloads: `block_actions` (a click in a message or a view) and `view_submission` (a modal).

Also the form Slack POSTs them in over HTTP (`payload=<json>`). `state_values` may use the shorthand
`{block: {action: "text"}}`, expanded into Slack's full `view.state.values`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from sandbox.payloads.ids import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_VERIFICATION_TOKEN,
    make_response_url,
    new_block_id,
    new_trigger_id,
    new_ts,
)


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


def interaction_form(payload: dict[str, Any]) -> dict[str, str]:
    """Return the form fields Slack POSTs for an interaction over HTTP (`payload=<json>`)."""
    return {"payload": json.dumps(payload, separators=(",", ":"))}
