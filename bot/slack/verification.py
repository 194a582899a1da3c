"""Before anything may answer a Slack request: its signature and timestamp, and where an answer may be sent.

Bolt's own check (slack_sdk's SignatureVerifier.is_valid) calls int() on the timestamp header and compares the
signature with hmac.compare_digest: a timestamp such as "abc" or a signature with a non-ASCII character raises
instead of refusing, and Bolt then hands the error to the app's error handler, which answered through the
request's response_url: an unsigned request made secreview POST to any URL it named. Here every malformed
header is a refusal, never an exception, and the request's response_url must be Slack's before anything runs.
`secreview serve` checks the signature twice: in its WSGI app before Bolt parses the body (so an unverified body
is never parsed, whatever it holds), and again as Bolt's first middleware (so the Bolt app is safe on its own).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import BoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.queueing import VERIFIED

log = logging.getLogger(__name__)

WINDOW_SECONDS = 300  # Slack's: a request older (or newer) than five minutes is refused
LOGGED_CHARACTERS = 300
SLACK_HOOKS = ("https", "hooks.slack.com", 443)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() and int() also take '²' and '٣'
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def signature_problem(*, signing_secret: str | None, body: bytes | str, timestamp: str | None,
                      signature: str | None, now: float | None = None) -> str | None:
    """None when Slack signed this body at this time; otherwise why not, in a few words (for the log)."""
    if not signing_secret:
        return "no signing secret is configured"
    if timestamp is None:
        return "no X-Slack-Request-Timestamp"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "X-Slack-Request-Timestamp is not a whole number of seconds"
    if abs((time.time() if now is None else now) - int(timestamp)) > WINDOW_SECONDS:
        return "X-Slack-Request-Timestamp is more than 5 minutes away"
    if signature is None:
        return "no X-Slack-Signature"
    if not _SIGNATURE.fullmatch(signature):
        return "X-Slack-Signature is malformed"
    if not hmac.compare_digest(expected_signature(signing_secret, timestamp, body), signature):
        return "X-Slack-Signature does not match"
    return None


def expected_signature(signing_secret: str, timestamp: str, body: bytes | str) -> str:
    """Slack's v0 signature of these bytes: "v0=" + HMAC-SHA256(secret, "v0:<timestamp>:<body>").

    Over the raw bytes: slack_sdk's generate_signature decodes a bytes body as UTF-8 first and raises on one
    that is not, which would make a signed but undecodable body an exception instead of a 400.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(signing_secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + raw, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def excerpt(data: bytes | str | None, limit: int = LOGGED_CHARACTERS) -> str:
    """At most `limit` characters of untrusted text for a log line: control and invisible characters escaped,
    so one request can neither flood the log nor start a line of its own."""
    if data is None:
        return "(none)"
    text = data.decode("utf-8", "backslashreplace") if isinstance(data, bytes) else data
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text[:limit])
    return shown + (f"… ({len(text)} characters)" if len(text) > limit else "")


def answer_origins(api_url: str) -> frozenset[tuple[str, str, int]]:
    """Where a response_url may point: Slack's hooks host, and the host of SLACK_API_URL (the sandbox, tests)."""
    own = _origin(api_url)
    return frozenset({SLACK_HOOKS} | ({own} if own is not None else set()))


def _origin(url: str) -> tuple[str, str, int] | None:
    if len(url) > 2000 or any(not ch.isprintable() or ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, a bracket out of place
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def foreign_response_url(body: Any, origins: frozenset[tuple[str, str, int]]) -> str | None:
    """The first response_url in the body that does not point at Slack (None: every one does, or there is none)."""
    if not isinstance(body, dict):
        return None
    urls: list[Any] = []
    if "response_url" in body:
        urls.append(body["response_url"])
    listed = body.get("response_urls")
    if listed is not None:
        entries = listed if isinstance(listed, list) else [listed]
        urls.extend(entry.get("response_url") if isinstance(entry, dict) else entry for entry in entries)
    for url in urls:
        if not isinstance(url, str) or _origin(url) not in origins:
            return repr(url) if not isinstance(url, str) else url
    return None


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name)
    return values[0] if values else None


def verify_requests(signing_secret: str | None, api_url: str) -> Callable[[BoltRequest], BoltResponse | None]:
    """The Bolt app's first middleware: refuses what Slack did not sign, and a response_url that is not Slack's.

    Socket Mode deliveries come over secreview's own authenticated connection (and the worker's queued requests
    and the inbox's replays were verified when they arrived), so they have no signature to check.
    """
    origins = answer_origins(api_url)

    def verify(req: BoltRequest) -> BoltResponse | None:
        if req.mode != "socket_mode":
            problem = signature_problem(signing_secret=signing_secret, body=req.raw_body,
                                        timestamp=_header(req, "x-slack-request-timestamp"),
                                        signature=_header(req, "x-slack-signature"))
            if problem is not None:
                log_unverified(problem, req.raw_body)
                return BoltResponse(status=401, body="")
        foreign = foreign_response_url(req.body, origins)
        if foreign is not None:
            log.warning("refused a Slack request whose response_url is not Slack's: %s", excerpt(foreign, 200))
            return BoltResponse(status=400, body="")
        req.context[VERIFIED] = True
        return None

    verify.__name__ = "verify_requests"
    return verify


def log_unverified(problem: str, body: bytes | str | None) -> None:
    """One short, escaped line about a refused request."""
    log.warning("refused an unverified Slack request (%s): %s", problem, excerpt(body))
