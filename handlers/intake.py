"""The intake modal: opening it (for a review, a new project or a message) and recording its pages.

The questions are the configured questionnaire's (services.rules.questionnaire). A long questionnaire is asked
in pages: "Next" checks the page, keeps its answers as a draft and replaces the modal with the next page; the
last page records everything in one transaction. The modal carries the questionnaire's digest, so a form opened
before the questionnaire changed is refused as out of date rather than recorded against the wrong questions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import intake
from bot.common.ids import CallbackId
from bot.intake import Question, Questionnaire
from bot.review import announcements, intake_answers, intake_drafts, lifecycle
from bot.review.errors import DomainError, InvalidInput, InvalidTransition, NotAllowed
from bot.review.states import OPEN_STATES
from bot.slack import intake_views
from handlers.common import actor_of, read_metadata, services_of, workspace_of
from handlers.modals import Submission, _element, _errors, _unavailable
from storage.models import Review, utcnow

log = logging.getLogger(__name__)

METADATA_MAX = 2900  # Slack keeps at most 3000 characters of private_metadata
SOURCE_TEXT_MAX = 2000


def _metadata(**values: Any) -> str:
    """private_metadata as compact JSON; a source message's text is cut until the whole fits Slack's limit."""
    text = values.get("text")
    while True:
        encoded = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
        if len(encoded) <= METADATA_MAX or not text:
            return encoded
        text = text[: max(0, len(text) - (len(encoded) - METADATA_MAX) - 16)]
        values["text"] = text


def _source_signature(context: BoltContext, *, workspace_id: str, user_id: str, channel: str, ts: str,
                      thread_ts: str | None) -> str:
    """Binds a modal's source message to the person it was opened for: private_metadata comes back from the
    client, and a forged one must not make secreview reply in a thread that person never saw."""
    settings = services_of(context).settings
    key = (settings.slack_signing_secret or settings.slack_bot_token or "secreview").encode()
    text = f"{workspace_id}:{user_id}:{channel}:{ts}:{thread_ts or ''}".encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest()[:32]


# --- opening ---------------------------------------------------------------------------------------------

def _draft_review(*, actor: lifecycle.Actor, title: str = "", text: str = "", owner: str | None = None,
                  prefill: intake.Prefill | None = None) -> Review:
    """An unsaved review carrying what the modal pre-fills for a project nobody announced yet."""
    draft = Review(number=0, title=(prefill.title if prefill and not title else title) or "", summary="",
                   announcement_text=text, owner_id=owner or actor.user_id, announcer_id=actor.user_id,
                   vendors=list(prefill.vendors) if prefill else [], tags=[], regulations=[], answers=None,
                   go_live=prefill.go_live if prefill else None, state="announced", links="", risk_reasons=[])
    draft.conditions = []
    draft.decisions = []
    return draft


def open_intake_modal(*, client: WebClient, context: BoltContext, trigger_id: str | None, review: Review | None,
                      actor: lifecycle.Actor, title: str = "", body: dict[str, Any] | None = None,
                      source: dict[str, Any] | None = None) -> None:
    """Opens the intake for an existing review (owner or reviewer), for a new one (anyone), or for a new one
    about a message (`source`: channel, ts, thread_ts, text and author of the message a shortcut was used on)."""
    services = services_of(context)
    questionnaire = services.rules.questionnaire
    today = utcnow().astimezone(services.settings.timezone).date()
    digest = questionnaire.digest
    if review is None and source is not None:
        assert services.detector is not None
        prefill = services.detector.prefill(source["text"], today=today)
        draft = _draft_review(actor=actor, text=source["text"], owner=source.get("author"), prefill=prefill)
        signature = _source_signature(context, workspace_id=workspace_of(context, body), user_id=actor.user_id,
                                      channel=source["channel"], ts=source["ts"], thread_ts=source.get("thread_ts"))
        metadata = _metadata(new=True, qv=digest, page=0, channel=source["channel"], ts=source["ts"],
                             thread_ts=source.get("thread_ts"), sig=signature, text=source["text"][:SOURCE_TEXT_MAX])
        view = intake_views.intake_modal(review=draft, private_metadata=metadata, today=today,
                                         questionnaire=questionnaire)
    elif review is None:
        view = intake_views.intake_modal(review=_draft_review(actor=actor, title=title),
                                         private_metadata=_metadata(new=True, qv=digest, page=0), today=today,
                                         questionnaire=questionnaire)
    else:
        if actor.user_id not in (review.owner_id, review.announcer_id) and not actor.may_review:
            raise NotAllowed("refused.owner_or_reviewer", key=review.key, owner=review.owner_id)
        if review.state not in OPEN_STATES:
            raise InvalidTransition("error.invalid_transition", key=review.key, state=review.state, action="intake")
        view = intake_views.intake_modal(review=review, private_metadata=_metadata(key=review.number, qv=digest,
                                                                                   page=0),
                                         today=today, questionnaire=questionnaire)
    client.views_open(trigger_id=trigger_id, view=view)


# --- reading view.state.values ---------------------------------------------------------------------------

def _raw(values: dict[str, Any], question: Question) -> object:
    """What Slack sent for one question's input, before validation."""
    element = _element(values, question.id)
    if question.type == "text":
        return element.get("value")
    if question.type == "date":
        return element.get("selected_date")
    if question.type == "user":
        return element.get("selected_user")
    if question.type == "multiple_choice":
        options = element.get("selected_options")
        chosen = [o.get("value") for o in options if isinstance(o, dict)] if isinstance(options, list) else []
        exclusive = {c.value for c in question.choices if c.exclusive}
        # "None of these" ticked together with a kind of data: the kinds win, as the owner ticked them last.
        return [v for v in chosen if v not in exclusive] if len(chosen) > 1 else chosen
    option = element.get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def parse_page(values: dict[str, Any], questions: tuple[Question, ...]) -> dict[str, Any]:
    """One page's answers, validated; InvalidInput names the question whose answer is missing or wrong."""
    answers: dict[str, Any] = {}
    for question in questions:
        raw = _raw(values, question)
        blank = raw is None or raw == [] or (isinstance(raw, str) and not raw.strip())
        if question.required and blank:
            if question.type in ("single_choice", "multiple_choice", "yes_no"):
                raise InvalidInput("error.choose_one", field=question.id)
            raise InvalidInput("error.title_required" if question.id == "title" else "error.answer_required",
                               field=question.id)
        try:
            answers[question.id] = intake.parse_answer(question, raw)
        except ValueError as exc:
            key = "error.bad_date" if question.type == "date" else "error.bad_answer"
            raise InvalidInput(key, field=question.id, text=str(exc)[:200]) from None
    return answers


