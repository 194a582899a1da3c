"""A decision's conditions, the safeguards it tracks: marked done by their owner (or a reviewer), or waived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.review import notices
from bot.review.errors import InvalidTransition, NotFound
from bot.review.lifecycle import Actor, lock_workspace, require, required, transition
from bot.review.states import ConditionState
from storage.models import Condition, Review, Workspace, utcnow


def complete_condition(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, condition_id: int,
    now: datetime | None = None,
) -> Condition:
    """The condition's owner (or a reviewer) marks a safeguard done."""
    now = now or utcnow()
    workspace, review, condition = _load_condition(session, workspace_id, condition_id)
    require(actor.user_id == condition.owner_id or actor.may_review, "refused.condition_owner",
            owner=condition.owner_id)
    return _close_condition(session, settings=settings, workspace=workspace, review=review, condition=condition,
                            actor=actor, state=ConditionState.DONE, reason="", now=now)


def waive_condition(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, condition_id: int, reason: str,
    now: datetime | None = None,
) -> Condition:
    """A reviewer waives a safeguard, with a reason."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="waive conditions")
    reason = required(reason, "error.reason_required", "reason")
    workspace, review, condition = _load_condition(session, workspace_id, condition_id)
    return _close_condition(session, settings=settings, workspace=workspace, review=review, condition=condition,
                            actor=actor, state=ConditionState.WAIVED, reason=reason, now=now)


def _load_condition(session: Session, workspace_id: str, condition_id: int) -> tuple[Workspace, Review, Condition]:
    workspace = lock_workspace(session, workspace_id)
    condition = session.get(Condition, condition_id, populate_existing=True)
    if condition is None or condition.workspace_id != workspace_id:
        raise NotFound("error.condition_not_found", id=condition_id)
    return workspace, condition.review, condition


def _close_condition(
    session: Session, *, settings: Settings, workspace: Workspace, review: Review, condition: Condition,
    actor: Actor, state: ConditionState, reason: str, now: datetime,
) -> Condition:
    if condition.state != ConditionState.OPEN:
        raise InvalidTransition("error.condition_closed", id=condition.id, state=condition.state)
    condition.state = state
    condition.closed_at = now
    condition.closed_by = actor.user_id
    condition.waive_reason = reason or None
    transition(session, workspace=workspace, review=review, actor=actor, action=f"condition_{state}",
               to_state=None, now=now, note=reason, data={"condition_id": condition.id, "text": condition.text})
    notices.refresh(session, settings=settings, review=review, homes=[condition.owner_id])
    return condition
