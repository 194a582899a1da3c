"""What every handler needs, built once per process: settings, database, rules, roles, outbox, Slack clients."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import intake
from bot.config import Settings
from bot.review.roles import RoleResolver
from bot.slack.queueing import ReplayGuard, RequestQueue
from storage.db import session_scope

log = logging.getLogger(__name__)
T = TypeVar("T")

WRITE_ATTEMPTS = 4


class OutboxDelivery(Protocol):
    """The outbox's deliverer (bot/run/delivery.py): started by the process, woken after each commit."""

    def start(self) -> None:
        """Starts delivering in the background."""

    def stop(self) -> None:
        """Stops after the current pass."""

    def wake(self) -> None:
        """Asks for a pass now."""


@dataclass
class Services:
    """The process's shared pieces; handlers reach them through Bolt's context."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    client_for: Callable[[str], WebClient]
    rules: intake.IntakeRules = field(default_factory=lambda: intake.DEFAULT_RULES)
    detector: intake.Detector | None = None
    roles: RoleResolver | None = None
    outbox_worker: OutboxDelivery | None = None
    # Bolt's OAuthSettings when several workspaces install the app (SLACK_CLIENT_ID/SECRET set).
    oauth_settings: Any = None
    # `secreview serve`'s HTTP process: where it stores what its worker process does after the ack.
    work_queue: RequestQueue | None = None
    # The signed commands, clicks and submissions accepted in the last minutes: the same bytes again run never.
    replays: ReplayGuard | None = None
    # Single-token mode: the workspace the bot token belongs to (auth.test at start-up), the only one served.
    home_workspace: str | None = None

    def __post_init__(self) -> None:
        if self.detector is None:
            self.detector = intake.Detector(self.rules, calendar=self.settings.calendar)
        if self.roles is None:
            self.roles = RoleResolver(self.settings, self.client_for)

    def write(self, change: Callable[[Session], T], *, urgent: bool = False) -> T:
        """Runs one change as one transaction (with its audit event and notices), retrying transient DB errors.

        The whole function is re-run on a retry, so it must read what it needs inside. `urgent`: an ack waits
        for this write (storage.db.session_scope lets it go first).
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with session_scope(self.session_factory, write=True, urgent=urgent) as session:
                    result = change(session)
                break
            except OperationalError as exc:
                # SQLite busy past its timeout, or PostgreSQL restarting: the transaction was rolled back whole.
                if attempt == WRITE_ATTEMPTS:
                    raise
                log.warning("transient database error (attempt %s): %s", attempt, str(exc.orig)[:200])
                time.sleep(0.05 * 2**attempt)
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == WRITE_ATTEMPTS:
                    raise
                time.sleep(0.05 * 2**attempt)
        if self.outbox_worker is not None:
            self.outbox_worker.wake()
        return result

    def read(self, query: Callable[[Session], T]) -> T:
        """Runs a read-only query in its own short session."""
        with session_scope(self.session_factory) as session:
            return query(session)
