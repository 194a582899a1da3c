"""What a verified Slack request carries on its way to the work behind it: priorities, context keys, the inbox.

The HTTP process stores requests (bot/run/workqueue.py implements `RequestQueue`) and events it will act on
(`keep`, replayed by bot/run/inbox.py); the listeners in handlers/ only see these names, so they never import
the machinery in bot/run/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import InboxEvent, utcnow

PERSON_WAITING = 0  # a command, a click, App Home opened: someone is looking at Slack for the answer
EVENT = 1

# Context key of a replayed delivery: it is in the inbox already, so nothing keeps it again before the ack.
REPLAY = "secreview_replay"
# Context key the error boundary sets when a listener failed for a reason other than a refusal (the database
# away, a bug): the worker then keeps an event for another attempt instead of deleting it.
FAILED = "secreview_listener_failed"
# Context key set once a request passed bot/slack/verification.py (Slack's signature, or a Socket Mode delivery)
# and its response_url is Slack's: only then may the error boundary answer it.
VERIFIED = "secreview_verified"


class RequestQueue(Protocol):
    """Where `secreview serve`'s HTTP process stores what its worker process does after the ack."""

    def put(self, *, dedupe_key: str, priority: int, workspace_id: str, body: dict[str, Any]) -> None:
        """Stores one request (a repeat of the same dedupe key is stored once)."""

    def depth(self) -> int:
        """How many requests wait."""

    def dispose(self) -> None:
        """Closes the queue's connections."""


class ReplayGuard(Protocol):
    """Where the signed interactive requests accepted recently are recorded (bot/run/replays.py)."""

    def first_delivery(self, key: str, *, expires_at: datetime) -> bool:
        """Records `key` until `expires_at`; False when it was recorded already (the same request again)."""


def keep(session: Session, *, event_id: str, workspace_id: str, body: dict[str, Any]) -> None:
    """Stores the event unless it is stored already (a retry, another replica)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InboxEvent)
        .values(event_id=event_id[:64], workspace_id=workspace_id[:32], body=body, received_at=utcnow(), replays=0)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
