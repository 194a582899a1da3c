"""What every handler shares: the services, the acting user with roles, one way to answer ephemerally."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import BoltContext, Respond
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.review.lifecycle import Actor
from bot.slack import views
from bot.slack.services import Services
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)


def services_of(context: BoltContext) -> Services:
    """The process's services, put into the context by middleware."""
    return context["services"]  # type: ignore[no-any-return]


def workspace_of(context: BoltContext, body: dict[str, Any] | None = None) -> str:
    """The Slack team this request belongs to."""
    team = context.team_id or (body or {}).get("team_id") or ((body or {}).get("team") or {}).get("id")
    if not team:
        raise ValueError("request without a team id")
    return str(team)


def actor_of(context: BoltContext, user_id: str, body: dict[str, Any] | None = None) -> Actor:
    """The user with their roles, checked now (never cached across a modal's open and submit)."""
    services = services_of(context)
    assert services.roles is not None
    return services.roles.actor(user_id, workspace_id=workspace_of(context, body))


def say_ephemeral(respond: Respond, message: dict[str, Any], *, replace: bool = False) -> None:
    """Answers only the user who acted (through response_url)."""
    respond(text=message["text"], blocks=message.get("blocks"), response_type="ephemeral",
            replace_original=replace, delete_original=False)


def say_sentence(respond: Respond, sentence: str) -> None:
    """Answers with one already-rendered mrkdwn sentence."""
    say_ephemeral(respond, views.sentence(sentence))


def metadata(**values: Any) -> str:
    """Modal private_metadata: small JSON, never trusted for permissions."""
    return json.dumps(values, separators=(",", ":"))


def read_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """Parses a modal's private_metadata; anything malformed reads as empty."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def claim_click(session: Session, body: dict[str, Any]) -> bool:
    """Records this click (its user and action_ts) in the change's transaction; False when it was handled already.

    Slack gives every click its own action_ts, so a click delivered twice (a retry, a replayed request) is
    answered once, whatever the button does.
    """
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    action_ts = action.get("action_ts")
    user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None
    if not isinstance(action_ts, str) or not action_ts or not isinstance(user, str):
        return True
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=f"click:{user}:{action_ts}"[:64]))
    except IntegrityError:
        return False
    return True
