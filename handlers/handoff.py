"""`secreview serve`'s HTTP process: store what the worker process will act on, and answer Slack at once.

Installed only when the process has a work queue (see bot/run/workqueue.py). It runs after Bolt has verified the
signature and before any listener, so an acknowledgement costs Bolt's parsing plus, for the requests that
change something, one small insert.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.request.payload_utils import is_block_actions, is_shortcut, is_slash_command
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.slack import queueing
from bot.slack.middleware import DirectMiddleware
from handlers.common import services_of, workspace_of
from handlers.events import worth_keeping

log = logging.getLogger(__name__)

# Event types with a listener; the rest are answered here and go no further.
_EVENT_PRIORITY = {"message": queueing.EVENT, "reaction_added": queueing.EVENT,
                   "app_home_opened": queueing.PERSON_WAITING, "function_executed": queueing.EVENT}


def _destination(body: dict[str, Any], context: BoltContext) -> tuple[str, int] | str:
    """(dedupe key, priority) to queue it; "drop" when nothing would act on it; "here" to run it in this process."""
    if body.get("type") == "event_callback":
        event = body.get("event")
        event_id = body.get("event_id")
        if not isinstance(event, dict) or not isinstance(event_id, str) or not event_id:
            return "here"
        kind = event.get("type")
        if kind not in _EVENT_PRIORITY:
            return "here"
        if kind != "app_home_opened" and not worth_keeping(context, event):
            return "drop"  # chatter, bots, thread replies, other reactions: the listeners would ignore them too
        return event_id, _EVENT_PRIORITY[kind]
    if is_slash_command(body) or is_block_actions(body) or is_shortcut(body):
        # Answered with an empty ack and then through respond(), views.open and the outbox, like every secreview
        # command, button and shortcut. Modal submissions stay here: their answer (validation errors) is the
        # acknowledgement.
        trigger = body.get("trigger_id")
        key = f"trigger:{trigger}" if isinstance(trigger, str) and trigger else f"request:{uuid.uuid4().hex}"
        return key, queueing.PERSON_WAITING
    return "here"


def hand_off_to_worker(req: BoltRequest) -> BoltResponse | None:
    """Queues the request for the worker process and acknowledges it, or lets this process run it (None)."""
    body, context = req.body, req.context
    queue = services_of(context).work_queue
    destination = _destination(body, context) if queue is not None and isinstance(body, dict) else "here"
    if destination == "drop":
        return BoltResponse(status=200, body="")
    if destination == "here":
        return None
    assert queue is not None and isinstance(destination, tuple)
    dedupe_key, priority = destination
    try:
        queue.put(dedupe_key=dedupe_key, priority=priority, workspace_id=workspace_of(context, body), body=body)
    except (SQLAlchemyError, ValueError):
        if priority == queueing.EVENT:
            # Not stored, so not acknowledged: Slack delivers it again later.
            log.error("could not queue event %s", dedupe_key, exc_info=True)
            return BoltResponse(status=503, body="")
        # A person is waiting: run it here, where the listener tells them what went wrong.
        log.warning("could not queue %s; running it in the HTTP process", dedupe_key, exc_info=True)
        return None
    return BoltResponse(status=200, body="")


def register(app: App) -> None:
    """Installs the hand-off (call before the listeners' own middleware)."""
    app.use(DirectMiddleware(hand_off_to_worker))
