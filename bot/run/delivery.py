"""Delivers the outbox: in order per conversation, retried with backoff, given up only on permanent errors.

Two destinations share the claim, lease, order and backoff: Slack (every Web API method) and, with Jira
configured, Jira (rows whose method starts with "jira.", handed to bot/tracker's JiraDelivery).
"""

from __future__ import annotations

import base64
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.common import render
from bot.review import outbox
from bot.run.background import BackgroundLoop
from bot.run.claims import holder_is_gone
from bot.run.delivery_prep import (
    HomeRenderer,
    Prepared,
    Preparer,
    Row,
    WaitForPost,
    forget_posted,
    record_post,
    swap_link,
)
from bot.tracker.client import TrackerRefused, TrackerUnavailable
from bot.tracker.delivery import JiraDelivery, OutboxRow
from storage.db import session_scope
from storage.models import OutboxMessage, ProcessedEvent, utcnow

log = logging.getLogger(__name__)

# Errors that no retry will cure; the row is marked failed with the reason.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive", "token_revoked",
    "no_permission", "missing_scope", "msg_too_long", "invalid_blocks", "invalid_blocks_format", "user_not_found",
    "cant_update_message", "restricted_action", "invalid_arguments", "no_text", "team_access_not_granted",
    "user_is_bot", "cannot_dm_bot", "not_authed", "method_deprecated", "unknown_method",
})
CLAIM_SECONDS = 60
MAX_BACKOFF_SECONDS = 300
GIVE_UP_AFTER = timedelta(hours=48)
PROCESSED_EVENT_TTL = timedelta(days=3)
JIRA_PREFIX = "jira."


@dataclass(frozen=True)
class DeliveryStats:
    """What one pass delivered."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0  # found not worth sending at delivery (an update of a message never posted, a superseded home)


class TransientError(Exception):
    """Slack or the network failed in a way a later retry may cure."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentError(Exception):
    """Slack refused the call for good (e.g. the bot is not in the channel)."""


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, at least Slack's Retry-After."""
    base = min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 12))
    delay = base * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0.0)


