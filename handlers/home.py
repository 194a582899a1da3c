"""App Home: reviewers see the queue and this week's figures; everyone sees their own projects."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from bot.figures import presentation
from bot.review.states import OPEN_STATES
from bot.slack import views
from handlers.common import actor_of, services_of, workspace_of
from storage.models import Review, utcnow

log = logging.getLogger(__name__)

HOME_LIST_LIMIT = 25


def home_view(*, context: BoltContext, user_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Builds the home tab for one user (queries scoped to this workspace)."""
    services = services_of(context)
    workspace_id = workspace_of(context, body)
    actor = actor_of(context, user_id, body)
    now = utcnow()

    def load(session: Session) -> dict[str, Any]:
        scoped = select(Review).where(Review.workspace_id == workspace_id)
        queue: list[Review] = []
        taken: list[Review] = []
        figures = None
        if actor.may_review:
            overdue_first = case((Review.due_at < now, 0), else_=1)
            queue = list(session.scalars(
                scoped.where(Review.state.in_(list(OPEN_STATES)))
                .order_by(overdue_first, Review.due_at).limit(HOME_LIST_LIMIT + 1)
            ))
            taken = list(session.scalars(
                scoped.where(Review.state.in_(list(OPEN_STATES)), Review.assignee_id == user_id)
                .order_by(Review.due_at).limit(HOME_LIST_LIMIT)
            ))
            figures = presentation.home_figures(session, workspace_id=workspace_id, now=now,
                                                tz=services.settings.timezone,
                                                locale=services.settings.secreview_locale,
                                                calendar=services.settings.calendar)
        mine = list(session.scalars(
            scoped.where((Review.owner_id == user_id) | (Review.announcer_id == user_id))
            .order_by(Review.announced_at.desc()).limit(HOME_LIST_LIMIT)
            .options(selectinload(Review.conditions))
        ))
        return views.home(user_id=user_id, is_reviewer=actor.may_review, queue=queue, taken=taken, mine=mine,
                          figures=figures, now=now)

    return services.read(load)


def publish_home(*, context: BoltContext, client: WebClient, user_id: str, body: dict[str, Any] | None = None) -> None:
    """Publishes (or refreshes) the user's home tab."""
    client.views_publish(user_id=user_id, view=home_view(context=context, user_id=user_id, body=body))
