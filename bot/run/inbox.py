"""Events kept before the ack, and the job that hands back any whose change never committed.

Slack stops redelivering an event once it saw it acknowledged, and Bolt acknowledges an event before its
listener runs. An announcement whose listener dies with the process (SIGKILL, a lost database) would be
gone; keeping the event first, in one small insert, and replaying what no listener marked as processed
closes that window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.run.background import BackgroundLoop
from storage.db import session_scope
from storage.models import InboxEvent, ProcessedEvent, utcnow

log = logging.getLogger(__name__)

# A listener commits within milliseconds; replaying one that is merely slow is harmless (the event id and the
# message's review are unique), so a short grace gets a crashed announcement back quickly.
REPLAY_AFTER = timedelta(seconds=5)
MAX_REPLAYS = 5
KEEP_FOR = timedelta(days=3)
def due_for_replay(session: Session, *, now: datetime, limit: int = 50) -> list[InboxEvent]:
    """Kept events older than the grace period that no listener marked as processed."""
    processed = exists().where(ProcessedEvent.event_id == InboxEvent.event_id)
    return list(session.scalars(
        select(InboxEvent)
        .where(InboxEvent.received_at < now - REPLAY_AFTER, InboxEvent.replays < MAX_REPLAYS, ~processed)
        .order_by(InboxEvent.received_at)
        .limit(limit)
    ))


class InboxReplayer:
    """Every few seconds: replays kept, unprocessed events through the app; sweeps old ones daily."""

    def __init__(self, *, session_factory: sessionmaker[Session], dispatch: Callable[[dict[str, Any]], None],
                 interval_seconds: float = 3.0, clock: Callable[[], datetime] = utcnow) -> None:
        self._session_factory = session_factory
        self._dispatch = dispatch
        self._clock = clock
        # A pass at once on start: what a killed process left behind is handed back without waiting.
        self._loop = BackgroundLoop("secreview-inbox", self._pass, interval_seconds)

    def run_once(self) -> int:
        """Replays what is due; returns how many events were handed back."""
        now = self._clock()
        with session_scope(self._session_factory, write=True) as session:
            due = due_for_replay(session, now=now)
            bodies = [(event.event_id, event.body, event.replays) for event in due]
            if due:
                # Count the attempt first: an event that crashes its listener every time stops after MAX_REPLAYS.
                session.execute(update(InboxEvent).where(InboxEvent.event_id.in_([e for e, _, _ in bodies]))
                                .values(replays=InboxEvent.replays + 1))
            session.execute(delete(InboxEvent).where(InboxEvent.received_at < now - KEEP_FOR))
        for event_id, body, replays in bodies:
            log.warning("replaying event %s (attempt %s): it was acknowledged but never processed", event_id,
                        replays + 1)
            try:
                self._dispatch(body)
            except Exception:  # one bad event must not stop the others
                log.exception("replay of event %s failed", event_id)
        return len(bodies)

    def _pass(self) -> bool:
        self.run_once()
        return False  # replays are rare and never urgent: the next pass waits for the interval

    def start(self) -> None:
        """Starts the replay thread."""
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops after the pass under way."""
        self._loop.stop(timeout)
