"""The one error boundary: domain errors become a sentence for the user; anything else is logged and answered."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.response import BoltResponse

from bot.common import render
from bot.review.errors import DomainError
from bot.slack import queueing

log = logging.getLogger(__name__)


def _ids(body: dict[str, Any]) -> str:
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    team = (body.get("team") or {}).get("id") or body.get("team_id")
    return (f"type={body.get('type') or 'command'} team={team} user={user} event_id={body.get('event_id')} "
            f"trigger={body.get('trigger_id')}")


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
    if respond is not None and (safe_body.get("response_url") or safe_body.get("command")):
        try:
            respond(text=sentence, response_type="ephemeral", replace_original=False)
        except Exception:  # the answer is a courtesy; the error is already logged
            log.warning("could not tell the user about the error", exc_info=True)
    return BoltResponse(status=200, body="")


def register(app: App) -> None:
    """Installs the global error handler."""
    app.error(handle_error)
