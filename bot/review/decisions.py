"""A reviewer's decision on a review: approve, approve with conditions or reject, and the fast track."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from bot.common import render
from bot.config import Settings
from bot.review import jira_notices, messages, notices
from bot.review.errors import InvalidInput, InvalidTransition
from bot.review.lifecycle import (
    MAX_TEXT,
    Actor,
    clean,
    first_response,
    load_for_change,
    require,
    require_state,
    transition,
)
from bot.review.states import OPEN_STATES, RISK_TIERS, ConditionState, Outcome
from storage.models import Condition, Decision, Review, Workspace, utcnow

MAX_CONDITIONS = 20


@dataclass(frozen=True)
class DecisionForm:
    """The decision modal as submitted."""

    outcome: str
    rationale: str = ""
    conditions: tuple[str, ...] = ()
    risk_tier: str | None = None
    regulations: tuple[str, ...] | None = None
    cost_avoided: str | Decimal | None = None
    condition_due: date | None = None


def parse_cost(value: str | Decimal | None) -> Decimal | None:
    """An optional non-negative amount ('12 000', '12,000.50', '€ 5k' is refused); InvalidInput when malformed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal):
        amount = value
    else:
        cleaned = re.sub(r"[\s,_]", "", value.strip())
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise InvalidInput("error.bad_amount", field="cost_avoided", text=value.strip()[:40]) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise InvalidInput("error.bad_amount", field="cost_avoided", text=str(value)[:40])
    return amount.quantize(Decimal("0.01"))


def decide(
    session: Session,
    *,
    settings: Settings,
    workspace_id: str,
    actor: Actor,
    key: str | int,
    form: DecisionForm,
    now: datetime | None = None,
) -> Decision:
    """A reviewer decides: approve, approve with conditions (each a tracked safeguard), or reject."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="decide reviews")
    workspace, review = load_for_change(session, workspace_id, key)
    return record_decision(session, settings=settings, workspace=workspace, review=review, actor=actor, form=form,
                           now=now, confirm=True)


def fast_track(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int,
    now: datetime | None = None,
) -> Decision:
    """One-click approval of a low-risk review with the standard conditions."""
    now = now or utcnow()
    require(actor.may_review, "refused.reviewer_only", action="approve reviews")
    workspace, review = load_for_change(session, workspace_id, key)
    if review.risk_tier != "low":
        raise InvalidTransition("error.fast_track_not_low", key=review.key, tier=review.risk_tier or "unscored")
    return record_decision(session, settings=settings, workspace=workspace, review=review, actor=actor,
                           form=fast_track_form(review), now=now, fast_track=True)


def fast_track_form(review: Review) -> DecisionForm:
    """The fast-track decision: approved with the standard conditions (plainly approved if there are none)."""
    conditions = tuple(messages.standard_conditions())
    outcome = Outcome.APPROVED_WITH_CONDITIONS if conditions else Outcome.APPROVED
    return DecisionForm(outcome=outcome, rationale=render.raw_message("review.fast_track_rationale"),
                        conditions=conditions)


def record_decision(
    session: Session,
    *,
    settings: Settings,
    workspace: Workspace,
    review: Review,
    actor: Actor,
    form: DecisionForm,
    now: datetime,
    fast_track: bool = False,
    confirm: bool = False,
) -> Decision:
    """Records a decision on a review already loaded and locked: validation, conditions, audit, notices.

    `confirm`: the reviewer decided in a modal, which has no channel to answer in, so they get a DM saying so.
    """
    require_state(review, OPEN_STATES, "decide")
    try:
        outcome = Outcome(form.outcome)
    except ValueError:
        raise InvalidInput("error.bad_outcome", field="outcome", text=str(form.outcome)[:40]) from None
    rationale = clean(form.rationale, MAX_TEXT)
    conditions = [c.strip()[:500] for c in form.conditions if c and c.strip()]
    if len(conditions) > MAX_CONDITIONS:
        raise InvalidInput("error.too_many_conditions", field="conditions", limit=MAX_CONDITIONS)
    chosen = outcome
    if outcome == Outcome.APPROVED and conditions:
        # Safeguards attached to a plain approval are still safeguards: record what the reviewer meant.
        outcome = Outcome.APPROVED_WITH_CONDITIONS
    if outcome == Outcome.APPROVED_WITH_CONDITIONS and not conditions:
        raise InvalidInput("error.conditions_required", field="conditions")
    if outcome == Outcome.REJECTED and conditions:
        raise InvalidInput("error.rejection_has_no_conditions", field="conditions")
    if chosen != Outcome.APPROVED and not rationale:
        raise InvalidInput("error.rationale_required", field="rationale")
    if form.risk_tier not in (None, "", *RISK_TIERS):
        raise InvalidInput("error.bad_tier", field="risk_tier", text=str(form.risk_tier)[:20])
    cost = parse_cost(form.cost_avoided)
    due = form.condition_due or review.go_live
    decision = Decision(
        workspace_id=workspace.id,
        review_id=review.id,
        outcome=outcome,
        rationale=rationale,
        decided_by=actor.user_id,
        decided_at=now,
        risk_tier=form.risk_tier or review.risk_tier,
        regulations=sorted(set(form.regulations)) if form.regulations is not None else list(review.regulations),
        cost_avoided=cost,
        currency=settings.secreview_currency,
        fast_track=fast_track,
    )
    review.decisions.append(decision)
    session.flush()
    for text in conditions:
        review.conditions.append(
            Condition(workspace_id=workspace.id, review_id=review.id, decision_id=decision.id, text=text,
                      owner_id=review.owner_id, due_date=due, state=ConditionState.OPEN, created_at=now)
        )
    if form.risk_tier:
        review.risk_tier = form.risk_tier
    review.regulations = list(decision.regulations)
    review.decided_at = now
    first_response(review, now)
    transition(
        session, workspace=workspace, review=review, actor=actor, action="decided", to_state=outcome, now=now,
        note=rationale,
        data={"outcome": outcome, "conditions": conditions, "risk_tier": decision.risk_tier,
              "regulations": decision.regulations, "cost_avoided": cost, "currency": decision.currency,
              "fast_track": fast_track},
    )
    notices.decided(session, settings=settings, review=review, decision=decision,
                    confirm_to=actor.user_id if confirm else None)
    if settings.jira_enabled:
        session.flush()  # the conditions' ids name their Jira issues
        jira_notices.issues_opened(session, settings=settings, review=review,
                                   conditions=[c for c in review.conditions if c.decision_id == decision.id])
    return decision
