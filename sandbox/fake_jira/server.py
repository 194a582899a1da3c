"""FakeJira: the HTTP server on loopback, routing, authentication, failure injection and the webhooks it sends.

REST under /rest/api/2/ (sandbox/fake_jira/api.py); a small page at / listing the issues with buttons that
move them as a person in Jira would (the sandbox's "Jira"), /browse/KEY for one issue, /_fake/snapshot as JSON.
Admin webhooks registered with `add_webhook` receive jira:issue_created / jira:issue_updated, signed with their
secret in X-Hub-Signature (sha256=<hex HMAC-SHA256 of the body>), as Jira Cloud signs them.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from sandbox.fake_jira import api, page
from sandbox.fake_jira.state import Call, Fault, JiraError, SiteState, Webhook

log = logging.getLogger(__name__)
T = TypeVar("T")

API_EMAIL = "secreview-bot@example.com"
API_TOKEN = "jira-api-token"
PAT = "jira-pat"
BOT_ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"


class FakeJira:
    """A Jira Cloud site on 127.0.0.1: the REST API v2 calls secreview makes, webhooks back, and a page to click."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, deployment_type: str = "Cloud",
                 project: str = "SEC", project_name: str = "Security safeguards") -> None:
        self.host, self.port = host, port
        self.site = SiteState(deployment_type=deployment_type)
        self._credentials: dict[str, str] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._outgoing: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self.add_user(BOT_ACCOUNT, "secreview", API_EMAIL)
        self.add_credentials(BOT_ACCOUNT, email=API_EMAIL, token=API_TOKEN, pat=PAT)
        self.add_project(project, project_name)

    # --- running -----------------------------------------------------------------------------------------

    def start(self) -> FakeJira:
        """Binds the port and serves in a daemon thread; returns self."""
        server = _Server((self.host, self.port), _make_handler(self))
        self._server = server
        self.port = server.server_address[1]
        self.site.base_url = self.url
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-jira:{self.port}", daemon=True)
        self._thread.start()
        self._sender = threading.Thread(target=self._send_webhooks, name="fake-jira-webhooks", daemon=True)
        self._sender.start()
        return self

    def stop(self) -> None:
        """Stops serving and sending webhooks."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        self._outgoing.put(None)
        for thread in (self._thread, self._sender):
            if thread is not None:
                thread.join(5)

    def __enter__(self) -> FakeJira:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The site's base URL (what JIRA_URL is set to)."""
        return f"http://{self.host}:{self.port}"

    # --- setting the site up -----------------------------------------------------------------------------

    def add_user(self, account_id: str, display_name: str, email: str, *, active: bool = True) -> None:
        """A person on the site (user/search finds them by email or name)."""
        with self.site.lock:
            self.site.users[account_id] = {"displayName": display_name, "emailAddress": email, "active": active}

    def add_credentials(self, account_id: str, *, email: str | None = None, token: str | None = None,
                        pat: str | None = None) -> None:
        """Lets a user authenticate: Basic email:API token (Cloud), or a personal access token (Data Center)."""
        if email and token:
            self._credentials[f"basic:{email.lower()}:{token}"] = account_id
        if pat:
            self._credentials[f"bearer:{pat}"] = account_id

    def add_project(self, key: str, name: str) -> None:
        """A project issues can be created in."""
        with self.site.lock:
            self.site.projects[key] = {"id": str(10000 + len(self.site.projects)), "key": key, "name": name}

    def add_custom_field(self, field_id: str, name: str) -> None:
        """A custom field a create may set (unknown fields are refused, as on a screen without them)."""
        with self.site.lock:
            self.site.custom_fields[field_id] = name

    def require_field(self, name: str) -> None:
        """Makes a create without this field fail with 400, as a project with a required field does."""
        with self.site.lock:
            self.site.required_fields.add(name)

    def remove_transition(self, name: str) -> None:
        """Takes a transition out of the workflow (e.g. "Won't Do"), as a stricter workflow would."""
        with self.site.lock:
            self.site.removed_transitions.add(name)

    def add_webhook(self, url: str, secret: str | None = None) -> None:
        """An admin webhook: issue events are POSTed to `url`, signed with `secret` when one is given."""
        with self.site.lock:
            self.site.webhooks.append(Webhook(url, secret))

    # --- failures ----------------------------------------------------------------------------------------

    def fail_next(self, status: int = 503, *, path: str = "", method: str | None = None, times: int = 1,
                  retry_after: int | None = None) -> None:
        """The next `times` REST calls (under `path`, of `method`) answer `status` and change nothing."""
        with self.site.lock:
            self.site.faults.append(Fault(status, path, method, retry_after, times))

    def outage(self, status: int = 503, *, retry_after: int | None = None) -> None:
        """Every REST call answers `status` until `recover()`."""
        self.fail_next(status, times=-1, retry_after=retry_after)

    def recover(self) -> None:
        """Ends an outage and drops planned failures."""
        with self.site.lock:
            self.site.faults.clear()

    # --- acting as a person in Jira ----------------------------------------------------------------------

    def transition(self, key: str, name: str, *, by: str, notify: bool = True) -> None:
        """Moves an issue by transition name as `by` (an account id), as someone clicking in Jira; webhooks follow
        unless `notify` is False (a site whose webhook is not set up, or a delivery Jira lost)."""
        with self.site.lock:
            transition = next((t for t in self.site.transitions_for(key) if t["name"].lower() == name.lower()), None)
            if transition is None:
                raise JiraError(400, [f"No transition '{name}' from the status of {key}."])
            history = self.site.move(key, transition["id"], by)
            if notify:
                self._queue_event("jira:issue_updated", "issue_generic", key, by, history)

    # --- looking at it -----------------------------------------------------------------------------------

    def issues(self) -> list[dict[str, Any]]:
        """Every issue (GET /issue shape), in creation order."""
        with self.site.lock:
            return [self.site.issue_object(key, expand="changelog") for key in self.site.issues]

    def comments(self, key: str) -> list[dict[str, Any]]:
        """The comments on one issue."""
        with self.site.lock:
            return copy.deepcopy(self.site.comments.get(key, []))

    def calls(self, path: str = "", method: str | None = None) -> list[Call]:
        """REST calls answered so far whose path contains `path` (and of `method`)."""
        with self.site.lock:
            return [c for c in self.site.calls if path in c.path and (method is None or c.method == method)]

    def deliveries(self) -> list[dict[str, Any]]:
        """Webhook deliveries made: url, event, issue key, HTTP status."""
        with self.site.lock:
            return copy.deepcopy(self.site.deliveries)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Polls until predicate() is truthy; returns its value or fails."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("fake Jira: condition not met in time")
            time.sleep(0.02)

    # --- internals ---------------------------------------------------------------------------------------

    def handle(self, verb: str, path: str, params: dict[str, Any], body: Any,
               headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """Answers one REST request: a planned failure first, then authentication, then the endpoint."""
        with self.site.lock:
            fault = self._pick_fault(verb, path)
            if fault is not None:
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                answer = {"errorMessages": [f"Service unavailable (injected {fault.status})"], "errors": {}}
                self.site.calls.append(Call(verb, path, params, body, fault.status, str(fault.status)))
                return fault.status, extra, answer
            try:
                author = api.authenticate(self.site, headers.get("authorization", ""), self._credentials)
                status, answer = self._route(verb, path, params, body, author)
            except JiraError as error:
                status, answer = error.status, error.body
            self.site.calls.append(Call(verb, path, params, body, status))
            return status, {}, answer

    def _route(self, verb: str, path: str, params: dict[str, Any], body: Any, author: str) -> tuple[int, Any]:
        site = self.site
        parts = path.strip("/").split("/")
        if verb == "GET" and path == "serverInfo":
            return 200, api.server_info(site)
        if verb == "GET" and path == "field":
            return 200, api.fields(site)
        if verb == "GET" and path == "myself":
            return 200, site.user_object(author)
        if verb == "GET" and len(parts) == 2 and parts[0] == "project":
            return 200, site.project_object(parts[1])
        if verb == "GET" and len(parts) == 4 and parts[:2] == ["issue", "createmeta"] and parts[3] == "issuetypes":
            types = site.project_object(parts[2])["issueTypes"]
            return 200, {"maxResults": 50, "startAt": 0, "total": len(types), "isLast": True, "values": types}
        if path == "search/jql" and verb in ("GET", "POST"):
            query = {**params, **(body if isinstance(body, dict) else {})}
            return 200, api.search(site, query, cloud_enhanced=True)
        if path == "search" and verb in ("GET", "POST"):
            if site.deployment_type == "Cloud":
                raise JiraError(410, ["The requested API has been removed. Please migrate to the "
                                      "/rest/api/3/search/jql API."])
            return 200, api.search(site, {**params, **(body if isinstance(body, dict) else {})}, cloud_enhanced=False)
        if verb == "GET" and path == "user/search":
            return 200, api.user_search(site, params)
        if verb == "POST" and path == "issue":
            created = api.create_issue(site, body, author)
            self._queue_event("jira:issue_created", "issue_created", created["key"], author, None)
            return 201, created
        if len(parts) == 2 and parts[0] == "issue" and verb == "GET":
            return 200, site.issue_object(parts[1], expand=str(params.get("expand") or ""))
        if len(parts) == 3 and parts[0] == "issue" and parts[2] == "transitions":
            key = parts[1].upper()
            if key not in site.issues:
                raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
            if verb == "GET":
                return 200, {"expand": "transitions", "transitions": site.transitions_for(key)}
            if verb == "POST":
                history = api.do_transition(site, key, body, author)
                self._queue_event("jira:issue_updated", "issue_generic", key, author, history)
                return 204, None
        if len(parts) == 3 and parts[0] == "issue" and parts[2] == "comment" and verb == "POST":
            comment = api.add_comment(site, parts[1], body, author)
            self._queue_event("jira:issue_updated", "issue_commented", parts[1].upper(), author, None)
            return 201, comment
        raise JiraError(404, [f"No REST resource {verb} /rest/api/2/{path} in the fake Jira."])

    def _pick_fault(self, verb: str, path: str) -> Fault | None:
        for fault in self.site.faults:
            if path.startswith(fault.path_prefix) and (fault.method is None or fault.method == verb):
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.site.faults.remove(fault)
                return fault
        return None

    def _queue_event(self, event: str, kind: str, key: str, author: str, history: dict[str, Any] | None) -> None:
        for hook in self.site.webhooks:
            if event not in hook.events:
                continue
            body: dict[str, Any] = {"timestamp": int(self.site.clock().timestamp() * 1000), "webhookEvent": event,
                                    "issue_event_type_name": kind, "user": self.site.user_object(author),
                                    "issue": self.site.issue_object(key)}
            if history is not None:
                body["changelog"] = {"id": history["id"], "items": history["items"]}
            self._outgoing.put({"hook": hook, "body": body, "event": event, "key": key})

    def _send_webhooks(self) -> None:
        while (item := self._outgoing.get()) is not None:
            hook: Webhook = item["hook"]
            data = json.dumps(item["body"]).encode()
            headers = {"Content-Type": "application/json; charset=utf-8",
                       "X-Atlassian-Webhook-Identifier": uuid.uuid4().hex,
                       "User-Agent": "Atlassian Webhook HTTP Client"}
            if hook.secret:
                digest = hmac.new(hook.secret.encode(), data, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
            try:
                with urllib.request.urlopen(urllib.request.Request(hook.url, data=data, headers=headers),
                                            timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                log.warning("fake Jira: webhook to %s failed: %s", hook.url, exc)
                status = 0
            with self.site.lock:
                self.site.deliveries.append({"url": hook.url, "event": item["event"], "key": item["key"],
                                             "status": status})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def _make_handler(fake: FakeJira) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Routes /rest/api/2/…, the page, /browse/KEY and /_fake/…"""

        server_version = "FakeJira/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            """Request lines at debug level only."""
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if body or status != 204:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            """A GET."""
            self._dispatch("GET")

        def do_POST(self) -> None:
            """A POST."""
            self._dispatch("POST")

        def do_PUT(self) -> None:
            """A PUT (answered 404: the fake edits nothing through PUT)."""
            self._dispatch("PUT")

        def _dispatch(self, verb: str) -> None:
            parts = urlsplit(self.path)
            params: dict[str, Any] = {}
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                # A repeated parameter (fields=status&fields=updated, as requests sends a list) is a list.
                params[name] = [*params[name], value] if isinstance(params.get(name), list) else (
                    [params[name], value] if name in params else value)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            try:
                if parts.path.startswith("/rest/api/2/"):
                    self._rest(verb, parts.path[len("/rest/api/2/"):], params, raw)
                elif verb == "GET" and parts.path in ("/", "/index.html"):
                    with fake.site.lock:
                        html = page.index(fake.site)
                    self._send(200, html.encode(), "text/html; charset=utf-8")
                elif verb == "GET" and parts.path.startswith("/browse/"):
                    with fake.site.lock:
                        html = page.issue(fake.site, parts.path[len("/browse/"):])
                    self._send(200 if html else 404, (html or "no such issue").encode(), "text/html; charset=utf-8")
                elif verb == "POST" and parts.path.startswith("/_fake/issues/"):
                    self._person_moves(parts.path, raw)
                elif verb == "GET" and parts.path == "/_fake/snapshot":
                    self._send(200, json.dumps(fake.issues()).encode(), "application/json")
                else:
                    self._send(404, b'{"errorMessages":["Not found"],"errors":{}}', "application/json")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _rest(self, verb: str, path: str, params: dict[str, Any], raw: bytes) -> None:
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                self._send(400, b'{"errorMessages":["Unexpected character in the JSON body."],"errors":{}}',
                           "application/json")
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, answer = fake.handle(verb, path, params, body, headers)
            data = b"" if answer is None else json.dumps(answer).encode()
            self._send(status, data, "application/json;charset=UTF-8", extra)

        def _person_moves(self, path: str, raw: bytes) -> None:
            # POST /_fake/issues/SEC-1/transition with name=Done: someone in Jira clicked that transition.
            key = path[len("/_fake/issues/"):].split("/", 1)[0].upper()
            form = dict(parse_qsl(raw.decode("utf-8", errors="replace")))
            try:
                fake.transition(key, form.get("name", ""), by=page.engineer_of(fake.site))
            except (JiraError, KeyError, StopIteration) as exc:
                self._send(400, str(exc).encode(), "text/plain; charset=utf-8")
                return
            self._send(303, b"", "text/plain", {"Location": "/"})

    return Handler
