"""Review states, transitions and permissions; every change writes its audit event and notices in one go.

Callers own the transaction: each function here changes the review, appends the audit event and enqueues
the Slack notices on the session it is given, and the caller commits all of it together (or nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot import intake
from bot.common import render
from bot.common.calendar import add_business_days
from bot.config import Settings
from bot.review import audit, messages, notices
from bot.review.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from bot.review.states import (
    APPROVED_STATES,
    DECIDED_STATES,
    OPEN_STATES,
    RISK_TIERS,
    ConditionState,
    Outcome,
    State,
)
from storage.models import Condition, Decision, Review, Workspace, utcnow

KEY_PATTERN = re.compile(r"^\s*(?:SR-?)?#?(\d{1,9})\s*$", re.IGNORECASE)
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_CONDITIONS = 20
SYSTEM_USER = "secreview"


@dataclass(frozen=True)
class Actor:
    """Who acts, with the roles resolved for this request (settings and user groups)."""

    user_id: str
    is_reviewer: bool = False
    is_admin: bool = False

    @property
    def may_review(self) -> bool:
        """Reviewers and admins may take, decide, reopen and export."""
        return self.is_reviewer or self.is_admin


SYSTEM = Actor(SYSTEM_USER, is_reviewer=True)


@dataclass(frozen=True)
class IntakeForm:
    """The intake questionnaire as submitted (already parsed; validated here)."""

    title: str
    summary: str
    owner_id: str
    go_live: date | None
    answers: intake.IntakeAnswers
    links: str = ""


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


@dataclass
class Opened:
    """The result of opening a review: `created` is False when the message already had one."""

    review: Review
    created: bool
    extra: dict[str, Any] = field(default_factory=dict)


def parse_key(text: str) -> int:
    """The review number in 'SR-12' (or '12'); InvalidInput otherwise."""
    match = KEY_PATTERN.match(text or "")
    if not match:
        raise InvalidInput("error.bad_key", text=(text or "").strip()[:40])
    return int(match.group(1))


def ensure_workspace(session: Session, workspace_id: str, name: str = "") -> None:
    """Creates the workspace row if this is its first request (safe when replicas race)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Workspace)
        .values(id=workspace_id, name=name, last_review_number=0, write_version=0, audit_head_seq=0,
                created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["id"])
    )


def lock_workspace(session: Session, workspace_id: str) -> Workspace:
    """Takes the workspace's write lock (a row lock; on SQLite the database write lock) and returns it.

    Every change starts here, so review numbers and the audit chain are assigned in one order even with
    several replicas writing at once.
    """
    ensure_workspace(session, workspace_id)
    session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(write_version=Workspace.write_version + 1)
        .execution_options(synchronize_session=False)
    )
    workspace = session.get(Workspace, workspace_id, populate_existing=True)
    assert workspace is not None
    return workspace


def get_review(session: Session, *, workspace_id: str, key: str | int, for_update: bool = False) -> Review:
    """Finds a review of this workspace by key; NotFound names the key."""
    number = key if isinstance(key, int) else parse_key(key)
    query = select(Review).where(Review.workspace_id == workspace_id, Review.number == number)
    if for_update:
        query = query.execution_options(populate_existing=True)
    review = session.scalars(query).first()
    if review is None:
        raise NotFound("error.not_found", key=f"SR-{number}")
    return review


def _load_for_change(session: Session, workspace_id: str, key: str | int) -> tuple[Workspace, Review]:
    workspace = lock_workspace(session, workspace_id)
    return workspace, get_review(session, workspace_id=workspace_id, key=key, for_update=True)


def _require(condition: bool, message_key: str, /, **params: Any) -> None:
    if not condition:
        raise NotAllowed(message_key, **params)


def _require_state(review: Review, allowed: frozenset[str] | set[str], action: str) -> None:
    if review.state not in allowed:
        raise InvalidTransition(
            "error.invalid_transition", key=review.key, state=review.state, action=action
        )


