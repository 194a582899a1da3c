"""The intake modal and the answers on a review, driven by the questionnaire; words in templates/.

A questionnaire longer than PAGE_QUESTIONS questions is asked in pages: each page is one modal view (well inside
Block Kit's 100 blocks), submitted with "Next" and replaced by the following page; the last one says "Submit".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot import intake
from bot.common import render
from bot.common.ids import ActionId, BlockId, CallbackId
from bot.intake import Question, Questionnaire
from bot.review.intake_facts import answer_facts, questions_with_answers
from storage.models import Review

__all__ = ["answer_facts", "first_block", "intake_initial", "intake_modal", "pages", "questions_with_answers"]

# Questions per modal page: each is one input block; with the context lines a page stays far below 100 blocks.
PAGE_QUESTIONS = 40
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{1,31}\Z")


def pages(questionnaire: Questionnaire) -> list[tuple[Question, ...]]:
    """The questionnaire's questions, page by page (one page for up to PAGE_QUESTIONS questions)."""
    questions = questionnaire.questions
    return [questions[i : i + PAGE_QUESTIONS] for i in range(0, len(questions), PAGE_QUESTIONS)] or [()]


def _option(question: Question, value: object) -> str | None:
    """An answer as one of the question's option values, else None (Slack refuses an initial option not listed)."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    text = str(value) if value is not None else None
    return text if text in question.values else None


def _answer_initial(question: Question, value: object, answered: bool) -> Any:
    """What the modal shows for an answer on record."""
    if question.type in ("single_choice", "yes_no"):
        return _option(question, value)
    if question.type == "multiple_choice":
        held = {str(v) for v in value} if isinstance(value, list | tuple) else set()
        chosen = [c.value for c in question.choices if c.value in held and not c.exclusive]
        exclusive = [c.value for c in question.choices if c.exclusive]
        # Answered with nothing ticked: "none of these" is what the owner said.
        return chosen or (exclusive[:1] if answered and isinstance(value, list | tuple) else [])
    if question.type == "date":
        try:
            return date.fromisoformat(str(value)) if value else None
        except ValueError:
            return None
    if question.type == "user":
        return value if isinstance(value, str) and _USER_ID_RE.match(value) else None
    return value if isinstance(value, str) else ""


def intake_initial(review: Review | None, *, today: date,
                   questionnaire: Questionnaire = intake.DEFAULT_QUESTIONNAIRE,
                   draft: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The modal's initial values by question id: answers on record (or of earlier pages), else the pre-fill."""
    initial: dict[str, Any] = {"go_live_passed": None}
    answers = (review.answers if review is not None else None) or {}
    for question in questionnaire.questions:
        if draft is not None and question.id in draft:
            initial[question.id] = _answer_initial(question, draft[question.id], True)
        elif question.id in ("title", "summary", "owner", "go_live", "links"):
            initial[question.id] = _core_initial(question.id, review, today, initial)
        elif question.id in answers:
            initial[question.id] = _answer_initial(question, answers[question.id], True)
        elif question.prefill == "vendors" and review is not None:
            initial[question.id] = ", ".join(review.vendors or [])
        else:
            initial[question.id] = _answer_initial(question, None, False)
    return initial


def _core_initial(name: str, review: Review | None, today: date, initial: dict[str, Any]) -> Any:
    if review is None:
        return None if name in ("owner", "go_live") else ""
    if name == "title":
        return review.title or ""
    if name == "summary":
        return review.summary or review.announcement_text or ""
    if name == "owner":
        return review.owner_id or None
    if name == "links":
        return review.links or ""
    # A date already past would only earn the owner an error on submit; ask for the new date instead.
    go_live = review.go_live
    if go_live is not None and go_live < today:
        initial["go_live_passed"] = go_live
        return None
    return go_live


def intake_modal(*, review: Review | None, private_metadata: str, today: date,
                 questionnaire: Questionnaire | None = None, page: int = 0,
                 draft: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The intake questionnaire (callback INTAKE), one page: pre-filled, or the answers on record when edited."""
    questionnaire = questionnaire or intake.DEFAULT_QUESTIONNAIRE
    all_pages = pages(questionnaire)
    page = max(0, min(page, len(all_pages) - 1))
    # A draft for `/secreview new` has no number yet (None, or 0 as the handler builds it): no key to show.
    has_key = review is not None and bool(getattr(review, "number", None))
    return render.render_json(
        "intake_modal",
        ids={"action": ActionId, "block": BlockId, "callback": CallbackId},
        review=review,
        has_key=has_key,
        private_metadata=private_metadata,
        initial=intake_initial(review, today=today, questionnaire=questionnaire, draft=draft),
        questions=all_pages[page],
        page=page + 1,
        page_count=len(all_pages),
        inline_max=intake.questionnaire.MAX_INLINE_OPTIONS,
    )


def first_block(questions: Sequence[Question]) -> str:
    """The block a form-wide error is shown on: the page's first question."""
    return questions[0].id if questions else BlockId.TITLE
