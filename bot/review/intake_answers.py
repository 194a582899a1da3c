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
from bot.common import render
from bot.config import USER_ID, Settings
from bot.review import notices
from bot.review.decisions import fast_track_form, record_decision
from bot.review.errors import InvalidInput
from bot.review.lifecycle import (
    MAX_TEXT,
    MAX_TITLE,
    SYSTEM,
    Actor,
    clean,
    clean_name,
    is_owner,
    load_for_change,
    require,
    require_state,
    transition,
)
from bot.review.states import OPEN_STATES, RISK_TIERS, State
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
    if form.owner_id and not USER_ID.fullmatch(form.owner_id):
        raise InvalidInput("error.bad_owner", field="owner")
    title = clean_name(form.title, MAX_TITLE)
    if not title:
        raise InvalidInput("error.title_required", field="title")
    if form.go_live is not None and form.go_live < now.astimezone(settings.timezone).date():
        raise InvalidInput("error.go_live_past", field="go_live")
    answers = form.answers.as_answers() if isinstance(form.answers, intake.IntakeAnswers) else dict(form.answers)
    # Names typed into text answers (vendors, partners) reach Slack: no character may make one pass for another.
    answers = {qid: clean_name(value, MAX_TEXT) if isinstance(value, str) else value for qid, value in answers.items()}
    assessment = intake.score_risk(answers, rules)
    # derive_regulations also reads the text answers the questionnaire marks (third parties, ...).
    context_text = " ".join([review.announcement_text, form.summary])
    regulations = sorted(set(intake.derive_regulations(answers, text=context_text, rules=rules)))
    # The automatic fast track is for a review nobody looked at yet, on its first answers: once a reviewer took
    # it, assigned it, asked a question or decided, lowering the answers must not approve it behind their back.
    first_untouched_intake = (review.answers is None and review.state == State.ANNOUNCED
                              and review.assignee_id is None and review.first_response_at is None
                              and not review.decisions)
    # Both sets of answers stay in the history: the audit event keeps the earlier ones under "before".
    before = {"title": review.title, "owner": review.owner_id, "go_live": review.go_live,
              "risk_tier": review.risk_tier, "risk_score": review.risk_score, "answers": review.answers}
    first = review.answers is None
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
        # "intake": what the owner set that an edited announcement must not overwrite (bot/review/edits.py).
        data={"before": before, "intake": {"title": review.title, "go_live": review.go_live},
              "risk_score": assessment.score, "risk_tier": assessment.tier,
              "regulations": regulations, "answers": review.answers,
              "questionnaire": review.questionnaire_digest},
    )
    notices.intake_submitted(session, settings=settings, review=review, actor_id=actor.user_id,
                             first=first, answered_question=to_state is not None)
    if review.owner_id not in (before["owner"], actor.user_id):
        notices.owner_named(session, review=review, actor_id=actor.user_id)
    if _lowered(before["risk_tier"], assessment.tier) and not actor.may_review:
        notices.risk_lowered(session, settings=settings, review=review, actor_id=actor.user_id,
                             before=str(before["risk_tier"]),
                             changes=answer_changes(rules.questionnaire, before["answers"], review.answers))
    if settings.secreview_fast_track_auto and assessment.tier == "low" and first_untouched_intake:
        record_decision(session, settings=settings, workspace=workspace, review=review, actor=SYSTEM,
                        form=fast_track_form(review), now=now, fast_track=True)
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


def _lowered(before: object, after: str) -> bool:
    return before in RISK_TIERS and RISK_TIERS.index(str(before)) > RISK_TIERS.index(after)


def answer_changes(questionnaire: intake.Questionnaire, before: dict[str, Any] | None,
                   after: dict[str, Any] | None) -> str:
    """What changed between two sets of answers, in the questionnaire's words: "Who can reach it? Internet-facing →
    Internal only; …"."""
    before, after = before or {}, after or {}
    changes = [
        f"{_asked(question.label)}{_shown(question, before.get(question.id))} → "
        f"{_shown(question, after.get(question.id))}"
        for question in questionnaire.questions
        if not question.is_core and before.get(question.id) != after.get(question.id)
    ]
    return "; ".join(changes) or render.raw_message("alert.no_changes")


def _asked(label: str) -> str:
    # "Who can reach it? Internet-facing", "Exposure: Internet-facing": as /secreview show puts them.
    return f"{label} " if label.rstrip().endswith(("?", ":")) else f"{label}: "


def _shown(question: intake.Question, value: Any) -> str:
    if isinstance(value, bool):
        return render.raw_message(f"detail.answer.{'yes' if value else 'no'}")
    if question.type == "text":
        return f"“{clean(str(value or ''), 80)}”" if value else render.raw_message("detail.answer.none")
    values = value if isinstance(value, list) else [value] if value else []
    labels = [choice.label if (choice := question.choice(str(v))) else str(v) for v in values]
    return ", ".join(labels) or render.raw_message("detail.answer.none")