def _is_owner(actor: Actor, review: Review) -> bool:
    return actor.user_id in (review.owner_id, review.announcer_id)


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def _required(text: str | None, message_key: str, field: str) -> str:
    cleaned = _clean(text, MAX_TEXT)
    if not cleaned:
        raise InvalidInput(message_key, field=field)
    return cleaned


def _first_response(review: Review, now: datetime) -> None:
    if review.first_response_at is None:
        review.first_response_at = now


def _transition(
    session: Session,
    *,
    workspace: Workspace,
    review: Review,
    actor: Actor,
    action: str,
    to_state: str | None,
    now: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
    opening: bool = False,
) -> None:
    from_state = None if opening else review.state
    if to_state is not None:
        review.state = to_state
    review.updated_at = now
    audit.append(
        session,
        workspace=workspace,
        review=review,
        actor=actor.user_id,
        action=action,
        from_state=from_state,
        to_state=review.state,
        note=note,
        data=data,
        at=now,
    )


def open_review(
    session: Session,
    *,
    settings: Settings,
    detector: intake.Detector,
    workspace_id: str,
    actor: Actor,
    text: str,
    source_channel: str | None = None,
    source_ts: str | None = None,
    title: str | None = None,
    via: str = "announcement",
    now: datetime | None = None,
) -> Opened:
    """Opens a review for an announcement (or `/secreview new`); a message that has one already returns it."""
    now = now or utcnow()
    workspace = lock_workspace(session, workspace_id)
    if source_channel and source_ts:
        existing = session.scalars(
            select(Review).where(
                Review.workspace_id == workspace_id,
                Review.source_channel == source_channel,
                Review.source_ts == source_ts,
            )
        ).first()
        if existing is not None:
            return Opened(existing, created=False)
    text = _clean(text, MAX_TEXT)
    prefill = detector.prefill(text, today=now.astimezone(settings.timezone).date())
    workspace.last_review_number += 1
    chosen_title = _clean(title, MAX_TITLE) or prefill.title or text[:MAX_TITLE]
    review = Review(
        workspace_id=workspace_id,
        number=workspace.last_review_number,
        title=chosen_title or render.raw_message("review.untitled"),
        summary="",
        announcement_text=text,
        owner_id=actor.user_id,
        announcer_id=actor.user_id,
        source_channel=source_channel,
        source_ts=source_ts,
        go_live=prefill.go_live,
        tags=list(prefill.tags),
        vendors=list(prefill.vendors),
        regulations=list(prefill.regulations),
        risk_reasons=[],
        state=State.ANNOUNCED,
        announced_at=now,
        first_response_due=add_business_days(now, 1, settings.timezone),
        due_at=add_business_days(now, settings.secreview_sla_days, settings.timezone),
        updated_at=now,
        # A new review has no decisions or conditions: saying so spares the card and the thread reply
        # rendered below two lazy SELECTs (each with an autoflush) in the opening transaction.
        decisions=[],
        conditions=[],
    )
    session.add(review)
    session.flush()
    _transition(
        session, workspace=workspace, review=review, actor=actor, action="announced", to_state=None, now=now,
        note=via, opening=True,
        data={"go_live": prefill.go_live, "tags": list(prefill.tags), "vendors": list(prefill.vendors),
              "regulations": list(prefill.regulations), "source": [source_channel, source_ts]},
    )
    notices.review_opened(session, settings=settings, review=review)
    return Opened(review, created=True)


