"""The intake questionnaire: the owner's (or a reviewer's) answers recorded and scored on a review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
from storage.models import QuestionnaireVersion, Review, utcnow


@dataclass(frozen=True)
class IntakeForm:
    """The intake questionnaire as submitted (already parsed; validated here).

    `answers` are keyed by question id (every question but title, summary, owner, go-live and links), as
    intake.parse_questionnaire_answers() returns them; the shipped questionnaire's IntakeAnswers work too.
    """

    title: str
    summary: str
    owner_id: str
    go_live: date | None
    answers: Mapping[str, Any] | intake.IntakeAnswers
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
    answers = form.answers.as_answers() if isinstance(form.answers, intake.IntakeAnswers) else dict(form.answers)
    assessment = intake.score_risk(answers, rules)
    # derive_regulations also reads the text answers the questionnaire marks (third parties, ...).
    context_text = " ".join([review.announcement_text, form.summary])
    regulations = sorted(set(intake.derive_regulations(answers, text=context_text, rules=rules)))
    before = {"title": review.title, "owner": review.owner_id, "go_live": review.go_live,
              "risk_tier": review.risk_tier}
    review.title = title
    review.summary = clean(form.summary, MAX_TEXT)
    review.owner_id = form.owner_id or review.owner_id
    review.go_live = form.go_live
    review.answers = answers
    review.questionnaire_digest = record_questionnaire(session, rules.questionnaire, now=now)
    review.links = clean(form.links, 1000)
    review.risk_score = assessment.score
    review.risk_tier = assessment.tier
    # The words are kept with the points, so the card says what the questionnaire said when it was scored.
    review.risk_reasons = [{"code": r.code, "points": r.points, "label": r.label} for r in assessment.reasons]
    review.regulations = regulations
    to_state = State.IN_REVIEW if review.state == State.NEEDS_INFO else None
    transition(
        session, workspace=workspace, review=review, actor=actor, action="intake_submitted",
        to_state=to_state, now=now,
        data={"before": before, "risk_score": assessment.score, "risk_tier": assessment.tier,
              "regulations": regulations, "answers": review.answers,
              "questionnaire": review.questionnaire_digest},
    )
    if to_state is not None:
        notices.info_answered(session, settings=settings, review=review, actor_id=actor.user_id)
    if settings.secreview_fast_track_auto and assessment.tier == "low":
        record_decision(session, settings=settings, workspace=workspace, review=review, actor=SYSTEM,
                        form=fast_track_form(review), now=now, fast_track=True)
    else:
        notices.card_changed(session, settings=settings, review=review)
    return review


def record_questionnaire(session: Session, questionnaire: intake.Questionnaire, *, now: datetime | None = None) -> str:
    """Stores the questionnaire's definition once per digest (never changed after); returns the digest."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(QuestionnaireVersion)
        .values(digest=questionnaire.digest, version=questionnaire.version, definition=questionnaire.to_dict(),
                first_used_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["digest"])
    )
    return questionnaire.digest


def questionnaire_of(session: Session, review: Review) -> intake.Questionnaire | None:
    """The questionnaire the review was answered with; None before versions were kept (or never answered)."""
    if not review.questionnaire_digest:
        return None
    stored = session.get(QuestionnaireVersion, review.questionnaire_digest)
    return intake.questionnaire_from_dict(stored.definition) if stored is not None else None
