"""The one error boundary: domain errors become a sentence for the user; anything else is logged and answered."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.response import BoltResponse

from bot.common import render
from bot.review.errors import DomainError
from bot.slack import queueing
from bot.slack.verification import excerpt

log = logging.getLogger(__name__)


def _ids(body: dict[str, Any]) -> str:
    def inner(name: str) -> Any:
        value = body.get(name)
        return value.get("id") if isinstance(value, dict) else None

    ids = {"type": body.get("type") or "command", "team": inner("team") or body.get("team_id"),
           "user": inner("user") or body.get("user_id"), "event_id": body.get("event_id"),
           "trigger": body.get("trigger_id")}
    # Values from the body, cut and escaped: a body must not be able to write log lines of its own.
    return " ".join(f"{name}={excerpt(str(value), 80)}" for name, value in ids.items())


def handle_error(error: Exception, body: Any, respond: Any = None,
                 context: BoltContext | None = None) -> BoltResponse | None:
    """Turns what a listener raised into an answer; Slack never sees a 5xx for a bad payload."""
    safe_body = body if isinstance(body, dict) else {}
    if isinstance(error, DomainError):
        sentence = error.user_message
        log.info("refused: %s (%s)", error.key, _ids(safe_body))
    else:
        if context is not None:
            context[queueing.FAILED] = True  # a queued event is kept for another attempt
        sentence = render.message("error.unexpected")
        log.exception("unexpected error handling a Slack request (%s)", _ids(safe_body), exc_info=error)
    # Only a verified request is answered: an error raised before verification (or by it) must never make
    # secreview call a URL that an unsigned body named.
    verified = context is not None and context.get(queueing.VERIFIED) is True
    if verified and respond is not None and (safe_body.get("response_url") or safe_body.get("command")):
        try:
            respond(text=sentence, response_type="ephemeral", replace_original=False)
        except Exception:  # the answer is a courtesy; the error is already logged
            log.warning("could not tell the user about the error", exc_info=True)
    return BoltResponse(status=200, body="")


def register(app: App) -> None:
    """Installs the global error handler."""
    app.error(handle_error)
