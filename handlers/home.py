"""App Home opened: secreview notes it and publishes the person's home (rendered by the outbox, bot/slack/home.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.slack import home
from handlers.common import actor_of, services_of, workspace_of


def publish_home(*, context: BoltContext, user_id: str, body: dict[str, Any] | None = None) -> None:
    """Publishes (or refreshes) the user's home tab, through the outbox like every other home."""
    services = services_of(context)
    workspace_id = workspace_of(context, body)
    actor = actor_of(context, user_id, body)
    services.write(lambda s: home.home_opened(s, workspace_id=workspace_id, user_id=user_id,
                                              is_reviewer=actor.may_review))
