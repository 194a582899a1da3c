"""The sandbox's web page and its JSON API: a small Slack in the browser, in front of FakeSlack and secreview.

The page never talks to secreview directly. It asks this server to act as a person, and this server does what
Slack would: it stores a typed message in the fake workspace and delivers the `message` event, or sends the
slash command, button click or modal submission as Slack's payload, signed, to secreview's endpoint. What
secreview answers through the Web API lands in the fake, whose changes wake the page's long poll
(`GET /api/state?since=N` returns when the state is newer than N, or after 25 s).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import Response, SlackSender

log = logging.getLogger(__name__)

# The page's files stay in sandbox/static/, beside this package (pyproject's package-data lists them there).
STATIC_DIR = Path(__file__).parent.parent / "static"
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
# Nothing on the page may come from anywhere but this server: no CDN, no fonts, no images from the internet.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
LONG_POLL_SECONDS = 25.0
MAX_BODY = 256_000  # a modal's values or a message are far smaller
MAX_TEXT = 4_000
COMMAND = "/secreview"
TYPED_TOKENS = re.compile(
    r"(?P<url>https?://(?:(?!&[gl]t;)[^\s<>|])*[^\s<>|&.,;:!?)\]'\"])"
    r"|(?<![\w@#/])@(?P<user>[a-zA-Z][\w.-]*[\w])"
    r"|(?<![\w@#/&])#(?P<channel>[a-z0-9][a-z0-9_-]*)"
)


@dataclass(frozen=True)
class Person:
    """Someone in the sandbox workspace; `switchable` people are offered in the page's person switcher."""

    id: str
    real_name: str
    handle: str
    role: str
    switchable: bool = False


@dataclass(frozen=True)
class Directory:
    """Who and where: the people and the channels the page gives a special place."""

    people: tuple[Person, ...]
    announce: str
    security: str
    digest: str
    general: str


