"""A review's plain moves: take (or take over), assign, release, ask for info, withdraw, not a project, reopen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.common import render
from bot.config import Settings
from bot.review import messages, notices
from bot.review.errors import AlreadyYours, InvalidInput, InvalidTransition, TakenBySomeoneElse
from bot.review.lifecycle import (
    MAX_TEXT,
    Actor,
    clean,
    first_response,
    is_owner,
    load_for_change,
    require,
    require_state,
    required,
    transition,
)
from bot.review.states import DECIDED_STATES, OPEN_STATES, State
from storage.models import Review, Workspace, utcnow


def take(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int,
    expected_assignee: str | None = None, now: datetime | None = None,
) -> Review:
    """A reviewer takes the review. Taking it from someone else needs `expected_assignee` to name them: the card's
    "Take over" button (confirmed in Slack) does; a stale "Take" or the command gets TakenBySomeoneElse instead."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="take reviews")
    workspace, review = load_for_change(session, workspace_id, key)
    require_state(review, OPEN_STATES, "assign")
    if review.assignee_id == actor.user_id:
        raise AlreadyYours("error.already_yours", key=review.key)
    if review.assignee_id is not None and review.assignee_id != expected_assignee:
        raise TakenBySomeoneElse("error.taken_by_other", key=review.key, assignee=review.assignee_id)
    return _assign(session, settings=settings, workspace=workspace, review=review, actor=actor,
                   assignee_id=actor.user_id, now=now)


def assign(
    session: Session,
    *,
    settings: Settings,
    workspace_id: str,
    actor: Actor,
    key: str | int,
    assignee_id: str,
    assignee_is_reviewer: bool,
    now: datetime | None = None,
) -> Review:
    """A reviewer assigns the review to a reviewer (themselves when taking it)."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="assign reviews")
    if not assignee_is_reviewer:
        raise InvalidInput("error.assignee_not_reviewer", user=assignee_id)
    workspace, review = load_for_change(session, workspace_id, key)
    require_state(review, OPEN_STATES, "assign")
    if review.assignee_id == assignee_id:
        if assignee_id == actor.user_id:
            raise AlreadyYours("error.already_yours", key=review.key)
        raise InvalidTransition("error.already_assigned", key=review.key, user=assignee_id)
    return _assign(session, settings=settings, workspace=workspace, review=review, actor=actor,
                   assignee_id=assignee_id, now=now)


def _assign(session: Session, *, settings: Settings, workspace: Workspace, review: Review, actor: Actor,
            assignee_id: str, now: datetime) -> Review:
    previous = review.assignee_id
    review.assignee_id = assignee_id
    first_response(review, now)
    to_state = State.IN_REVIEW if review.state == State.ANNOUNCED else None
    action = "taken" if assignee_id == actor.user_id else "assigned"
    transition(session, workspace=workspace, review=review, actor=actor, action=action, to_state=to_state,
               now=now, data={"assignee": assignee_id, "previous_assignee": previous})
    notices.assigned(session, settings=settings, review=review, actor_id=actor.user_id, previous=previous)
    return review


def release(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int,
    now: datetime | None = None,
) -> Review:
    """The assignee (or an admin) gives the review back to the queue; it stays in review, unassigned."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="release reviews")
    workspace, review = load_for_change(session, workspace_id, key)
    require_state(review, OPEN_STATES, "release")
    previous = review.assignee_id
    if previous is None:
        raise InvalidTransition("error.nobody_has_it", key=review.key)
    require(previous == actor.user_id or actor.is_admin, "refused.assignee_only", key=review.key, assignee=previous)
    review.assignee_id = None
    transition(session, workspace=workspace, review=review, actor=actor, action="released", to_state=None, now=now,
               data={"previous_assignee": previous})
    notices.refresh(session, settings=settings, review=review, homes=[previous])
    return review


