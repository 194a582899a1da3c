"""The one kind of Slack Web API client: every call secreview makes goes through it, to SLACK_API_URL."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings


def make_client(settings: Settings, token: str | None = None, *, retries: bool = True) -> WebClient:
    """The one kind of Slack client: `SLACK_API_URL`, a timeout, and retry handlers (rate limits included)."""
    handlers = (
        [ConnectionErrorRetryHandler(max_retry_count=1), RateLimitErrorRetryHandler(max_retry_count=2),
         ServerErrorRetryHandler(max_retry_count=2)]
        if retries else []
    )
    return WebClient(token=token or settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10,
                     retry_handlers=handlers)
