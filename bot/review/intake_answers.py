"""The intake questionnaire: the owner's (or a reviewer's) answers recorded and scored on a review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import intake
from bot.config import Settings
from bot.review import notices
from bot.review.decisions import fast_track_form, record_decision
from bot.review.errors import InvalidInput
from bot.review.lifecycle import (
    MAX_TEXT,
    MAX_TITLE,
    SYSTEM,
    Actor,
    clean,
    is_owner,
    load_for_change,
    require,
    require_state,
    transition,
)
from bot.review.states import OPEN_STATES, State
from storage.models import Review, utcnow


@dataclass(frozen=True)
class IntakeForm:
    """The intake questionnaire as submitted (already parsed; validated here)."""

    title: str
    summary: str
    owner_id: str
    go_live: date | None
    answers: intake.IntakeAnswers
    links: str = ""


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
    workspace, review = load_for_change(session, workspace_id, key)
    require(is_owner(actor, review) or actor.may_review, "refused.owner_or_reviewer", key=review.key,
            owner=review.owner_id)
    require_state(review, OPEN_STATES, "intake")
    title = clean(form.title, MAX_TITLE)
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
    first = review.answers is None
    review.title = title
    review.summary = clean(form.summary, MAX_TEXT)
    review.owner_id = form.owner_id or review.owner_id
    review.go_live = form.go_live
    review.answers = _answers_dict(form.answers)
    review.links = clean(form.links, 1000)
    review.risk_score = assessment.score
    review.risk_tier = assessment.tier
    review.risk_reasons = [{"code": r.code, "points": r.points} for r in assessment.reasons]
    review.regulations = regulations
    to_state = State.IN_REVIEW if review.state == State.NEEDS_INFO else None
    transition(
        session, workspace=workspace, review=review, actor=actor, action="intake_submitted",
        to_state=to_state, now=now,
        data={"before": before, "risk_score": assessment.score, "risk_tier": assessment.tier,
              "regulations": regulations, "answers": review.answers},
    )
    notices.intake_submitted(session, settings=settings, review=review, actor_id=actor.user_id,
                             first=first, answered_question=to_state is not None)
    if settings.secreview_fast_track_auto and assessment.tier == "low":
        record_decision(session, settings=settings, workspace=workspace, review=review, actor=SYSTEM,
                        form=fast_track_form(review), now=now, fast_track=True)
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
