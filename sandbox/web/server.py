"""The sandbox page's HTTP server: its routes, static files, and the guards a page on loopback needs.

`SandboxWeb` serves GET / (the page), /static/*, /api/state (long poll) and /api/file/<id>, and the POST
actions under /api/. It answers only to 127.0.0.1/localhost Host headers (DNS rebinding), only to JSON
POSTs (no cross-site forms), and with a Content-Security-Policy that lets nothing load from elsewhere.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import SlackSender
from sandbox.web.actions import PageActions
from sandbox.web.state import Directory, WebError

log = logging.getLogger(__name__)

# The page's files stay in sandbox/static/, beside this package (pyproject's package-data lists them there).
STATIC_DIR = Path(__file__).parent.parent / "static"
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
# Nothing on the page may come from anywhere but this server: no CDN, no fonts, no images from the internet.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
MAX_BODY = 256_000  # a modal's values or a message are far smaller


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # long polls must not keep the process alive at Ctrl-C
    allow_reuse_address = True


class SandboxWeb(PageActions):
    """The page's HTTP server: static files, the per-person state, and the actions people take."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        super().__init__()

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
    def jira_url(self) -> str | None:
        """The fake Jira's page, when the sandbox runs one."""
        directory = getattr(self, "_directory", None)
        return directory.jira_url if directory is not None else None


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
                if path == "/jira" and web.jira_url:
                    return self._send(302, b"", "text/plain", {"Location": web.jira_url})
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
