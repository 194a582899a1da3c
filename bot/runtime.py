"""Running secreview: Socket Mode, HTTP mode (waitress), the outbox worker, the scheduler, clean shutdown."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_app, make_client, replay_into
from bot.busy import BusySignal
from bot.claims import instance_id
from bot.config import Settings
from bot.delivery import OutboxWorker
from bot.services import Services
from storage import db
from storage.models import OutboxMessage, Review, Workspace

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1_000_000  # Slack's payloads are far smaller; anything bigger is refused before parsing
# Work after the ack runs on a few threads next to the request threads in this one CPython process. A request
# thread waits up to the GIL switch interval (5 ms by default) every time it asks for the GIL back, several times
# per request; bench/ack.py at 200 requests/s: acks p50 115 ms at the default, 39 ms at 0.5 ms.
SWITCH_INTERVAL_SECONDS = 0.0005


class JsonFormatter(logging.Formatter):
    """One JSON object per log line (SECREVIEW_LOG_FORMAT=json), for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"ts": self.formatTime(record), "level": record.levelname, "logger": record.name,
                                "message": record.getMessage()}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Text logs by default, JSON when asked."""
    if settings.secreview_log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.handlers = [handler]
        root.setLevel(logging.INFO)


def build_services(settings: Settings, *, with_worker: bool = True, instance: str | None = None) -> Services:
    """Opens the database (migrating SQLite), the Slack clients and the outbox worker."""
    engine = db.make_engine(settings.database_url)
    db.ensure_schema(engine)
    factory = db.make_session_factory(engine)
    oauth_settings = None
    if settings.oauth_enabled:
        oauth_settings, installation_store = oauth(settings, engine)
        client_for = installation_clients(settings, installation_store)
        delivery_for = installation_clients(settings, installation_store, retries=False)
    else:
        client_for = single_workspace_clients(settings)
        delivery_for = single_workspace_clients(settings, retries=False)
    worker = None
    if with_worker:
        worker = OutboxWorker(session_factory=factory, client_for=delivery_for, instance_id=instance or instance_id(),
                              security_channel=settings.secreview_security_channel)
    return Services(settings=settings, engine=engine, session_factory=factory, client_for=client_for,
                    rules=settings.intake_rules(), outbox_worker=worker, oauth_settings=oauth_settings)


def verify_token(settings: Settings, *, attempts: int = 6) -> None:
    """Checks the bot token with auth.test, riding out a flaky Slack; a refused token is one clear line."""
    from slack_sdk.errors import SlackApiError

    from bot.config import SettingsError

    client = make_client(settings)
    for attempt in range(1, attempts + 1):
        try:
            client.auth_test()
            return
        except SlackApiError as exc:
            status = exc.response.status_code
            if status != 429 and status < 500:
                raise SettingsError(f"SLACK_BOT_TOKEN: Slack refused it ({exc.response.get('error')})") from None
            reason = f"HTTP {status}"
        except OSError as exc:
            reason = str(exc)
        log.warning("auth.test failed (%s), attempt %s of %s", reason, attempt, attempts)
        time.sleep(min(2.0**attempt, 10.0))
    raise SettingsError(f"SLACK_API_URL: Slack did not answer auth.test at {settings.slack_api_url}")


def single_workspace_clients(settings: Settings, *, retries: bool = True) -> Callable[[str], WebClient]:
    """One bot token: the same client for every workspace id."""
    client = make_client(settings, retries=retries)
    return lambda _workspace_id: client


def installation_clients(settings: Settings, store: Any, *, retries: bool = True,
                         ttl_seconds: float = 300.0) -> Callable[[str], WebClient]:
    """Several workspaces: each workspace's own bot token from the installation store, cached briefly."""
    cache: dict[str, tuple[float, WebClient]] = {}
    lock = threading.Lock()

    def client_for(workspace_id: str) -> WebClient:
        now = time.monotonic()
        with lock:
            cached = cache.get(workspace_id)
            if cached and now - cached[0] < ttl_seconds:
                return cached[1]
        bot = store.find_bot(enterprise_id=None, team_id=workspace_id)
        if bot is None or not bot.bot_token:
            # Uninstalled (or never installed): Slack answers not_authed, which the outbox records as final.
            log.warning("no installation for workspace %s", workspace_id)
            return WebClient(token=None, base_url=settings.slack_api_url, timeout=10)
        client = make_client(settings, bot.bot_token, retries=retries)
        with lock:
            cache[workspace_id] = (now, client)
        return client

    return client_for


def oauth(settings: Settings, engine: Any) -> tuple[Any, Any]:
    """Bolt's OAuth settings on secreview's database: /slack/install and /slack/oauth_redirect."""
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    from bot.manifest import build_manifest

    installation_store = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
    state_store = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    scopes = build_manifest()["oauth_config"]["scopes"]["bot"]
    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret, scopes=scopes,
        installation_store=installation_store, state_store=state_store,
        install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect",
    )
    return oauth_settings, installation_store