def intake_form(answers: dict[str, Any], questionnaire: Questionnaire, *,
                fallback_owner: str) -> intake_answers.IntakeForm:
    """The whole intake (every page's answers) as the form the review records."""
    go_live = answers.get("go_live")
    return intake_answers.IntakeForm(
        title=str(answers.get("title") or ""), summary=str(answers.get("summary") or ""),
        owner_id=str(answers.get("owner") or fallback_owner),
        go_live=date.fromisoformat(go_live) if isinstance(go_live, str) and go_live else None,
        answers={q.id: answers[q.id] if q.id in answers else _unanswered(q) for q in questionnaire.scored},
        links=str(answers.get("links") or ""),
    )


def _unanswered(question: Question) -> Any:
    # Only an optional question can be missing here (every page was checked); it reads as not answered.
    return intake.parse_answer(question, None) if not question.required else None


def parse_intake(values: dict[str, Any], *, fallback_owner: str,
                 questionnaire: Questionnaire = intake.DEFAULT_QUESTIONNAIRE) -> intake_answers.IntakeForm:
    """A one-page intake from view.state.values; InvalidInput names the offending block."""
    return intake_form(parse_page(values, questionnaire.questions), questionnaire, fallback_owner=fallback_owner)


# --- submissions -----------------------------------------------------------------------------------------

