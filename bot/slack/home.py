"""App Home: reviewers see the queue, what they took and this week's figures; everyone sees their own projects.

Built in one place for both the listener that answers `app_home_opened` and the outbox, which renders a home when
it publishes it (bot/run/delivery_prep.py), so a home is never older than its delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from bot.config import Settings
from bot.figures import presentation
from bot.review import outbox
from bot.review.lifecycle import ensure_workspace
from bot.review.roles import RoleResolver
from bot.review.states import DECIDED_STATES, OPEN_STATES
from bot.slack import views
from storage.models import HomeTab, Review, utcnow

HOME_LIST_LIMIT = 25


def build_home(session: Session, *, settings: Settings, workspace_id: str, user_id: str, is_reviewer: bool,
               now: datetime | None = None) -> dict[str, Any]:
    """One person's home tab as of now (queries scoped to this workspace)."""
    now = now or utcnow()
    scoped = select(Review).where(Review.workspace_id == workspace_id)
    queue: list[Review] = []
    taken: list[Review] = []
    changed: list[Review] = []
    figures = None
    if is_reviewer:
        changed = list(session.scalars(
            scoped.where(Review.state.in_(list(DECIDED_STATES)), Review.changed_since_decision.is_not(None))
            .order_by(Review.updated_at.desc()).limit(HOME_LIST_LIMIT)
        ))
        overdue_first = case((Review.due_at < now, 0), else_=1)
        queue = list(session.scalars(
            scoped.where(Review.state.in_(list(OPEN_STATES)))
            .order_by(overdue_first, Review.due_at).limit(HOME_LIST_LIMIT + 1)
        ))
        taken = list(session.scalars(
            scoped.where(Review.state.in_(list(OPEN_STATES)), Review.assignee_id == user_id)
            .order_by(Review.due_at).limit(HOME_LIST_LIMIT)
        ))
        figures = presentation.home_figures(session, workspace_id=workspace_id, now=now, tz=settings.timezone,
                                            locale=settings.secreview_locale, calendar=settings.calendar)
    mine = list(session.scalars(
        scoped.where((Review.owner_id == user_id) | (Review.announcer_id == user_id))
        .order_by(Review.announced_at.desc()).limit(HOME_LIST_LIMIT)
        .options(selectinload(Review.conditions))
    ))
    return views.home(user_id=user_id, is_reviewer=is_reviewer, queue=queue, taken=taken, mine=mine,
                      figures=figures, now=now, changed=changed)


def home_renderer(settings: Settings, roles: RoleResolver) -> Callable[[Session, str, str], dict[str, Any]]:
    """What the outbox calls to render a home when it publishes it (roles checked then)."""

    def render(session: Session, workspace_id: str, user_id: str) -> dict[str, Any]:
        actor = roles.actor(user_id, workspace_id=workspace_id)
        return build_home(session, settings=settings, workspace_id=workspace_id, user_id=user_id,
                          is_reviewer=actor.may_review)

    return render


def home_opened(session: Session, *, workspace_id: str, user_id: str, is_reviewer: bool) -> None:
    """Notes who looks at their home (reviewers' queues are kept current for a while) and publishes it."""
    ensure_workspace(session, workspace_id)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    session.execute(
        insert(HomeTab).values(workspace_id=workspace_id, user_id=user_id, is_reviewer=is_reviewer, opened_at=now)
        .on_conflict_do_update(index_elements=["workspace_id", "user_id"],
                               set_={"is_reviewer": is_reviewer, "opened_at": now})
    )
    outbox.enqueue(session, workspace_id=workspace_id, method="views.publish", payload={"user_id": user_id},
                   purpose="home", ordering_key=f"home:{workspace_id}:{user_id}")
