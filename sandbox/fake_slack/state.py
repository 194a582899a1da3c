"""The data a fake Slack workspace keeps, and what every Web API family of the fake shares.

`Workspace` holds the whole state behind one lock: identity (team, bot, app), users and groups, channels
with their messages and threads, ephemerals, views, files, response_urls, recorded calls and fault plans.
The family modules (conversations, chat, views, …) subclass it to implement their methods, marking each
with `@web_api`. Also here: Slack's error format, the coercion of request parameters, cursor pagination,
and change notification for the sandbox page.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import itertools
import logging
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.payloads import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_NAME,
    DEFAULT_BOT_USER_ID,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    format_ts,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
ChangeListener = Callable[[dict[str, Any]], None]
# A Web API method as the fake implements it: (params, token) -> the JSON body of a successful answer.
ApiMethod = Callable[[dict[str, Any], str], dict[str, Any]]
M = TypeVar("M", bound=Callable[..., dict[str, Any]])

_WEB_API_ATTRIBUTE = "_fake_slack_web_api"


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


def invalid_arguments(*messages: str) -> ApiError:
    """Return the `invalid_arguments` error Slack answers for a malformed request, with its messages."""
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
class Fault:
    """One injected failure: what the call gets instead of its answer."""

    kind: str  # "429", "500"/other status, "timeout", "error"
    error: str
    status: int
    retry_after: int
    hang_seconds: float


@dataclass
class FaultConfig:
    """Random failure rates for Web API calls (set with FakeSlack.set_faults)."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    timeout_seconds: float = 2.0
    retry_after: int = 1
    methods: frozenset[str] | None = None
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class Channel:
    """A conversation (channel, DM or group DM): its info object, members and messages."""

    info: dict[str, Any]
    members: list[str] | None  # None: every user of the workspace (a default #general)
    by_ts: dict[str, dict[str, Any]] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)  # ts of top-level messages (and thread broadcasts), in order
    replies: dict[str, list[str]] = field(default_factory=dict)  # thread_ts -> reply ts, in order


def web_api(name: str) -> Callable[[M], M]:
    """Mark a workspace method as the fake's implementation of the Web API method `name`."""

    def mark(function: M) -> M:
        """Tag `function` with the Web API method name it answers."""
        setattr(function, _WEB_API_ATTRIBUTE, name)
        return function

    return mark


def as_bool(value: Any) -> bool:
    """Read a boolean parameter as Slack does ("true", "1", … in forms; a real bool in JSON)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def as_int(value: Any, default: int, name: str) -> int:
    """Read an integer parameter (`default` if absent); a non-number is `invalid_arguments`."""
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_arguments(f"invalid value for {name}") from None


def as_list(value: Any) -> list[str]:
    """Read a list parameter: a JSON array, or comma-separated ids as in a form."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def is_reply(message: dict[str, Any]) -> bool:
    """Whether a message is a thread reply (its thread_ts is another message's ts)."""
    return message.get("thread_ts") not in (None, message["ts"])


def tz_fields(tz: str) -> dict[str, Any]:
    """Return the tz, tz_label and tz_offset fields of a user object for an IANA time zone."""
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


def paginate(items: list[T], params: dict[str, Any], default_limit: int = 100) -> tuple[list[T], str]:
    """Return one page of `items` for the request's cursor and limit, and the next cursor ("" at the end)."""
    start = _decode_cursor(params.get("cursor"))
    limit = as_int(params.get("limit"), default_limit, "limit") or default_limit
    chunk = items[start : start + limit]
    next_cursor = _encode_cursor(start + limit) if start + limit < len(items) else ""
    return chunk, next_cursor


class Workspace:
    """The in-memory state of one fake workspace, its identity, and the plumbing its families share."""

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
        # The HTTP side (server.py) runs on these; they are set up here because there is one __init__ for all
        # the families, and stop() sets _stop to end requests hanging in an injected timeout.
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._last_ts_us = 0

        self._users: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, Channel] = {}
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
        self._function_runs: dict[str, dict[str, Any]] = {}
        self._calls: list[Call] = []
        self._listeners: list[ChangeListener] = []
        self._pending: list[dict[str, Any]] = []
        self._faults = FaultConfig()
        self._fail_next: deque[tuple[str | None, Fault]] = deque()
        self.fault_counts: dict[str, int] = {"429": 0, "500": 0, "timeout": 0, "error": 0}

        self._methods: dict[str, ApiMethod] = self._collect_web_api()
        self._users[bot_user_id] = self._bot_user_object()

    def _collect_web_api(self) -> dict[str, ApiMethod]:
        # Each family marks its methods with @web_api, so adding a method needs no table kept in step elsewhere.
        methods: dict[str, ApiMethod] = {}
        seen: set[str] = set()
        for cls in type(self).__mro__:
            for attribute, value in vars(cls).items():
                if attribute in seen:
                    continue  # overridden in a subclass: the subclass's version was taken already
                seen.add(attribute)
                name = getattr(value, _WEB_API_ATTRIBUTE, None)
                if name is None:
                    continue
                if name in methods:
                    raise TypeError(f"two implementations of the Web API method {name}")
                methods[name] = getattr(self, attribute)
        return methods

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

    def calls(self, method: str | None = None) -> list[Call]:
        """Return the requests received so far, optionally only those for one method."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded calls (state stays)."""
        with self._lock:
            self._calls.clear()

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
            **tz_fields("America/Los_Angeles"),
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