def drain_outbox(settings: Settings, factory: sessionmaker[Session], timeout: float = 30.0) -> None:
    """Delivers what is queued now (used by the CLI's `digest post`)."""
    client = make_client(settings, retries=False)
    worker = OutboxWorker(session_factory=factory, client_for=lambda _ws: client, instance_id=instance_id(),
                          security_channel=settings.secreview_security_channel)
    stats = worker.drain(timeout)
    log.info("delivered %s, failed %s, queued for retry %s", stats.sent, stats.failed, stats.retried)


def _workspace_ids(factory: sessionmaker[Session]) -> Callable[[], list[str]]:
    def load() -> list[str]:
        with db.session_scope(factory) as session:
            return list(session.scalars(select(Workspace.id)))

    return load


def start_background(services: Services, *, scheduler: bool, instance: str,
                     replay: Callable[[dict[str, Any]], None] | None = None) -> Callable[[], None]:
    """Starts the outbox worker, the inbox replayer and (unless disabled) the scheduler; returns their stop."""
    if services.outbox_worker is not None:
        services.outbox_worker.start()
    replayer = None
    if replay is not None:
        from bot.inbox import InboxReplayer

        replayer = InboxReplayer(session_factory=services.session_factory, dispatch=replay)
        replayer.start()
    sched = None
    if scheduler:
        from bot.scheduler import build_scheduler

        sched = build_scheduler(settings=services.settings, session_factory=services.session_factory,
                                workspace_ids=_workspace_ids(services.session_factory), instance_id=instance)
        sched.start()

    def stop() -> None:
        if replayer is not None:
            replayer.stop()
        if sched is not None:
            sched.shutdown(wait=True)  # let a digest being posted finish
        if services.outbox_worker is not None:
            services.outbox_worker.stop()
        services.engine.dispose()

    return stop


def run_socket_mode(settings: Settings, *, scheduler: bool = True) -> None:
    """Connects over Socket Mode and serves until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    configure_logging(settings)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    me = instance_id()
    verify_token(settings)
    services = build_services(settings, instance=me)
    app = build_app(settings, services, token_verification=False)
    stop_background = start_background(services, scheduler=scheduler, instance=me, replay=replay_into(app))
    handler = SocketModeHandler(app, app_token=settings.slack_app_token,
                                web_client=make_client(settings, settings.slack_app_token))
    log.info("secreview %s connected in Socket Mode", me)
    try:
        handler.connect()
        stopped = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopped.set())
        stopped.wait()
    finally:
        log.info("shutting down")
        handler.close()
        stop_background()


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
        if path.startswith("/slack/"):
            return self._slack(environ, start_response)  # type: ignore[no-any-return]
        return self._plain(start_response, "404 Not Found", "not found\n")

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


def make_wsgi(settings: Settings, services: Services, *, token_verification: bool = True,
              worker_alive: Callable[[], bool] | None = None, busy: BusySignal | None = None) -> HttpApp:
    """The HTTP-mode WSGI app around the Bolt app."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    app = build_app(settings, services, token_verification=token_verification)
    return HttpApp(services, SlackRequestHandler(app), Telemetry(), worker_alive=worker_alive, busy=busy)


def serve_http(settings: Settings, *, host: str, port: int, threads: int = 16, scheduler: bool = True,
               worker_process: bool = True) -> None:
    """Serves HTTP mode on waitress (a production WSGI server) until SIGTERM/SIGINT, then stops cleanly.

    By default this process only answers Slack: what changes something is queued (bot/workqueue.py) for a
    `secreview work` child process that runs the listeners, the outbox, the scheduler and the replays, and is
    started again if it stops. `worker_process=False` (or an in-memory database) does it all in this process.
    """
    from waitress.server import create_server

    from bot.worker import WorkerSupervisor
    from bot.workqueue import WorkQueue, queue_url

    configure_logging(settings)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    me = instance_id()
    if not settings.oauth_enabled:
        verify_token(settings)
    hand_off = worker_process and queue_url(settings.database_url) is not None
    if worker_process and not hand_off:
        log.warning("DATABASE_URL is an in-memory database, which a worker process cannot share: "
                    "the work after each ack runs in this process")
    # Migrates SQLite before the child starts, so the two never migrate at once.
    services = build_services(settings, instance=me, with_worker=not hand_off)
    supervisor = busy = None
    if hand_off:
        services.work_queue = WorkQueue.open(settings.database_url, services.engine, threads=threads)
        busy = BusySignal.create()
        argv = [sys.executable, "-m", "bot.cli", "work", "--parent-pid", str(os.getpid()), "--busy-file",
                str(busy.path)]
        supervisor = WorkerSupervisor([*argv, *([] if scheduler else ["--no-scheduler"])])
    wsgi = make_wsgi(settings, services, token_verification=False,
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