def submit_intake(
    session: Session,
    *,
    settings: Settings,
    workspace_id: str,
    actor: Actor,
    key: str | int,
    form: IntakeForm,
    rules: intake.IntakeRules,
    now: datetime | None = None,
) -> Review:
    """Records the intake answers (owner or reviewer); answering a request for info puts it back in review."""
    now = now or utcnow()
    workspace, review = _load_for_change(session, workspace_id, key)
    _require(_is_owner(actor, review) or actor.may_review, "refused.owner_or_reviewer", key=review.key,
             owner=review.owner_id)
    _require_state(review, OPEN_STATES, "intake")
    title = _clean(form.title, MAX_TITLE)
    if not title:
        raise InvalidInput("error.title_required", field="title")
    if form.go_live is not None and form.go_live < now.astimezone(settings.timezone).date():
        raise InvalidInput("error.go_live_past", field="go_live")
    assessment = intake.score_risk(form.answers, rules)
    context_text = " ".join([review.announcement_text, form.summary, form.answers.third_parties])
    regulations = sorted(
        set(intake.derive_regulations(form.answers, text=context_text, rules=rules))
    )
    before = {"title": review.title, "owner": review.owner_id, "go_live": review.go_live,
              "risk_tier": review.risk_tier}
    review.title = title
    review.summary = _clean(form.summary, MAX_TEXT)
    review.owner_id = form.owner_id or review.owner_id
    review.go_live = form.go_live
    review.answers = _answers_dict(form.answers)
    review.links = _clean(form.links, 1000)
    review.risk_score = assessment.score
    review.risk_tier = assessment.tier
    review.risk_reasons = [{"code": r.code, "points": r.points} for r in assessment.reasons]
    review.regulations = regulations
    to_state = State.IN_REVIEW if review.state == State.NEEDS_INFO else None
    _transition(
        session, workspace=workspace, review=review, actor=actor, action="intake_submitted",
        to_state=to_state, now=now,
        data={"before": before, "risk_score": assessment.score, "risk_tier": assessment.tier,
              "regulations": regulations, "answers": review.answers},
    )
    if to_state is not None:
        notices.info_answered(session, settings=settings, review=review, actor_id=actor.user_id)
    if settings.secreview_fast_track_auto and assessment.tier == "low":
        _decide(session, settings=settings, workspace=workspace, review=review, actor=SYSTEM,
                form=_fast_track_form(review), now=now, fast_track=True)
    else:
        notices.card_changed(session, settings=settings, review=review)
    return review


def _answers_dict(answers: intake.IntakeAnswers) -> dict[str, Any]:
    return {
        "data_classification": answers.data_classification,
        "sensitive_data": sorted(answers.sensitive_data),
        "exposure": answers.exposure,
        "hosting": answers.hosting,
        "third_parties": answers.third_parties,
        "uses_ai": answers.uses_ai,
        "changes_auth": answers.changes_auth,
    }


def take(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int,
    now: datetime | None = None,
) -> Review:
    """A reviewer takes the review: assigned to them, and in review."""
    return assign(session, settings=settings, workspace_id=workspace_id, actor=actor, key=key,
                  assignee_id=actor.user_id, assignee_is_reviewer=True, now=now)


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
    _require(actor.may_review, "refused.reviewer_only", action="assign reviews")
    if not assignee_is_reviewer:
        raise InvalidInput("error.assignee_not_reviewer", user=assignee_id)
    workspace, review = _load_for_change(session, workspace_id, key)
    _require_state(review, OPEN_STATES, "assign")
    previous = review.assignee_id
    review.assignee_id = assignee_id
    _first_response(review, now)
    to_state = State.IN_REVIEW if review.state == State.ANNOUNCED else None
    action = "taken" if assignee_id == actor.user_id else "assigned"
    _transition(session, workspace=workspace, review=review, actor=actor, action=action, to_state=to_state,
                now=now, data={"assignee": assignee_id, "previous_assignee": previous})
    notices.card_changed(session, settings=settings, review=review)
    if assignee_id != actor.user_id:
        notices.assigned(session, settings=settings, review=review, actor_id=actor.user_id)
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
    _require(actor.may_review, "refused.reviewer_only", action="ask for information")
    question = _required(question, "error.question_required", "question")
    workspace, review = _load_for_change(session, workspace_id, key)
    _require_state(review, OPEN_STATES, "ask_info")
    _first_response(review, now)
    review.info_requested_at = now
    if review.assignee_id is None:
        review.assignee_id = actor.user_id
    _transition(session, workspace=workspace, review=review, actor=actor, action="info_requested",
                to_state=State.NEEDS_INFO, now=now, note=question)
    notices.info_requested(session, settings=settings, review=review, actor_id=actor.user_id, question=question)
    return review


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
    _require(actor.may_review, "refused.reviewer_only", action="decide reviews")
    workspace, review = _load_for_change(session, workspace_id, key)
    return _decide(session, settings=settings, workspace=workspace, review=review, actor=actor, form=form,
                   now=now)


