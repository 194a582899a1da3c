"""The fake's stand-in for Slack's identity methods: api.test, auth.test, team.info, apps.connections.open.

These say who the app is and where the workspace lives; apps.connections.open hands a Socket Mode client the
WebSocket URL to dial (settable, so a test can point it at its own Socket Mode server).
"""

from __future__ import annotations

from typing import Any

from sandbox.fake_slack.state import Workspace, web_api


class AuthApi(Workspace):
    """api.test, auth.test, team.info and apps.connections.open."""

    @property
    def socket_mode_url(self) -> str:
        """The WebSocket URL apps.connections.open hands out (settable; default: a placeholder, unserved)."""
        return self._socket_mode_url or f"ws://{self.host}:{self.port}/link/?ticket=sandbox"

    @socket_mode_url.setter
    def socket_mode_url(self, value: str | None) -> None:
        """Set the URL apps.connections.open returns (None restores the placeholder)."""
        self._socket_mode_url = value

    def _team_object(self) -> dict[str, Any]:
        return {
            "id": self.team_id,
            "name": self.team_name,
            "url": self.team_url,
            "domain": self.team_domain,
            "email_domain": "",
            "icon": {"image_default": True},
            "avatar_base_url": "",
            "is_verified": False,
        }

    @web_api("api.test")
    def _api_test(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in p.items() if k != "token"}}

    @web_api("auth.test")
    def _auth_test(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "ok": True,
            "url": self.team_url,
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    @web_api("team.info")
    def _team_info(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "team": self._team_object()}

    @web_api("apps.connections.open")
    def _apps_connections_open(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_mode_url}
