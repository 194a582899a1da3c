"""Chaos run: secreview as a real HTTP-mode process against a flaky fake Slack, killed and restarted mid-stream.

A stream of announcements (each delivered like Slack does: signed, retried until answered 200, sometimes
delivered twice) and decisions (signed `view_submission`s of the decision modal, retried while no answer
came back) goes to `secreview serve`; the fake Slack Web API answers a share of the app's calls with 429
(Retry-After), 500 or a hang-then-drop; the app is SIGKILLed and restarted during the stream. Afterwards
the run compares what was acknowledged with what the database holds and what the fake received.

What the figures mean:
- reviews expected: announcements whose event was acknowledged 200; found: those with a review.
- duplicated reviews: reviews beyond the first for one announcement (or reviews for no announcement).
- decisions expected: decision submissions acknowledged 200 without errors (or refused only because an
  earlier attempt, whose answer the kill swallowed, had already recorded it); found: those recorded.
- notices expected: per review the thread reply and the card; per decision the thread reply, the card
  update and the owner's DM. Each has an identity (review, purpose); every successful call the fake
  recorded is matched to the outbox row whose channel, thread and text it carries.
- delivered once / twice: identities the fake accepted exactly once / more than once.
- lost: an acknowledged announcement without a review, plus an acknowledged decision not in the
  database, plus an expected notice that never reached the fake by the end (whatever its outbox row
  says: pending, failed, recorded as sent, or never written).

The last line printed is one JSON object with every figure. `--quick` finishes in under a minute with
fewer projects. What a killed app had claimed (outbox rows, queued requests) is taken over by the restarted
app at once: the claims name a process of this host that no longer runs (bot/run/claims.py), so nothing waits
for the leases to run out. `python bench/chaos.py --help` lists the knobs (fault rates, size, kills,
database).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from bot.common.ids import BlockId, CallbackId
from sandbox import payloads
from sandbox.fake_slack import Call, FakeSlack
from sandbox.slack_sender import Response, SlackSender
from storage import db
from storage.models import Decision, OutboxMessage, Review

SIGNING_SECRET = "chaos-signing-secret"
BOT_TOKEN = "xoxb-chaos"
ANNOUNCE = "C0PROJECTS"
SECURITY = "C0SECURITY"
REVIEWER = "U0BOB"
OWNERS = ("U0ALICE", "U0CAROL", "U0DAVE", "U0ERIN")
OPENED_PURPOSES = ("thread_opened", "card")
DECIDED_PURPOSES = ("thread_decision", "card_update", "dm_decision")
REQUIRED_KEYS = ("requests", "reviews_expected", "reviews_found", "duplicated_reviews", "decisions_expected",
                 "decisions_found", "notices_expected", "notices_delivered_twice", "lost")

# The child runs the real `secreview serve`; the only thing this launcher adds is a parent-death signal, so
# a harness that dies itself never leaves the app running.
LAUNCHER = """
import ctypes, os, signal, sys
with __import__("contextlib").suppress(Exception):
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(3)  # the harness is already gone
del sys.argv[1:2]
from bot.cli import main
main(prog_name="secreview")
"""


@dataclass
class ChaosConfig:
    """The knobs of one run."""

    announcements: int = 150
    concurrency: int = 8
    kills: int = 2
    rate_429: float = 0.10
    rate_500: float = 0.10
    rate_timeout: float = 0.05
    timeout_seconds: float = 1.0
    retry_after: int = 1
    duplicate_rate: float = 0.2
    settle_seconds: float = 150.0
    request_deadline: float = 90.0
    review_wait_seconds: float = 30.0  # an acked announcement with no review by then is counted as lost
    database_url: str | None = None
    seed: int = 7
    workdir: Path | None = None


def quick_config(**overrides: Any) -> ChaosConfig:
    """A run that finishes in well under a minute: fewer projects."""
    values: dict[str, Any] = {"announcements": 40, "concurrency": 6, "kills": 2,
                              "settle_seconds": 40.0, "request_deadline": 30.0, "review_wait_seconds": 20.0}
    values.update(overrides)
    return ChaosConfig(**values)


# ----------------------------------------------------------------------------------------- the app process

def free_port() -> int:
    """A TCP port free on loopback now (kept for every restart, as Slack's request URL is fixed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_environment(*, api_url: str, database_url: str, reviewers: str = REVIEWER,
                    security_channel: str = SECURITY) -> dict[str, str]:
    """The child's environment: the inherited one without secreview/Slack settings, plus the run's own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "SECREVIEW_")) and k != "DATABASE_URL"}
    env.update({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url, "SECREVIEW_REVIEWERS": reviewers,
        "SECREVIEW_SECURITY_CHANNEL": security_channel, "PYTHONUNBUFFERED": "1",
    })
    return env


class AppProcess:
    """`secreview serve` as a child process on a fixed port: started, SIGKILLed, restarted, stopped."""

    def __init__(self, *, env: dict[str, str], port: int, workdir: Path, threads: int = 8) -> None:
        self.env = env
        self.port = port
        self.workdir = workdir
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.failed_starts = 0
        self.kills = 0
        self._log = (workdir / "app.log").open("ab")

    @property
    def url(self) -> str:
        """The app's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", LAUNCHER, str(os.getpid()), "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--threads", str(self.threads), "--no-scheduler"]
        # Its own session: a kill reaches the whole group, and the terminal's Ctrl-C reaches only us.
        # The working directory is empty so no stray .env changes the settings.
        return subprocess.Popen(command, cwd=self.workdir, env=self.env, stdout=self._log, stderr=self._log,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self, timeout: float = 60.0) -> None:
        """Starts the app and waits until /readyz answers 200 (respawning it if start-up itself failed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process = self._spawn()
            self.starts += 1
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    # e.g. auth.test answered 500 at start-up: a supervisor would start it again.
                    self.failed_starts += 1
                    time.sleep(0.2)
                    break
                if self.ready():
                    return
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"secreview did not become ready within {timeout} s; see {self.workdir / 'app.log'}")

    def ready(self) -> bool:
        """Whether GET /readyz answers 200 now."""
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    f"{self.url}/readyz", timeout=2) as reply:
                return bool(reply.status == 200)
        except (OSError, http.client.HTTPException):
            return False

    def kill(self) -> None:
        """SIGKILL, in the middle of whatever it is doing."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.kills += 1
        self.process = None

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def close(self) -> None:
        """Stops the app and closes its log."""
        self.stop()
        self._log.close()