def call_slack(client: WebClient, method: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Makes one Web API call; classifies failures as transient or permanent."""
    try:
        if method == "files_upload_v2":
            args = dict(payload)
            content = base64.b64decode(args.pop("content_b64"))
            response = client.files_upload_v2(content=content, **args)
        else:
            response = client.api_call(method, json=payload)
        return dict(response.data) if isinstance(response.data, dict) else {}
    except SlackApiError as exc:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429 or error == "ratelimited":
            retry_after = float(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1)))
            raise TransientError("ratelimited", retry_after) from None
        if status >= 500 or error in ("fatal_error", "internal_error", "service_unavailable", "request_timeout"):
            raise TransientError(error) from None
        if error in PERMANENT_ERRORS or 400 <= status < 500:
            raise PermanentError(error) from None
        raise PermanentError(error) from None
    except (OSError, TimeoutError) as exc:  # URLError, connection reset, socket timeout
        raise TransientError(f"network: {exc}") from None


class OutboxWorker:
    """A background thread that delivers pending outbox rows; safe to run in several replicas at once."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        client_for: Callable[[str], WebClient],
        instance_id: str,
        security_channel: str | None,
        render_home: HomeRenderer | None = None,
        jira: JiraDelivery | None = None,
        poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._preparer = Preparer(session_factory=session_factory, render_home=render_home)
        self._jira = jira
        self._client_for = client_for
        self._instance_id = instance_id
        self._security_channel = security_channel
        self._poll_seconds = poll_seconds
        self._clock = clock
        self._loop = BackgroundLoop("secreview-outbox", self._pass, poll_seconds)
        # The worker process sets it: before each pass, lets a burst of acknowledgements go first (bot/run/busy.py).
        self.pause: Callable[[], None] | None = None
        self._last_sweep: datetime | None = None

    def wake(self) -> None:
        """Asks for a pass now (after a commit that wrote notices)."""
        self._loop.wake()

    def start(self) -> None:
        """Takes over what killed processes of this host held, then starts the delivery thread."""
        try:
            self.release_claims_of_dead_processes()
        except SQLAlchemyError:
            log.warning("could not check for claims of stopped processes", exc_info=True)
        self._loop.start()

    def release_claims_of_dead_processes(self) -> int:
        """Makes pending rows claimed by a process of this host that is gone deliverable now; returns how many."""
        now = self._clock()
        with session_scope(self._session_factory) as session:
            holders = session.scalars(
                select(OutboxMessage.claimed_by).distinct()
                .where(OutboxMessage.state == "pending", OutboxMessage.claimed_until > now)
            ).all()
        gone = [holder for holder in holders if holder and holder_is_gone(holder)]
        if not gone:
            return 0
        with session_scope(self._session_factory, write=True) as session:
            released = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == "pending", OutboxMessage.claimed_by.in_(gone))
                .values(claimed_until=now)
                .execution_options(synchronize_session=False)
            ).rowcount
        log.info("took over %s notices from stopped processes %s", released, ", ".join(gone))
        return int(released or 0)

    def stop(self, timeout: float = 10.0) -> None:
        """Finishes the pass under way, then stops."""
        self._loop.stop(timeout)

    def _pass(self) -> bool:
        if self.pause is not None:
            self.pause()
        stats = self.run_once()
        self._sweep_if_due()
        return bool(stats.sent or stats.failed or stats.dropped)  # there may be more right behind

    def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting notice that is due and unclaimed was written (None: nothing waits)."""
        with session_scope(self._session_factory) as session:
            return session.scalar(
                select(func.min(OutboxMessage.created_at))
                .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now,
                       (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until <= now))
            )

    def run_once(self, limit: int = 100) -> DeliveryStats:
        """Claims what is due (never overtaking an earlier row of the same conversation) and delivers it."""
        claimed = self._claim(limit)
        sent = retried = failed = dropped = 0
        for row_id in claimed:
            outcome = self._deliver(row_id)
            sent += outcome == "sent"
            retried += outcome == "retry"
            failed += outcome == "failed"
            dropped += outcome == "dropped"
        return DeliveryStats(sent, retried, failed, dropped)

    def _claim(self, limit: int) -> list[int]:
        now = self._clock()
        claimed: list[int] = []
        with session_scope(self._session_factory, write=True) as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.ordering_key, OutboxMessage.next_attempt_at,
                       OutboxMessage.claimed_until)
                .where(OutboxMessage.state == "pending")
                .order_by(OutboxMessage.id)
                .limit(limit * 5)
            ).all()
            blocked: set[str] = set()
            for row in rows:
                if row.ordering_key in blocked:
                    continue
                blocked.add(row.ordering_key)  # one in flight per conversation, in id order
                if row.next_attempt_at > now or (row.claimed_until is not None and row.claimed_until > now):
                    continue
                result = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, OutboxMessage.state == "pending",
                           (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until <= now))
                    .values(claimed_by=self._instance_id, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:
                    claimed.append(row.id)
                if len(claimed) >= limit:
                    break
        return claimed

    def _deliver(self, row_id: int) -> str:
        with session_scope(self._session_factory, write=True) as session:
            # Check that the claim is still ours and renew it in one statement: a batch whose lease ran out
            # while earlier rows were slow must not send a row that another replica has taken over meanwhile.
            renewed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.state == "pending",
                       OutboxMessage.claimed_by == self._instance_id)
                .values(claimed_until=self._clock() + timedelta(seconds=CLAIM_SECONDS))
                .execution_options(synchronize_session=False)
            )
            found = session.get(OutboxMessage, row_id)
            if renewed.rowcount != 1 or found is None:
                return "skipped"
            row = Row(found.id, found.workspace_id, found.review_id, found.purpose, found.method, dict(found.payload),
                      found.ordering_key)
            created_at, attempts = found.created_at, found.attempts
        if row.method.startswith(JIRA_PREFIX):
            return self._deliver_jira(OutboxRow(row.id, row.workspace_id, row.review_id, row.method, row.purpose,
                                                row.payload), created_at, attempts)
        client = self._client_for(row.workspace_id)
        try:
            # Read outside the write transaction: rendering a home must not hold SQLite's writer slot.
            prepared = self._preparer.prepare(row)
            if prepared.skip:
                self._skip(row_id, prepared.skip, attempts)
                return "dropped"
            self._preparer.with_permalink(prepared, client, row.workspace_id)
        except WaitForPost as exc:
            return self._retry(row_id, TransientError(str(exc)), created_at, attempts)
        except SlackApiError as exc:
            # The permalink: a Slack hiccup is retried; a refusal leaves the link's words without the link.
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                return self._retry(row_id, TransientError("permalink"), created_at, attempts)
            prepared.payload = swap_link(prepared.payload, "")
        except (OSError, TimeoutError) as exc:
            return self._retry(row_id, TransientError(f"network: {exc}"), created_at, attempts)
        try:
            result = call_slack(client, prepared.method, prepared.payload)
        except TransientError as exc:
            return self._retry(row_id, exc, created_at, attempts)
        except PermanentError as exc:
            self._fail(row_id, str(exc), row, prepared)
            return "failed"
        self._record_sent(row_id, result, prepared=prepared, attempts=attempts)
        return "sent"

    def _deliver_jira(self, row: OutboxRow, created_at: datetime, attempts: int) -> str:
        if self._jira is None:
            self._fail_jira(row, "Jira is not configured (JIRA_URL is unset)")
            return "failed"
        try:
            result = self._jira.deliver(row)
        except TrackerUnavailable as exc:
            return self._retry(row.id, TransientError(f"jira: {exc.reason}"[:500], exc.retry_after), created_at,
                               attempts)
        except TrackerRefused as exc:
            self._fail_jira(row, f"jira: {exc.reason}"[:500])
            return "failed"
        self._record_sent(row.id, result, prepared=None, attempts=attempts, jira_row=row)
        return "sent"

    def _record_sent(self, row_id: int, result: dict[str, Any], *, prepared: Prepared | None, attempts: int,
                     jira_row: OutboxRow | None = None) -> None:
        # Slack has the message now; if this write were lost the row would be sent again once its lease ran
        # out, so a database hiccup (SQLite busy, PostgreSQL restarting) is waited out within half the lease.
        deadline = time.monotonic() + CLAIM_SECONDS / 2
        delay = 0.2
        while True:
            try:
                with session_scope(self._session_factory, write=True) as session:
                    row = session.get(OutboxMessage, row_id)
                    assert row is not None
                    row.state = "sent"
                    row.sent_at = self._clock()
                    row.attempts = attempts + 1
                    row.claimed_until = None
                    row.result_channel = result.get("channel")
                    row.result_ts = result.get("ts")
                    if prepared is not None:
                        record_post(session, row, prepared, result)
                    if jira_row is not None and self._jira is not None:
                        self._jira.record(session, jira_row, result)
                return
            except DBAPIError as exc:
                transient = isinstance(exc, OperationalError) or exc.connection_invalidated
                if not transient or time.monotonic() + delay > deadline:
                    raise
                log.warning("outbox %s was delivered; recording it failed, retrying: %s", row_id, str(exc.orig)[:200])
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _skip(self, row_id: int, reason: str, attempts: int) -> None:
        log.info("outbox %s: nothing to send (%s)", row_id, reason)
        with session_scope(self._session_factory, write=True) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                            .values(state="skipped", last_error=reason[:200], claimed_until=None,
                                    attempts=attempts))

    def _retry(self, row_id: int, exc: TransientError, created_at: datetime, attempts: int) -> str:
        now = self._clock()
        with session_scope(self._session_factory, write=True) as session:
            values: dict[str, Any] = {"attempts": attempts + 1, "claimed_until": None, "last_error": exc.reason}
            if now - created_at > GIVE_UP_AFTER:
                values.update(state="failed", last_error=f"gave up after {attempts + 1} attempts: {exc.reason}")
                log.error("outbox %s: giving up after %s attempts (%s)", row_id, attempts + 1, exc.reason)
            else:
                values["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(attempts, exc.retry_after))
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))
        return "retry"

    def _fail(self, row_id: int, reason: str, row: Row, prepared: Prepared) -> None:
        purpose, channel, workspace_id = row.purpose, prepared.payload.get("channel"), row.workspace_id
        new_message = prepared.method in ("chat.postMessage", "files_upload_v2")
        level = logging.ERROR if new_message else logging.WARNING
        log.log(level, "outbox %s: Slack refused %s to %s: %s", row_id, purpose, channel or "?", reason)
        with session_scope(self._session_factory, write=True) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id)
                .values(state="failed", last_error=reason, claimed_until=None, attempts=OutboxMessage.attempts + 1)
            )
            if prepared.method == "chat.update":
                # Deleted, or its channel archived: later changes stop trying to update it. Nothing was lost (the
                # message itself is gone), so the security channel is not told.
                forget_posted(session, prepared.posted_id)
                return
            # Tell the security team once, in its channel, unless that channel itself is the problem. A home tab
            # that could not be published is not worth a message: it is published again when opened.
            if (new_message and purpose != "delivery_failed" and self._security_channel
                    and channel != self._security_channel):
                text = render.message("delivery.failed", channel=channel or "?", reason=reason, purpose=purpose)
                outbox.enqueue(session, workspace_id=workspace_id, method="chat.postMessage",
                               payload={"channel": self._security_channel, "text": text},
                               purpose="delivery_failed", ordering_key=f"ops:{workspace_id}")

    def _fail_jira(self, row: OutboxRow, reason: str) -> None:
        log.error("outbox %s: Jira refused %s: %s", row.id, row.purpose, reason)
        with session_scope(self._session_factory, write=True) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id)
                .values(state="failed", last_error=reason, claimed_until=None, attempts=OutboxMessage.attempts + 1)
            )
            # The security team hears of it once, in its channel: a safeguard that never reached Jira.
            if not self._security_channel:
                return
            if self._jira is not None:
                text = self._jira.refusal_text(session, row, reason)
            else:
                text = render.message("jira.refused", what=row.purpose, id=row.payload.get("condition_id", "?"),
                                      key="?", reason=reason)
            outbox.enqueue(session, workspace_id=row.workspace_id, method="chat.postMessage",
                           payload={"channel": self._security_channel, "text": text},
                           purpose="delivery_failed", ordering_key=f"ops:{row.workspace_id}")

    def _sweep_if_due(self) -> None:
        now = self._clock()
        if self._last_sweep and now - self._last_sweep < timedelta(hours=1):
            return
        self._last_sweep = now
        with session_scope(self._session_factory, write=True) as session:
            session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - PROCESSED_EVENT_TTL))

    def drain(self, timeout: float = 30.0) -> DeliveryStats:
        """Delivers until nothing is due (CLI `digest post`, tests); transient failures stay queued."""
        total = DeliveryStats()
        deadline = self._clock() + timedelta(seconds=timeout)
        while self._clock() < deadline:
            stats = self.run_once()
            total = DeliveryStats(total.sent + stats.sent, total.retried + stats.retried, total.failed + stats.failed,
                                  total.dropped + stats.dropped)
            if not (stats.sent or stats.failed or stats.dropped):
                break
        return total