def fast_track(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int,
    now: datetime | None = None,
) -> Decision:
    """One-click approval of a low-risk review with the standard conditions."""
    now = now or utcnow()
    _require(actor.may_review, "refused.reviewer_only", action="approve reviews")
    workspace, review = _load_for_change(session, workspace_id, key)
    if review.risk_tier != "low":
        raise InvalidTransition("error.fast_track_not_low", key=review.key, tier=review.risk_tier or "unscored")
    return _decide(session, settings=settings, workspace=workspace, review=review, actor=actor,
                   form=_fast_track_form(review), now=now, fast_track=True)


def _fast_track_form(review: Review) -> DecisionForm:
    conditions = tuple(messages.standard_conditions())
    outcome = Outcome.APPROVED_WITH_CONDITIONS if conditions else Outcome.APPROVED
    return DecisionForm(outcome=outcome, rationale=render.raw_message("review.fast_track_rationale"),
                        conditions=conditions)


def _decide(
    session: Session,
    *,
    settings: Settings,
    workspace: Workspace,
    review: Review,
    actor: Actor,
    form: DecisionForm,
    now: datetime,
    fast_track: bool = False,
) -> Decision:
    _require_state(review, OPEN_STATES, "decide")
    try:
        outcome = Outcome(form.outcome)
    except ValueError:
        raise InvalidInput("error.bad_outcome", field="outcome", text=str(form.outcome)[:40]) from None
    rationale = _clean(form.rationale, MAX_TEXT)
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
    _first_response(review, now)
    _transition(
        session, workspace=workspace, review=review, actor=actor, action="decided", to_state=outcome, now=now,
        note=rationale,
        data={"outcome": outcome, "conditions": conditions, "risk_tier": decision.risk_tier,
              "regulations": decision.regulations, "cost_avoided": cost, "currency": decision.currency,
              "fast_track": fast_track},
    )
    notices.decided(session, settings=settings, review=review, decision=decision)
    return decision


def withdraw(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int, reason: str = "",
    now: datetime | None = None,
) -> Review:
    """The owner (or a reviewer) withdraws an open review."""
    now = now or utcnow()
    workspace, review = _load_for_change(session, workspace_id, key)
    _require(_is_owner(actor, review) or actor.may_review, "refused.owner_or_reviewer", key=review.key,
             owner=review.owner_id)
    _require_state(review, OPEN_STATES, "withdraw")
    _transition(session, workspace=workspace, review=review, actor=actor, action="withdrawn",
                to_state=State.WITHDRAWN, now=now, note=_clean(reason, MAX_TEXT))
    notices.closed(session, settings=settings, review=review, actor_id=actor.user_id)
    return review


def mark_not_applicable(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int, reason: str = "",
    now: datetime | None = None,
) -> Review:
    """A reviewer closes an open review that is not a project."""
    now = now or utcnow()
    _require(actor.may_review, "refused.reviewer_only", action="close reviews as not a project")
    workspace, review = _load_for_change(session, workspace_id, key)
    _require_state(review, OPEN_STATES, "not_applicable")
    _first_response(review, now)
    _transition(session, workspace=workspace, review=review, actor=actor, action="not_applicable",
                to_state=State.NOT_APPLICABLE, now=now, note=_clean(reason, MAX_TEXT))
    notices.closed(session, settings=settings, review=review, actor_id=actor.user_id)
    return review


def reopen(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, key: str | int, reason: str,
    now: datetime | None = None,
) -> Review:
    """A reviewer reopens a decided review, with a reason; it goes back to in_review."""
    now = now or utcnow()
    _require(actor.may_review, "refused.reviewer_only", action="reopen reviews")
    reason = _required(reason, "error.reason_required", "reason")
    workspace, review = _load_for_change(session, workspace_id, key)
    _require_state(review, DECIDED_STATES, "reopen")
    review.decided_at = None
    review.due_at = add_business_days(now, settings.secreview_sla_days, settings.timezone)
    _transition(session, workspace=workspace, review=review, actor=actor, action="reopened",
                to_state=State.IN_REVIEW, now=now, note=reason)
    notices.reopened(session, settings=settings, review=review, actor_id=actor.user_id, reason=reason)
    return review


