"""Deliver Slack payloads to an app over HTTP the way Slack does: signed, with Slack's headers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Slack's own User-Agent for Events API and interactivity deliveries.
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class Headers(dict[str, str]):
    """Response headers, looked up case-insensitively (HTTP header names are not case-sensitive)."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        super().__init__({k.lower(): v for k, v in (items or {}).items()})

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """Return the header `key` (any case) or `default`."""
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class Response:
    """What the app answered: status, headers, body text and how long it took."""

    status: int
    headers: Headers
    body: str
    elapsed: float
    request_headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """Parse the body as JSON."""
        return json.loads(self.body)


def sign(signing_secret: str, body: bytes, timestamp: int | str) -> str:
    """Return Slack's v0 request signature: "v0=" + HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """POST signed Events API, slash command and interaction requests to an app's request URL.

    Holds no connection or mutable state, so one instance may be used from many threads at once.
    """

    def __init__(
        self,
        target_url: str,
        signing_secret: str,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target_url = target_url
        self.signing_secret = signing_secret
        self.timeout = timeout
        self.clock = clock

    def sign(self, body: bytes, timestamp: int) -> str:
        """Return the `X-Slack-Signature` value for `body` sent at `timestamp`."""
        return sign(self.signing_secret, body, timestamp)

    def signed_headers(self, body: bytes, content_type: str, timestamp: int | None = None) -> dict[str, str]:
        """Return the headers Slack sends with `body`: content type, timestamp and signature."""
        ts = int(self.clock()) if timestamp is None else timestamp
        return {
            "Content-Type": content_type,
            "User-Agent": SLACK_USER_AGENT,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": self.sign(body, ts),
        }

    def send_event(
        self,
        envelope: Mapping[str, Any],
        retry_num: int | None = None,
        retry_reason: str | None = None,
        *,
        timestamp: int | None = None,
        timeout: float | None = None,
    ) -> Response:
        """POST an Events API envelope as JSON; `retry_num` adds Slack's retry headers (http_timeout)."""
        body = json.dumps(envelope, separators=(",", ":")).encode()
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra["X-Slack-Retry-Num"] = str(retry_num)
            extra["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return self.send_raw(body, "application/json", timestamp=timestamp, headers=extra, timeout=timeout)

    def send_command(
        self,
        form: Mapping[str, str] | str,
        *,
        timestamp: int | None = None,
        timeout: float | None = None,
    ) -> Response:
        """POST a slash command as form fields (or an already-encoded form body, sent byte for byte)."""
        body = (form if isinstance(form, str) else urllib.parse.urlencode(form)).encode()
        return self.send_raw(body, "application/x-www-form-urlencoded", timestamp=timestamp, timeout=timeout)

    def send_interaction(
        self,
        payload: Mapping[str, Any],
        *,
        timestamp: int | None = None,
        timeout: float | None = None,
    ) -> Response:
        """POST an interaction (block_actions, view_submission, …) as the form field `payload=<json>`."""
        body = urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        return self.send_raw(body, "application/x-www-form-urlencoded", timestamp=timestamp, timeout=timeout)

    def send_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """POST `body` signed (or with a forced `signature`, to test rejection); return the response."""
        request_headers = self.signed_headers(body, content_type, timestamp)
        if signature is not None:
            request_headers["X-Slack-Signature"] = signature
        request_headers.update(headers or {})
        # A fresh connection per request ("Connection: close"): nothing shared between threads.
        request_headers["Connection"] = "close"
        request = urllib.request.Request(self.target_url, data=body, headers=request_headers, method="POST")
        # No proxies: the target is always a local app, and a proxy from the environment would break that.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        started = time.perf_counter()
        try:
            with opener.open(request, timeout=self.timeout if timeout is None else timeout) as reply:
                status, reply_headers, data = reply.status, Headers(dict(reply.headers.items())), reply.read()
        except urllib.error.HTTPError as error:
            # 4xx/5xx are answers, not failures: tests assert on them (401 for a bad signature, …).
            status, reply_headers, data = error.code, Headers(dict(error.headers.items())), error.read()
        elapsed = time.perf_counter() - started
        return Response(
            status=status,
            headers=reply_headers,
            body=data.decode("utf-8", errors="replace"),
            elapsed=elapsed,
            request_headers=request_headers,
        )
