"""The traffic of bench/chaos.py: announcements and decisions sent as Slack would, and the ledger of the acks."""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from bench.chaos_config import ANNOUNCE, OWNERS, REVIEWER, ChaosConfig
from bot.common.ids import BlockId, CallbackId
from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import Response, SlackSender
from storage.models import Review


def decision_values(outcome: str, rationale: str = "") -> dict[str, Any]:
    """view.state.values of the decision modal, as Slack sends them."""
    return {
        BlockId.OUTCOME: {BlockId.OUTCOME: {"type": "radio_buttons", "selected_option": {"value": outcome}}},
        BlockId.RATIONALE: {BlockId.RATIONALE: {"type": "plain_text_input", "value": rationale or None}},
        BlockId.CONDITIONS: {BlockId.CONDITIONS: {"type": "plain_text_input", "value": None}},
        BlockId.COST_AVOIDED: {BlockId.COST_AVOIDED: {"type": "plain_text_input", "value": None}},
    }


def _is_clean_ack(response: Response) -> bool:
    body = response.body.strip()
    return response.status == 200 and body in ("", "{}")


@dataclass
class Ledger:
    """What the traffic saw, filled by several sender threads."""

    requests: int = 0
    transport_errors: int = 0
    server_errors: int = 0
    leaked_bodies: int = 0
    announcements_acked: dict[str, int] = field(default_factory=dict)  # source ts -> project index
    announcements_unacked: list[str] = field(default_factory=list)
    decisions_acked: set[str] = field(default_factory=set)  # source ts of decided announcements
    decisions_accepted_earlier: set[str] = field(default_factory=set)
    decisions_refused: dict[str, str] = field(default_factory=dict)
    reviews_never_seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Traffic:
    """Sends the stream of announcements and decisions the way Slack (and its users) would."""

    def __init__(self, *, fake: FakeSlack, sender: SlackSender, engine: Engine, config: ChaosConfig,
                 ledger: Ledger) -> None:
        self.fake = fake
        self.sender = sender
        self.engine = engine
        self.config = config
        self.ledger = ledger
        self.started = 0
        self.finished = 0
        self._count_lock = threading.Lock()

    def _send(self, send: Callable[[], Response]) -> Response | None:
        with self.ledger.lock:
            self.ledger.requests += 1
        try:
            response = send()
        except (OSError, http.client.HTTPException):
            # Refused while the app is down, or cut off by the kill: no answer, so the outcome is unknown.
            with self.ledger.lock:
                self.ledger.transport_errors += 1
            return None
        if response.status >= 500:
            with self.ledger.lock:
                self.ledger.server_errors += 1
                if "Traceback" in response.body or "Error" in response.body:
                    self.ledger.leaked_bodies += 1
            return None
        return response

    def deliver_event(self, envelope: dict[str, Any]) -> bool:
        """Delivers an event until it is answered 200, with Slack's retry headers after the first attempt."""
        deadline = time.monotonic() + self.config.request_deadline
        attempt = 0
        while time.monotonic() < deadline:
            retry_num = attempt or None
            response = self._send(lambda n=retry_num: self.sender.send_event(
                envelope, retry_num=n, retry_reason="http_error" if n else None, timeout=5))
            if response is not None and response.status == 200:
                return True
            attempt += 1
            time.sleep(min(0.1 * attempt, 1.0))
        return False

    def _review_number(self, ts: str) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(Review.number).where(Review.source_channel == ANNOUNCE, Review.source_ts == ts)
            ).scalar_one_or_none()

    def _decided(self, number: int) -> bool:
        with self.engine.connect() as connection:
            state = connection.execute(select(Review.state).where(Review.number == number)).scalar_one_or_none()
        return state not in (None, "announced", "in_review", "needs_info")

    def wait_review(self, ts: str, timeout: float) -> int | None:
        """The review's number once the app recorded it (a reviewer would see the card)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):  # the database may be briefly busy
                number = self._review_number(ts)
                if number is not None:
                    return number
            time.sleep(0.05)
        return None

    def decide(self, ts: str, number: int, outcome: str) -> None:
        """Submits the decision modal until an answer says whether it was recorded."""
        rationale = "" if outcome == "approved" else f"chaos rationale for SR-{number}"
        form = decision_values(outcome, rationale)
        deadline = time.monotonic() + self.config.request_deadline
        attempts_without_answer = 0
        while time.monotonic() < deadline:
            submission = payloads.view_submission(self.fake.team_id, REVIEWER, CallbackId.DECISION.value,
                                                  json.dumps({"key": number}), form)
            response = self._send(lambda s=submission: self.sender.send_interaction(s, timeout=5))
            if response is None:
                attempts_without_answer += 1
                time.sleep(min(0.1 * attempts_without_answer, 1.0))
                continue
            if _is_clean_ack(response):
                with self.ledger.lock:
                    self.ledger.decisions_acked.add(ts)
                return
            if attempts_without_answer and self._decided(number):
                # An earlier attempt was recorded but its answer was lost to the kill; Slack would have shown
                # the user an error page, and the retry is refused as "already decided". Still expected.
                with self.ledger.lock:
                    self.ledger.decisions_accepted_earlier.add(ts)
                return
            with self.ledger.lock:
                self.ledger.decisions_refused[ts] = response.body[:300]
            return
        with self.ledger.lock:
            self.ledger.decisions_refused[ts] = "no answer before the deadline"

    def project(self, index: int) -> None:
        """One project: announced (sometimes delivered twice), then decided once its review exists."""
        rng = random.Random(self.config.seed * 100_003 + index)
        with self._count_lock:
            self.started += 1
        owner = OWNERS[index % len(OWNERS)]
        text = (f"New project #{index}: we are launching a vendor portal for team {index}, "
                f"go-live 2031-0{1 + index % 9}-1{index % 10}")
        message = self.fake.add_message(ANNOUNCE, owner, text)
        ts = message["ts"]
        envelope = payloads.message_event(self.fake.team_id, ANNOUNCE, owner, text, ts=ts)
        acked = self.deliver_event(envelope)
        with self.ledger.lock:
            if acked:
                self.ledger.announcements_acked[ts] = index
            else:
                self.ledger.announcements_unacked.append(ts)
        if acked and rng.random() < self.config.duplicate_rate:
            # Slack delivers again when it thinks the first answer came too late.
            self._send(lambda: self.sender.send_event(envelope, retry_num=1, retry_reason="http_timeout",
                                                      timeout=5))
        number = self.wait_review(ts, timeout=self.config.review_wait_seconds) if acked else None
        if number is None:
            with self.ledger.lock:
                self.ledger.reviews_never_seen.append(ts)
        else:
            self.decide(ts, number, rng.choice(("approved", "approved", "rejected")))
        with self._count_lock:
            self.finished += 1
