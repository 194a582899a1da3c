"""The fake's stand-in for Slack's chat.* methods: posting, updating and deleting messages, ephemerals, permalinks.

Messages are checked as Slack checks them (text length, Block Kit rules) and stored in the conversation
(conversations.py). `add_message` puts in a message someone else posted, such as a person's announcement.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.fake_slack.blocks import validate_blocks
from sandbox.fake_slack.conversations import ConversationsApi
from sandbox.fake_slack.state import ApiError, Channel, as_bool, web_api
from sandbox.payloads import parse_ts

TEXT_LIMIT = 40_000


class ChatApi(ConversationsApi):
    """chat.postMessage, chat.update, chat.delete, chat.postEphemeral, chat.getPermalink."""

    def add_message(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        ts: str | None = None,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        bot_id: str | None = None,
        subtype: str | None = None,
    ) -> dict[str, Any]:
        """Put a message someone else posted (a human's announcement) into a channel; return it with its ts.

        Use its ts in payloads.message_event() so later API calls (reactions, replies, permalinks) find it.
        """
        with self._lock:
            ch = self._channel_or_dm(channel)
            if ch is None:
                raise KeyError(f"unknown channel {channel!r}: add_channel() it first")
            if ts is not None and ts in ch.by_ts:
                raise ValueError(f"a message with ts {ts} already exists in {channel}")
            message: dict[str, Any] = {
                "type": "message",
                "text": text,
                "user": user,
                "ts": ts or self._new_ts(),
            }
            if ts is not None:
                self._last_ts_us = max(self._last_ts_us, parse_ts(ts))
            message["team"] = self.team_id
            if blocks is not None:
                message["blocks"] = blocks
            if bot_id is not None:
                message["bot_id"] = bot_id
            if subtype is not None:
                message["subtype"] = subtype
            self._store_message(ch, message, thread_ts, broadcast=False)
            result = copy.deepcopy(message)
        self._flush()
        return result

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """Return ephemeral messages (chat.postEphemeral and ephemeral response_url posts), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if (user is None or e["user"] == user) and (channel is None or e["channel"] == channel)
            ]

    def _bot_profile(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "deleted": False,
            "name": self.bot_name,
            "updated": int(self.clock()),
            "app_id": self.app_id,
            "icons": {"image_36": "", "image_48": "", "image_72": ""},
            "team_id": self.team_id,
        }

    def _content(self, p: dict[str, Any], *, require: bool) -> dict[str, Any]:
        # What a message carries: text, blocks, attachments, metadata. Validates like Slack does.
        content: dict[str, Any] = {}
        text = p.get("text")
        if text is not None:
            content["text"] = str(text)
            if len(content["text"]) > TEXT_LIMIT:
                raise ApiError("msg_too_long")
        if "blocks" in p and p["blocks"] is not None:
            blocks = p["blocks"]
            if isinstance(blocks, str):
                raise ApiError("invalid_blocks_format")
            errors = validate_blocks(blocks)
            if errors:
                raise ApiError(
                    "invalid_blocks_format" if not isinstance(blocks, list) else "invalid_blocks", errors
                )
            content["blocks"] = blocks
        if p.get("attachments"):
            if not isinstance(p["attachments"], list):
                raise ApiError("invalid_attachments")
            content["attachments"] = p["attachments"]
        if isinstance(p.get("metadata"), dict):
            content["metadata"] = p["metadata"]
        if require and not (content.get("text") or content.get("blocks") or content.get("attachments")):
            raise ApiError("no_text")
        return content

    def _thread_ts(self, p: dict[str, Any]) -> str | None:
        thread_ts = p.get("thread_ts")
        if thread_ts in (None, ""):
            return None
        try:
            parse_ts(str(thread_ts))
        except ValueError:
            raise ApiError("invalid_thread_ts", [f"[ERROR] {thread_ts} is not a valid thread_ts"]) from None
        return str(thread_ts)

    def _bot_message(self, content: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": self._new_ts(),
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": content.get("text", ""),
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
        }
        for key in ("blocks", "attachments", "metadata"):
            if key in content:
                message[key] = content[key]
        return message

    @web_api("chat.postMessage")
    def _chat_post_message(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._postable_channel(p.get("channel"), allow_user=True)
        content = self._content(p, require=True)
        thread_ts = self._thread_ts(p)
        message = self._bot_message(content)
        self._store_message(
            ch, message, thread_ts, broadcast=thread_ts is not None and as_bool(p.get("reply_broadcast"))
        )
        return {"ok": True, "channel": ch.info["id"], "ts": message["ts"], "message": copy.deepcopy(message)}

    @web_api("chat.update")
    def _chat_update(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._postable_channel(p.get("channel"), allow_user=False)
        message = self._message_in(ch, p.get("ts"))
        if message.get("bot_id") != self.bot_id:
            raise ApiError("cant_update_message")
        content = self._content(p, require=False)
        if not content:
            raise ApiError("no_text")
        # Only what the call carries changes; blocks=[] removes the blocks.
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in content:
                message[key] = content[key]
        if message.get("blocks") == []:
            del message["blocks"]
        message["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        self._emit({"type": "message_changed", "channel": ch.info["id"], "ts": message["ts"]})
        return {
            "ok": True,
            "channel": ch.info["id"],
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _delete_message(self, ch: Channel, message: dict[str, Any]) -> None:
        ts = message["ts"]
        channel_id = ch.info["id"]
        thread_ts = message.get("thread_ts")
        if ch.replies.get(ts) and thread_ts == ts:
            # A parent with replies stays as a tombstone so the thread remains readable, as in Slack.
            for key in (
                "blocks",
                "attachments",
                "files",
                "metadata",
                "bot_id",
                "app_id",
                "bot_profile",
                "edited",
            ):
                message.pop(key, None)
            message.update(
                {
                    "text": "This message was deleted.",
                    "subtype": "tombstone",
                    "hidden": True,
                    "user": "USLACKBOT",
                }
            )
        else:
            del ch.by_ts[ts]
            if ts in ch.top:
                ch.top.remove(ts)
            if thread_ts and thread_ts != ts and ts in ch.replies.get(thread_ts, []):
                ch.replies[thread_ts].remove(ts)
                self._refresh_thread(ch, thread_ts)
                parent = ch.by_ts.get(thread_ts)
                if parent is not None and parent.get("subtype") == "tombstone" and not ch.replies[thread_ts]:
                    self._delete_message(ch, parent)
        self._emit({"type": "message_deleted", "channel": channel_id, "ts": ts})

    @web_api("chat.delete")
    def _chat_delete(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._postable_channel(p.get("channel"), allow_user=False)
        message = self._message_in(ch, p.get("ts"))
        if message.get("bot_id") != self.bot_id:
            raise ApiError("cant_delete_message")
        self._delete_message(ch, message)
        return {"ok": True, "channel": ch.info["id"], "ts": message["ts"]}

    def _record_ephemeral(
        self, channel: str, user: str, content: dict[str, Any], thread_ts: str | None, source: str
    ) -> dict[str, Any]:
        ephemeral = {
            "channel": channel,
            "user": user,
            "ts": self._new_ts(),
            "text": content.get("text", ""),
            "thread_ts": thread_ts,
            "source": source,
        }
        for key in ("blocks", "attachments"):
            if key in content:
                ephemeral[key] = content[key]
        self._ephemerals.append(ephemeral)
        self._emit({"type": "ephemeral", "channel": channel, "user": user, "ts": ephemeral["ts"]})
        return ephemeral

    @web_api("chat.postEphemeral")
    def _chat_post_ephemeral(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._postable_channel(p.get("channel"), allow_user=False)
        user = str(p.get("user") or "")
        if user not in self._users:
            raise ApiError("user_not_found")
        if user not in self._members(ch):
            raise ApiError("user_not_in_channel")
        content = self._content(p, require=True)
        ephemeral = self._record_ephemeral(
            ch.info["id"], user, content, self._thread_ts(p), "chat.postEphemeral"
        )
        return {"ok": True, "message_ts": ephemeral["ts"]}

    @web_api("chat.getPermalink")
    def _chat_get_permalink(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        message = self._message_in(ch, p.get("message_ts"))
        link = f"{self.team_url}archives/{ch.info['id']}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={ch.info['id']}"
        return {"ok": True, "channel": ch.info["id"], "permalink": link}
