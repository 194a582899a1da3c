"""The fake's stand-in for Slack's reactions.add and reactions.remove (the bot's emoji on a message)."""

from __future__ import annotations

from typing import Any

from sandbox.fake_slack.conversations import ConversationsApi
from sandbox.fake_slack.state import ApiError, Channel, web_api


class ReactionsApi(ConversationsApi):
    """reactions.add and reactions.remove."""

    def _reaction_target(self, p: dict[str, Any]) -> tuple[Channel, dict[str, Any], str]:
        ch = self._readable_channel(p.get("channel"))
        if not self._is_member(ch):
            raise ApiError("not_in_channel")
        message = self._message_in(ch, p.get("timestamp"))
        name = str(p.get("name") or "").strip(":")
        if not name:
            raise ApiError("invalid_name")
        return ch, message, name

    @web_api("reactions.add")
    def _reactions_add(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch, message, name = self._reaction_target(p)
        reactions = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if self.bot_user_id in entry["users"]:
            raise ApiError("already_reacted")
        entry["users"].append(self.bot_user_id)
        entry["count"] = len(entry["users"])
        self._emit(
            {"type": "reaction_added", "channel": ch.info["id"], "ts": message["ts"], "reaction": name}
        )
        return {"ok": True}

    @web_api("reactions.remove")
    def _reactions_remove(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch, message, name = self._reaction_target(p)
        entry = next((r for r in message.get("reactions", []) if r["name"] == name), None)
        if entry is None or self.bot_user_id not in entry["users"]:
            raise ApiError("no_reaction")
        entry["users"].remove(self.bot_user_id)
        entry["count"] = len(entry["users"])
        if not entry["users"]:
            message["reactions"].remove(entry)
            if not message["reactions"]:
                del message["reactions"]
        self._emit(
            {"type": "reaction_removed", "channel": ch.info["id"], "ts": message["ts"], "reaction": name}
        )
        return {"ok": True}