def complete_condition(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, condition_id: int,
    now: datetime | None = None,
) -> Condition:
    """The condition's owner (or a reviewer) marks a safeguard done."""
    now = now or utcnow()
    workspace, review, condition = _load_condition(session, workspace_id, condition_id)
    _require(actor.user_id == condition.owner_id or actor.may_review, "refused.condition_owner",
             owner=condition.owner_id)
    return _close_condition(session, settings=settings, workspace=workspace, review=review, condition=condition,
                            actor=actor, state=ConditionState.DONE, reason="", now=now)


def waive_condition(
    session: Session, *, settings: Settings, workspace_id: str, actor: Actor, condition_id: int, reason: str,
    now: datetime | None = None,
) -> Condition:
    """A reviewer waives a safeguard, with a reason."""
    now = now or utcnow()
    _require(actor.may_review, "refused.reviewer_only", action="waive conditions")
    reason = _required(reason, "error.reason_required", "reason")
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
    _transition(session, workspace=workspace, review=review, actor=actor, action=f"condition_{state}",
                to_state=None, now=now, note=reason, data={"condition_id": condition.id, "text": condition.text})
    notices.card_changed(session, settings=settings, review=review)
    return condition


def update_announcement(
    session: Session, *, settings: Settings, detector: intake.Detector, workspace_id: str, channel: str, ts: str,
    new_text: str, editor_id: str, now: datetime | None = None,
) -> Review | None:
    """An edited announcement updates the review while it is still `announced`; later edits are only logged."""
    now = now or utcnow()
    workspace = lock_workspace(session, workspace_id)
    review = _by_message(session, workspace_id, channel, ts)
    if review is None:
        return None
    new_text = _clean(new_text, MAX_TEXT)
    applied = review.state == State.ANNOUNCED
    if applied:
        prefill = detector.prefill(new_text, today=now.astimezone(settings.timezone).date())
        review.announcement_text = new_text
        review.title = prefill.title or review.title
        review.go_live = prefill.go_live or review.go_live
        review.tags = list(prefill.tags)
        review.vendors = list(prefill.vendors)
        review.regulations = sorted(set(review.regulations) | set(prefill.regulations))
    _transition(session, workspace=workspace, review=review, actor=Actor(editor_id), action="announcement_edited",
                to_state=None, now=now, note=new_text, data={"applied": applied})
    if applied:
        notices.card_changed(session, settings=settings, review=review)
    return review


def note_deleted(
    session: Session, *, settings: Settings, workspace_id: str, channel: str, ts: str, now: datetime | None = None,
) -> Review | None:
    """A deleted announcement is noted in the log; the review itself carries on."""
    now = now or utcnow()
    workspace = lock_workspace(session, workspace_id)
    review = _by_message(session, workspace_id, channel, ts)
    if review is None or review.deleted_in_slack:
        return review
    review.deleted_in_slack = True
    _transition(session, workspace=workspace, review=review, actor=Actor(SYSTEM_USER), action="announcement_deleted",
                to_state=None, now=now)
    return review


def _by_message(session: Session, workspace_id: str, channel: str, ts: str) -> Review | None:
    return session.scalars(
        select(Review).where(Review.workspace_id == workspace_id, Review.source_channel == channel,
                             Review.source_ts == ts).execution_options(populate_existing=True)
    ).first()


def is_overdue(review: Review, now: datetime) -> bool:
    """An open review past its SLA due date."""
    return review.state in OPEN_STATES and review.due_at < now


def approved(review: Review) -> bool:
    """Approved, with or without conditions."""
    return review.state in APPROVED_STATES


def now_utc() -> datetime:
    """The current instant (a seam for tests)."""
    return datetime.now(UTC)
