"""Buttons: on review cards, thread replies, lists and the home tab. Ack first, then act."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.common import render
from bot.common.ids import ActionId
from bot.review import decisions, lifecycle, safeguards, transitions
from bot.review.errors import AlreadyYours, DomainError, InvalidInput, TakenBySomeoneElse
from bot.slack import views
from handlers.commands import LIST_PAGE_SIZE, list_page, show_review, take_answer
from handlers.common import actor_of, claim_click, say_ephemeral, services_of, workspace_of
from handlers.intake import open_intake_modal
from handlers.modals import open_ask_info_modal, open_decision_modal
from storage.models import Review

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_VALUE = 100


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    return action


def _value(body: dict[str, Any]) -> str:
    value = _action(body).get("value")
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE:
        raise InvalidInput("error.bad_button")
    return value


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def tell(body: dict[str, Any], respond: Respond, client: WebClient, message: dict[str, Any]) -> None:
    """Answers the clicking user: ephemerally where the click came from (in place of an ephemeral prompt whose
    button it was, so that button does not outlive its use), else (home tab) in their DM."""
    if body.get("response_url"):
        container = body.get("container") if isinstance(body.get("container"), dict) else {}
        say_ephemeral(respond, message, replace=bool(container.get("is_ephemeral")))
    else:
        client.chat_postMessage(channel=_user(body), text=message["text"], blocks=message.get("blocks"))


def _guarded(handler: Any) -> Any:
    """Turns refusals and bad input into a message to the user; nothing was recorded."""

    def run(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
        ack()
        try:
            handler(body=body, respond=respond, client=client, context=context)
        except DomainError as exc:
            tell(body, respond, client, views.sentence(exc.user_message))

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def start_intake(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Start security intake': the owner (or a reviewer) opens the questionnaire."""
    workspace_id = workspace_of(context, body)
    actor = actor_of(context, _user(body), body)
    # "SR-4@2031-02-01": the DM about an announcement that disagrees with the intake offers its date.
    key, _, suggested = _value(body).partition("@")
    try:
        go_live = date.fromisoformat(suggested) if suggested else None
    except ValueError:
        raise InvalidInput("error.bad_button") from None

    def load(session: Any) -> Any:
        review = lifecycle.get_review(session, workspace_id=workspace_id, key=key)
        _ = (review.conditions, review.decisions)
        return review

    review = services_of(context).read(load)
    if go_live is not None:
        review.go_live = go_live  # only the modal's pre-fill: this copy is detached, nothing is written
    open_intake_modal(client=client, context=context, trigger_id=body.get("trigger_id"), review=review, actor=actor)


def _once(context: BoltContext, body: dict[str, Any], change: Callable[[Session], T]) -> T | None:
    """Runs a click's change in one transaction with its claim; None when this click was handled already."""
    return services_of(context).write(lambda s: change(s) if claim_click(s, body) else None)


