"""Payloads of the other ways into an app: message and global shortcuts, and a workflow step's function_executed.

Shapes as in Slack's documentation and bolt-python's scenario tests (tests/scenario_tests/test_shortcut.py,
test_function.py): a message shortcut is `type: message_action` with the message, channel, message_ts and a
response_url; a global shortcut is `type: shortcut` with neither; a custom step runs as an `event_callback`
whose event is `function_executed`, with the step's inputs, its function_execution_id and a workflow token.
"""

from __future__ import annotations

from typing import Any

from sandbox.payloads.events import event_callback
from sandbox.payloads.ids import (
    DEFAULT_APP_ID,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_VERIFICATION_TOKEN,
    make_response_url,
    new_trigger_id,
    new_ts,
)
from sandbox.payloads.rich_text import rich_text_blocks


def message_shortcut(
    team_id: str,
    user: str,
    callback_id: str,
    channel: str,
    message: dict[str, Any],
    *,
    channel_name: str = "projects",
    trigger_id: str | None = None,
    response_url: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> dict[str, Any]:
    """`message_action`: the shortcut used on `message` (as stored, e.g. from FakeSlack.message())."""
    shown = {"type": "message", "team": team_id, **message}
    if "blocks" not in shown and shown.get("text") and not shown.get("bot_id"):
        shown["blocks"] = rich_text_blocks(str(shown["text"]))
    return {
        "type": "message_action",
        "token": token,
        "action_ts": new_ts(),
        "team": {"id": team_id, "domain": team_domain},
        "user": {"id": user, "name": user.lower()},
        "channel": {"id": channel, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "message_ts": message["ts"],
        "message": shown,
        "response_url": response_url or make_response_url("actions", team_id),
    }


def global_shortcut(
    team_id: str,
    user: str,
    callback_id: str,
    *,
    trigger_id: str | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> dict[str, Any]:
    """`shortcut`: a global shortcut from the ⚡ menu (no channel, no response_url)."""
    return {
        "type": "shortcut",
        "token": token,
        "action_ts": new_ts(),
        "team": {"id": team_id, "domain": team_domain},
        "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def function_executed_event(
    team_id: str,
    callback_id: str,
    inputs: dict[str, Any],
    *,
    function_execution_id: str,
    bot_access_token: str,
    input_parameters: list[dict[str, Any]] | None = None,
    output_parameters: list[dict[str, Any]] | None = None,
    title: str = "Open a security review",
    workflow_execution_id: str = "Wx0SANDBOX01",
    event_id: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
) -> dict[str, Any]:
    """An `event_callback` with `function_executed`: a workflow reached the app's step `callback_id`."""
    ts = new_ts()
    event = {
        "type": "function_executed",
        "function": {
            "id": "Fn0SANDBOX01",
            "callback_id": callback_id,
            "title": title,
            "description": "",
            "type": "app",
            "input_parameters": input_parameters or [],
            "output_parameters": output_parameters or [],
            "app_id": api_app_id,
            "date_created": 1694727597,
            "date_updated": 1698947481,
            "date_deleted": 0,
        },
        "inputs": inputs,
        "function_execution_id": function_execution_id,
        "workflow_execution_id": workflow_execution_id,
        "event_ts": ts,
        "bot_access_token": bot_access_token,
    }
    return event_callback(team_id, event, event_id=event_id, api_app_id=api_app_id)
