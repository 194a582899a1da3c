"""A local stand-in for the Slack Web API over real HTTP, for tests, benchmarks, chaos runs and the sandbox.

The real `slack_sdk.WebClient(base_url=fake.api_url)` talks to it. State lives in memory behind one lock;
answers follow Slack's format (`{"ok": false, "error": "..."}` with HTTP 200 for API errors, 429 with
`Retry-After` for rate limits). Besides the Web API it serves the upload URLs of `files_upload_v2`,
response_urls registered with `response_url()`, permalinks and file downloads, and `/_fake/snapshot`.

Run `python -m sandbox.fake_slack --port 8900` for manual use.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import email.parser
import email.policy
import inspect
import itertools
import json
import logging
import mimetypes
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.payloads import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_NAME,
    DEFAULT_BOT_USER_ID,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    dm_channel_id,
    format_ts,
    parse_ts,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
ChangeListener = Callable[[dict[str, Any]], None]

# Parameters that slack_sdk sends as JSON strings in form bodies but as structures in JSON bodies;
# parsing them makes Call.params look the same whichever encoding the client chose.
JSON_PARAMS = frozenset({"blocks", "attachments", "view", "files", "metadata", "user_auth_blocks"})

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
TEXT_LIMIT = 40_000
RESPONSE_URL_USES = 5  # Slack accepts up to five posts to one response_url


class ApiError(Exception):
    """An API-level failure answered as `{"ok": false, "error": ...}` (HTTP 200, as Slack does)."""

    def __init__(self, error: str, messages: list[str] | None = None, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.status = status

    def body(self) -> dict[str, Any]:
        """Return the JSON body Slack would send."""
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


def _invalid(*messages: str) -> ApiError:
    return ApiError("invalid_arguments", [f"[ERROR] {m}" for m in messages])


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    `params` merges query, form and JSON body; JSON-valued params (blocks, view, …) are parsed whatever the
    encoding. `fault` names an injected failure ("429", "500", "timeout", "error"), None for a normal call.
    `method` is the Web API method, or "upload" / "response_url" for those endpoints.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    fault: str | None = None
    response: dict[str, Any] | None = None


@dataclass
class _Fault:
    kind: str  # "429", "500"/other status, "timeout", "error"
    error: str
    status: int
    retry_after: int
    hang_seconds: float


@dataclass
class _FaultConfig:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    timeout_seconds: float = 2.0
    retry_after: int = 1
    methods: frozenset[str] | None = None
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class _Channel:
    info: dict[str, Any]
    members: list[str] | None  # None: every user of the workspace (a default #general)
    by_ts: dict[str, dict[str, Any]] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)  # ts of top-level messages (and thread broadcasts), in order
    replies: dict[str, list[str]] = field(default_factory=dict)  # thread_ts -> reply ts, in order


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _int(value: Any, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid(f"invalid value for {name}") from None


def _csv(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _is_reply(message: dict[str, Any]) -> bool:
    return message.get("thread_ts") not in (None, message["ts"])


def validate_blocks(blocks: Any, limit: int = MESSAGE_BLOCK_LIMIT, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style error messages for Block Kit rules the fake enforces (empty if acceptable)."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_block_ids:
                errors.append(f"[ERROR] duplicate block_id: {block_id} [json-pointer:{where}/block_id]")
            seen_block_ids.add(block_id)
            if len(str(block_id)) > 255:
                errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{where}/block_id]")
        kind = block["type"]
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                errors.append(f"[ERROR] must provide text or fields [json-pointer:{where}]")
            errors += _text_object_errors(text, 3000, f"{where}/text")
            for j, item in enumerate(fields or []):
                errors += _text_object_errors(item, 2000, f"{where}/fields/{j}")
            if fields and len(fields) > 10:
                errors.append(f"[ERROR] no more than 10 items allowed [json-pointer:{where}/fields]")
            if isinstance(block.get("accessory"), dict):
                errors += _element_errors(block["accessory"], f"{where}/accessory")
        elif kind == "header":
            errors += _text_object_errors(
                block.get("text"), 150, f"{where}/text", plain_only=True, required=True
            )
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                errors.append(f"[ERROR] must have 1 to 25 items [json-pointer:{where}/elements]")
            action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                errors.append(f"[ERROR] duplicate action_id [json-pointer:{where}/elements]")
            for j, element in enumerate(elements):
                errors += _element_errors(element, f"{where}/elements/{j}")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                errors.append(f"[ERROR] must have 1 to 10 items [json-pointer:{where}/elements]")
        elif kind == "input":
            errors += _text_object_errors(
                block.get("label"), 2000, f"{where}/label", plain_only=True, required=True
            )
            if not isinstance(block.get("element"), dict):
                errors.append(f"[ERROR] missing required field: element [json-pointer:{where}]")
    return errors


def _text_object_errors(
    obj: Any, limit: int, where: str, *, plain_only: bool = False, required: bool = False
) -> list[str]:
    if obj is None:
        return [f"[ERROR] missing required field: text [json-pointer:{where}]"] if required else []
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"[ERROR] must be a text object [json-pointer:{where}/type]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"[ERROR] must be plain_text [json-pointer:{where}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"[ERROR] must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _element_errors(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"[ERROR] missing required field: type [json-pointer:{where}]"]
    errors: list[str] = []
    if element["type"] == "button":
        errors += _text_object_errors(
            element.get("text"), 75, f"{where}/text", plain_only=True, required=True
        )
        if len(str(element.get("value", ""))) > 2000:
            errors.append(f"[ERROR] must be less than 2001 characters [json-pointer:{where}/value]")
        if len(str(element.get("url", ""))) > 3000:
            errors.append(f"[ERROR] must be less than 3001 characters [json-pointer:{where}/url]")
    if len(str(element.get("action_id", ""))) > 255:
        errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{where}/action_id]")
    return errors


def _tz_fields(tz: str) -> dict[str, Any]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return {"tz": tz, "tz_label": tz, "tz_offset": 0}
    offset = now.utcoffset()
    return {
        "tz": tz,
        "tz_label": now.tzname() or tz,
        "tz_offset": int(offset.total_seconds()) if offset else 0,
    }


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.b64decode(str(cursor)).decode().partition(":")
        if kind != "offset":
            raise ValueError(cursor)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None


def _page(items: list[T], params: dict[str, Any], default_limit: int = 100) -> tuple[list[T], str]:
    start = _decode_cursor(params.get("cursor"))
    limit = _int(params.get("limit"), default_limit, "limit") or default_limit
    chunk = items[start : start + limit]
    next_cursor = _encode_cursor(start + limit) if start + limit < len(items) else ""
    return chunk, next_cursor


class FakeSlack:
    """An in-memory Slack workspace answering the Web API over HTTP on 127.0.0.1."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        team_name: str = DEFAULT_TEAM_NAME,
        team_domain: str = DEFAULT_TEAM_DOMAIN,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        bot_id: str = DEFAULT_BOT_ID,
        app_id: str = DEFAULT_APP_ID,
        bot_name: str = DEFAULT_BOT_NAME,
        tokens: Iterable[str] | None = None,
        team_url: str | None = None,
        strict_triggers: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.bot_name = bot_name
        # None accepts any token, so tests need not agree on one; a set makes others `invalid_auth`.
        self.tokens: set[str] | None = set(tokens) if tokens is not None else None
        # Permalinks and auth.test's url point back at this server by default, so nothing links to slack.com.
        self._team_url = team_url
        # Slack's trigger_ids are single-use; off by default because fixtures reuse a trigger id.
        self.strict_triggers = strict_triggers
        self.clock = clock
        self._socket_mode_url: str | None = None

        self._lock = threading.RLock()
        self._flush_lock = threading.RLock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._last_ts_us = 0

        self._users: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, _Channel] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._modal_order: list[str] = []
        self._view_meta: dict[str, dict[str, Any]] = {}
        self._homes: dict[str, str] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._uploads: dict[str, str] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._responses: list[dict[str, Any]] = []
        self._triggers: dict[str, str] = {}
        self._used_triggers: set[str] = set()
        self._calls: list[Call] = []
        self._listeners: list[ChangeListener] = []
        self._pending: list[dict[str, Any]] = []
        self._faults = _FaultConfig()
        self._fail_next: deque[tuple[str | None, _Fault]] = deque()
        self.fault_counts: dict[str, int] = {"429": 0, "500": 0, "timeout": 0, "error": 0}

        self._methods: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "team.info": self._team_info,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.members": self._conversations_members,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }
        self._users[bot_user_id] = self._bot_user_object()

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind the port and serve in a background daemon thread; return self."""
        if self._server is not None:
            return self
        self._stop.clear()
        server = _Server((self.host, self.port), _make_handler(self))
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-slack:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; requests hanging in an injected timeout end at once."""
        self._stop.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FakeSlack({self.url if self._server else 'stopped'})"

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. http://127.0.0.1:53211 (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Web API base URL for `WebClient(base_url=...)`, ending with /api/."""
        return f"{self.url}/api/"

    @property
    def team_url(self) -> str:
        """The workspace URL that auth.test and permalinks use (this server unless given)."""
        return self._team_url or f"{self.url}/"

    @property
    def socket_mode_url(self) -> str:
        """The WebSocket URL apps.connections.open hands out (settable; default: a placeholder, unserved)."""
        return self._socket_mode_url or f"ws://{self.host}:{self.port}/link/?ticket=sandbox"

    @socket_mode_url.setter
    def socket_mode_url(self, value: str | None) -> None:
        """Set the URL apps.connections.open returns (None restores the placeholder)."""
        self._socket_mode_url = value

    # --------------------------------------------------------------------------- directory set-up

    def add_user(
        self,
        user_id: str,
        real_name: str,
        *,
        name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        email: str | None = None,
        is_admin: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> dict[str, Any]:
        """Register (or replace) a workspace member; return the users.info `user` object."""
        if user_id[:1] not in ("U", "W"):
            raise ValueError(f"user ids start with U or W: {user_id!r}")
        handle = name or re.sub(r"[^a-z0-9._-]", ".", real_name.lower())
        display = real_name if display_name is None else display_name
        first, _, last = real_name.partition(" ")
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display,
            "display_name_normalized": display,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "",
            "first_name": first,
            "last_name": last,
            "team": self.team_id,
        }
        if email is not None:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": handle,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real_name,
            **_tz_fields(tz),
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.clock()),
            "is_email_confirmed": email is not None,
            "who_can_share_contact_card": "EVERYONE",
        }
        with self._lock:
            self._users[user_id] = user
            self._emit({"type": "user_added", "user": user_id})
        self._flush()
        return copy.deepcopy(user)

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
                self._channels[channel_id] = _Channel(info=info, members=member_list)
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

    def add_usergroup(
        self, usergroup_id: str, users: Iterable[str], *, handle: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """Register (or replace) a user group ("S…") and its members."""
        if not usergroup_id.startswith("S"):
            raise ValueError(f"user group ids start with S: {usergroup_id!r}")
        now = int(self.clock())
        group = {
            "id": usergroup_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name or usergroup_id,
            "description": "",
            "handle": handle or usergroup_id.lower(),
            "is_external": False,
            "date_create": now,
            "date_update": now,
            "date_delete": 0,
            "auto_type": None,
            "created_by": self.bot_user_id,
            "updated_by": self.bot_user_id,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": list(users),
        }
        group["user_count"] = len(group["users"])
        with self._lock:
            self._usergroups[usergroup_id] = group
            self._emit({"type": "usergroup_set", "usergroup": usergroup_id})
        self._flush()
        return copy.deepcopy(group)

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

    def trigger_id(self, user_id: str) -> str:
        """Mint a trigger id tied to a user, so views opened with it are attributed to that user."""
        trigger = f"{int(self.clock() * 1000)}.{next(self._ids)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger] = user_id
        return trigger

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

    def dm_channel(self, user_id: str) -> str:
        """Return the DM channel id between the bot and a user (stable, created on first use)."""
        with self._lock:
            channel_id = self._ensure_dm(user_id).info["id"]
        self._flush()
        return channel_id

    # ----------------------------------------------------------------------------- assertions

    def calls(self, method: str | None = None) -> list[Call]:
        """Return the requests received so far, optionally only those for one method."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded calls (state stays)."""
        with self._lock:
            self._calls.clear()

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
            result = [copy.deepcopy(parent)] if parent is not None and not _is_reply(parent) else []
            return result + [copy.deepcopy(ch.by_ts[r]) for r in ch.replies.get(ts, []) if r in ch.by_ts]

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """Return ephemeral messages (chat.postEphemeral and ephemeral response_url posts), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if (user is None or e["user"] == user) and (channel is None or e["channel"] == channel)
            ]

    def views(self, user: str | None = None) -> list[dict[str, Any]]:
        """Return modal views (opened or pushed) in opening order, as they are now after updates."""
        with self._lock:
            return [
                copy.deepcopy(self._views[v])
                for v in self._modal_order
                if user is None or self._view_meta[v].get("user") == user
            ]

    def view(self, view_id: str) -> dict[str, Any] | None:
        """Return one view (modal or home) by id, or None."""
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    def home(self, user_id: str) -> dict[str, Any] | None:
        """Return the App Home view published for a user, or None."""
        with self._lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def files(self) -> list[dict[str, Any]]:
        """Return uploaded files with their metadata and raw `content` bytes, oldest first."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values()]

    def responses(self) -> list[dict[str, Any]]:
        """Return what was posted to response_urls on this server (bodies as parsed JSON)."""
        with self._lock:
            return copy.deepcopy(self._responses)

    def users(self) -> list[dict[str, Any]]:
        """Return the users directory (users.info objects)."""
        with self._lock:
            return [copy.deepcopy(u) for u in self._users.values()]

    def wait_for(self, predicate: Callable[..., T], timeout: float = 5.0, interval: float = 0.01) -> T:
        """Poll `predicate(fake)` (or `predicate()`) until truthy; return its value or raise TimeoutError."""
        takes_fake = True
        with contextlib.suppress(TypeError, ValueError):  # builtins may have no signature
            takes_fake = len(inspect.signature(predicate).parameters) > 0
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self) if takes_fake else predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s; last value {value!r}")
            time.sleep(interval)

    def snapshot(self) -> dict[str, Any]:
        """Return the whole state as JSON-able data (file contents left out: fetch url_private)."""
        with self._lock:
            channels = []
            for ch in self._channels.values():
                channels.append(
                    {
                        **self._channel_object(ch),
                        "members": self._members(ch),
                        "messages": [copy.deepcopy(ch.by_ts[ts]) for ts in ch.top],
                        "threads": {
                            parent: [copy.deepcopy(ch.by_ts[r]) for r in replies if r in ch.by_ts]
                            for parent, replies in ch.replies.items()
                        },
                    }
                )
            return {
                "team": self._team_object(),
                "bot": {"user_id": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id},
                "users": [copy.deepcopy(u) for u in self._users.values()],
                "usergroups": [copy.deepcopy(g) for g in self._usergroups.values()],
                "channels": channels,
                "ephemerals": copy.deepcopy(self._ephemerals),
                "views": [
                    {**copy.deepcopy(self._view_meta[v]), "view": copy.deepcopy(self._views[v])}
                    for v in self._modal_order
                ],
                "homes": {user: copy.deepcopy(self._views[v]) for user, v in self._homes.items()},
                "files": [
                    {k: v for k, v in f.items() if k != "content"}
                    for f in copy.deepcopy(self._files).values()
                ],
                "responses": copy.deepcopy(self._responses),
            }

    def on_change(self, callback: ChangeListener) -> Callable[[], None]:
        """Call `callback(change)` after every state change; return a function that unsubscribes it.

        `change` is a small dict such as {"type": "message", "channel": "C1", "ts": "..."}; callbacks run
        on the thread that made the change, outside the state lock (they may call snapshot()).
        """
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            """Stop calling `callback`."""
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def reset(self) -> None:
        """Drop messages, views, files, responses, calls and faults; keep users, channels and groups."""
        with self._lock:
            for ch in self._channels.values():
                ch.by_ts.clear()
                ch.top.clear()
                ch.replies.clear()
            for cleared in (self._ephemerals, self._calls, self._responses, self._modal_order):
                cleared.clear()
            for mapping in (
                self._views,
                self._view_meta,
                self._homes,
                self._files,
                self._uploads,
                self._response_urls,
                self._triggers,
            ):
                mapping.clear()
            self._used_triggers.clear()
            self._fail_next.clear()
            self._faults = _FaultConfig()
            self.fault_counts = dict.fromkeys(self.fault_counts, 0)
            self._emit({"type": "reset"})
        self._flush()

    # --------------------------------------------------------------------------------- faults

    def set_faults(
        self,
        rate_429: float = 0,
        rate_500: float = 0,
        rate_timeout: float = 0,
        timeout_seconds: float = 2.0,
        retry_after: int = 1,
        seed: int | None = None,
        methods: set[str] | None = None,
    ) -> None:
        """Fail a share of Web API calls: HTTP 429 with Retry-After, HTTP 500, or a hang, then a drop.

        A faulted call changes no state, so retrying it is safe. `methods` limits faults to those methods.
        """
        if rate_429 + rate_500 + rate_timeout > 1:
            raise ValueError("fault rates add up to more than 1")
        with self._lock:
            self._faults = _FaultConfig(
                rate_429=rate_429,
                rate_500=rate_500,
                rate_timeout=rate_timeout,
                timeout_seconds=timeout_seconds,
                retry_after=retry_after,
                methods=frozenset(methods) if methods is not None else None,
                rng=random.Random(seed),
            )

    def clear_faults(self) -> None:
        """Stop injecting faults (random and queued)."""
        self.set_faults()
        with self._lock:
            self._fail_next.clear()

    def fail_next(
        self,
        method: str | None,
        error: str = "ratelimited",
        status: int | None = None,
        *,
        times: int = 1,
        retry_after: int | None = None,
        hang_seconds: float | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (None: any method) fail, before any state change.

        error "ratelimited" without status answers HTTP 429 with Retry-After; error "timeout" hangs, then
        drops the connection; a `status` answers that HTTP status; else HTTP 200 {"ok": false, "error": …}.
        """
        if error == "timeout":
            kind, http_status = "timeout", 0
        elif status is None and error == "ratelimited":
            kind, http_status = "429", 429
        elif status is not None and status != 200:
            kind, http_status = str(status), status
        else:
            kind, http_status = "error", 200
        with self._lock:
            fault = _Fault(
                kind=kind,
                error=error,
                status=http_status,
                retry_after=self._faults.retry_after if retry_after is None else retry_after,
                hang_seconds=self._faults.timeout_seconds if hang_seconds is None else hang_seconds,
            )
            for _ in range(times):
                self._fail_next.append((method, fault))

    def _pick_fault(self, method: str) -> _Fault | None:
        for i, (wanted, fault) in enumerate(self._fail_next):
            if wanted is None or wanted == method:
                del self._fail_next[i]
                return fault
        cfg = self._faults
        if cfg.methods is not None and method not in cfg.methods:
            return None
        if not (cfg.rate_429 or cfg.rate_500 or cfg.rate_timeout):
            return None
        roll = cfg.rng.random()
        if roll < cfg.rate_429:
            return _Fault("429", "ratelimited", 429, cfg.retry_after, 0)
        if roll < cfg.rate_429 + cfg.rate_500:
            return _Fault("500", "internal_error", 500, 0, 0)
        if roll < cfg.rate_429 + cfg.rate_500 + cfg.rate_timeout:
            return _Fault("timeout", "timeout", 0, 0, cfg.timeout_seconds)
        return None

    # ------------------------------------------------------------------------------- internals

    def _emit(self, change: dict[str, Any]) -> None:
        # Called with the lock held; delivered by _flush() once the lock is released.
        if self._listeners:
            self._pending.append(change)

    def _flush(self) -> None:
        # One flusher at a time keeps listeners seeing changes in the order they happened.
        with self._flush_lock:
            with self._lock:
                changes, self._pending = self._pending, []
                listeners = list(self._listeners)
            for change in changes:
                for listener in listeners:
                    try:
                        listener(change)
                    except Exception:  # a broken listener must not break the Web API
                        logger.exception("fake slack change listener failed")

    def _new_ts(self) -> str:
        # Slack's ts is both a timestamp and the message id: unique and increasing, even in one microsecond.
        self._last_ts_us = max(int(self.clock() * 1_000_000), self._last_ts_us + 1)
        return format_ts(self._last_ts_us)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}{secrets.token_hex(3).upper()}"

    def _bot_user_object(self) -> dict[str, Any]:
        return {
            "id": self.bot_user_id,
            "team_id": self.team_id,
            "name": self.bot_name,
            "deleted": False,
            "real_name": self.bot_name,
            **_tz_fields("America/Los_Angeles"),
            "profile": {
                "real_name": self.bot_name,
                "display_name": "",
                "bot_id": self.bot_id,
                "api_app_id": self.app_id,
                "always_active": True,
                "team": self.team_id,
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": True,
            "is_app_user": False,
            "updated": int(self.clock()),
        }

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

    def _ensure_dm(self, user_id: str) -> _Channel:
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
            ch = self._channels[channel_id] = _Channel(info=info, members=[user_id, self.bot_user_id])
            self._emit({"type": "dm_opened", "channel": channel_id, "user": user_id})
        return ch

    def _channel_or_dm(self, channel_or_user: str) -> _Channel | None:
        if channel_or_user[:1] in ("U", "W"):
            return self._ensure_dm(channel_or_user) if channel_or_user in self._users else None
        return self._lookup(channel_or_user)

    def _lookup(self, channel_or_user: str) -> _Channel | None:
        # For read-only accessors: a user id means that user's DM, but looking must not create it.
        if channel_or_user[:1] in ("U", "W"):
            return self._channels.get(dm_channel_id(channel_or_user))
        return self._channels.get(channel_or_user)

    def _is_member(self, ch: _Channel) -> bool:
        return bool(ch.info.get("is_im") or ch.info.get("is_mpim") or ch.info.get("is_member"))

    def _members(self, ch: _Channel) -> list[str]:
        if ch.members is not None:
            return list(ch.members)
        humans = [u for u, obj in self._users.items() if not obj.get("is_bot") and not obj.get("deleted")]
        return humans + ([self.bot_user_id] if self._is_member(ch) else [])

    def _channel_object(self, ch: _Channel) -> dict[str, Any]:
        obj = copy.deepcopy(ch.info)
        if not ch.info.get("is_im"):
            obj["num_members"] = len(self._members(ch))
        return obj

    def _readable_channel(self, channel_id: Any) -> _Channel:
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

    def _postable_channel(self, channel_id: Any, *, allow_user: bool) -> _Channel:
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

    def _message_in(self, ch: _Channel, ts: Any) -> dict[str, Any]:
        msg = ch.by_ts.get(str(ts or ""))
        if msg is None:
            raise ApiError("message_not_found")
        return msg

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

    def _store_message(
        self, ch: _Channel, message: dict[str, Any], thread_ts: str | None, *, broadcast: bool
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
        if parent is not None and not _is_reply(parent):
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

    def _refresh_thread(self, ch: _Channel, thread_ts: str) -> None:
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

    @staticmethod
    def _public_message(message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        result = copy.deepcopy(message)
        if not include_metadata:
            result.pop("metadata", None)
        return result

    def _parse_view(self, raw: Any, *, home: bool) -> dict[str, Any]:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raise _invalid("failed to parse view [json-pointer:/view]") from None
        if not isinstance(raw, dict):
            raise _invalid("missing required field: view")
        kind = raw.get("type")
        errors: list[str] = []
        if home and kind != "home":
            errors.append("must be home [json-pointer:/view/type]")
        if not home and kind != "modal":
            errors.append("must be modal [json-pointer:/view/type]")
        if kind == "modal":
            errors += [
                m[len("[ERROR] ") :]
                for m in _text_object_errors(
                    raw.get("title"), 24, "/view/title", plain_only=True, required=True
                )
            ]
            for key in ("submit", "close"):
                errors += [
                    m[len("[ERROR] ") :]
                    for m in _text_object_errors(raw.get(key), 24, f"/view/{key}", plain_only=True)
                ]
            has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in raw.get("blocks") or [])
            if has_input and not raw.get("submit"):
                errors.append(
                    "must provide submit when blocks contain input elements [json-pointer:/view/submit]"
                )
        errors += [
            m[len("[ERROR] ") :] for m in validate_blocks(raw.get("blocks"), VIEW_BLOCK_LIMIT, "/view/blocks")
        ]
        for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
            if len(str(raw.get(key) or "")) > limit:
                errors.append(f"must be less than {limit + 1} characters [json-pointer:/view/{key}]")
        if errors:
            raise _invalid(*errors)
        return raw

    def _make_view(
        self, raw: dict[str, Any], view_id: str, previous: str | None, root: str | None
    ) -> dict[str, Any]:
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": raw["type"],
            "blocks": raw.get("blocks", []),
            "private_metadata": raw.get("private_metadata", ""),
            "callback_id": raw.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_urlsafe(6)}",
            "title": raw.get("title"),
            "clear_on_close": bool(raw.get("clear_on_close", False)),
            "notify_on_close": bool(raw.get("notify_on_close", False)),
            "close": raw.get("close"),
            "submit": raw.get("submit"),
            "previous_view_id": previous,
            "root_view_id": root or view_id,
            "app_id": self.app_id,
            "external_id": raw.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _use_trigger(self, p: dict[str, Any]) -> tuple[str, str | None]:
        trigger = str(p.get("trigger_id") or "")
        if not trigger:
            raise _invalid("missing required field: trigger_id")
        if self.strict_triggers:
            if trigger in self._used_triggers:
                raise ApiError("exchanged_trigger_id")
            self._used_triggers.add(trigger)
        return trigger, self._triggers.get(trigger)

    def _check_external_id(self, external_id: str, except_view: str | None = None) -> None:
        if external_id and any(
            v.get("external_id") == external_id and v["id"] != except_view for v in self._views.values()
        ):
            raise ApiError("duplicate_external_id")

    # ---------------------------------------------------------------------------- Web API methods

    def _api_test(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in p.items() if k != "token"}}

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

    def _team_info(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "team": self._team_object()}

    def _apps_connections_open(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_mode_url}

    def _chat_post_message(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._postable_channel(p.get("channel"), allow_user=True)
        content = self._content(p, require=True)
        thread_ts = self._thread_ts(p)
        message = self._bot_message(content)
        self._store_message(
            ch, message, thread_ts, broadcast=thread_ts is not None and _bool(p.get("reply_broadcast"))
        )
        return {"ok": True, "channel": ch.info["id"], "ts": message["ts"], "message": copy.deepcopy(message)}

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

    def _delete_message(self, ch: _Channel, message: dict[str, Any]) -> None:
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

    def _chat_get_permalink(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        message = self._message_in(ch, p.get("message_ts"))
        link = f"{self.team_url}archives/{ch.info['id']}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={ch.info['id']}"
        return {"ok": True, "channel": ch.info["id"], "permalink": link}

    def _conversations_open(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        if p.get("channel"):
            ch = self._readable_channel(p["channel"])
            return {"ok": True, "no_op": True, "already_open": True, "channel": self._channel_object(ch)}
        users = _csv(p.get("users"))
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
                self._channels[channel_id] = _Channel(info=info, members=[*users, self.bot_user_id])
                self._emit({"type": "dm_opened", "channel": channel_id, "users": users})
            ch = self._channels[channel_id]
        channel = self._channel_object(ch) if _bool(p.get("return_im")) else {"id": ch.info["id"]}
        return {"ok": True, "no_op": existed, "already_open": existed, "channel": channel}

    def _conversations_info(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "channel": self._channel_object(self._readable_channel(p.get("channel")))}

    def _conversations_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        types = set(_csv(p.get("types")) or ["public_channel"])
        exclude_archived = _bool(p.get("exclude_archived"))
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
        page, cursor = _page(chosen, p)
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
        return oldest, latest, _bool(p.get("inclusive"))

    @staticmethod
    def _in_bounds(ts: str, oldest: int, latest: int, inclusive: bool) -> bool:
        value = parse_ts(ts)
        if inclusive:
            return oldest <= value <= latest
        return oldest < value < latest

    def _conversations_history(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        if not self._is_member(ch):
            raise ApiError("not_in_channel")
        oldest, latest, inclusive = self._history_bounds(p)
        include_metadata = _bool(p.get("include_all_metadata"))
        # Slack answers newest first.
        selected = [
            self._public_message(ch.by_ts[ts], include_metadata)
            for ts in reversed(ch.top)
            if self._in_bounds(ts, oldest, latest, inclusive)
        ]
        page, cursor = _page(selected, p)
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(cursor),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

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
        include_metadata = _bool(p.get("include_all_metadata"))
        replies = [
            self._public_message(ch.by_ts[r], include_metadata)
            for r in ch.replies.get(parent_ts, [])
            if r in ch.by_ts and self._in_bounds(r, oldest, latest, inclusive)
        ]
        # The parent heads the first page whatever the bounds, as Slack does; replies follow oldest first.
        page, cursor = _page(
            [self._public_message(parent, include_metadata), *replies], p, default_limit=1000
        )
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_members(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        ch = self._readable_channel(p.get("channel"))
        page, cursor = _page(self._members(ch), p)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

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

    def _users_info(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        user = self._users.get(str(p.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        result = copy.deepcopy(user)
        if _bool(p.get("include_locale")):
            result["locale"] = "en-US"
        return {"ok": True, "user": result}

    def _users_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        page, cursor = _page([copy.deepcopy(u) for u in self._users.values()], p, default_limit=200)
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(self.clock()),
            "response_metadata": {"next_cursor": cursor},
        }

    def _users_lookup_by_email(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        email = str(p.get("email") or "").lower()
        for user in self._users.values():
            if str(user["profile"].get("email", "")).lower() == email and email:
                return {"ok": True, "user": copy.deepcopy(user)}
        raise ApiError("users_not_found")

    def _usergroups_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        include_users = _bool(p.get("include_users"))
        groups = []
        for group in self._usergroups.values():
            item = copy.deepcopy(group)
            if not include_users:
                item.pop("users")
            groups.append(item)
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        group = self._usergroups.get(str(p.get("usergroup") or ""))
        if group is None:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(group["users"])}

    def _views_open(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        trigger, user = self._use_trigger(p)
        raw = self._parse_view(p.get("view"), home=False)
        self._check_external_id(str(raw.get("external_id") or ""))
        view = self._make_view(raw, self._new_id("V"), None, None)
        self._views[view["id"]] = view
        self._modal_order.append(view["id"])
        self._view_meta[view["id"]] = {"user": user, "trigger_id": trigger, "opened_by": "views.open"}
        self._emit({"type": "view_opened", "view_id": view["id"], "user": user})
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_push(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        trigger, user = self._use_trigger(p)
        raw = self._parse_view(p.get("view"), home=False)
        self._check_external_id(str(raw.get("external_id") or ""))
        # Slack knows which modal the trigger came from; the fake stacks onto the latest modal of that user.
        candidates = [v for v in self._modal_order if user is None or self._view_meta[v].get("user") == user]
        previous = candidates[-1] if candidates else None
        root = self._views[previous]["root_view_id"] if previous else None
        if root is not None and sum(1 for v in self._views.values() if v.get("root_view_id") == root) >= 3:
            raise ApiError("push_limit_reached")
        view = self._make_view(raw, self._new_id("V"), previous, root)
        self._views[view["id"]] = view
        self._modal_order.append(view["id"])
        self._view_meta[view["id"]] = {"user": user, "trigger_id": trigger, "opened_by": "views.push"}
        self._emit({"type": "view_pushed", "view_id": view["id"], "user": user})
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_update(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        view_id, external_id = p.get("view_id"), p.get("external_id")
        if not view_id and not external_id:
            raise _invalid("missing required field: view_id or external_id")
        current = self._views.get(str(view_id)) if view_id else None
        if current is None and external_id:
            current = next((v for v in self._views.values() if v.get("external_id") == external_id), None)
        if current is None:
            raise ApiError("not_found")
        if p.get("hash") and p["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        raw = self._parse_view(p.get("view"), home=current["type"] == "home")
        self._check_external_id(str(raw.get("external_id") or ""), except_view=current["id"])
        updated = self._make_view(raw, current["id"], current["previous_view_id"], current["root_view_id"])
        updated["state"] = current["state"]
        self._views[current["id"]] = updated
        self._emit({"type": "view_updated", "view_id": current["id"]})
        return {"ok": True, "view": copy.deepcopy(updated)}

    def _views_publish(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        user = str(p.get("user_id") or "")
        if user not in self._users:
            raise ApiError("user_not_found")
        raw = self._parse_view(p.get("view"), home=True)
        existing_id = self._homes.get(user)
        if existing_id and p.get("hash") and p["hash"] != self._views[existing_id]["hash"]:
            raise ApiError("hash_conflict")
        view = self._make_view(raw, existing_id or self._new_id("V"), None, None)
        self._views[view["id"]] = view
        self._homes[user] = view["id"]
        self._view_meta[view["id"]] = {"user": user, "trigger_id": None, "opened_by": "views.publish"}
        self._emit({"type": "home_published", "user": user, "view_id": view["id"]})
        return {"ok": True, "view": copy.deepcopy(view)}

    def _reaction_target(self, p: dict[str, Any]) -> tuple[_Channel, dict[str, Any], str]:
        ch = self._readable_channel(p.get("channel"))
        if not self._is_member(ch):
            raise ApiError("not_in_channel")
        message = self._message_in(ch, p.get("timestamp"))
        name = str(p.get("name") or "").strip(":")
        if not name:
            raise ApiError("invalid_name")
        return ch, message, name

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

    def _files_get_upload_url_external(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        filename = str(p.get("filename") or "")
        if not filename:
            raise _invalid("missing required field: filename")
        length = _int(p.get("length"), -1, "length")
        if length < 0:
            raise _invalid("missing required field: length")
        file_id = self._new_id("F")
        upload_key = secrets.token_urlsafe(16)
        now = int(self.clock())
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self._files[file_id] = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": filename,
            "title": filename,
            "mimetype": mimetype,
            "filetype": filename.rsplit(".", 1)[-1].lower() if "." in filename else "binary",
            "pretty_type": mimetype,
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.url}/files-pri/{self.team_id}-{file_id}/{filename}",
            "url_private_download": f"{self.url}/files-pri/{self.team_id}-{file_id}/download/{filename}",
            "permalink": f"{self.team_url}files/{self.bot_user_id}/{file_id}/{filename}",
            "alt_txt": p.get("alt_txt"),
            "snippet_type": p.get("snippet_type"),
            "channels": [],
            "groups": [],
            "ims": [],
            "shares": {},
            "comments_count": 0,
            "initial_comment": None,
            "thread_ts": None,
            "uploaded": False,
            "completed": False,
            "content": b"",
        }
        self._uploads[upload_key] = file_id
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{upload_key}", "file_id": file_id}

    def _files_complete_upload_external(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        entries = p.get("files")
        if not isinstance(entries, list) or not entries:
            raise _invalid("missing required field: files")
        chosen: list[dict[str, Any]] = []
        for entry in entries:
            record = self._files.get(str(entry.get("id") if isinstance(entry, dict) else ""))
            if record is None or not record["uploaded"]:
                raise ApiError("file_not_found")
            chosen.append(record)
        targets = _csv(p.get("channels")) or ([str(p["channel_id"])] if p.get("channel_id") else [])
        # Validate every target before changing anything, so a failed call leaves no half-shared files.
        channels = [self._postable_channel(c, allow_user=False) for c in targets]
        thread_ts = self._thread_ts(p)
        for entry, record in zip(entries, chosen, strict=True):
            if entry.get("title"):
                record["title"] = entry["title"]
            record["completed"] = True
            record["initial_comment"] = p.get("initial_comment")
            record["thread_ts"] = thread_ts
        for ch in channels:
            kind = "ims" if ch.info.get("is_im") else "groups" if ch.info.get("is_private") else "channels"
            message = self._bot_message({"text": str(p.get("initial_comment") or "")})
            message.update({"upload": True, "display_as_bot": False})
            for record in chosen:
                record[kind].append(ch.info["id"])
            message["files"] = [
                {k: v for k, v in copy.deepcopy(r).items() if k not in ("content", "uploaded", "completed")}
                for r in chosen
            ]
            if p.get("blocks"):
                message["blocks"] = p["blocks"]
            self._store_message(ch, message, thread_ts, broadcast=False)
        for record in chosen:
            self._emit({"type": "file_shared", "file_id": record["id"], "channels": targets})
        return {"ok": True, "files": [{"id": r["id"], "title": r["title"]} for r in chosen]}

    # ------------------------------------------------------------------------ HTTP entry points

    def _handle_api(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any] | None, _Fault | None]:
        """Process one Web API request; return status, extra headers, body (None: drop the socket), fault."""
        with self._lock:
            fault = self._pick_fault(method)
            if fault is not None:
                self.fault_counts[fault.kind] = self.fault_counts.get(fault.kind, 0) + 1
                if fault.kind == "timeout":
                    self._calls.append(Call(method, params, headers, self.clock(), 0, "timeout", None))
                    return 0, {}, None, fault
                body = {"ok": False, "error": fault.error}
                extra = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
                self._calls.append(
                    Call(method, params, headers, self.clock(), fault.status, fault.kind, body)
                )
                return fault.status, extra, body, fault
            try:
                token = self._authenticate(method, params, headers)
                handler = self._methods.get(method)
                if handler is None:
                    raise ApiError("unknown_method")
                body = handler(params, token)
                status = 200
            except ApiError as error:
                body, status = error.body(), error.status
            self._calls.append(Call(method, params, headers, self.clock(), status, None, body))
        self._flush()
        return status, {}, body, None

    def _authenticate(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> str:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = (
            auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else str(params.get("token") or "")
        )
        if method == "api.test":
            return token
        if not token:
            raise ApiError("not_authed")
        if self.tokens is not None and token not in self.tokens:
            raise ApiError("invalid_auth")
        # App-level tokens (xapp-) only open Socket Mode connections; bot tokens cannot.
        if method != "auth.test" and (method == "apps.connections.open") != token.startswith("xapp-"):
            raise ApiError("not_allowed_token_type")
        return token

    def _handle_upload(self, key: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
        with self._lock:
            file_id = self._uploads.get(key)
            if file_id is None or file_id not in self._files:
                self._calls.append(
                    Call("upload", {"upload_key": key, "size": len(data)}, headers, self.clock(), 404)
                )
                return 404, "not_found"
            record = self._files[file_id]
            record["content"] = data
            record["size"] = len(data)
            record["uploaded"] = True
            self._calls.append(
                Call("upload", {"file_id": file_id, "size": len(data)}, headers, self.clock(), 200)
            )
            self._emit({"type": "file_uploaded", "file_id": file_id})
        self._flush()
        return 200, f"OK - {len(data)}"

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
            if _bool(body.get("delete_original")):
                if context["is_ephemeral"]:
                    self._ephemerals[:] = [e for e in self._ephemerals if e["ts"] != message_ts]
                    self._emit({"type": "ephemeral_deleted", "user": user, "ts": message_ts})
                elif message_ts and channel:
                    ch = self._postable_channel(channel, allow_user=False)
                    self._delete_message(ch, self._message_in(ch, message_ts))
                return 200, {"ok": True}
            content = self._content(body, require=True)
            if _bool(body.get("replace_original")) and message_ts:
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


# ----------------------------------------------------------------------------------- HTTP server


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hanging (fault-injected) request must not keep the process alive
    request_queue_size = 256  # chaos runs and benchmarks open many connections at once; 5 would refuse some


def _parse_multipart(content_type: str, data: bytes) -> dict[str, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + data
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        fields[str(name)] = payload if part.get_filename() else payload.decode("utf-8", errors="replace")
    return fields


def _parse_params(query: str, content_type: str, data: bytes) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        try:
            body = json.loads(data or b"{}")
        except json.JSONDecodeError:
            raise ApiError("invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError("invalid_json")
        params.update(body)
    elif kind == "multipart/form-data":
        params.update(_parse_multipart(content_type, data))
    elif data:
        params.update(parse_qsl(data.decode("utf-8", errors="replace"), keep_blank_values=True))
    for key in JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            # Unparseable text stays as it is: the method answers with its own "invalid_*" error.
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Route a request to the fake: Web API, uploads, response_urls, permalinks, files, snapshot."""

        server_version = "FakeSlack/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            """Log requests at debug level instead of printing each one to stderr."""
            logger.debug("%s " + format, self.address_string(), *args)

        def _send(
            self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            # The sandbox page in a browser reads the API and snapshot from another origin.
            self.send_header("Access-Control-Allow-Origin", "*")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _send_json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", extra)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def do_OPTIONS(self) -> None:
            """Answer CORS preflights from the browser sandbox."""
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            """Serve a GET (read-only Web API methods, permalinks, files, snapshot)."""
            self._dispatch(b"")

        def do_POST(self) -> None:
            """Serve a POST."""
            self._dispatch(self._body())

        def _dispatch(self, data: bytes) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            headers = dict(self.headers.items())
            try:
                if path.startswith("/api/"):
                    self._api(path[len("/api/") :], parts.query, data, headers)
                elif path.startswith("/upload/v1/") and self.command == "POST":
                    content_type = self.headers.get("Content-Type", "")
                    if content_type.startswith("multipart/form-data"):
                        fields = _parse_multipart(content_type, data)
                        data = next((v for v in fields.values() if isinstance(v, bytes)), data)
                    status, text = fake._handle_upload(path[len("/upload/v1/") :], data, headers)
                    self._send(status, text.encode(), "text/plain; charset=utf-8")
                elif (
                    path.startswith("/commands/") or path.startswith("/actions/")
                ) and self.command == "POST":
                    self._response_url(path, data)
                elif path.startswith("/archives/") and self.command == "GET":
                    self._permalink(path)
                elif path.startswith("/files-pri/") and self.command == "GET":
                    self._file(path)
                elif path == "/_fake/snapshot":
                    self._send_json(200, fake.snapshot())
                else:
                    self._send_json(404, {"ok": False, "error": "not_found"})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its own timeout); nothing left to answer

        def _api(self, method: str, query: str, data: bytes, headers: dict[str, str]) -> None:
            try:
                params = _parse_params(query, self.headers.get("Content-Type", ""), data)
            except ApiError as error:
                self._send_json(200, error.body())
                return
            status, extra, body, fault = fake._handle_api(method, params, headers)
            if body is None and fault is not None:
                # An injected timeout: hold the request, then close without answering (stop() cuts it short).
                fake._stop.wait(fault.hang_seconds)
                self.close_connection = True
                return
            self._send_json(status, body, extra)

        def _response_url(self, path: str, data: bytes) -> None:
            content_type = self.headers.get("Content-Type", "")
            try:
                if content_type.startswith("application/json"):
                    body = json.loads(data or b"{}")
                else:
                    form = dict(parse_qsl(data.decode("utf-8", errors="replace")))
                    body = json.loads(form.get("payload", "{}"))
            except json.JSONDecodeError:
                self._send_json(400, {"ok": False, "error": "invalid_payload"})
                return
            status, answer = fake._handle_response_url(
                path, body if isinstance(body, dict) else {}, dict(self.headers.items())
            )
            self._send_json(status, answer)

        def _permalink(self, path: str) -> None:
            match = re.fullmatch(r"/archives/([A-Z0-9]+)/p(\d{7,})", path)
            message = None
            if match:
                digits = match.group(2)
                message = fake.message(match.group(1), f"{digits[:-6]}.{digits[-6:]}")
            if message is None:
                self._send_json(404, {"ok": False, "error": "message_not_found"})
            else:
                self._send_json(
                    200, {"ok": True, "channel": match.group(1) if match else None, "message": message}
                )

        def _file(self, path: str) -> None:
            match = re.match(r"/files-pri/[A-Z0-9]+-([A-Z0-9]+)/", path)
            record = None
            if match:
                record = next((f for f in fake.files() if f["id"] == match.group(1)), None)
            if record is None:
                self._send_json(404, {"ok": False, "error": "file_not_found"})
            else:
                self._send(200, record["content"], record["mimetype"])

    return Handler


# ----------------------------------------------------------------------------------- standalone


def seed_demo(fake: FakeSlack) -> None:
    """Fill a fake workspace with a few people, channels and a reviewers group for manual use."""
    fake.add_user(
        "U0ALICE", "Alice Adams", display_name="alice", tz="Europe/Berlin", email="alice@example.com"
    )
    fake.add_user("U0BOB", "Bob Brown", display_name="bob", tz="Europe/London", email="bob@example.com")
    fake.add_user("U0CAROL", "Carol Chen", display_name="carol (CISO)", tz="America/New_York", is_admin=True)
    fake.add_channel("C0GENERAL", "general", is_general=True)
    fake.add_channel("C0PROJECTS", "projects", purpose="Announce new IT projects here")
    fake.add_channel("C0SECURITY", "security-reviews", is_private=True, members=["U0BOB", "U0CAROL"])
    fake.add_channel("C0DIGEST", "security-digest")
    fake.add_usergroup(
        "S0REVIEWERS", ["U0BOB", "U0CAROL"], handle="security-reviewers", name="Security reviewers"
    )


def main(argv: list[str] | None = None) -> int:
    """Run a fake Slack until interrupted and print its api_url."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.fake_slack", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--empty", action="store_true", help="start without the demo users and channels")
    args = parser.parse_args(argv)
    fake = FakeSlack(args.host, args.port).start()
    if not args.empty:
        seed_demo(fake)
    print(fake.api_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
