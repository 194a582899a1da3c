"""The fake's stand-in for Slack's response_urls: the URLs a slash command or a click lets the app answer on.

`response_url(channel, user, …)` registers one served by the fake; a POST to it posts in the channel,
answers the user ephemerally, or replaces or deletes the original message, as Slack does (five uses at most).
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from sandbox.fake_slack.chat import ChatApi
from sandbox.fake_slack.state import ApiError, Call, as_bool

RESPONSE_URL_USES = 5  # Slack accepts up to five posts to one response_url


class ResponseUrls(ChatApi):
    """response_urls: registering them, and what a POST to one does."""

    def response_url(
        self,
        channel: str | None,
        user: str | None,
        *,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        kind: str = "commands",
    ) -> str:
        """Register and return a response_url served here, bound to a conversation, user and message."""
        path = f"/{kind}/{self.team_id}/{next(self._ids):012d}/{secrets.token_urlsafe(18)}"
        with self._lock:
            self._response_urls[path] = {
                "channel": channel,
                "user": user,
                "message_ts": message_ts,
                "is_ephemeral": is_ephemeral,
                "uses": 0,
            }
        return self.url + path

    def responses(self) -> list[dict[str, Any]]:
        """Return what was posted to response_urls on this server (bodies as parsed JSON)."""
        with self._lock:
            return copy.deepcopy(self._responses)

    def _handle_response_url(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            context = self._response_urls.get(path)
            record: dict[str, Any] = {
                "path": path,
                "channel": context and context["channel"],
                "user": context and context["user"],
                "body": body,
                "at": self.clock(),
            }
            status, answer = self._apply_response(context, body)
            record["status"] = status
            self._responses.append(record)
            self._calls.append(Call("response_url", body, headers, self.clock(), status, None, answer))
            self._emit({"type": "response", "channel": record["channel"], "user": record["user"]})
        self._flush()
        return status, answer

    def _apply_response(
        self, context: dict[str, Any] | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if context is None:
            return 200, {"ok": True}  # unregistered: only recorded
        if context["uses"] >= RESPONSE_URL_USES:
            return 404, {"ok": False, "error": "used_url"}
        context["uses"] += 1
        channel, user, message_ts = context["channel"], context["user"], context["message_ts"]
        try:
            if as_bool(body.get("delete_original")):
                if context["is_ephemeral"]:
                    self._ephemerals[:] = [e for e in self._ephemerals if e["ts"] != message_ts]
                    self._emit({"type": "ephemeral_deleted", "user": user, "ts": message_ts})
                elif message_ts and channel:
                    ch = self._postable_channel(channel, allow_user=False)
                    self._delete_message(ch, self._message_in(ch, message_ts))
                return 200, {"ok": True}
            content = self._content(body, require=True)
            if as_bool(body.get("replace_original")) and message_ts:
                if context["is_ephemeral"]:
                    for ephemeral in self._ephemerals:
                        if ephemeral["ts"] == message_ts:
                            ephemeral.update(content)
                            self._emit({"type": "ephemeral_replaced", "user": user, "ts": message_ts})
                else:
                    ch = self._postable_channel(channel, allow_user=False)
                    message = self._message_in(ch, message_ts)
                    message["text"] = content.get("text", "")
                    message.pop("blocks", None)
                    message.update({k: v for k, v in content.items() if k in ("blocks", "attachments")})
                    message["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
                    self._emit({"type": "message_changed", "channel": ch.info["id"], "ts": message_ts})
                return 200, {"ok": True}
            thread_ts = self._thread_ts(body)
            if body.get("response_type") == "in_channel" and channel:
                ch = self._postable_channel(channel, allow_user=True)
                self._store_message(ch, self._bot_message(content), thread_ts, broadcast=False)
            elif channel and user:
                self._record_ephemeral(channel, user, content, thread_ts, "response_url")
            return 200, {"ok": True}
        except ApiError as error:
            return 400 if error.error == "no_text" else 404, error.body()
