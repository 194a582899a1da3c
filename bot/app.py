"""build_app(settings) -> slack_bolt.App: the composition root. Nothing happens at import time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.services import Services
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_client(settings: Settings, token: str | None = None, *, retries: bool = True) -> WebClient:
    """The one kind of Slack client: `SLACK_API_URL`, a timeout, and retry handlers (rate limits included)."""
    handlers = (
        [ConnectionErrorRetryHandler(max_retry_count=1), RateLimitErrorRetryHandler(max_retry_count=2),
         ServerErrorRetryHandler(max_retry_count=2)]
        if retries else []
    )
    return WebClient(token=token or settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10,
                     retry_handlers=handlers)


def build_app(settings: Settings, services: Services, *, token_verification: bool = True,
              client: WebClient | None = None) -> App:
    """A Bolt App wired to secreview's handlers; HTTP mode verifies signatures, Socket Mode needs none."""
    from handlers import register_all

    executor = AckFirstExecutor(settings.secreview_listener_threads)
    # One workspace: the bot token travels in the client. Several: Bolt's OAuth flow finds each
    # workspace's token in the installation store and hands listeners a client carrying it.
    credentials: dict[str, Any] = (
        {"oauth_settings": services.oauth_settings, "client": client or make_client(settings, token="")}
        if services.oauth_settings is not None
        else {"client": client or make_client(settings)}
    )
    app = App(
        signing_secret=settings.slack_signing_secret or "",
        **credentials,
        process_before_response=False,
        listener_executor=executor,
        request_verification_enabled=bool(settings.slack_signing_secret),
        token_verification_enabled=token_verification,
        raise_error_for_unhandled_request=False,
    )
    app.use(executor.middleware)
    app.use(_services_middleware(services))
    app.use(_drop_seen_deliveries)
    register_all(app)
    return app


class AckFirstExecutor(Executor):
    """Bolt's listener executor: a listener Bolt still waits on to call ack() never queues behind acked work.

    Bolt acks an event before handing its listener over, but a command, a click or a modal submission is
    answered only once its listener thread has called ack(). On one shared pool, a burst of announcements
    (database writes, rendering) would sit ahead of those and hold their acks back for as long as it takes to
    clear. So work whose request is already acknowledged gets a smaller pool of its own (which also caps how
    many threads compete for the GIL with the request threads), and the full pool stays for the rest.
    """

    def __init__(self, threads: int) -> None:
        self._awaiting_ack = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="secreview-listener")
        self._acked = ThreadPoolExecutor(max_workers=max(2, threads // 4), thread_name_prefix="secreview-acked")
        self._local = threading.local()

    def middleware(self, context: BoltContext, next: Any) -> None:
        """Notes the request this thread is dispatching; Bolt submits its listeners from the same thread."""
        self._local.context = context
        next()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Runs fn on the pool that fits: acked already (events) or still to be acked (everything else)."""
        context: BoltContext | None = getattr(self._local, "context", None)
        ack = context.ack if context is not None else None
        acked = ack is not None and ack.response is not None
        return (self._acked if acked else self._awaiting_ack).submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shuts both pools down."""
        self._awaiting_ack.shutdown(wait, cancel_futures=cancel_futures)
        self._acked.shutdown(wait, cancel_futures=cancel_futures)


def replay_into(app: App) -> Callable[[dict[str, Any]], None]:
    """Hands a kept event back to the app, as Socket Mode would deliver it (no HTTP signature to check)."""

    def dispatch(body: dict[str, Any]) -> None:
        app.dispatch(BoltRequest(body=body, mode="socket_mode"))

    return dispatch


def _services_middleware(services: Services) -> Any:
    def inject_services(context: BoltContext, next: Any) -> None:
        context["services"] = services
        next()

    return inject_services


def _drop_seen_deliveries(req: BoltRequest, body: dict[str, Any], context: BoltContext,
                          next: Any) -> BoltResponse | None:
    """An event Slack delivers again (retry, another replica) that we already handled is acked and dropped."""
    event_id = body.get("event_id") if isinstance(body, dict) else None
    # This runs before the ack, so the database is asked only when a repeat is possible: Slack marks every
    # HTTP redelivery with X-Slack-Retry-Num. A first delivery skips the read; the listener's claim of the
    # event_id in its own transaction still keeps it to one review whatever arrives.
    if isinstance(event_id, str) and event_id and (req.mode == "socket_mode" or req.headers.get("x-slack-retry-num")):
        services: Services = context["services"]
        seen = services.read(lambda s: s.get(ProcessedEvent, event_id) is not None)
        if seen:
            log.info("dropping already-processed event %s", event_id)
            return BoltResponse(status=200, body="")
    next()
    return None