class WebError(Exception):
    """A request the page made that cannot be carried out; the message is shown to the person."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # long polls must not keep the process alive at Ctrl-C
    allow_reuse_address = True


class SandboxWeb:
    """The page's HTTP server: static files, the per-person state, and the actions people take."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._fake: FakeSlack | None = None
        self._sender: SlackSender | None = None
        self._directory: Directory | None = None
        self._unsubscribe: Any = None
        self._changed = threading.Condition()
        self._version = 0
        self._stopping = False
        self._closed_views: set[str] = set()

    # --- lifecycle ---------------------------------------------------------------------------------------

    def bind(self) -> None:
        """Binds the port (0: any free one), so a port in use is reported before anything else starts."""
        if self._server is None:
            self._server = _Server((self.host, self.port), _make_handler(self))
            self.port = self._server.server_address[1]

    def attach(self, *, fake: FakeSlack, sender: SlackSender, directory: Directory) -> None:
        """Connects the page to the fake workspace and to secreview's endpoint."""
        self._fake, self._sender, self._directory = fake, sender, directory
        self._unsubscribe = fake.on_change(lambda _change: self._bump())

    def start(self) -> SandboxWeb:
        """Serves in a background thread; returns self."""
        self.bind()
        assert self._server is not None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sandbox-web:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ends long polls at once, stops serving and releases the port."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        server, self._server = self._server, None
        if server is not None:
            if self._thread is not None:
                server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{self.host}:{self.port}"

    @property
    def fake(self) -> FakeSlack:
        """The fake workspace."""
        if self._fake is None:
            raise WebError("the sandbox is still starting", 503)
        return self._fake

    @property
    def sender(self) -> SlackSender:
        """Signs and delivers payloads to secreview."""
        if self._sender is None:
            raise WebError("the sandbox is still starting", 503)
        return self._sender

    @property
    def directory(self) -> Directory:
        """People and special channels."""
        if self._directory is None:
            raise WebError("the sandbox is still starting", 503)
        return self._directory

    # --- change notification -----------------------------------------------------------------------------

    def _bump(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_newer(self, since: int, timeout: float = LONG_POLL_SECONDS) -> int:
        """Blocks until the state is newer than `since` (or the timeout, or shutdown); returns the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version > since or self._stopping, timeout)
            return self._version

    # --- reading -----------------------------------------------------------------------------------------

    def _person(self, user_id: str) -> Person | None:
        return next((p for p in self.directory.people if p.id == user_id), None)

    def _default_user(self) -> str:
        return next(p.id for p in self.directory.people if p.switchable)

    def _check_user(self, user_id: Any) -> str:
        if not isinstance(user_id, str) or self._person(user_id) is None:
            raise WebError("unknown person: pick someone in the switcher")
        return user_id

    def state_for(self, user_id: str | None) -> dict[str, Any]:
        """What one person sees: their channels, their DM with secreview, their ephemerals, modal and home."""
        with self._changed:
            version = self._version
            closed = set(self._closed_views)
        me = user_id if user_id and self._person(user_id) else self._default_user()
        snap = self.fake.snapshot()
        d = self.directory
        special = [d.general, d.announce, d.security, d.digest]
        channels = []
        dm = None
        for ch in snap["channels"]:
            if ch.get("is_im"):
                if ch.get("user") == me:
                    dm = {"id": ch["id"], "messages": ch["messages"], "threads": ch["threads"]}
                continue
            if ch.get("is_mpim") or ch.get("is_archived"):
                continue
            if ch.get("is_private") and me not in ch.get("members", []):
                continue  # as in Slack: a private channel you are not in does not exist for you
            channels.append({"id": ch["id"], "name": ch["name"], "is_private": bool(ch.get("is_private")),
                             "purpose": (ch.get("purpose") or {}).get("value", ""),
                             "messages": ch["messages"], "threads": ch["threads"]})
        rank = {channel_id: i for i, channel_id in enumerate(special)}
        channels.sort(key=lambda c: (rank.get(c["id"], len(special)), c["name"]))
        if dm is None:
            dm = {"id": payloads.dm_channel_id(me), "messages": [], "threads": {}}
        modal = None
        for entry in reversed(snap["views"]):
            if entry.get("user") == me and entry["view"]["id"] not in closed:
                modal = entry["view"]
                break
        people = []
        for user in snap["users"]:
            if user.get("is_bot") or user.get("deleted"):
                continue
            person = self._person(user["id"])
            people.append({"id": user["id"], "name": user.get("real_name") or user["name"],
                           "handle": user["name"], "role": person.role if person else "",
                           "switchable": bool(person and person.switchable)})
        return {
            "version": version,
            "me": me,
            "team": {"id": snap["team"]["id"], "name": snap["team"]["name"]},
            "bot": {**snap["bot"], "name": self.fake.bot_name},
            "people": people,
            "channels": channels,
            "dm": dm,
            "ephemerals": [e for e in snap["ephemerals"] if e.get("user") == me],
            "modal": modal,
            "home": snap["homes"].get(me),
            "special": {"announce": d.announce, "security": d.security, "digest": d.digest,
                        "general": d.general},
        }

    def file(self, file_id: str) -> dict[str, Any] | None:
        """One uploaded file (the digest's chart, an export) with its bytes."""
        return next((f for f in self.fake.files() if f["id"] == file_id), None)

    # --- acting as a person ------------------------------------------------------------------------------

    def _channel_for(self, user: str, channel: Any) -> str:
        """The conversation id if `user` may post there: a channel they can see, or their DM with the app."""
        if not isinstance(channel, str) or not channel:
            raise WebError("no channel given")
        if channel == payloads.dm_channel_id(user):
            return self.fake.dm_channel(user)  # created on first use, as Slack opens a DM
        info = next((c for c in self.fake.snapshot()["channels"] if c["id"] == channel), None)
        hidden = info is not None and info.get("is_private") and user not in info.get("members", [])
        if info is None or info.get("is_im") or hidden:
            raise WebError("that channel does not exist for you")
        return channel

    def post_message(self, user: Any, channel: Any, text: Any, thread_ts: Any = None) -> dict[str, Any]:
        """A person types in the message box: a command, or a message that secreview receives as an event."""
        user = self._check_user(user)
        channel = self._channel_for(user, channel)
        text = _clean_text(text)
        if text.startswith("/"):
            return self.command(user, channel, text)
        thread = _optional_ts(thread_ts)
        slack_text = self._as_typed(text)
        message = self.fake.add_message(channel, user, slack_text, thread_ts=thread)
        envelope = payloads.message_event(self.fake.team_id, channel, user, slack_text, ts=message["ts"],
                                          thread_ts=thread)
        _check_answer(self._deliver(lambda: self.sender.send_event(envelope)), "the message")
        return {"ok": True, "ts": message["ts"]}

    def _as_typed(self, text: str) -> str:
        # What Slack's clients send: &, < and > escaped; @handle, #channel and links turned into <…> tokens.
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        handles = {p.handle: p.id for p in self.directory.people}
        channels = {c["name"]: c["id"] for c in self.fake.snapshot()["channels"] if c.get("name")}

        def token(match: re.Match[str]) -> str:
            if match.group("url"):
                return f"<{match.group('url')}>"
            if match.group("user"):
                user_id = handles.get(match.group("user").lower())
                return f"<@{user_id}>" if user_id else match.group(0)
            name = match.group("channel").lower()
            return f"<#{channels[name]}|{name}>" if name in channels else match.group(0)

        return TYPED_TOKENS.sub(token, escaped)

    def command(self, user: Any, channel: Any, text: Any) -> dict[str, Any]:
        """A slash command: sent with a response_url and a trigger id, as Slack sends it."""
        user = self._check_user(user)
        channel = self._channel_for(user, channel)
        text = _clean_text(text)
        name, _, rest = text.partition(" ")
        if name.lower() != COMMAND:
            raise WebError(f"{name[:40]} is not a valid command here. This sandbox has one app: try "
                           f"{COMMAND} help")
        person = self._person(user)
        response_url = self.fake.response_url(channel, user)
        form = payloads.slash_command(
            self.fake.team_id, channel, user, self._as_typed(rest.strip()), command=COMMAND,
            trigger_id=self.fake.trigger_id(user), response_url=response_url,
            user_name=person.handle if person else None, channel_name=self._channel_name(channel),
        )
        answer = _check_answer(self._deliver(lambda: self.sender.send_command(form)), "the command")
        immediate = _answer_body(answer)
        if immediate:
            # An app may answer a command in its HTTP response; Slack shows that to the user like a respond().
            _post_json(response_url, {"response_type": "ephemeral", **immediate})
        return {"ok": True}

    def _channel_name(self, channel: str) -> str:
        if channel.startswith("D"):
            return "directmessage"
        info = next((c for c in self.fake.snapshot()["channels"] if c["id"] == channel), None)
        return str(info["name"]) if info and info.get("name") else channel.lower()

    def post_digest(self, user: Any) -> dict[str, Any]:
        """The page's "post digest now": `/secreview digest post` as this person, in the digest channel."""
        user = self._check_user(user)
        return self.command(user, self.directory.digest, f"{COMMAND} digest post")

    def click(self, user: Any, source: Any, action: Any, channel: Any = None, ts: Any = None,
              view_id: Any = None) -> dict[str, Any]:
        """A button: `block_actions` for the message, ephemeral message, App Home or modal it is in."""
        user = self._check_user(user)
        if not isinstance(action, dict):
            raise WebError("no button given")
        team = self.fake.team_id
        trigger = self.fake.trigger_id(user)
        if source in ("home", "modal"):
            view = self.fake.home(user) if source == "home" else self.fake.view(str(view_id or ""))
            if view is None:
                raise WebError("that view is gone: open it again", 409)
            element, block_id = _find_button(view.get("blocks") or [], action)
            payload = payloads.block_actions(team, user, element["action_id"], element.get("value", ""),
                                             view=view, trigger_id=trigger, block_id=block_id,
                                             action=_action_entry(element, block_id))
        elif source in ("message", "ephemeral"):
            channel = self._channel_for(user, channel)
            message_ts = _optional_ts(ts)
            if message_ts is None:
                raise WebError("no message given")
            if source == "ephemeral":
                found = next((e for e in self.fake.ephemerals(user=user) if e["ts"] == message_ts), None)
            else:
                found = self.fake.message(channel, message_ts)
            if found is None:
                raise WebError("that message is gone", 409)
            element, block_id = _find_button(found.get("blocks") or [], action)
            ephemeral = source == "ephemeral"
            payload = payloads.block_actions(
                team, user, element["action_id"], element.get("value", ""), channel=channel,
                message_ts=message_ts, trigger_id=trigger, block_id=block_id,
                action=_action_entry(element, block_id), message=None if ephemeral else found,
                is_ephemeral=ephemeral,
                response_url=self.fake.response_url(channel, user, message_ts=message_ts,
                                                    is_ephemeral=ephemeral, kind="actions"),
            )
        else:
            raise WebError("unknown place for a button")
        _check_answer(self._deliver(lambda: self.sender.send_interaction(payload)), "the click")
        return {"ok": True}

    def submit(self, user: Any, view_id: Any, values: Any) -> dict[str, Any]:
        """A modal's submit: `view_submission` with Slack's view.state.values; field errors come back."""
        user = self._check_user(user)
        view = self._open_view(user, view_id)
        if not isinstance(values, dict) or not all(
            isinstance(v, dict) and all(isinstance(s, dict) for s in v.values()) for v in values.values()
        ):
            raise WebError("the form's values are malformed")
        person = self._person(user)
        payload = payloads.view_submission(self.fake.team_id, user, None, None, values, view=view,
                                           user_name=person.handle if person else None,
                                           trigger_id=self.fake.trigger_id(user))
        answer = self._deliver(lambda: self.sender.send_interaction(payload))
        if answer.status != 200:
            return {"ok": False, "message": "We had some trouble connecting. Try again? "
                                            f"(secreview answered HTTP {answer.status})"}
        body = _json_body(answer)
        action = body.get("response_action")
        if action == "errors":
            errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
            return {"ok": False, "errors": {str(k): str(v) for k, v in errors.items()}}
        client = WebClient(base_url=self.fake.api_url, token="xoxb-sandbox-page")
        try:
            if action == "update":
                client.views_update(view_id=view["id"], view=body.get("view"))
                return {"ok": True}
            if action == "push":
                client.views_push(trigger_id=self.fake.trigger_id(user), view=body.get("view"))
                return {"ok": True}
        except SlackApiError as exc:
            return {"ok": False, "message": f"secreview's answer was refused: {exc.response.get('error')}"}
        if action == "clear":
            self._close_all(user)
        else:
            self._close(view["id"])
        return {"ok": True}

    def close_view(self, user: Any, view_id: Any) -> dict[str, Any]:
        """The modal's close button; `view_closed` is sent when the app asked for it (notify_on_close)."""
        user = self._check_user(user)
        view = self._open_view(user, view_id)
        self._close(view["id"])
        if view.get("notify_on_close"):
            payload = {"type": "view_closed",
                       "team": {"id": self.fake.team_id, "domain": payloads.DEFAULT_TEAM_DOMAIN},
                       "user": {"id": user}, "api_app_id": self.fake.app_id, "view": view,
                       "is_cleared": False}
            self._deliver(lambda: self.sender.send_interaction(payload))
        return {"ok": True}

    def open_home(self, user: Any, tab: Any = "home") -> dict[str, Any]:
        """The person opens the app's Home or Messages tab: `app_home_opened`, as Slack sends every time."""
        user = self._check_user(user)
        tab = "messages" if tab == "messages" else "home"
        envelope = payloads.app_home_opened_event(self.fake.team_id, user, tab=tab,
                                                  view=self.fake.home(user) if tab == "home" else None)
        _check_answer(self._deliver(lambda: self.sender.send_event(envelope)), "opening the app")
        return {"ok": True}

    def _open_view(self, user: str, view_id: Any) -> dict[str, Any]:
        view = self.fake.view(str(view_id or ""))
        mine = [v["id"] for v in self.fake.views(user=user)]
        with self._changed:
            closed = view is None or view["id"] in self._closed_views
        if view is None or closed or view["id"] not in mine:
            raise WebError("that form is no longer open", 409)
        return view

    def _close(self, view_id: str) -> None:
        with self._changed:
            self._closed_views.add(view_id)
        self._bump()

    def _close_all(self, user: str) -> None:
        opened = [v["id"] for v in self.fake.views(user=user)]  # read before taking our lock: one lock at a time
        with self._changed:
            self._closed_views.update(opened)
        self._bump()

    @staticmethod
    def _deliver(send: Any) -> Response:
        try:
            return send()  # type: ignore[no-any-return]
        except OSError as exc:
            raise WebError(f"secreview did not answer: {exc}", 502) from None


# --- helpers ---------------------------------------------------------------------------------------------

def _clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise WebError("the message is empty")
    if len(text) > MAX_TEXT:
        raise WebError(f"the message is too long (at most {MAX_TEXT} characters here)")
    return text.strip()


def _optional_ts(ts: Any) -> str | None:
    if ts in (None, ""):
        return None
    try:
        payloads.parse_ts(str(ts))
    except ValueError:
        raise WebError("not a message timestamp") from None
    return str(ts)


def _check_answer(answer: Response, what: str) -> Response:
    if answer.status != 200:
        raise WebError(f"secreview refused {what} (HTTP {answer.status}): {answer.body[:200]}", 502)
    return answer


def _json_body(answer: Response) -> dict[str, Any]:
    text = answer.body.strip()
    if not text:
        return {}
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return {"text": text}
    return body if isinstance(body, dict) else {}


def _answer_body(answer: Response) -> dict[str, Any]:
    body = _json_body(answer)
    return {k: body[k] for k in ("text", "blocks", "response_type") if body.get(k)} if (
        body.get("text") or body.get("blocks")) else {}


def _post_json(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    with opener.open(request, timeout=5) as reply:
        reply.read()


def _elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any], int]]:
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("accessory"), dict):
            yield block, block["accessory"], index
        for element in block.get("elements") or []:
            if isinstance(element, dict) and block.get("type") == "actions":
                yield block, element, index