def _record_intake(sub: Submission, sub_context: BoltContext, answers: dict[str, Any],
                   questionnaire: Questionnaire, view_id: str, multi_page: bool) -> None:
    services = sub.services
    md = sub.metadata

    def change(session: Session) -> Review:
        everything = dict(answers)
        if multi_page:
            earlier = intake_drafts.take(session, workspace_id=sub.workspace_id, view_id=view_id,
                                         user_id=sub.actor.user_id, digest=questionnaire.digest)
            if earlier is None:
                raise InvalidInput("error.stale_form", field=intake_views.first_block(questionnaire.questions))
            everything = {**earlier, **answers}
        form = intake_form(everything, questionnaire, fallback_owner=sub.actor.user_id)
        key = md.get("key")
        if md.get("new") or not isinstance(key, int):
            assert services.detector is not None
            channel, ts = md.get("channel"), md.get("ts")
            from_message = isinstance(channel, str) and isinstance(ts, str)
            thread_ts = md.get("thread_ts") if isinstance(md.get("thread_ts"), str) else None
            if from_message and not hmac.compare_digest(str(md.get("sig") or ""), _source_signature(
                    sub_context, workspace_id=sub.workspace_id, user_id=sub.actor.user_id, channel=channel,
                    ts=ts, thread_ts=thread_ts)):
                raise InvalidInput("error.stale_form", field=intake_views.first_block(questionnaire.questions))
            source_text = md.get("text") if from_message and isinstance(md.get("text"), str) else ""
            opened = announcements.open_review(
                session, settings=services.settings, detector=services.detector, workspace_id=sub.workspace_id,
                actor=sub.actor, text=source_text or f"{form.title}\n{form.summary}".strip(), title=form.title,
                via="shortcut" if from_message else "new",
                source_channel=channel if from_message else None, source_ts=ts if from_message else None,
                source_thread_ts=thread_ts if from_message else None,
            )
            key = opened.review.number
        return intake_answers.submit_intake(session, settings=services.settings, workspace_id=sub.workspace_id,
                                            actor=sub.actor, key=key, form=form, rules=services.rules)

    services.write(change)


def _next_page(sub: Submission, answers: dict[str, Any], questionnaire: Questionnaire, view_id: str,
               page: int) -> dict[str, Any]:
    """Keeps this page's answers and returns the next page's view."""
    services = sub.services
    so_far = services.write(lambda s: intake_drafts.save_page(
        s, workspace_id=sub.workspace_id, view_id=view_id, user_id=sub.actor.user_id, digest=questionnaire.digest,
        answers=answers))
    key = sub.metadata.get("key")
    review = None
    if isinstance(key, int):
        def load(session: Session) -> Review:
            found = lifecycle.get_review(session, workspace_id=sub.workspace_id, key=key)
            _ = (found.conditions, found.decisions)
            return found

        review = services.read(load)
    today = utcnow().astimezone(services.settings.timezone).date()
    metadata = dict(sub.metadata, page=page + 1)
    return intake_views.intake_modal(review=review, private_metadata=_metadata(**metadata), today=today,
                                     questionnaire=questionnaire, page=page + 1, draft=so_far)


def intake_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Records the intake (or opens a new review from it), or moves to its next page; field errors are shown
    on the field. Runs before the ack, so refusals and bad answers land on the form."""
    services = services_of(context)
    questionnaire = services.rules.questionnaire
    all_pages = intake_views.pages(questionnaire)
    metadata = read_metadata(view)
    page = metadata.get("page") if isinstance(metadata.get("page"), int) else 0
    default_block = intake_views.first_block(all_pages[min(max(page, 0), len(all_pages) - 1)])
    try:
        # A modal opened before this version carries no digest: it was the shipped questionnaire, one page.
        digest = metadata.get("qv", intake.DEFAULT_QUESTIONNAIRE.digest)
        if digest != questionnaire.digest or not 0 <= page < len(all_pages):
            raise InvalidInput("error.stale_form", field=default_block)
        sub = Submission(
            services=services, workspace_id=workspace_of(context, body),
            actor=actor_of(context, str((body.get("user") or {}).get("id") or ""), body),
            values=(view.get("state") or {}).get("values") or {}, metadata=metadata,
        )
        answers = parse_page(sub.values, all_pages[page])
        view_id = str(view.get("id") or "")
        if page < len(all_pages) - 1:
            next_view = _next_page(sub, answers, questionnaire, view_id, page)
            ack(response_action="update", view=next_view)
            return
        _record_intake(sub, context, answers, questionnaire, view_id, multi_page=len(all_pages) > 1)
    except DomainError as exc:
        _errors(ack, exc, default_block)
        return
    except SQLAlchemyError:
        _unavailable(ack, default_block)
        return
    ack()


def register(app: App) -> None:
    """Binds the intake modal's submissions."""
    app.view(CallbackId.INTAKE.value)(intake_submitted)
