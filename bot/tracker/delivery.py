"""Delivering the outbox's jira.* rows: create a safeguard's issue (once), or resolve it when secreview closed it.

bot/run/delivery.py claims the rows with the same lease, order and backoff as Slack's and calls `deliver`; it
records the outcome with `record` in the transaction that marks the row sent, and reports a refusal with
`refusal_text` in the security channel.

Never two issues for one safeguard, across retries, replicas and crashes: before a create request goes out its
time is committed on the condition (jira_sent_at). From then on the outcome may be unknown (a timeout, a 5xx, a
process killed mid-call), so a later attempt first waits until no earlier request can still be in flight, then
searches for the marker label and records the issue it finds instead of creating another. Only a 429 or 503,
which Jira answers before doing anything, clears the mark.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.common import render
from bot.config import Settings
from bot.review import jira_notices, notices
from bot.tracker.client import JiraClient, TrackerRefused, TrackerUnavailable, connect
from storage.db import session_scope
from storage.models import Condition, Review, utcnow

log = logging.getLogger(__name__)

# Longer than the outbox's lease (60 s) plus the Jira call's timeout (10 s): once a lease ran out and another
# replica took the row over, the first replica's request has ended, one way or the other. Also covers Jira
# Cloud's search index catching up with an issue just created.
IN_FLIGHT_SECONDS = 90


@dataclass(frozen=True)
class OutboxRow:
    """What the deliverer needs of an outbox row."""

    id: int
    workspace_id: str
    review_id: int | None
    method: str
    purpose: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Owner:
    """The safeguard's owner as Slack knows them (users.info): name and email (None without users:read.email)."""

    name: str
    email: str | None
    found: bool = True