def _find_button(blocks: list[dict[str, Any]], wanted: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The button as secreview sent it (never as the page describes it), and its block's id."""
    for block, element, index in _elements(blocks):
        if element.get("type") != "button" or element.get("action_id") != wanted.get("action_id"):
            continue
        if str(element.get("value", "")) != str(wanted.get("value", "")):
            continue
        block_id = str(block.get("block_id") or f"b{index}")
        if wanted.get("block_id") and wanted["block_id"] != block_id:
            continue
        return element, block_id
    raise WebError("that button is no longer there (the message changed)", 409)


def _action_entry(element: dict[str, Any], block_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"action_id": element["action_id"], "block_id": block_id,
                             "text": element.get("text") or {"type": "plain_text", "text": ""},
                             "value": element.get("value", ""), "type": "button",
                             "action_ts": payloads.new_ts()}
    if element.get("style"):
        entry["style"] = element["style"]
    return entry


# --- HTTP ------------------------------------------------------------------------------------------------

def _make_handler(web: SandboxWeb) -> type[BaseHTTPRequestHandler]:
    posts = {
        "/api/message": lambda b: web.post_message(b.get("user"), b.get("channel"), b.get("text"),
                                                   b.get("thread_ts")),
        "/api/command": lambda b: web.command(b.get("user"), b.get("channel"), b.get("text")),
        "/api/click": lambda b: web.click(b.get("user"), b.get("source"), b.get("action"), b.get("channel"),
                                          b.get("ts"), b.get("view_id")),
        "/api/submit": lambda b: web.submit(b.get("user"), b.get("view_id"), b.get("values")),
        "/api/close": lambda b: web.close_view(b.get("user"), b.get("view_id")),
        "/api/home": lambda b: web.open_home(b.get("user"), b.get("tab")),
        "/api/digest": lambda b: web.post_digest(b.get("user")),
    }

    class Handler(BaseHTTPRequestHandler):
        """Serves the page, its state and its actions."""

        server_version = "secreview-sandbox/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the terminal quiet: requests are logged at debug level only."""
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, body: bytes, content_type: str,
                  extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", CSP)
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, body: Any) -> None:
            self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8")

        def _local_host(self) -> bool:
            # Another site could point its own name at 127.0.0.1 (DNS rebinding): answer only to ours.
            host = (self.headers.get("Host") or "").lower()
            return host in (f"127.0.0.1:{web.port}", f"localhost:{web.port}")

        def do_GET(self) -> None:
            """The page, its static files, the state (long poll) and uploaded files."""
            try:
                if not self._local_host():
                    return self._json(403, {"ok": False, "error": "use http://127.0.0.1"})
                parts = urlsplit(self.path)
                path = parts.path
                if path in ("/", "/index.html"):
                    return self._static("index.html")
                if path.startswith("/static/"):
                    return self._static(path[len("/static/"):])
                if path == "/api/state":
                    query = parse_qs(parts.query)
                    try:
                        since = int((query.get("since") or ["-1"])[0])
                    except ValueError:
                        since = -1
                    web.wait_newer(since)
                    return self._json(200, web.state_for((query.get("user") or [None])[0]))
                if path.startswith("/api/file/"):
                    return self._file(path[len("/api/file/"):])
                if path == "/favicon.ico":
                    return self._send(204, b"", "image/x-icon")
                return self._json(404, {"ok": False, "error": "not found"})
            except WebError as exc:
                return self._json(exc.status, {"ok": False, "error": exc.message})
            except (BrokenPipeError, ConnectionResetError):
                return None  # the page went away (reload, user switch): nothing to answer

        def do_POST(self) -> None:
            """An action taken by a person on the page."""
            try:
                if not self._local_host():
                    return self._json(403, {"ok": False, "error": "use http://127.0.0.1"})
                # Only JSON: another site cannot send it without a CORS preflight, which we never allow.
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    return self._json(415, {"ok": False, "error": "send JSON"})
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0 or length > MAX_BODY:
                    return self._json(413, {"ok": False, "error": "request too large"})
                handler = posts.get(urlsplit(self.path).path)
                if handler is None:
                    return self._json(404, {"ok": False, "error": "not found"})
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    return self._json(400, {"ok": False, "error": "malformed JSON"})
                if not isinstance(body, dict):
                    return self._json(400, {"ok": False, "error": "malformed JSON"})
                return self._json(200, handler(body))
            except WebError as exc:
                return self._json(exc.status, {"ok": False, "error": exc.message})
            except (BrokenPipeError, ConnectionResetError):
                return None
            except Exception:  # a bug here must show on the page, not kill the request thread silently
                log.exception("sandbox page: %s failed", self.path)
                return self._json(500, {"ok": False, "error": "the sandbox failed: see the terminal"})

        def _static(self, name: str) -> None:
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
                return self._json(404, {"ok": False, "error": "not found"})
            path = STATIC_DIR / name
            content_type = STATIC_TYPES.get(path.suffix)
            if content_type is None or not path.is_file():
                return self._json(404, {"ok": False, "error": "not found"})
            return self._send(200, path.read_bytes(), content_type)

        def _file(self, file_id: str) -> None:
            record = web.file(file_id) if re.fullmatch(r"F[A-Z0-9]+", file_id) else None
            if record is None:
                return self._json(404, {"ok": False, "error": "no such file"})
            mimetype = str(record.get("mimetype") or "application/octet-stream")
            inline = mimetype in ("image/png", "image/jpeg", "image/gif")
            filename = re.sub(r"[^\w.-]", "_", str(record.get("name") or "file"))
            disposition = f'{"inline" if inline else "attachment"}; filename="{filename}"'
            return self._send(200, record.get("content") or b"",
                              mimetype if inline else "application/octet-stream",
                              {"Content-Disposition": disposition})

    return Handler
