"""The fake's stand-in for slack.com itself: the HTTP server, routing, token checks, and FakeSlack.

`FakeSlack` puts the Web API families together (auth, users, conversations, chat, reactions, views, files,
response_urls, failure injection) and serves them on loopback: /api/<method> for the Web API, the upload
URLs of `files_upload_v2`, response_urls, permalinks and file downloads, and /_fake/snapshot.
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.fake_slack.auth import AuthApi
from sandbox.fake_slack.faults import FaultInjection
from sandbox.fake_slack.files import FilesApi
from sandbox.fake_slack.functions import FunctionsApi
from sandbox.fake_slack.reactions import ReactionsApi
from sandbox.fake_slack.responses import ResponseUrls
from sandbox.fake_slack.state import ApiError, Call, Fault, FaultConfig
from sandbox.fake_slack.users import UsersApi
from sandbox.fake_slack.views import ViewsApi

logger = logging.getLogger(__name__)

# Parameters that slack_sdk sends as JSON strings in form bodies but as structures in JSON bodies;
# parsing them makes Call.params look the same whichever encoding the client chose.
JSON_PARAMS = frozenset({"blocks", "attachments", "view", "files", "metadata", "user_auth_blocks", "outputs"})


class FakeSlack(FilesApi, ResponseUrls, ReactionsApi, ViewsApi, UsersApi, AuthApi, FunctionsApi, FaultInjection):
    """An in-memory Slack workspace answering the Web API over HTTP on 127.0.0.1."""

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
                self._function_runs,
            ):
                mapping.clear()
            self._used_triggers.clear()
            self._fail_next.clear()
            self._faults = FaultConfig()
            self.fault_counts = dict.fromkeys(self.fault_counts, 0)
            self._emit({"type": "reset"})
        self._flush()

    def _handle_api(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any] | None, Fault | None]:
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
