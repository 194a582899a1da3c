"""Putting a secreview process together: logging, the database, the Slack clients, the background jobs."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.review.roles import RoleResolver
from bot.run.claims import instance_id
from bot.run.delivery import OutboxWorker
from bot.run.replays import ReplayRecord
from bot.slack.adapters import oauth
from bot.slack.client import make_client
from bot.slack.home import home_renderer
from bot.slack.services import Services
from storage import db
from storage.models import Workspace

log = logging.getLogger(__name__)

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
    roles = RoleResolver(settings, client_for)
    worker = None
    if with_worker:
        from bot.run.jira_side import jira_delivery

        worker = OutboxWorker(session_factory=factory, client_for=delivery_for, instance_id=instance or instance_id(),
                              security_channel=settings.secreview_security_channel,
                              jira=jira_delivery(settings, factory, client_for),
                              render_home=home_renderer(settings, roles))
    return Services(settings=settings, engine=engine, session_factory=factory, client_for=client_for,
                    rules=settings.intake_rules(), roles=roles, outbox_worker=worker, oauth_settings=oauth_settings,
                    replays=ReplayRecord(engine))


def verify_token(settings: Settings, *, attempts: int = 6) -> str:
    """Checks the bot token with auth.test, riding out a flaky Slack; a refused token is one clear line.

    Returns the token's workspace (team id): with one bot token secreview serves that workspace and no other.
    """
    from slack_sdk.errors import SlackApiError

    from bot.common.render import raw_message
    from bot.config import SettingsError, problem_line

    client = make_client(settings)
    for attempt in range(1, attempts + 1):
        try:
            auth = client.auth_test()
        except SlackApiError as exc:
            status = exc.response.status_code
            if status != 429 and status < 500:
                raise SettingsError(problem_line("slack_bot_token", raw_message(
                    "settings.start.token_refused", error=exc.response.get("error")))) from None
            reason = f"HTTP {status}"
        except OSError as exc:
            reason = str(exc)
        else:
            team = auth.get("team_id")
            if not isinstance(team, str) or not team:
                raise SettingsError(problem_line("slack_bot_token", raw_message("settings.start.token_no_team")))
            log.info("the bot token belongs to workspace %s (%s): serving that workspace only", team, auth.get("team"))
            return team
        log.warning("auth.test failed (%s), attempt %s of %s", reason, attempt, attempts)
        time.sleep(min(2.0**attempt, 10.0))
    raise SettingsError(problem_line(
        "slack_api_url", raw_message("settings.start.api_silent", url=settings.slack_api_url)))


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


def drain_outbox(settings: Settings, factory: sessionmaker[Session], timeout: float = 30.0) -> None:
    """Delivers what is queued now (used by the CLI's `digest post`)."""
    from bot.run.jira_side import jira_delivery

    client = make_client(settings, retries=False)
    worker = OutboxWorker(session_factory=factory, client_for=lambda _ws: client, instance_id=instance_id(),
                          security_channel=settings.secreview_security_channel,
                          jira=jira_delivery(settings, factory, lambda _ws: client),
                          render_home=home_renderer(settings, RoleResolver(settings, lambda _ws: client)))
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
        from bot.run.inbox import InboxReplayer

        replayer = InboxReplayer(session_factory=services.session_factory, dispatch=replay)
        replayer.start()
    sched = None
    if scheduler:
        from bot.run.scheduler import build_scheduler

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