class JiraDelivery:
    """Makes the Jira calls of jira.* outbox rows; raises TrackerUnavailable (retry) or TrackerRefused (give up)."""

    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: sessionmaker[Session],
        owner_of: Callable[[str, str], Owner],
        permalink_of: Callable[[str, str, str], str | None],
        clock: Callable[[], datetime] = utcnow,
        client_factory: Callable[[Settings], JiraClient] = connect,
    ) -> None:
        self._settings = settings
        self._session_factory = session_factory
        self._owner_of = owner_of
        self._permalink_of = permalink_of
        self._clock = clock
        self._client_factory = client_factory
        self._client: JiraClient | None = None
        self._lock = threading.Lock()

    def client(self) -> JiraClient:
        """The connected client (connecting once; a failed connect is tried again next time)."""
        with self._lock:
            if self._client is None:
                self._client = self._client_factory(self._settings)
            return self._client

    def deliver(self, row: OutboxRow) -> dict[str, Any]:
        """Carries out one row; returns what `record` stores."""
        if row.method == jira_notices.CREATE:
            return self._create(row)
        if row.method == jira_notices.CLOSE:
            return self._close(row)
        raise TrackerRefused(f"unknown Jira outbox method {row.method}")

    # --- create ------------------------------------------------------------------------------------------

    def _create(self, row: OutboxRow) -> dict[str, Any]:
        payload = row.payload
        condition_id = int(payload["condition_id"])
        with session_scope(self._session_factory) as session:
            condition = session.get(Condition, condition_id)
            if condition is None:
                raise TrackerRefused(f"safeguard #{condition_id} no longer exists")
            known_key, sent_at = condition.jira_key, condition.jira_sent_at
            review = condition.review
            source = (review.source_channel, review.source_ts) if review.source_channel and review.source_ts \
                else (review.card_channel, review.card_ts)
        client = self.client()
        if known_key:
            return {"key": known_key, "url": client.browse_url(known_key), "how": "known"}
        now = self._clock()
        if sent_at is not None:
            waited = (now - sent_at).total_seconds()
            if waited < IN_FLIGHT_SECONDS:
                raise TrackerUnavailable("an earlier create may still be under way", IN_FLIGHT_SECONDS - waited)
            found = client.find_by_label(str(payload["marker"]))
            if found:
                log.info("jira: safeguard #%s already has %s (an earlier attempt created it)", condition_id, found)
                return {"key": found, "url": client.browse_url(found), "how": "found"}
        fields = dict(payload["fields"])
        owner = self._owner_of(row.workspace_id, str(payload["owner"]))
        assignee, unassigned = self._assignee(client, owner)
        if assignee is not None:
            fields["assignee"] = assignee
        link = self._permalink_of(row.workspace_id, *source) if source[0] and source[1] else None
        if link and payload.get("link_field"):
            fields[str(payload["link_field"])] = link
        fields["description"] = render.render_text(
            "jira_issue", about=payload["about"], owner_name=owner.name, owner_email=owner.email,
            unassigned_reason=unassigned, link=link)
        self._mark_sent(condition_id, now)
        try:
            key = client.create_issue(fields)
        except TrackerUnavailable as exc:
            if exc.reason.startswith(("rate limited (429)", "HTTP 503")):
                self._mark_sent(condition_id, None)  # answered before anything was done: nothing was created
            raise
        except TrackerRefused:
            self._mark_sent(condition_id, None)  # refused: nothing was created, a retry may create it
            raise
        return {"key": key, "url": client.browse_url(key), "how": "created", "assigned": assignee is not None}

    def _assignee(self, client: JiraClient, owner: Owner) -> tuple[dict[str, Any] | None, str | None]:
        if not owner.found:
            return None, render.raw_message("jira.unassigned_no_user")
        if not owner.email:
            return None, render.raw_message("jira.unassigned_no_email")
        assignee = client.find_assignee(owner.email)
        if assignee is None:
            return None, render.raw_message("jira.unassigned_no_match", email=owner.email)
        return assignee, None

    def _mark_sent(self, condition_id: int, at: datetime | None) -> None:
        with session_scope(self._session_factory, write=True) as session:
            session.execute(update(Condition).where(Condition.id == condition_id).values(jira_sent_at=at)
                            .execution_options(synchronize_session=False))

    # --- close -------------------------------------------------------------------------------------------

    def _close(self, row: OutboxRow) -> dict[str, Any]:
        payload = row.payload
        condition_id = int(payload["condition_id"])
        with session_scope(self._session_factory) as session:
            condition = session.get(Condition, condition_id)
            key = condition.jira_key if condition is not None else None
        if not key:
            raise TrackerRefused(f"safeguard #{condition_id} has no Jira issue (its creation failed)")
        client = self.client()
        wanted = str(payload["transition"])
        offered = client.transitions(key)
        chosen = _pick_transition(offered, wanted)
        comment = str(payload["comment"])
        if chosen is not None:
            client.transition(key, str(chosen["id"]), comment=comment)
            return {"key": key, "transition": chosen["name"]}
        names = ", ".join(f"\"{t.get('name')}\"" for t in offered) or "no transition"
        client.comment(key, comment + "\n\n" + render.raw_message("jira.no_transition", wanted=wanted, offered=names))
        return {"key": key, "transition": None}

    # --- recording and reporting -------------------------------------------------------------------------

    def record(self, session: Session, row: OutboxRow, result: dict[str, Any]) -> None:
        """In the transaction that marks the row sent: the issue's key on the condition, and the card updated."""
        if row.method != jira_notices.CREATE:
            return
        condition = session.get(Condition, int(row.payload["condition_id"]))
        if condition is None:
            return
        key = str(result["key"])
        if condition.jira_key and condition.jira_key != key:
            log.error("jira: safeguard #%s is tracked by %s, and %s came back too: close one of them in Jira",
                      condition.id, condition.jira_key, key)
            return
        condition.jira_key, condition.jira_url = key, str(result["url"])
        condition.jira_sent_at = None
        review = session.get(Review, condition.review_id)
        if review is not None:
            notices.refresh(session, settings=self._settings, review=review, homes=[condition.owner_id])

    def refusal_text(self, session: Session, row: OutboxRow, reason: str) -> str:
        """The security channel's notice when Jira refused a row for good."""
        review = session.get(Review, row.review_id) if row.review_id else None
        what = render.raw_message("jira.what_create" if row.method == jira_notices.CREATE else "jira.what_close")
        return render.message("jira.refused", what=what, id=row.payload.get("condition_id", "?"),
                              key=review.key if review is not None else "?", reason=reason[:300])


def _pick_transition(offered: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    """The configured transition by name, or one into a status of that name, or any into a "done" status."""
    lowered = wanted.strip().lower()
    for test in (lambda t: str(t.get("name", "")).lower() == lowered,
                 lambda t: str((t.get("to") or {}).get("name", "")).lower() == lowered,
                 lambda t: ((t.get("to") or {}).get("statusCategory") or {}).get("key") == "done"):
        for transition in offered:
            if test(transition):
                return transition
    return None

