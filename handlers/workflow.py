"""The Workflow Builder step "Open a security review" (the manifest's `functions`, `app.function`).

Slack runs the step as a `function_executed` event carrying the step's inputs, its function_execution_id and a
workflow token; Bolt acknowledges it and hands `complete` and `fail`, which end the step with
functions.completeSuccess / functions.completeError. The step opens a review as an announcement does (its card in
the security channel, the intake button to the owner by DM), then completes with the review's key and the link to
its card. Inputs it cannot use fail the step with a reason the workflow shows; a database outage fails nothing:
the event is kept and run again (bot/run/inbox.py, the work queue), and the step completes then.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import date
from typing import Any

from slack_bolt import App, BoltContext, Complete, Fail
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.common import render
from bot.common.ids import FunctionId
from bot.review import announcements, lifecycle
from bot.review.lifecycle import MAX_TEXT, MAX_TITLE
from handlers.common import services_of, workspace_of
from handlers.events import _claim_event
from storage.models import Review

log = logging.getLogger(__name__)

# Inputs and outputs, as declared in templates/manifest.json.j2.
INPUTS = ("title", "description", "owner", "go_live_date", "link")
# The card is posted by the outbox a moment after the review commits; the link waits this long for it.
CARD_WAIT_SECONDS = 5.0
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{2,31}\Z")
_LINK_RE = re.compile(r"https?://\S+\Z")
LINK_MAX = 1000


class StepInputError(ValueError):
    """An input the step cannot use; the message is what the workflow shows."""


def _text(inputs: dict[str, Any], name: str) -> str:
    value = inputs.get(name)
    return value.strip() if isinstance(value, str) else ""


def _shown(value: object) -> str:
    return repr(value)[:60] if value not in (None, "") else "nothing"


def read_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """The step's inputs, checked; StepInputError says which one is unusable and why."""
    title = _text(inputs, "title")
    if not title:
        raise StepInputError(render.raw_message("workflow.title_required"))
    description = _text(inputs, "description")
    for field, value, limit in (("title", title, MAX_TITLE), ("description", description, MAX_TEXT)):
        if len(value) > limit:
            raise StepInputError(render.raw_message("workflow.too_long", field=field, limit=limit))
    owner = inputs.get("owner")
    if not isinstance(owner, str) or not _USER_ID_RE.match(owner.strip()):
        raise StepInputError(render.raw_message("workflow.bad_owner", text=_shown(owner)))
    go_live: date | None = None
    raw_date = inputs.get("go_live_date")
    if raw_date not in (None, ""):
        try:
            go_live = date.fromisoformat(str(raw_date).strip())
        except ValueError:
            raise StepInputError(render.raw_message("workflow.bad_go_live", text=_shown(raw_date))) from None
    link = _text(inputs, "link")
    if link and (not _LINK_RE.match(link) or len(link) > LINK_MAX):
        raise StepInputError(render.raw_message("workflow.bad_link", text=_shown(link[:60])))
    return {"title": title, "description": description, "owner": owner.strip(), "go_live": go_live, "link": link}


def _card_link(context: BoltContext, workspace_id: str, review_id: int) -> str:
    """The permalink of the review's card once the outbox has posted it (waits a moment); "" if not in time."""
    services = services_of(context)

    def card_of(session: Session) -> tuple[str | None, str | None]:
        review = session.get(Review, review_id)
        return (review.card_channel, review.card_ts) if review is not None else (None, None)

    deadline = time.monotonic() + CARD_WAIT_SECONDS
    channel, ts = services.read(card_of)
    while not (channel and ts):
        if time.monotonic() >= deadline or not services.settings.secreview_security_channel:
            return ""
        time.sleep(0.05)
        channel, ts = services.read(card_of)
    try:
        answer = services.client_for(workspace_id).chat_getPermalink(channel=channel, message_ts=ts)
    except SlackApiError as exc:
        log.warning("no permalink for the card of review %s: %s", review_id, exc.response.get("error"))
        return ""
    return str(answer.get("permalink") or "")


def open_security_review(body: dict[str, Any], event: dict[str, Any], inputs: dict[str, Any], complete: Complete,
                         fail: Fail, context: BoltContext) -> None:
    """Opens a review from a workflow's inputs; completes with its key and link, or fails with the reason."""
    services = services_of(context)
    try:
        given = read_inputs(inputs if isinstance(inputs, dict) else {})
    except StepInputError as exc:
        # Noted as handled first, so that a kept copy of the event is not run (and refused) again.
        if services.write(lambda session: _claim_event(session, body)):
            reason = str(exc)
            log.info("workflow step refused: %s", reason)
            _end(lambda: fail(reason), event)
        return
    workspace_id = workspace_of(context, body)
    ids = {"function_execution_id": event.get("function_execution_id"),
           "workflow_execution_id": event.get("workflow_execution_id")}

    def change(session: Session) -> tuple[int, str] | None:
        if not _claim_event(session, body):
            return None  # another delivery of this execution opened it, and completed the step
        assert services.detector is not None
        opened = announcements.open_review(
            session, settings=services.settings, detector=services.detector, workspace_id=workspace_id,
            actor=lifecycle.Actor(given["owner"]), text=f"{given['title']}\n{given['description']}".strip(),
            title=given["title"], via="workflow", go_live=given["go_live"], summary=given["description"],
            links=given["link"], data={"workflow": ids},
        )
        return opened.review.id, opened.review.key

    try:
        opened = services.write(change)
    except IntegrityError:
        log.info("workflow execution %s was handled by another delivery", ids["function_execution_id"])
        return
    if opened is None:
        return
    review_id, key = opened
    outputs = {"review_key": key}
    link = _card_link(context, workspace_id, review_id)
    if link:
        outputs["review_link"] = link
    if _end(lambda: complete(outputs=outputs), event):
        log.info("workflow step opened %s (execution %s)", key, ids["function_execution_id"])


def _end(call: Any, event: dict[str, Any]) -> bool:
    """Completes or fails the step; False when Slack no longer runs it (timed out, cancelled)."""
    try:
        call()
    except SlackApiError as exc:
        # What was recorded stays recorded; a step Slack already ended cannot be ended again.
        log.warning("could not end workflow step %s: %s", event.get("function_execution_id"),
                    exc.response.get("error"))
        return False
    return True


def register(app: App) -> None:
    """Binds the workflow step."""
    app.function(FunctionId.OPEN_REVIEW.value)(open_security_review)
