"""Every allowed and refused transition, every permission, and what each change records."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import intake
from bot.review import announcements, decisions, edits, intake_answers, lifecycle, safeguards, transitions
from bot.review.errors import AlreadyYours, InvalidInput, InvalidTransition, NotAllowed, NotFound
from bot.review.states import DECIDED_STATES, OPEN_STATES, State
from storage.models import AuditEvent, Condition, OutboxMessage, Review
from tests.support.builders import (
    ADMIN,
    LOW_ANSWERS,
    NOW,
    OWNER,
    REVIEWER,
    SECURITY_CHANNEL,
    STRANGER,
    WS,
    intake_form,
    make_settings,
    open_review,
)

SETTINGS = make_settings()
ALL_STATES = list(State)


def put_in_state(session: Session, state: State) -> Review:
    """A review brought to `state` through real transitions."""
    review = open_review(session, SETTINGS).review
    key = review.number
    common: dict[str, Any] = {"settings": SETTINGS, "workspace_id": WS, "key": key}
    if state == State.ANNOUNCED:
        return review
    if state == State.WITHDRAWN:
        return transitions.withdraw(session, actor=OWNER, **common)
    if state == State.NOT_APPLICABLE:
        return transitions.mark_not_applicable(session, actor=REVIEWER, **common)
    transitions.take(session, actor=REVIEWER, **common)
    if state == State.IN_REVIEW:
        return review
    if state == State.NEEDS_INFO:
        return transitions.request_info(session, actor=REVIEWER, question="Which data?", **common)
    outcome_forms = {
        State.APPROVED: decisions.DecisionForm(outcome="approved"),
        State.APPROVED_WITH_CONDITIONS: decisions.DecisionForm(outcome="approved_with_conditions",
                                                               rationale="ok with safeguards",
                                                               conditions=("MFA",)),
        State.REJECTED: decisions.DecisionForm(outcome="rejected", rationale="no EU hosting"),
    }
    decisions.decide(session, actor=REVIEWER, form=outcome_forms[state], **common)
    return review


def _intake(s: Session, actor: lifecycle.Actor, key: int) -> Any:
    return intake_answers.submit_intake(s, settings=SETTINGS, workspace_id=WS, actor=actor, key=key, form=intake_form(),
                                        rules=SETTINGS.intake_rules())


ACTIONS: dict[str, tuple[Callable[[Session, lifecycle.Actor, int], Any], frozenset[State]]] = {
    "intake": (_intake, OPEN_STATES),
    "take": (lambda s, a, k: transitions.take(s, settings=SETTINGS, workspace_id=WS, actor=a, key=k), OPEN_STATES),
    "assign": (lambda s, a, k: transitions.assign(s, settings=SETTINGS, workspace_id=WS, actor=a, key=k,
                                                  assignee_id=REVIEWER.user_id, assignee_is_reviewer=True),
               OPEN_STATES),
    "ask_info": (lambda s, a, k: transitions.request_info(s, settings=SETTINGS, workspace_id=WS, actor=a, key=k,
                                                          question="Where is the data hosted?"), OPEN_STATES),
    "decide": (lambda s, a, k: decisions.decide(s, settings=SETTINGS, workspace_id=WS, actor=a, key=k,
                                                form=decisions.DecisionForm(outcome="approved")), OPEN_STATES),
    "withdraw": (lambda s, a, k: transitions.withdraw(s, settings=SETTINGS, workspace_id=WS, actor=a, key=k),
                 OPEN_STATES),
    "not_applicable": (lambda s, a, k: transitions.mark_not_applicable(s, settings=SETTINGS, workspace_id=WS,
                                                                       actor=a, key=k), OPEN_STATES),
    "reopen": (lambda s, a, k: transitions.reopen(s, settings=SETTINGS, workspace_id=WS, actor=a, key=k,
                                                  reason="scope changed"), DECIDED_STATES),
}
EXPECTED_STATE = {
    "take": {State.ANNOUNCED: State.IN_REVIEW, State.IN_REVIEW: State.IN_REVIEW, State.NEEDS_INFO: State.NEEDS_INFO},
    "assign": {State.ANNOUNCED: State.IN_REVIEW, State.IN_REVIEW: State.IN_REVIEW,
               State.NEEDS_INFO: State.NEEDS_INFO},
    "intake": {State.ANNOUNCED: State.ANNOUNCED, State.IN_REVIEW: State.IN_REVIEW, State.NEEDS_INFO: State.IN_REVIEW},
    "ask_info": dict.fromkeys(OPEN_STATES, State.NEEDS_INFO),
    "decide": dict.fromkeys(OPEN_STATES, State.APPROVED),
    "withdraw": dict.fromkeys(OPEN_STATES, State.WITHDRAWN),
    "not_applicable": dict.fromkeys(OPEN_STATES, State.NOT_APPLICABLE),
    "reopen": dict.fromkeys(DECIDED_STATES, State.IN_REVIEW),
}


def _counts(session: Session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
@pytest.mark.parametrize("action", list(ACTIONS), ids=str)
def test_transition_table(session: Session, action: str, state: State) -> None:
    review = put_in_state(session, state)
    run, allowed = ACTIONS[action]
    before = _counts(session)
    if action in ("take", "assign") and review.assignee_id == REVIEWER.user_id and state in allowed:
        # Taking (or being given) what one has already changes nothing: said once, no audit row, no notice.
        with pytest.raises(AlreadyYours) as same:
            run(session, REVIEWER, review.number)
        assert "You already have" in same.value.user_message and _counts(session) == before
    elif state in allowed:
        run(session, REVIEWER, review.number)
        session.flush()
        assert review.state == EXPECTED_STATE[action][state]
        audit_after, _ = _counts(session)
        assert audit_after == before[0] + 1  # exactly one audit row per change
    else:
        with pytest.raises(InvalidTransition) as refused:
            run(session, REVIEWER, review.number)
        assert review.key in refused.value.user_message
        assert "cannot" in refused.value.user_message
        session.rollback()


ROLE_RULES = {
    # action: roles allowed (owner = the announcer who owns it; stranger = any other member)
    "intake": {"owner", "reviewer", "admin"},
    "take": {"reviewer", "admin"},
    "assign": {"reviewer", "admin"},
    "ask_info": {"reviewer", "admin"},
    "decide": {"reviewer", "admin"},
    "withdraw": {"owner", "reviewer", "admin"},
    "not_applicable": {"reviewer", "admin"},
}
ROLES = {"owner": OWNER, "stranger": STRANGER, "reviewer": REVIEWER, "admin": ADMIN}


@pytest.mark.parametrize("role", list(ROLES), ids=str)
@pytest.mark.parametrize("action", list(ROLE_RULES), ids=str)
def test_permissions(session: Session, action: str, role: str) -> None:
    # Taking and assigning are tried on a review nobody has yet (taking one's own changes nothing).
    review = put_in_state(session, State.ANNOUNCED if action in ("take", "assign") else State.IN_REVIEW)
    session.commit()
    before = _counts(session)
    run, _ = ACTIONS[action]
    if role in ROLE_RULES[action]:
        run(session, ROLES[role], review.number)
        session.commit()
    else:
        with pytest.raises(NotAllowed) as refused:
            run(session, ROLES[role], review.number)
        session.rollback()
        assert _counts(session) == before  # a refusal records nothing and sends nothing
        assert "may" in refused.value.user_message


def test_reopen_and_waive_need_reviewer(session: Session) -> None:
    review = put_in_state(session, State.APPROVED_WITH_CONDITIONS)
    with pytest.raises(NotAllowed):
        transitions.reopen(session, settings=SETTINGS, workspace_id=WS, actor=OWNER, key=review.number, reason="x")
    condition = review.conditions[0]
    with pytest.raises(NotAllowed):
        safeguards.waive_condition(session, settings=SETTINGS, workspace_id=WS, actor=OWNER,
                                   condition_id=condition.id, reason="x")
    with pytest.raises(NotAllowed) as refused:
        safeguards.complete_condition(session, settings=SETTINGS, workspace_id=WS, actor=STRANGER,
                                      condition_id=condition.id)
    assert OWNER.user_id in refused.value.user_message


def test_open_assigns_keys_per_workspace_and_never_reuses_them(session: Session) -> None:
    first = open_review(session, SETTINGS, ts="1.1").review
    second = open_review(session, SETTINGS, ts="1.2").review
    transitions.withdraw(session, settings=SETTINGS, workspace_id=WS, actor=OWNER, key=second.number)
    third = open_review(session, SETTINGS, ts="1.3").review
    other_ws = announcements.open_review(session, settings=SETTINGS, detector=intake.Detector(
        SETTINGS.intake_rules()), workspace_id="T0OTHER01", actor=OWNER, text="new project", source_channel="C1",
        source_ts="1.1")
    assert [first.key, second.key, third.key] == ["SR-1", "SR-2", "SR-3"]
    assert other_ws.review.key == "SR-1"


def test_same_message_opens_one_review(session: Session) -> None:
    first = open_review(session, SETTINGS, ts="5.5")
    again = open_review(session, SETTINGS, ts="5.5")
    assert first.created and not again.created
    assert again.review.id == first.review.id
    assert session.scalar(select(func.count()).select_from(Review)) == 1


def test_open_prefills_and_sets_sla(session: Session) -> None:
    review = open_review(session, SETTINGS, text="Kick-off: Salesforce rollout with customer personal data, "
                                                 "go-live 2027-04-15").review
    assert review.go_live is not None and review.go_live.isoformat() == "2027-04-15"
    assert review.state == State.ANNOUNCED
    # Monday 10:00 + 5 business days = next Monday 10:00; first response by Tuesday 10:00.
    assert review.due_at == NOW + timedelta(days=7)
    assert review.first_response_due == NOW + timedelta(days=1)
    thread, card = session.scalars(select(OutboxMessage).where(OutboxMessage.method == "chat.postMessage")
                                   .order_by(OutboxMessage.id)).all()
    assert thread.payload["thread_ts"] == review.source_ts and thread.payload["channel"] == review.source_channel
    assert card.payload["channel"] == SECURITY_CHANNEL and card.purpose == "card"


def test_decision_with_conditions_records_safeguards_and_notices(session: Session) -> None:
    review = put_in_state(session, State.IN_REVIEW)
    decision = decisions.decide(
        session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number,
        form=decisions.DecisionForm(outcome="approved_with_conditions", rationale="fine with controls",
                                    conditions=("SSO with MFA", "", "  DPA signed  "), cost_avoided="25 000"),
    )
    assert review.state == State.APPROVED_WITH_CONDITIONS
    assert [c.text for c in review.conditions] == ["SSO with MFA", "DPA signed"]
    assert all(c.owner_id == OWNER.user_id and c.due_date == review.go_live for c in review.conditions)
    assert str(decision.cost_avoided) == "25000.00"
    rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    told = [o.purpose for o in rows if o.purpose in ("thread_decision", "dm_decision", "dm_decided")]
    assert told == ["thread_decision", "dm_decision", "dm_decided"]  # the thread, the owner, the reviewer
    # Nothing was sent yet (one transaction): the card and the thread reply waiting to go are rendered again in
    # place, so they go out showing the decision, and no update chases them.
    card = next(o for o in rows if o.purpose == "card")
    assert "Approved with conditions" in json.dumps(card.payload) and "review-decide" not in json.dumps(card.payload)
    assert not [o for o in rows if o.method == "chat.update"]
    assert {o.payload["user_id"] for o in rows if o.purpose == "home"} >= {OWNER.user_id, REVIEWER.user_id}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (decisions.DecisionForm(outcome="rejected"), "rationale"),
        (decisions.DecisionForm(outcome="approved_with_conditions", rationale="x"), "conditions"),
        (decisions.DecisionForm(outcome="rejected", rationale="x", conditions=("a",)), "conditions"),
        (decisions.DecisionForm(outcome="maybe"), "outcome"),
        (decisions.DecisionForm(outcome="approved", cost_avoided="lots"), "cost_avoided"),
        (decisions.DecisionForm(outcome="approved", cost_avoided="-5"), "cost_avoided"),
        (decisions.DecisionForm(outcome="approved", risk_tier="extreme"), "risk_tier"),
    ],
)
def test_bad_decisions_are_refused_on_the_field(session: Session, form: decisions.DecisionForm, field: str) -> None:
    review = put_in_state(session, State.IN_REVIEW)
    with pytest.raises(InvalidInput) as refused:
        decisions.decide(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number, form=form)
    assert refused.value.field == field
    assert refused.value.plain_message


def test_plain_approval_with_conditions_becomes_conditional(session: Session) -> None:
    review = put_in_state(session, State.IN_REVIEW)
    decisions.decide(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number,
                     form=decisions.DecisionForm(outcome="approved", conditions=("MFA",)))
    assert review.state == State.APPROVED_WITH_CONDITIONS


def test_fast_track_only_for_low_risk(session: Session) -> None:
    review = put_in_state(session, State.IN_REVIEW)
    _intake(session, OWNER, review.number)
    assert review.risk_tier != "low"
    with pytest.raises(InvalidTransition):
        decisions.fast_track(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number)
    intake_answers.submit_intake(session, settings=SETTINGS, workspace_id=WS, actor=OWNER, key=review.number,
                                 form=intake_form(LOW_ANSWERS), rules=SETTINGS.intake_rules())
    assert review.risk_tier == "low"
    decision = decisions.fast_track(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number)
    assert decision.fast_track and review.state == State.APPROVED_WITH_CONDITIONS
    assert len(review.conditions) >= 1


def test_auto_fast_track_when_configured(session: Session) -> None:
    settings = make_settings(secreview_fast_track_auto=True)
    review = open_review(session, settings).review
    intake_answers.submit_intake(session, settings=settings, workspace_id=WS, actor=OWNER, key=review.number,
                                 form=intake_form(LOW_ANSWERS), rules=settings.intake_rules())
    assert review.state == State.APPROVED_WITH_CONDITIONS
    assert review.latest_decision is not None and review.latest_decision.decided_by == lifecycle.SYSTEM_USER


def test_intake_scores_risk_and_derives_regulations(session: Session) -> None:
    review = put_in_state(session, State.NEEDS_INFO)
    _intake(session, OWNER, review.number)
    assert review.state == State.IN_REVIEW  # answering the question puts it back in review
    assert review.risk_score and review.risk_tier in ("medium", "high", "critical")
    assert "GDPR" in review.regulations
    assert any(r["code"] for r in review.risk_reasons)


def test_intake_refuses_past_go_live_and_empty_title(session: Session) -> None:
    review = put_in_state(session, State.IN_REVIEW)
    for form, field in ((intake_form(title="  "), "title"), (intake_form(go_live=NOW.date() - timedelta(days=1)),
                                                              "go_live")):
        with pytest.raises(InvalidInput) as refused:
            intake_answers.submit_intake(session, settings=SETTINGS, workspace_id=WS, actor=OWNER, key=review.number,
                                         form=form, rules=SETTINGS.intake_rules(), now=NOW)
        assert refused.value.field == field


def test_conditions_done_and_waived(session: Session) -> None:
    review = put_in_state(session, State.APPROVED_WITH_CONDITIONS)
    condition = review.conditions[0]
    safeguards.complete_condition(session, settings=SETTINGS, workspace_id=WS, actor=OWNER, condition_id=condition.id)
    assert condition.state == "done" and condition.closed_by == OWNER.user_id
    with pytest.raises(InvalidTransition):
        safeguards.waive_condition(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER,
                                   condition_id=condition.id, reason="x")
    with pytest.raises(InvalidInput):
        safeguards.waive_condition(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER,
                                   condition_id=condition.id, reason=" ")
    with pytest.raises(NotFound):
        safeguards.complete_condition(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, condition_id=999)


def test_reopen_needs_reason_and_resets_decision(session: Session) -> None:
    review = put_in_state(session, State.REJECTED)
    with pytest.raises(InvalidInput):
        transitions.reopen(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number, reason="")
    transitions.reopen(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number,
                       reason="new vendor offers EU hosting")
    assert review.state == State.IN_REVIEW and review.decided_at is None
    events = session.scalars(select(AuditEvent).where(AuditEvent.review_id == review.id)
                             .order_by(AuditEvent.seq)).all()
    assert events[-1].action == "reopened" and events[-1].note == "new vendor offers EU hosting"
    assert (events[-1].from_state, events[-1].to_state) == ("rejected", "in_review")


def test_unknown_key_and_bad_key(session: Session) -> None:
    with pytest.raises(NotFound) as missing:
        transitions.take(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key="SR-404")
    assert "SR-404" in missing.value.user_message
    with pytest.raises(InvalidInput):
        transitions.take(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key="banana")


def test_edits_follow_the_text_at_every_stage_and_an_identical_one_is_not_logged(session: Session) -> None:
    review = open_review(session, SETTINGS, ts="9.9").review
    detector = intake.Detector(SETTINGS.intake_rules())

    def edit(text: str) -> None:
        edits.update_announcement(session, settings=SETTINGS, detector=detector, workspace_id=WS,
                                  channel=review.source_channel or "", ts="9.9", new_text=text,
                                  editor_id=OWNER.user_id)

    edit("New project: payroll")
    assert review.announcement_text == "New project: payroll"
    edit("  New project: payroll  ")  # the same words (an unfurl): nothing logged
    transitions.take(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number)
    edit("New project: payroll moves to Workday")
    assert review.announcement_text == "New project: payroll moves to Workday" and "Workday" in review.vendors
    edits.note_deleted(session, settings=SETTINGS, workspace_id=WS, channel=review.source_channel or "", ts="9.9")
    assert review.deleted_in_slack
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.review_id == review.id)
                                                 .order_by(AuditEvent.seq))]
    assert actions == ["announced", "announcement_edited", "taken", "announcement_edited", "announcement_deleted"]


def test_assign_only_to_reviewers(session: Session) -> None:
    review = put_in_state(session, State.ANNOUNCED)
    with pytest.raises(InvalidInput):
        transitions.assign(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number,
                           assignee_id=STRANGER.user_id, assignee_is_reviewer=False)
    transitions.assign(session, settings=SETTINGS, workspace_id=WS, actor=REVIEWER, key=review.number,
                       assignee_id=ADMIN.user_id, assignee_is_reviewer=True)
    assert review.assignee_id == ADMIN.user_id and review.first_response_at is not None
    dm = session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "assigned")).one()
    assert dm.payload["channel"] == ADMIN.user_id


def test_condition_count_matches_decision(session: Session) -> None:
    put_in_state(session, State.APPROVED_WITH_CONDITIONS)
    assert session.scalar(select(func.count()).select_from(Condition)) == 1