def request_info(
    session: Session,
    *,
    settings: Settings,
    workspace_id: str,
    actor: Actor,
    key: str | int,
    question: str,
    now: datetime | None = None,
) -> Review:
    """A reviewer asks the owner a question: in the thread and by DM; the review waits in needs_info."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="ask for information")
    question = required(question, "error.question_required", "question")
    workspace, review = load_for_change(session, workspace_id, key)
    require_state(review, OPEN_STATES, "ask_info")
    first_response(review, now)
    review.info_requested_at = now
    if review.assignee_id is None:
        review.assignee_id = actor.user_id
    transition(session, workspace=workspace, review=review, actor=actor, action="info_requested",
               to_state=State.NEEDS_INFO, now=now, note=question)
    notices.info_requested(session, settings=settings, review=review, actor_id=actor.user_id, question=question)
    return review


def withdraw(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int, reason: str = "",
    now: datetime | None = None,
) -> Review:
    """The owner (or a reviewer) withdraws an open review."""
    now = now or utcnow()
    workspace, review = load_for_change(session, workspace_id, key)
    require(is_owner(actor, review) or actor.may_review, "refused.owner_or_reviewer", key=review.key,
            owner=review.owner_id)
    require_state(review, OPEN_STATES, "withdraw")
    transition(session, workspace=workspace, review=review, actor=actor, action="withdrawn",
               to_state=State.WITHDRAWN, now=now, note=clean(reason, MAX_TEXT))
    notices.closed(session, settings=settings, review=review, actor_id=actor.user_id)
    return review


def mark_not_applicable(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int, reason: str = "",
    now: datetime | None = None,
) -> Review:
    """A reviewer closes an open review that is not a project."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="close reviews as not a project")
    workspace, review = load_for_change(session, workspace_id, key)
    require_state(review, OPEN_STATES, "not_applicable")
    first_response(review, now)
    transition(session, workspace=workspace, review=review, actor=actor, action="not_applicable",
               to_state=State.NOT_APPLICABLE, now=now, note=clean(reason, MAX_TEXT))
    notices.closed(session, settings=settings, review=review, actor_id=actor.user_id)
    return review


def reopen(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int, reason: str,
    now: datetime | None = None,
) -> Review:
    """A reviewer reopens a decided review, with a reason; it goes back to in_review."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="reopen reviews")
    reason = required(reason, "error.reason_required", "reason")
    workspace, review = load_for_change(session, workspace_id, key)
    require_state(review, DECIDED_STATES, "reopen")
    review.decided_at = None
    # The due date it replaces is kept in the log: the SLA figures of a past period judge that one.
    before = {"due_at": review.due_at, "changed_since_decision": review.changed_since_decision}
    review.due_at = settings.calendar.add_business_days(now, settings.secreview_sla_days)
    review.changed_since_decision = None  # reopened: what changed is weighed in the new decision
    transition(session, workspace=workspace, review=review, actor=actor, action="reopened",
               to_state=State.IN_REVIEW, now=now, note=reason, data={"before": before, "due_at": review.due_at})
    notices.reopened(session, settings=settings, review=review, actor_id=actor.user_id, reason=reason)
    return review


def reopen_changed(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int,
    now: datetime | None = None,
) -> Review:
    """The card's Reopen on a review that changed since its decision: reopened with what changed as the reason."""
    require(actor.may_review, "refused.reviewer_only", action="reopen reviews")
    _, review = load_for_change(session, workspace_id, key)
    what = messages.changed_summary(review.changed_since_decision)
    if what is None or review.state not in DECIDED_STATES:
        # A second click, or a card older than the reopen: nothing left to reopen for.
        raise InvalidTransition("error.invalid_transition", key=review.key, state=review.state,
                                action="reopen_changed")
    return reopen(session, settings=settings, workspace_id=workspace_id, actor=actor, key=key,
                  reason=render.raw_message("review.reopen_changed", what=what), now=now)
