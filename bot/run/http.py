"""`secreview serve`: HTTP mode on waitress, with /healthz, /readyz and /metrics, /jira/webhook when Jira is
configured, and its worker child process."""

from __future__ import annotations

import hmac
import io
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select

from bot.config import Settings
from bot.run.assemble import SWITCH_INTERVAL_SECONDS, build_services, configure_logging, start_background, verify_token
from bot.run.busy import BusySignal
from bot.run.claims import instance_id
from bot.slack.adapters import wsgi_handler
from bot.slack.app import Listeners, build_app, replay_into
from bot.slack.services import Services
from bot.slack.verification import log_unverified, signature_problem
from storage import db
from storage.models import OutboxMessage, Review

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1_000_000  # Slack's payloads are far smaller; anything bigger is refused before parsing


class HttpApp:
    """The WSGI application: Slack's endpoint plus health, readiness and Prometheus metrics."""

    def __init__(self, services: Services, slack_handler: Any, telemetry: Any,
                 worker_alive: Callable[[], bool] | None = None, busy: BusySignal | None = None) -> None:
        self._services = services
        self._worker_alive = worker_alive
        self._busy = busy
        self._slack = slack_handler
        self.bolt_app = slack_handler.app
        self._telemetry = telemetry
        self._signing_secret = services.settings.slack_signing_secret
        self._metrics_token = services.settings.secreview_metrics_token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            return self._plain(start_response, "200 OK", "ok\n")
        if path == "/readyz":
            if not db.ping(self._services.engine):
                return self._plain(start_response, "503 Service Unavailable", "database unreachable\n")
            if self._worker_alive is not None and not self._worker_alive():
                return self._plain(start_response, "503 Service Unavailable", "worker process not running\n")
            return self._plain(start_response, "200 OK", "ready\n")
        if path == "/metrics" and method == "GET":
            if not self._may_scrape(environ):
                start_response("401 Unauthorized", [("Content-Type", "text/plain; charset=utf-8"),
                                                    ("WWW-Authenticate", 'Bearer realm="secreview metrics"'),
                                                    ("Content-Length", "21")])
                return [b"bearer token required"]
            body, content_type = self._telemetry.exposition(self._services)
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/slack/events" and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_REQUEST_BYTES:
                return self._plain(start_response, "413 Payload Too Large", "request too large\n")
            started = time.perf_counter()
            if not self._signed_by_slack(environ, length):
                return self._plain(start_response, "401 Unauthorized", "invalid request\n")
            if self._busy is not None:
                self._busy.enter()
            try:
                result = self._slack(environ, start_response)
            except Exception:
                # Bolt parses the body before its own error handler is in play: a malformed payload (broken
                # JSON in `payload=`, a body that is not UTF-8) is answered 400 here, never a 5xx.
                log.warning("malformed Slack request refused (%s bytes, %s)", length, environ.get("CONTENT_TYPE"),
                            exc_info=True)
                return self._plain(start_response, "400 Bad Request", "malformed request\n")
            finally:
                if self._busy is not None:
                    self._busy.leave()
            self._telemetry.observe_request(time.perf_counter() - started)
            return result  # type: ignore[no-any-return]
        if path == "/jira/webhook" and method == "POST" and self._services.settings.jira_enabled:
            from bot.run import jira_webhook

            status, text = jira_webhook.handle(self._services, environ)
            return self._plain(start_response, status, text)
        if path.startswith("/slack/"):
            return self._slack(environ, start_response)  # type: ignore[no-any-return]
        return self._plain(start_response, "404 Not Found", "not found\n")

    def _may_scrape(self, environ: dict[str, Any]) -> bool:
        """Open without SECREVIEW_METRICS_TOKEN; with it, only for `Authorization: Bearer <token>`."""
        if self._metrics_token is None:
            return True
        given = str(environ.get("HTTP_AUTHORIZATION") or "")
        scheme, _, token = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("utf-8", "replace"),
                                                                  self._metrics_token.encode())

    def _signed_by_slack(self, environ: dict[str, Any], length: int) -> bool:
        """Verifies the signature before Bolt parses the body: an unverified body is answered 401 and nothing else
        (no parsing, no listener, no error handler, no outgoing call). The body is handed on to Bolt re-readable."""
        raw = environ["wsgi.input"].read(length) if length and "wsgi.input" in environ else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        problem = signature_problem(signing_secret=self._signing_secret, body=raw,
                                    timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                                    signature=environ.get("HTTP_X_SLACK_SIGNATURE"))
        if problem is None:
            return True
        log_unverified(problem, raw)
        return False

    @staticmethod
    def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
        body = text.encode()
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]


