"""The Slack app manifest: Socket Mode by default, HTTP mode with a request URL."""

from __future__ import annotations

from typing import Any

import yaml

from bot.common import render
from bot.common.ids import FunctionId, ShortcutId


def build_manifest(*, name: str = "secreview", request_url: str | None = None, jira: bool = False) -> dict[str, Any]:
    """The manifest as a dict (templates/manifest.json.j2), ready for YAML or JSON.

    `jira`: also the users:read.email scope, so a safeguard's Jira issue can be assigned to its owner by email.
    """
    redirect_url = None
    if request_url:
        base = request_url.rsplit("/slack/events", 1)[0]
        redirect_url = f"{base}/slack/oauth_redirect"
    # Workflow Builder steps (`functions`) need an org-ready app (org_deploy_enabled) run by the app itself
    # (function_runtime "remote"): Slack's requirements for custom steps of Bolt apps.
    manifest = render.render_json("manifest", name=name[:35], request_url=request_url, redirect_url=redirect_url,
                                  ids={"shortcut": ShortcutId, "function": FunctionId})
    if jira:
        manifest["oauth_config"]["scopes"]["bot"].append("users:read.email")
    return manifest


def to_yaml(manifest: dict[str, Any]) -> str:
    """YAML in the manifest's own key order, as Slack's app settings page shows it."""
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
