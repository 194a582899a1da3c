"""Modals: open the intake, decision and ask-for-info forms; check and record their submissions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.common import render
from bot.common.ids import BlockId, CallbackId
from bot.review import decisions, lifecycle, transitions
from bot.review.errors import DomainError, InvalidInput, InvalidTransition, NotAllowed
from bot.review.states import OPEN_STATES
from bot.slack import views
from bot.slack.services import Services
from handlers.common import actor_of, metadata, read_metadata, services_of, workspace_of
from storage.models import Review

log = logging.getLogger(__name__)

KNOWN_REGULATIONS = ("GDPR", "PCI DSS", "HIPAA", "SOX", "NIS2", "DORA", "EU AI Act", "ISO 27001")


# --- opening ---------------------------------------------------------------------------------------------

def _load_open_review(context: BoltContext, workspace_id: str, key: int | str, action: str) -> Review:
    def load(session: Session) -> Review:
        review = lifecycle.get_review(session, workspace_id=workspace_id, key=key)
        # Touch what the modal renders while the session is open.
        _ = (review.conditions, review.decisions)
        return review

    review = services_of(context).read(load)
    if review.state not in OPEN_STATES:
        raise InvalidTransition("error.invalid_transition", key=review.key, state=review.state, action=action)
    return review


def open_decision_modal(*, client: WebClient, context: BoltContext, trigger_id: str | None, key: int | str,
                        actor: lifecycle.Actor, workspace_id: str) -> None:
    """Opens the decision form (reviewers; checked again on submit)."""
    if not actor.may_review:
        raise NotAllowed("refused.reviewer_only", action="decide reviews")
    review = _load_open_review(context, workspace_id, key, "decide")
    view = views.decision_modal(review=review, private_metadata=metadata(key=review.number),
                                currency=services_of(context).settings.secreview_currency,
                                regulations_known=list(KNOWN_REGULATIONS))
    client.views_open(trigger_id=trigger_id, view=view)


def open_ask_info_modal(*, client: WebClient, context: BoltContext, trigger_id: str | None, key: int | str,
                        actor: lifecycle.Actor, workspace_id: str) -> None:
    """Opens the question form (reviewers)."""
    if not actor.may_review:
        raise NotAllowed("refused.reviewer_only", action="ask for information")
    review = _load_open_review(context, workspace_id, key, "ask_info")
    client.views_open(trigger_id=trigger_id,
                      view=views.ask_info_modal(review=review, private_metadata=metadata(key=review.number)))


# --- reading view.state.values ---------------------------------------------------------------------------

def _element(values: dict[str, Any], block: str) -> dict[str, Any]:
    element = (values.get(block) or {}).get(block) if isinstance(values.get(block), dict) else None
    return element if isinstance(element, dict) else {}


def _text(values: dict[str, Any], block: str) -> str:
    value = _element(values, block).get("value")
    return value.strip() if isinstance(value, str) else ""


def _selected(values: dict[str, Any], block: str) -> str | None:
    option = _element(values, block).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def _selected_many(values: dict[str, Any], block: str) -> list[str]:
    options = _element(values, block).get("selected_options")
    if not isinstance(options, list):
        return []
    return [o["value"] for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)]


def _date(values: dict[str, Any], block: str) -> date | None:
    value = _element(values, block).get("selected_date")
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("error.bad_date", field=block, text=str(value)[:20]) from None


def _user(values: dict[str, Any], block: str) -> str | None:
    value = _element(values, block).get("selected_user")
    return value if isinstance(value, str) and value else None


def parse_decision(values: dict[str, Any]) -> decisions.DecisionForm:
    """The decision form from view.state.values."""
    outcome = _selected(values, BlockId.OUTCOME)
    if outcome is None:
        raise InvalidInput("error.choose_one", field=BlockId.OUTCOME)
    conditions = tuple(line.strip(" -•*\t") for line in _text(values, BlockId.CONDITIONS).splitlines())
    regulations_block = _element(values, BlockId.REGULATIONS)
    return decisions.DecisionForm(
        outcome=outcome,
        rationale=_text(values, BlockId.RATIONALE),
        conditions=tuple(c for c in conditions if c),
        risk_tier=_selected(values, BlockId.RISK_TIER),
        regulations=tuple(_selected_many(values, BlockId.REGULATIONS)) if regulations_block else None,
        cost_avoided=_text(values, BlockId.COST_AVOIDED) or None,
        condition_due=_date(values, "condition_due"),
    )


# --- submissions -----------------------------------------------------------------------------------------

def _unavailable(ack: Ack, block: str) -> None:
    # Nothing was recorded: keep the modal open with its answers, so the user can submit again in a moment.
    log.error("a modal submission could not be recorded: the database is not answering", exc_info=True)
    ack(response_action="errors", errors={block: render.raw_message("error.unavailable")})


def _errors(ack: Ack, exc: DomainError, default_block: str) -> None:
    field = getattr(exc, "field", None) or default_block
    ack(response_action="errors", errors={str(field): exc.plain_message[:300]})


@dataclass(frozen=True)
class Submission:
    """What every modal submission carries, read once."""

    services: Services
    workspace_id: str
    actor: lifecycle.Actor
    values: dict[str, Any]
    metadata: dict[str, Any]

    def key(self, field: str) -> int:
        """The review the modal was opened for; a form without one is out of date."""
        key = self.metadata.get("key")
        if not isinstance(key, int):
            raise InvalidInput("error.stale_form", field=field)
        return key


def _record(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, default_block: str,
            change: Callable[[Submission], object]) -> None:
    """Runs one submission's change before the ack, so refusals and bad fields land on the form."""
    try:
        submission = Submission(
            services=services_of(context),
            workspace_id=workspace_of(context, body),
            actor=actor_of(context, str((body.get("user") or {}).get("id") or ""), body),
            values=(view.get("state") or {}).get("values") or {},
            metadata=read_metadata(view),
        )
        change(submission)
    except DomainError as exc:
        return _errors(ack, exc, default_block)
    except SQLAlchemyError:
        return _unavailable(ack, default_block)
    ack()
    return None


def _decision(sub: Submission) -> None:
    if not sub.actor.may_review:
        raise NotAllowed("refused.reviewer_only", action="decide reviews")
    key = sub.key(BlockId.OUTCOME)
    form = parse_decision(sub.values)
    sub.services.write(lambda s: decisions.decide(s, settings=sub.services.settings, workspace_id=sub.workspace_id,
                                                  actor=sub.actor, key=key, form=form))


def _ask_info(sub: Submission) -> None:
    key = sub.key(BlockId.QUESTION)
    question = _text(sub.values, BlockId.QUESTION)
    sub.services.write(lambda s: transitions.request_info(s, settings=sub.services.settings,
                                                          workspace_id=sub.workspace_id, actor=sub.actor, key=key,
                                                          question=question))


def decision_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Records the decision; the permission is checked again here, whatever the modal was opened with."""
    _record(ack, body, view, context, BlockId.OUTCOME, _decision)


def ask_info_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Sends the question to the owner (reviewers, checked again here)."""
    _record(ack, body, view, context, BlockId.QUESTION, _ask_info)


def register(app: App) -> None:
    """Binds the modal submissions."""
    app.view(CallbackId.DECISION.value)(decision_submitted)
    app.view(CallbackId.ASK_INFO.value)(ask_info_submitted)
