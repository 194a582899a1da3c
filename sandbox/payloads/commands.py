"""Slash command payloads: the form fields Slack POSTs when someone types `/secreview …`."""

from __future__ import annotations

from sandbox.payloads.ids import (
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_VERIFICATION_TOKEN,
    make_response_url,
    new_trigger_id,
)


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
