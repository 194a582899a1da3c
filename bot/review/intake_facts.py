"""A review's answers as people read them: each question in its questionnaire's words, with the answer's label.

Used by `/secreview show` and by export, with the questionnaire the review was answered with
(intake_answers.questionnaire_of), so a later change of the questionnaire file never rewords an old review.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import intake
from bot.common import render
from bot.intake import Question, Questionnaire
from storage.models import Review


def answer_facts(answers: Mapping[str, Any], questionnaire: Questionnaire | None) -> list[dict[str, Any]]:
    """The answers kept with a review as (question, shown answer) pairs, in the questionnaire's order.

    Option values become their labels; answers to questions the questionnaire does not know (an older
    version) are shown by their id, so nothing on record is hidden.
    """
    questionnaire = questionnaire or intake.DEFAULT_QUESTIONNAIRE
    facts: list[dict[str, Any]] = []
    known = {q.id for q in questionnaire.scored}
    for question in questionnaire.scored:
        if question.id in answers:
            facts.append(_fact(question, answers[question.id]))
    for key, value in answers.items():
        if key not in known:
            facts.append({"id": key, "question": key.replace("_", " "), "answer": _plain(value)})
    return [f for f in facts if f["answer"] != ""]


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return render.raw_message("detail.answer.yes" if value else "detail.answer.no")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or render.raw_message("detail.answer.none")
    return "" if value is None else str(value)


def _fact(question: Question, value: object) -> dict[str, Any]:
    if question.type in ("single_choice", "multiple_choice"):
        values = value if isinstance(value, list | tuple) else [value] if value is not None else []
        labels = [c.label if (c := question.choice(str(v))) else str(v) for v in values]
        shown = ", ".join(labels) if labels else (render.raw_message("detail.answer.none")
                                                  if question.type == "multiple_choice" else "")
    else:
        shown = _plain(value)
    return {"id": question.id, "question": question.label, "answer": shown}


def questions_with_answers(review: Review, questionnaire: Questionnaire | None) -> list[dict[str, Any]]:
    """Every question the review was asked, with its answer: the core fields from the review, the rest from its
    answers (for export)."""
    questionnaire = questionnaire or intake.DEFAULT_QUESTIONNAIRE
    core: dict[str, Any] = {"title": review.title, "summary": review.summary, "owner": review.owner_id,
                            "go_live": review.go_live.isoformat() if review.go_live else "", "links": review.links}
    answers = review.answers or {}
    rows: list[dict[str, Any]] = []
    for question in questionnaire.questions:
        if question.is_core:
            rows.append({"id": question.id, "question": question.label, "answer": str(core.get(question.id) or "")})
        elif question.id in answers:
            rows.append(_fact(question, answers[question.id]))
    rows += [f for f in answer_facts(answers, questionnaire) if questionnaire.get(f["id"]) is None]
    return rows