# ---------------------------------------------------------------------------------------------- databases

@contextlib.contextmanager
def chaos_database(url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file in the work directory, or a PostgreSQL schema of its own."""
    if not url or url.startswith("sqlite"):
        path = workdir / "chaos.db"
        sqlite_url = f"sqlite:///{path}"
        engine = db.make_engine(sqlite_url)
        db.upgrade(engine)
        engine.dispose()
        yield sqlite_url
        return
    schema = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = db.make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = scoped.render_as_string(hide_password=False)
    try:
        engine = db.make_engine(rendered)
        db.upgrade(engine)  # `secreview db upgrade`, as before any PostgreSQL start
        engine.dispose()
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# ------------------------------------------------------------------------------------------- the traffic

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


# ------------------------------------------------------------------------------------------------- tally

@dataclass
class Tally:
    """The comparison of what was acknowledged, what is stored and what Slack received."""

    figures: dict[str, Any]
    complete: bool  # every expected notice arrived and nothing is pending


def delivered_calls(fake: FakeSlack) -> list[Call]:
    """Successful message calls, in the order the fake accepted them."""
    found = []
    for call in fake.calls():
        if call.method not in ("chat.postMessage", "chat.update") or call.fault is not None:
            continue
        if call.status == 200 and (call.response or {}).get("ok"):
            found.append(call)
    return found


def _message_key(channel: Any, thread_ts: Any, text_: Any) -> tuple[str, str, str]:
    return (str(channel or ""), str(thread_ts or ""), str(text_ or ""))


def tally(*, engine: Engine, fake: FakeSlack, ledger: Ledger, app: AppProcess | None = None,
          sent_at_kill: set[int] | None = None) -> Tally:
    """Counts reviews, decisions and notices against what was acknowledged."""
    with engine.connect() as connection:
        reviews = connection.execute(
            select(Review.id, Review.number, Review.source_channel, Review.source_ts, Review.state)).all()
        decision_counts = dict(connection.execute(
            select(Decision.review_id, func.count()).group_by(Decision.review_id)).all())
        rows = connection.execute(
            select(OutboxMessage.id, OutboxMessage.review_id, OutboxMessage.purpose, OutboxMessage.method,
                   OutboxMessage.payload, OutboxMessage.state, OutboxMessage.last_error)
            .order_by(OutboxMessage.id)).all()
    with ledger.lock:
        acked = dict(ledger.announcements_acked)
        decided_expected = set(ledger.decisions_acked) | set(ledger.decisions_accepted_earlier)
        refused = dict(ledger.decisions_refused)

    by_source: dict[str, list[Any]] = defaultdict(list)
    strays = 0
    for review in reviews:
        if review.source_channel == ANNOUNCE and review.source_ts in acked:
            by_source[review.source_ts].append(review)
        else:
            strays += 1
    duplicated_reviews = strays + sum(len(found) - 1 for found in by_source.values() if len(found) > 1)
    reviews_found = sum(1 for ts in acked if by_source.get(ts))
    lost_announcements = len(acked) - reviews_found

    review_of_ts = {ts: found[0] for ts, found in by_source.items()}
    decisions_found = sum(1 for ts in decided_expected
                          if ts in review_of_ts and decision_counts.get(review_of_ts[ts].id, 0) >= 1)
    duplicated_decisions = sum(count - 1 for count in decision_counts.values() if count > 1)
    lost_decisions = len(decided_expected) - decisions_found

    # Expected notices: what each recorded change must have caused in Slack.
    expected: list[tuple[int, str]] = []
    for review in review_of_ts.values():
        expected += [(review.id, purpose) for purpose in OPENED_PURPOSES]
        if decision_counts.get(review.id):
            expected += [(review.id, purpose) for purpose in DECIDED_PURPOSES]

    # Match each successful call to the outbox row it came from, by channel, thread and text.
    candidates: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    row_of_identity: dict[tuple[int, str], Any] = {}
    for row in rows:
        payload = row.payload or {}
        candidates[_message_key(payload.get("channel"), payload.get("thread_ts"), payload.get("text"))].append(row)
        if row.review_id is not None:
            row_of_identity.setdefault((row.review_id, row.purpose), row)
    deliveries: Counter[tuple[int, str]] = Counter()
    first_seen: dict[tuple[int, str], int] = {}
    row_deliveries: Counter[int] = Counter()
    unmatched = 0
    for position, call in enumerate(delivered_calls(fake)):
        params = call.params
        thread = params.get("thread_ts") if call.method == "chat.postMessage" else None
        rows_here = candidates.get(_message_key(params.get("channel"), thread, params.get("text")), [])
        if call.method == "chat.update":
            rows_here = [r for r in rows_here if r.purpose == "card_update"]
        if not rows_here:
            unmatched += 1
            continue
        row = rows_here[0]
        row_deliveries[row.id] += 1
        if row.review_id is None:
            continue
        identity = (row.review_id, row.purpose)
        deliveries[identity] += 1
        first_seen.setdefault(identity, position)

    delivered_once = sum(1 for identity in expected if deliveries[identity] == 1)
    delivered_twice = sum(1 for identity in expected if deliveries[identity] > 1)
    missing = [identity for identity in expected if deliveries[identity] == 0]
    missing_by_state: Counter[str] = Counter(
        (row_of_identity[i].state if i in row_of_identity else "never_written") for i in missing)
    out_of_order = 0
    for review in review_of_ts.values():
        for earlier, later in (("thread_opened", "thread_decision"), ("card", "card_update")):
            a, b = first_seen.get((review.id, earlier)), first_seen.get((review.id, later))
            if a is not None and b is not None and b < a:
                out_of_order += 1
    pending = sum(1 for row in rows if row.state == "pending")
    failed = [f"{row.purpose}: {row.last_error}" for row in rows if row.state == "failed"]
    sent_then_redelivered = sum(1 for row_id in (sent_at_kill or set()) if row_deliveries[row_id] > 1)

    lost = lost_announcements + lost_decisions + len(missing)
    figures: dict[str, Any] = {
        "requests": ledger.requests,
        "reviews_expected": len(acked),
        "reviews_found": reviews_found,
        "duplicated_reviews": duplicated_reviews,
        "decisions_expected": len(decided_expected),
        "decisions_found": decisions_found,
        "duplicated_decisions": duplicated_decisions,
        "decisions_refused": len(refused),
        "notices_expected": len(expected),
        "notices_delivered_once": delivered_once,
        "notices_delivered_twice": delivered_twice,
        "notices_missing": len(missing),
        "notices_missing_by_outbox_state": dict(missing_by_state),
        "sent_rows_redelivered": sent_then_redelivered,
        "out_of_order": out_of_order,
        "unmatched_calls": unmatched,
        "outbox_pending": pending,
        "outbox_failed": len(failed),
        "lost_announcements": lost_announcements,
        "lost_decisions": lost_decisions,
        "lost": lost,
        "announcements_unacked": len(ledger.announcements_unacked),
        "transport_errors": ledger.transport_errors,
        "server_errors": ledger.server_errors,
        "leaked_error_bodies": ledger.leaked_bodies,
        "slack_faults": dict(fake.fault_counts),
        "slack_calls": len(fake.calls()),
    }
    if app is not None:
        figures.update(kills=app.kills, app_starts=app.starts, failed_starts=app.failed_starts)
    if refused:
        figures["refusals"] = sorted(set(refused.values()))[:3]
    if failed:
        figures["failures"] = failed[:5]
    return Tally(figures=figures, complete=not missing and pending == 0)


# -------------------------------------------------------------------------------------------------- the run

def populate(fake: FakeSlack) -> None:
    """The people and channels of the run."""
    for user, name in ((REVIEWER, "Bob Brown"), ("U0ALICE", "Alice Adams"), ("U0CAROL", "Carol Chen"),
                       ("U0DAVE", "Dave Doe"), ("U0ERIN", "Erin Evans")):
        fake.add_user(user, name, display_name=name.split()[0].lower())
    fake.add_channel(ANNOUNCE, "projects")
    fake.add_channel(SECURITY, "security-reviews")


def sent_row_ids(engine: Engine) -> set[int]:
    """Outbox rows recorded as sent now (taken right after a kill)."""
    with engine.connect() as connection:
        return set(connection.scalars(select(OutboxMessage.id).where(OutboxMessage.state == "sent")))


def run_chaos(config: ChaosConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Runs the whole chaos scenario and returns its figures."""
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        workdir = config.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        fake = FakeSlack().start()
        stack.callback(fake.stop)
        populate(fake)
        database_url = stack.enter_context(chaos_database(config.database_url, workdir))
        engine = db.make_engine(database_url)
        stack.callback(engine.dispose)
        app = AppProcess(env=app_environment(api_url=fake.api_url, database_url=database_url), port=free_port(),
                         workdir=workdir)
        stack.callback(app.close)

        fake.set_faults(rate_429=config.rate_429, rate_500=config.rate_500, rate_timeout=config.rate_timeout,
                        timeout_seconds=config.timeout_seconds, retry_after=config.retry_after, seed=config.seed)
        log(f"fake Slack at {fake.api_url}: 429 {config.rate_429:.0%}, 500 {config.rate_500:.0%}, "
            f"timeouts {config.rate_timeout:.0%} ({config.timeout_seconds:g} s, Retry-After {config.retry_after} s)")
        app.start()
        log(f"secreview serving at {app.url} ({'sqlite' if database_url.startswith('sqlite') else 'postgresql'})")

        ledger = Ledger()
        traffic = Traffic(fake=fake, sender=SlackSender(f"{app.url}/slack/events", SIGNING_SECRET), engine=engine,
                          config=config, ledger=ledger)
        thresholds = [config.announcements * (k + 1) // (config.kills + 1) for k in range(config.kills)]
        sent_at_kill: set[int] = set()
        with ThreadPoolExecutor(config.concurrency, thread_name_prefix="chaos-traffic") as pool:
            futures = [pool.submit(traffic.project, i) for i in range(config.announcements)]
            # Kills come from this (main) thread, which also spawns the restarts: the child's parent-death
            # signal follows the thread that started it.
            while thresholds:
                if traffic.started >= thresholds[0] and traffic.finished < config.announcements:
                    thresholds.pop(0)
                    app.kill()
                    with contextlib.suppress(Exception):
                        sent_at_kill |= sent_row_ids(engine)
                    log(f"killed the app (SIGKILL) with {traffic.started} projects started, "
                        f"{traffic.finished} finished; restarting")
                    app.start()
                    log(f"restarted ({app.starts} starts, {app.failed_starts} failed at start-up)")
                elif all(f.done() for f in futures):
                    break
                time.sleep(0.02)
            for future in futures:
                future.result()
        log(f"stream done after {time.monotonic() - started:.1f} s: {ledger.requests} requests; "
            "waiting for the outbox to settle")

        deadline = time.monotonic() + config.settle_seconds
        result = tally(engine=engine, fake=fake, ledger=ledger, app=app, sent_at_kill=sent_at_kill)
        while not result.complete and time.monotonic() < deadline:
            time.sleep(0.25)
            result = tally(engine=engine, fake=fake, ledger=ledger, app=app, sent_at_kill=sent_at_kill)
        app.stop()
        result = tally(engine=engine, fake=fake, ledger=ledger, app=app, sent_at_kill=sent_at_kill)
        figures = dict(result.figures)
        figures["seconds"] = round(time.monotonic() - started, 1)
        figures["config"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()
                             if k not in ("database_url", "workdir")}
        figures["config"]["database"] = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        if figures["lost"] or figures["duplicated_reviews"]:
            log_text = (workdir / "app.log").read_text(errors="replace")
            log("app log tail:\n" + "\n".join(log_text.splitlines()[-40:]))
        return figures


def report(figures: dict[str, Any], log: Callable[[str], None] = print) -> None:
    """Prints the figures for people, then the JSON line for machines."""
    log(f"requests sent:             {figures['requests']}")
    log(f"reviews expected / found:  {figures['reviews_expected']} / {figures['reviews_found']}"
        f"   (duplicated: {figures['duplicated_reviews']})")
    log(f"decisions expected / found: {figures['decisions_expected']} / {figures['decisions_found']}"
        f"   (duplicated: {figures['duplicated_decisions']}, refused: {figures['decisions_refused']})")
    log(f"notices expected:          {figures['notices_expected']}")
    log(f"  delivered once:          {figures['notices_delivered_once']}")
    log(f"  delivered twice:         {figures['notices_delivered_twice']}"
        f"   (of them recorded as sent before a kill: {figures['sent_rows_redelivered']})")
    log(f"  out of order:            {figures['out_of_order']}")
    log(f"lost:                      {figures['lost']}   (announcements {figures['lost_announcements']}, "
        f"decisions {figures['lost_decisions']}, notices {figures['notices_missing']} "
        f"{figures['notices_missing_by_outbox_state'] or ''})")
    log(f"kills / starts:            {figures.get('kills')} / {figures.get('app_starts')}"
        f"   Slack faults injected: {figures['slack_faults']}   run: {figures['seconds']} s")
    print(json.dumps(figures, sort_keys=True), flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command line: `python bench/chaos.py [--quick] [--database-url URL] [...]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run under a minute (40 projects)")
    parser.add_argument("--announcements", type=int, help="projects announced (and decided)")
    parser.add_argument("--concurrency", type=int, help="parallel senders")
    parser.add_argument("--kills", type=int, help="SIGKILL + restart during the stream")
    parser.add_argument("--rate-429", type=float, help="share of Slack calls answered 429")
    parser.add_argument("--rate-500", type=float, help="share answered 500")
    parser.add_argument("--rate-timeout", type=float, help="share that hang, then drop")
    parser.add_argument("--settle", type=float, help="seconds to wait for the outbox at the end")
    parser.add_argument("--review-wait", type=float, help="seconds an acknowledged announcement has to show up")
    parser.add_argument("--database-url", default=os.environ.get("SECREVIEW_CHAOS_DATABASE_URL"),
                        help="PostgreSQL URL (a fresh schema is used); default: a SQLite file")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--workdir", type=Path, help="keep the app's log and SQLite file here")
    args = parser.parse_args(argv)
    overrides = {name: value for name, value in (
        ("announcements", args.announcements), ("concurrency", args.concurrency), ("kills", args.kills),
        ("rate_429", args.rate_429), ("rate_500", args.rate_500), ("rate_timeout", args.rate_timeout),
        ("settle_seconds", args.settle), ("seed", args.seed),
        ("workdir", args.workdir), ("review_wait_seconds", args.review_wait),
    ) if value is not None}
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    overrides["database_url"] = args.database_url
    config = quick_config(**overrides) if args.quick else ChaosConfig(**overrides)

    def on_term(*_: Any) -> None:
        raise KeyboardInterrupt  # unwinds through the finally blocks that stop the app

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        figures = run_chaos(config)
    finally:
        signal.signal(signal.SIGTERM, previous)
    report(figures)
    return 0 if figures["lost"] == 0 and figures["duplicated_reviews"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