class Telemetry:
    """Prometheus figures: requests, acks over 1 s, outbox backlog, reviews by state."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("secreview_slack_requests", "Slack requests answered", registry=self.registry)
        self.slow_acks = Counter("secreview_slow_acks", "Slack requests answered after more than 1 s",
                                 registry=self.registry)
        self.latency = Histogram("secreview_ack_seconds", "Time to answer a Slack request", registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5))

    def observe_request(self, seconds: float) -> None:
        """Counts one answered Slack request."""
        self.requests.inc()
        self.latency.observe(seconds)
        if seconds > 1.0:
            self.slow_acks.inc()

    def exposition(self, services: Services) -> tuple[bytes, str]:
        """The text format, with database gauges read now."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

        gauges = CollectorRegistry()
        backlog = Gauge("secreview_outbox_backlog", "Outbox messages not delivered yet", ["state"], registry=gauges)
        reviews = Gauge("secreview_reviews", "Reviews by state", ["state"], registry=gauges)
        try:
            with db.session_scope(services.session_factory) as session:
                for state, count in session.execute(
                    select(OutboxMessage.state, func.count()).where(OutboxMessage.state.in_(["pending", "failed"]))
                    .group_by(OutboxMessage.state)
                ):
                    backlog.labels(state).set(count)
                for state, count in session.execute(select(Review.state, func.count()).group_by(Review.state)):
                    reviews.labels(state).set(count)
            if services.work_queue is not None:
                queued = Gauge("secreview_work_queue_depth", "Requests acknowledged and not yet handled by the worker",
                               registry=gauges)
                queued.set(services.work_queue.depth())
        except Exception:  # metrics must not fail because the database is away; /readyz reports that
            log.warning("metrics: database gauges unavailable", exc_info=True)
        return generate_latest(self.registry) + generate_latest(gauges), CONTENT_TYPE_LATEST


def make_wsgi(settings: Settings, services: Services, *, listeners: Listeners, token_verification: bool = True,
              worker_alive: Callable[[], bool] | None = None, busy: BusySignal | None = None) -> HttpApp:
    """The HTTP-mode WSGI app around the Bolt app."""
    app = build_app(settings, services, listeners=listeners, token_verification=token_verification)
    return HttpApp(services, wsgi_handler(app), Telemetry(), worker_alive=worker_alive, busy=busy)


def serve_http(settings: Settings, *, listeners: Listeners, host: str, port: int, threads: int = 16,
               scheduler: bool = True, worker_process: bool = True) -> None:
    """Serves HTTP mode on waitress (a production WSGI server) until SIGTERM/SIGINT, then stops cleanly.

    By default this process only answers Slack: what changes something is queued (bot/run/workqueue.py) for a
    `secreview work` child process that runs the listeners, the outbox, the scheduler and the replays, and is
    started again if it stops. `worker_process=False` (or an in-memory database) does it all in this process.
    """
    from waitress.server import create_server

    from bot.run.worker import WorkerSupervisor
    from bot.run.workqueue import WorkQueue, queue_url

    configure_logging(settings)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    me = instance_id()
    home_workspace = None if settings.oauth_enabled else verify_token(settings)
    hand_off = worker_process and queue_url(settings.database_url) is not None
    if worker_process and not hand_off:
        log.warning("DATABASE_URL is an in-memory database, which a worker process cannot share: "
                    "the work after each ack runs in this process")
    # Migrates SQLite before the child starts, so the two never migrate at once.
    services = build_services(settings, instance=me, with_worker=not hand_off)
    services.home_workspace = home_workspace
    supervisor = busy = None
    if hand_off:
        queue = WorkQueue.open(settings.database_url, services.engine, threads=threads)
        services.work_queue = queue
        if queue is not None:
            services.replays = queue.replay_record()
        busy = BusySignal.create()
        argv = [sys.executable, "-m", "bot.cli", "work", "--parent-pid", str(os.getpid()), "--busy-file",
                str(busy.path)]
        supervisor = WorkerSupervisor([*argv, *([] if scheduler else ["--no-scheduler"])])
    # Bolt checks the token once more here and keeps the answer: left to the first requests, a rate-limited
    # auth.test made Bolt answer them 200 with nothing done (bench/chaos.py lost an announcement so).
    wsgi = make_wsgi(settings, services, listeners=listeners, token_verification=not settings.oauth_enabled,
                     worker_alive=supervisor.alive if supervisor is not None else None, busy=busy)
    server = create_server(wsgi, host=host, port=port, threads=threads, max_request_body_size=MAX_REQUEST_BYTES,
                           ident="secreview", channel_timeout=30, connection_limit=1000)
    if supervisor is not None:
        supervisor.start()

        def stop_background() -> None:
            supervisor.stop()
            if busy is not None:
                busy.close()
            if services.work_queue is not None:
                services.work_queue.dispose()
            services.engine.dispose()
    else:
        stop_background = start_background(services, scheduler=scheduler, instance=me,
                                           replay=replay_into(wsgi.bolt_app))

    def shutdown(*_: Any) -> None:
        log.info("shutting down: finishing in-flight requests")
        server.close()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    log.info("secreview %s serving HTTP mode on http://%s:%s/slack/events (%s)", me, host, port,
             "work in a child process" if supervisor is not None else "work in this process")
    print(f"secreview listening on http://{host}:{port}", flush=True)
    try:
        server.run()
    except OSError:
        # asyncore raises EBADF when the socket is closed under it by shutdown(); that is our exit path.
        pass
    finally:
        stop_background()
        log.info("stopped")
