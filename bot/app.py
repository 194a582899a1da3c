"""build_app(settings) -> slack_bolt.App: the composition root. Nothing happens at import time."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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

    app = App(
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret or "",
        client=client or make_client(settings),
        process_before_response=False,
        # Listeners run here after ack; sized from settings so slow Slack calls do not hold back other acks.
        listener_executor=ThreadPoolExecutor(max_workers=settings.secreview_listener_threads,
                                             thread_name_prefix="secreview-listener"),
        request_verification_enabled=bool(settings.slack_signing_secret),
        token_verification_enabled=token_verification,
        raise_error_for_unhandled_request=False,
    )
    app.use(_services_middleware(services))
    app.use(_drop_seen_deliveries)
    register_all(app)
    return app


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
