"""A decision's conditions, the safeguards it tracks: marked done by their owner (or a reviewer), or waived; and,
with Jira, done or open again as their Jira issue is resolved or reopened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.common import render
from bot.config import Settings
from bot.review import jira_notices, notices
from bot.review.errors import InvalidTransition, NotFound
from bot.review.lifecycle import Actor, is_id, lock_workspace, require, required, transition
from bot.review.states import ConditionState
from storage.models import Condition, Review, Workspace, utcnow

# Who the audit log names for a change that came from Jira (the Jira person is in the event's note and data).
TRACKER_ACTOR = Actor("jira")


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
    if not is_id(condition_id):
        raise NotFound("error.condition_not_found", id=str(condition_id)[:20])
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
    jira_notices.condition_closed(session, settings=settings, review=review, condition=condition,
                                  actor_id=actor.user_id, reason=reason)
    return condition


@dataclass(frozen=True)
class TrackerChange:
    """A Jira issue's state as read back: which issue, its status, whether it is done, when, and who moved it."""

    jira_key: str
    status: str
    done: bool
    updated: datetime | None
    changed_by: str
    changed_by_account: str | None
    via: str  # "webhook" or "poll"


def apply_tracker_state(
    session: Session, *, settings: Settings, workspace_id: str, condition_id: int, change: TrackerChange,
    now: datetime | None = None,
) -> str | None:
    """Applies a Jira issue's state to its condition: resolved → done, reopened → open again.

    Returns "done" or "reopened" when the condition changed, None when there was nothing to do (already in that
    state, waived, or an older state than the last one applied): webhooks and the poll may both report a change,
    in any order, any number of times. Jira is not told back: this change came from it.
    """
    now = now or utcnow()
    workspace, review, condition = _load_condition(session, workspace_id, condition_id)
    if condition.jira_key is None:  # Jira told of the issue before its create was recorded here
        condition.jira_key = change.jira_key
        condition.jira_url = f"{settings.jira_url}/browse/{change.jira_key}"
    if change.updated is not None and condition.jira_updated_at is not None and \
            change.updated < condition.jira_updated_at:
        return None
    if change.updated is not None:
        condition.jira_updated_at = change.updated
    data = {"condition_id": condition.id, "text": condition.text, "jira_key": change.jira_key,
            "jira_status": change.status, "changed_by": change.changed_by,
            "changed_by_account": change.changed_by_account, "via": change.via}
    if change.done and condition.state == ConditionState.OPEN:
        condition.state = ConditionState.DONE
        condition.closed_at = now
        condition.closed_by = TRACKER_ACTOR.user_id
        note = render.raw_message("jira.resolved_note", key=change.jira_key, status=change.status,
                                  who=change.changed_by)
        transition(session, workspace=workspace, review=review, actor=TRACKER_ACTOR, action="condition_done",
                   to_state=None, now=now, note=note, data=data)
    elif not change.done and condition.state == ConditionState.DONE:
        # A waived safeguard stays waived: a reviewer decided it with a reason, and Jira cannot undo that.
        condition.state = ConditionState.OPEN
        condition.closed_at = None
        condition.closed_by = None
        note = render.raw_message("jira.reopened_note", key=change.jira_key, status=change.status,
                                  who=change.changed_by)
        transition(session, workspace=workspace, review=review, actor=TRACKER_ACTOR, action="condition_reopened",
                   to_state=None, now=now, note=note, data=data)
    else:
        return None
    notices.refresh(session, settings=settings, review=review, homes=[condition.owner_id])
    return "done" if change.done else "reopened"
