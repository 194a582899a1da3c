"""POST /jira/webhook in HTTP mode: authenticate (before anything else), parse, apply in one transaction."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.exc import SQLAlchemyError

from bot.slack.services import Services
from bot.tracker import sync, webhook

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


def handle(services: Services, environ: dict[str, Any]) -> tuple[str, str]:
    """The HTTP status and a short plain-text answer for one webhook call; nothing changes unless it is signed."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > MAX_BODY_BYTES:
        return "413 Payload Too Large", "request too large\n"
    body = environ["wsgi.input"].read(length) if length else b""
    token = (parse_qs(environ.get("QUERY_STRING", "")).get("token") or [None])[0]
    settings = services.settings
    if not webhook.authentic(settings, body=body, signature=environ.get("HTTP_X_HUB_SIGNATURE"), token=token):
        log.warning("jira webhook refused: %s (%s bytes from %s)",
                    "no valid signature" if settings.secreview_jira_webhook_secret else
                    "wrong token" if settings.secreview_jira_webhook_token else
                    "no SECREVIEW_JIRA_WEBHOOK_SECRET set", length, environ.get("REMOTE_ADDR"))
        return "401 Unauthorized", "unauthorized\n"
    try:
        issue = webhook.parse(body)
    except ValueError:
        return "400 Bad Request", "malformed webhook\n"
    if issue is None:
        return "200 OK", "ignored\n"
    try:
        outcome = services.write(lambda session: sync.apply(session, settings=settings, issue=issue, via="webhook"))
    except SQLAlchemyError:
        log.warning("jira webhook for %s: the database is not answering; Jira will send it again", issue.key,
                    exc_info=True)
        return "503 Service Unavailable", "try again\n"
    return "200 OK", f"{outcome or 'unchanged'}\n"