def take(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Take' (unassigned) or 'Take over' (its value names who has it; Slack asked to confirm first)."""
    services = services_of(context)
    actor = actor_of(context, _user(body), body)
    workspace_id = workspace_of(context, body)
    key, _, expected = _value(body).partition(":")
    try:
        review = _once(context, body, lambda s: transitions.take(
            s, settings=services.settings, workspace_id=workspace_id, actor=actor, key=key,
            expected_assignee=expected or None))
    except (AlreadyYours, TakenBySomeoneElse) as exc:
        return tell(body, respond, client, take_answer(exc))
    if review is None:
        return None
    sentence = (render.message("done.taken_over", key=review.key, previous=expected) if expected
                else render.message("done.taken", key=review.key))
    return tell(body, respond, client, views.sentence(sentence))


def release(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Release' (offered to the reviewer who has the review): back to the queue."""
    _review_change(body, respond, client, context, transitions.release, "done.released")


def decide(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Decide': opens the decision modal for reviewers."""
    open_decision_modal(client=client, context=context, trigger_id=body.get("trigger_id"), key=_value(body),
                        actor=actor_of(context, _user(body), body), workspace_id=workspace_of(context, body))


def ask_info(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Ask for info': opens the question modal for reviewers."""
    open_ask_info_modal(client=client, context=context, trigger_id=body.get("trigger_id"), key=_value(body),
                        actor=actor_of(context, _user(body), body), workspace_id=workspace_of(context, body))


def not_a_project(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Not a project': a reviewer closes it."""
    _review_change(body, respond, client, context, transitions.mark_not_applicable, "done.not_applicable")


def fast_track(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Fast-track approve': one click for a low-risk review."""
    services = services_of(context)
    actor = actor_of(context, _user(body), body)
    workspace_id = workspace_of(context, body)
    key = _value(body)
    decision = _once(context, body, lambda s: decisions.fast_track(
        s, settings=services.settings, workspace_id=workspace_id, actor=actor, key=key))
    if decision is not None:
        tell(body, respond, client, views.sentence(render.message(
            "done.fast_tracked", key=decision.review.key, conditions=len(decision.review.conditions))))


def reopen(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Reopen' on the card of a decided review that changed since its decision (reviewers only)."""
    _review_change(body, respond, client, context, transitions.reopen_changed, "done.reopened")


def _review_change(body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
                   change: Callable[..., Review], done: str) -> None:
    """A button whose value is a review's key and whose click makes one change: done once, then confirmed."""
    services = services_of(context)
    actor = actor_of(context, _user(body), body)
    workspace_id = workspace_of(context, body)
    key = _value(body)
    review = _once(context, body, lambda s: change(
        s, settings=services.settings, workspace_id=workspace_id, actor=actor, key=key))
    if review is not None:
        tell(body, respond, client, views.sentence(render.message(done, key=review.key)))


def condition_done(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'Mark done' on a safeguard (its owner or a reviewer); the home tab refreshes."""
    services = services_of(context)
    actor = actor_of(context, _user(body), body)
    workspace_id = workspace_of(context, body)
    value = _value(body)
    if not (value.isascii() and value.isdigit()):  # "²".isdigit() is True, but int("²") raises
        raise InvalidInput("error.bad_button")
    done = _once(context, body, lambda s: safeguards.complete_condition(
        s, settings=services.settings, workspace_id=workspace_id, actor=actor, condition_id=int(value)))
    if done is not None and body.get("view", {}).get("type") != "home":  # on the home tab the home itself shows it done
        tell(body, respond, client, views.sentence(render.message("done.condition_done", id=int(value))))


def new_review(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """'New security review' on the home tab: an empty intake."""
    open_intake_modal(client=client, context=context, trigger_id=body.get("trigger_id"), review=None,
                      actor=actor_of(context, _user(body), body))


def open_review(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """A review's key on the home tab or a list: show it with its history."""
    key = lifecycle.parse_key(_value(body))
    tell(body, respond, client, show_review(context=context, workspace_id=workspace_of(context, body), key=key))


def list_page_clicked(*, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    """Paging in `/secreview list`: the ephemeral list is replaced by the next page."""
    filter_name, _, page = _value(body).partition(":")
    if filter_name not in ("open", "mine", "overdue", "decided", "all") or not page.isdigit():
        raise InvalidInput("error.bad_button")
    message = list_page(context=context, user_id=_user(body), body=body, filter_name=filter_name,
                        page=min(int(page), 10_000_000 // LIST_PAGE_SIZE))
    say_ephemeral(respond, message, replace=True)


def unknown_action(ack: Ack, body: dict[str, Any]) -> None:
    """A click we do not know (an old message, a forged payload): acknowledged and logged, nothing done."""
    ack()
    log.warning("unknown action %r from %s", _action(body).get("action_id"), _user(body))


def unknown_view(ack: Ack, body: dict[str, Any]) -> None:
    """A modal we do not know: closed, logged, nothing done."""
    ack()
    log.warning("unknown view callback %r", (body.get("view") or {}).get("callback_id"))


def register(app: App) -> None:
    """Binds the buttons; unknown ones last, so they only catch what nothing else does."""
    app.action(ActionId.START_INTAKE.value)(_guarded(start_intake))
    app.action(ActionId.TAKE.value)(_guarded(take))
    app.action(ActionId.RELEASE.value)(_guarded(release))
    app.action(ActionId.DECIDE.value)(_guarded(decide))
    app.action(ActionId.ASK_INFO.value)(_guarded(ask_info))
    app.action(ActionId.NOT_A_PROJECT.value)(_guarded(not_a_project))
    app.action(ActionId.FAST_TRACK.value)(_guarded(fast_track))
    app.action(ActionId.REOPEN.value)(_guarded(reopen))
    app.action(ActionId.CONDITION_DONE.value)(_guarded(condition_done))
    app.action(ActionId.NEW_REVIEW.value)(_guarded(new_review))
    app.action(ActionId.OPEN_REVIEW.value)(_guarded(open_review))
    app.action(ActionId.LIST_PAGE.value)(_guarded(list_page_clicked))
    app.action(re.compile(".*"))(unknown_action)
    app.view(re.compile(".*"))(unknown_view)
