"""POST /jira/webhook: who may call it (a shared secret's HMAC, or a token) and what an issue event says.

Jira Cloud (and Data Center 10) sign an admin webhook registered with a secret: `X-Hub-Signature:
sha256=<hex HMAC-SHA256 of the raw body>`. Without a secret, a token in the URL (`?token=…`) is accepted
instead (SECREVIEW_JIRA_WEBHOOK_TOKEN). Anything else is refused before the body is even parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from bot.config import Settings
from bot.tracker.issues import IssueState, from_issue

ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated"})


def authentic(settings: Settings, *, body: bytes, signature: str | None, token: str | None) -> bool:
    """True when the request carries a valid signature (or, with a token configured, the right token)."""
    secret = settings.secreview_jira_webhook_secret
    if secret:
        scheme, _, digest = (signature or "").strip().partition("=")
        if scheme.lower() != "sha256" or not digest:
            return False
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, digest.strip().lower())
    wanted = settings.secreview_jira_webhook_token
    if wanted:
        return hmac.compare_digest(wanted.encode("utf-8"), (token or "").encode("utf-8"))
    return False


def parse(body: bytes) -> IssueState | None:
    """The issue an issue event is about, or None for other events; ValueError when the body is not JSON."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON body: {exc}") from None
    if not isinstance(data, dict) or data.get("webhookEvent") not in ISSUE_EVENTS:
        return None
    return from_issue(data.get("issue"), user=data.get("user"))
