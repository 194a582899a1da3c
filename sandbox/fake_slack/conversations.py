"""The fake's stand-in for Slack's conversations: channels, DMs and group DMs, with the messages they hold.

A conversation keeps its messages by ts, the order of top-level ones and each thread's replies; storing a
message here keeps the thread bookkeeping (reply_count, latest_reply, …) that Slack shows on the parent.
The Web API side: conversations.open, .info, .list, .history, .replies, .members, .join.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sandbox.fake_slack.state import ApiError, Channel, Workspace, as_bool, as_list, is_reply, paginate, web_api
from sandbox.payloads import dm_channel_id, parse_ts


class ConversationsApi(Workspace):
    """Channels, DMs and their messages, and the conversations.* methods."""

    def add_channel(
        self,
        channel_id: str,
        name: str,
        is_member: bool = True,
        *,
        is_private: bool = False,
        is_archived: bool = False,
        members: Iterable[str] | None = None,
        topic: str = "",
        purpose: str = "",
        is_general: bool = False,
    ) -> dict[str, Any]:
        """Register (or update, keeping its messages) a channel; `members` None means every user."""
        if channel_id[:1] not in ("C", "G"):
            raise ValueError(f"channel ids start with C or G: {channel_id!r}")
        member_list = list(members) if members is not None else None
        if member_list is not None and is_member and self.bot_user_id not in member_list:
            member_list.append(self.bot_user_id)
        with self._lock:
            created = int(self.clock())
            info = {
                "id": channel_id,
                "name": name,
                "is_channel": not is_private,
                "is_group": False,
                "is_im": False,
                "is_mpim": False,
                "is_private": is_private,
                "created": created,
                "is_archived": is_archived,
                "is_general": is_general,
                "unlinked": 0,
                "name_normalized": name,
                "is_shared": False,
                "is_org_shared": False,
                "is_pending_ext_shared": False,
                "pending_shared": [],
                "context_team_id": self.team_id,
                "updated": created * 1000,
                "parent_conversation": None,
                "creator": self.bot_user_id,
                "is_ext_shared": False,
                "shared_team_ids": [self.team_id],
                "pending_connected_team_ids": [],
                "is_member": is_member,
                "topic": {"value": topic, "creator": "", "last_set": 0},
                "purpose": {"value": purpose, "creator": "", "last_set": 0},
                "previous_names": [],
            }
            existing = self._channels.get(channel_id)
            if existing is not None:
                existing.info = info
                existing.members = member_list
            else:
                self._channels[channel_id] = Channel(info=info, members=member_list)
            self._emit({"type": "channel_added", "channel": channel_id})
            result = self._channel_object(self._channels[channel_id])
        self._flush()
        return result

    def archive_channel(self, channel_id: str, archived: bool = True) -> None:
        """Mark a channel archived (posts then fail with `is_archived`) or unarchive it."""
        with self._lock:
            self._channels[channel_id].info["is_archived"] = archived
            self._emit({"type": "channel_changed", "channel": channel_id})
        self._flush()

    def dm_channel(self, user_id: str) -> str:
        """Return the DM channel id between the bot and a user (stable, created on first use)."""
        with self._lock:
            channel_id = self._ensure_dm(user_id).info["id"]
        self._flush()
        return channel_id

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Return a conversation's top-level messages, oldest first, as they are now (user id: the DM)."""
        with self._lock:
            ch = self._lookup(channel_id)
            if ch is None:
                return []
            return [copy.deepcopy(ch.by_ts[ts]) for ts in ch.top]

    def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """Return one message (top-level or reply) as it is now, or None."""
        with self._lock:
            ch = self._lookup(channel_id)
            msg = ch.by_ts.get(ts) if ch else None
            return copy.deepcopy(msg) if msg else None

    def thread(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        """Return a thread: the parent then its replies, oldest first (no parent if `ts` is unknown)."""
        with self._lock:
            ch = self._lookup(channel_id)
            if ch is None:
                return []
            parent = ch.by_ts.get(ts)
            result = [copy.deepcopy(parent)] if parent is not None and not is_reply(parent) else []
            return result + [copy.deepcopy(ch.by_ts[r]) for r in ch.replies.get(ts, []) if r in ch.by_ts]

    def _ensure_dm(self, user_id: str) -> Channel:
        channel_id = dm_channel_id(user_id)
        ch = self._channels.get(channel_id)
        if ch is None:
            info = {
                "id": channel_id,
                "created": int(self.clock()),
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "updated": int(self.clock()) * 1000,
                "user": user_id,
                "is_user_deleted": False,
                "priority": 0,
            }
            ch = self._channels[channel_id] = Channel(info=info, members=[user_id, self.bot_user_id])
            self._emit({"type": "dm_opened", "channel": channel_id, "user": user_id})
        return ch

    def _channel_or_dm(self, channel_or_user: str) -> Channel | None:
        if channel_or_user[:1] in ("U", "W"):
            return self._ensure_dm(channel_or_user) if channel_or_user in self._users else None
        return self._lookup(channel_or_user)

    def _lookup(self, channel_or_user: str) -> Channel | None:
        # For read-only accessors: a user id means that user's DM, but looking must not create it.
        if channel_or_user[:1] in ("U", "W"):
            return self._channels.get(dm_channel_id(channel_or_user))
        return self._channels.get(channel_or_user)

    def _is_member(self, ch: Channel) -> bool:
        return bool(ch.info.get("is_im") or ch.info.get("is_mpim") or ch.info.get("is_member"))

    def _members(self, ch: Channel) -> list[str]:
        if ch.members is not None:
            return list(ch.members)
        humans = [u for u, obj in self._users.items() if not obj.get("is_bot") and not obj.get("deleted")]
        return humans + ([self.bot_user_id] if self._is_member(ch) else [])

    def _channel_object(self, ch: Channel) -> dict[str, Any]:
        obj = copy.deepcopy(ch.info)
        if not ch.info.get("is_im"):
            obj["num_members"] = len(self._members(ch))
        return obj

    def _readable_channel(self, channel_id: Any) -> Channel:
        channel_id = str(channel_id or "")
        ch = self._channels.get(channel_id)
        if ch is None and channel_id.startswith("D"):
            # A DM exists between the app and every member even before anyone opened it (app_home_opened
            # carries its id), so an id derived from a registered user resolves to that user's DM.
            user = next((u for u in self._users if dm_channel_id(u) == channel_id), None)
            ch = self._ensure_dm(user) if user is not None else None
        # A private conversation the bot is not in does not exist as far as the bot can tell.
        if ch is None or (ch.info.get("is_private") and not self._is_member(ch)):
            raise ApiError("channel_not_found")
        return ch

    def _postable_channel(self, channel_id: Any, *, allow_user: bool) -> Channel:
        channel_id = str(channel_id or "")
        if allow_user and channel_id[:1] in ("U", "W"):
            user = self._users.get(channel_id)
            if user is None or user.get("deleted"):
                raise ApiError("channel_not_found")
            return self._ensure_dm(channel_id)
        ch = self._readable_channel(channel_id)
        if ch.info.get("is_archived"):
            raise ApiError("is_archived")
        if not self._is_member(ch):
            raise ApiError("not_in_channel")
        return ch

    def _message_in(self, ch: Channel, ts: Any) -> dict[str, Any]:
        msg = ch.by_ts.get(str(ts or ""))
        if msg is None:
            raise ApiError("message_not_found")
        return msg

    def _store_message(
        self, ch: Channel, message: dict[str, Any], thread_ts: str | None, *, broadcast: bool
    ) -> None:
        channel_id = ch.info["id"]
        ch.by_ts[message["ts"]] = message
        if thread_ts is None:
            ch.top.append(message["ts"])
            self._emit({"type": "message", "channel": channel_id, "ts": message["ts"]})
            return
        message["thread_ts"] = thread_ts
        parent = ch.by_ts.get(thread_ts)
        # Replying to a reply's ts or to an unknown ts leaves an orphan that no thread shows (as in Slack),
        # so a test that threads under the wrong ts sees the reply missing from thread(channel, parent).
        if parent is not None and not is_reply(parent):
            message["parent_user_id"] = parent.get("user", "")
            replies = ch.replies.setdefault(thread_ts, [])
            replies.append(message["ts"])
            self._refresh_thread(ch, thread_ts)
        else:
            ch.replies.setdefault(thread_ts, []).append(message["ts"])
        if broadcast:
            message["subtype"] = "thread_broadcast"
            ch.top.append(message["ts"])
        self._emit({"type": "message", "channel": channel_id, "ts": message["ts"], "thread_ts": thread_ts})

    def _refresh_thread(self, ch: Channel, thread_ts: str) -> None:
        parent = ch.by_ts.get(thread_ts)
        if parent is None:
            return
        replies = [ch.by_ts[r] for r in ch.replies.get(thread_ts, []) if r in ch.by_ts]
        if not replies:
            for key in (
                "reply_count",
                "reply_users_count",
                "latest_reply",
                "reply_users",
                "is_locked",
                "subscribed",
            ):
                parent.pop(key, None)
            if parent.get("subtype") != "tombstone":
                parent.pop("thread_ts", None)
            return
        users: list[str] = []
        for reply in replies:
            if reply.get("user") and reply["user"] not in users:
                users.append(reply["user"])
        parent.update(
            {
                "thread_ts": thread_ts,
                "reply_count": len(replies),
                "reply_users_count": len(users),
                "latest_reply": replies[-1]["ts"],
                "reply_users": users[:5],
                "is_locked": False,
                "subscribed": False,
            }
        )

    @staticmethod
    def _public_message(message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        result = copy.deepcopy(message)
        if not include_metadata:
            result.pop("metadata", None)
        return result

    @web_api("conversations.open")
    def _conversations_open(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        if p.get("channel"):
            ch = self._readable_channel(p["channel"])
            return {"ok": True, "no_op": True, "already_open": True, "channel": self._channel_object(ch)}
        users = as_list(p.get("users"))
        if not users:
            raise ApiError("users_list_not_supplied")
        for user in users:
            if user not in self._users or self._users[user].get("deleted"):
                raise ApiError("user_not_found")
        if len(users) == 1:
            existed = dm_channel_id(users[0]) in self._channels
            ch = self._ensure_dm(users[0])
        else:
            if len(users) > 8:
                raise ApiError("too_many_users")
            channel_id = dm_channel_id(",".join(sorted(users))).replace("D", "G", 1)
            existed = channel_id in self._channels
            if not existed:
                names = "--".join(self._users[u]["name"] for u in users)
                info = {
                    "id": channel_id,
                    "name": f"mpdm-{names}-1",
                    "is_channel": False,
                    "is_group": False,
                    "is_im": False,
                    "is_mpim": True,
                    "is_private": True,
                    "created": int(self.clock()),
                    "is_archived": False,
                    "is_member": True,
                    "context_team_id": self.team_id,
                }
                self._channels[channel_id] = Channel(info=info, members=[*users, self.bot_user_id])
                self._emit({"type": "dm_opened", "channel": channel_id, "users": users})
            ch = self._channels[channel_id]
        channel = self._channel_object(ch) if as_bool(p.get("return_im")) else {"id": ch.info["id"]}
        return {"ok": True, "no_op": existed, "already_open": existed, "channel": channel}

    @web_api("conversations.info")
    def _conversations_info(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "channel": self._channel_object(self._readable_channel(p.get("channel")))}

    @web_api("conversations.list")
    def _conversations_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        types = set(as_list(p.get("types")) or ["public_channel"])
        exclude_archived = as_bool(p.get("exclude_archived"))
        chosen = []
        for ch in self._channels.values():
            info = ch.info
            if info.get("is_im"):
                kind = "im"
            elif info.get("is_mpim"):
                kind = "mpim"
            else:
                kind = "private_channel" if info.get("is_private") else "public_channel"
            if kind not in types or (exclude_archived and info.get("is_archived")):
                continue
            if kind != "public_channel" and not self._is_member(ch):
                continue
            chosen.append(self._channel_object(ch))
        page, cursor = paginate(chosen, p)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}

    def _history_bounds(self, p: dict[str, Any]) -> tuple[int, int, bool]:
        try:
            oldest = parse_ts(str(p["oldest"])) if p.get("oldest") not in (None, "", "0") else 0
        except ValueError:
            raise ApiError("invalid_ts_oldest") from None
        try:
            latest = parse_ts(str(p["latest"])) if p.get("latest") not in (None, "") else 2**63
        except ValueError:
            raise ApiError("invalid_ts_latest") from None
        return oldest, latest, as_bool(p.get("inclusive"))

    @staticmethod
    def _in_bounds(ts: str, oldest: int, latest: int, inclusive: bool) -> bool:
        value = parse_ts(ts)
        if inclusive:
            return oldest <= value <= latest
        return oldest < value < latest

    @web_api("conversations.history")
    def _conversations_history(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        if not self._is_member(ch):
            raise ApiError("not_in_channel")
        oldest, latest, inclusive = self._history_bounds(p)
        include_metadata = as_bool(p.get("include_all_metadata"))
        # Slack answers newest first.
        selected = [
            self._public_message(ch.by_ts[ts], include_metadata)
            for ts in reversed(ch.top)
            if self._in_bounds(ts, oldest, latest, inclusive)
        ]
        page, cursor = paginate(selected, p)
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(cursor),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    @web_api("conversations.replies")
    def _conversations_replies(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        if not self._is_member(ch):
            raise ApiError("not_in_channel")
        ts = str(p.get("ts") or "")
        message = ch.by_ts.get(ts)
        if message is None:
            raise ApiError("thread_not_found")
        parent_ts = message.get("thread_ts") or ts
        parent = ch.by_ts.get(parent_ts, message)
        oldest, latest, inclusive = self._history_bounds(p)
        include_metadata = as_bool(p.get("include_all_metadata"))
        replies = [
            self._public_message(ch.by_ts[r], include_metadata)
            for r in ch.replies.get(parent_ts, [])
            if r in ch.by_ts and self._in_bounds(r, oldest, latest, inclusive)
        ]
        # The parent heads the first page whatever the bounds, as Slack does; replies follow oldest first.
        page, cursor = paginate(
            [self._public_message(parent, include_metadata), *replies], p, default_limit=1000
        )
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    @web_api("conversations.members")
    def _conversations_members(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        page, cursor = paginate(self._members(ch), p)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    @web_api("conversations.join")
    def _conversations_join(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        if ch.info.get("is_im") or ch.info.get("is_mpim") or ch.info.get("is_private"):
            raise ApiError("method_not_supported_for_channel_type")
        if ch.info.get("is_archived"):
            raise ApiError("is_archived")
        already = bool(ch.info.get("is_member"))
        if not already:
            ch.info["is_member"] = True
            if ch.members is not None and self.bot_user_id not in ch.members:
                ch.members.append(self.bot_user_id)
            self._emit({"type": "channel_joined", "channel": ch.info["id"]})
        result: dict[str, Any] = {"ok": True, "channel": self._channel_object(ch)}
        if already:
            result["warning"] = "already_in_channel"
        return result
