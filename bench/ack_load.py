"""The load of bench/ack.py: the signed requests of the benchmark's mix, and the senders that time them.

Requests are built ahead of time (60% ordinary channel messages, 20% announcements, 10% `/secreview list`,
10% button clicks), so building one costs nothing while it is timed. Two ways to send them: a closed loop
(a fixed number in flight) and an open loop (a fixed rate, whatever the answers so far).
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from sandbox import payloads
from sandbox.slack_sender import SLACK_USER_AGENT, sign

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
TEAM = payloads.DEFAULT_TEAM_ID
PROJECTS, GENERAL, SECURITY, DIGEST = "C0PROJECTS", "C0GENERAL", "C0SECURITY", "C0DIGEST"
PEOPLE = ("U0ALICE", "U0BOB", "U0CAROL")
REVIEWER = "U0BOB"
MIX = (("message", 0.60), ("announcement", 0.20), ("list", 0.10), ("click", 0.10))
TIMEOUT = 10.0

CHATTER = (
    "Morning all, standup moved to 10:15 today",
    "Has anyone seen the build failing on main? Looks like a flaky test",
    "Lunch order closes at 11:30 :pizza:",
    "Thanks <@U0BOB> for the quick fix on the VPN config!",
    "Reminder: the quarterly all-hands is on Thursday, agenda in the doc",
    "Can someone review my PR for the billing export? Small change, two files",
    "The printer on floor 3 is out of toner again",
    "FYI the staging database will be restarted at 18:00 for patching",
    "Great demo yesterday, the new dashboard looks really clean",
    "Who owns the shared calendar for the meeting rooms?",
    "I'll be out on Friday, <@U0CAROL> covers the on-call",
    "Retro notes are up: <https://wiki.example.com/retro|retro page>",
)
ANNOUNCEMENTS = (
    "New project: we are launching a customer portal on {vendor}, go-live {day} {month}. It will hold personal data.",
    "Kick-off next week for the {vendor} rollout to the sales team, planned go-live end of {month}",
    "We are onboarding a new vendor, {vendor}, for payroll; proof of concept starts Monday",
    "Pilot of an AI assistant built on {vendor} for support tickets, internet-facing, launch on {day} {month}",
    "Heads up: rollout of SSO for the partner extranet, go-live {year}-0{mon}-1{day1}",
    "New project kickoff: mobile app for field engineers with payments via {vendor}, go-live in Q{q}",
)
VENDORS = ("Salesforce", "Workday", "Snowflake", "Okta", "Stripe", "OpenAI", "Zendesk", "ServiceNow", "AWS")
MONTHS = ("January", "March", "May", "July", "September", "November")
CLICKS = (("review-take", 0.5), ("review-decide", 0.25), ("home-open-review", 0.25))


@dataclass(frozen=True)
class Request:
    """One delivery, built ahead of time so building it costs nothing while it is timed."""

    kind: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Result:
    """What one delivery got: its kind, its acknowledgement latency in seconds and the HTTP status (0: none)."""

    kind: str
    seconds: float
    status: int


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def build_requests(n: int, *, fake_url: str, seed: int = 7, announced_before: int = 0) -> list[Request]:
    """n deliveries in the benchmark's mix; clicks aim at reviews that earlier announcements opened."""
    rng = random.Random(seed)
    announced = announced_before
    requests = []
    for _ in range(n):
        kind = _pick(rng, MIX)
        if kind == "message":
            user = rng.choice(PEOPLE)
            channel = rng.choice((PROJECTS, GENERAL))
            # Some chatter is a thread reply: still an ordinary message, ignored by the intake.
            thread = payloads.new_ts() if rng.random() < 0.15 else None
            envelope = payloads.message_event(TEAM, channel, user, rng.choice(CHATTER), thread_ts=thread)
            requests.append(Request(kind, json.dumps(envelope).encode(), "application/json"))
        elif kind == "announcement":
            text = rng.choice(ANNOUNCEMENTS).format(
                vendor=rng.choice(VENDORS), day=rng.randint(2, 28), month=rng.choice(MONTHS), year=2031,
                mon=rng.randint(1, 9), day1=rng.randint(0, 9), q=rng.randint(1, 4))
            envelope = payloads.message_event(TEAM, PROJECTS, rng.choice(PEOPLE), text)
            requests.append(Request(kind, json.dumps(envelope).encode(), "application/json"))
            announced += 1
        elif kind == "list":
            user = rng.choice(PEOPLE)
            form = payloads.slash_command(
                TEAM, PROJECTS, user, rng.choice(("list", "list open", "list mine")),
                response_url=payloads.make_response_url("commands", TEAM, base=fake_url))
            requests.append(Request(kind, urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"))
        else:
            # A review opened a little while ago (the newest may still be on their way in).
            key = f"SR-{rng.randint(1, max(1, announced - 20))}"
            payload = payloads.block_actions(
                TEAM, REVIEWER, _pick(rng, CLICKS), key, channel=SECURITY,
                response_url=payloads.make_response_url("actions", TEAM, base=fake_url))
            body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
            requests.append(Request(kind, body, "application/x-www-form-urlencoded"))
    return requests


def announcements_in(requests: Sequence[Request]) -> int:
    """How many announcements a list of deliveries holds."""
    return sum(1 for r in requests if r.kind == "announcement")


def post(host: str, port: int, request: Request, *, due: float | None = None) -> Result:
    """Sends one signed delivery on a fresh connection (as Slack does) and times it until the response."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": request.content_type,
        "User-Agent": SLACK_USER_AGENT,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(SIGNING_SECRET, request.body, timestamp),
        "Connection": "close",
    }
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("POST", "/slack/events", request.body, headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = 0
    finally:
        connection.close()
    ended = time.perf_counter()
    return Result(request.kind, ended - (started if due is None else min(due, started)), status)


def closed_loop(host: str, port: int, requests: Sequence[Request], concurrency: int) -> tuple[list[Result], float]:
    """Sends every request with `concurrency` senders, each sending its next as soon as it has an answer."""
    results: list[Result] = []
    lock = threading.Lock()
    index = iter(range(len(requests)))

    def sender() -> None:
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                return
            result = post(host, port, requests[i])
            with lock:
                results.append(result)

    started = time.perf_counter()
    threads = [threading.Thread(target=sender, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def open_loop(host: str, port: int, requests: Sequence[Request], rate: float,
              senders: int = 64) -> tuple[list[Result], float]:
    """Sends request i at start + i/rate whatever the answers so far (a slow server gets no respite); latency is
    counted from that due time, so a request that waited for a free sender is charged its wait."""
    due_queue: queue.Queue[tuple[float, Request] | None] = queue.Queue()
    results: list[Result] = []
    lock = threading.Lock()

    def sender() -> None:
        while (item := due_queue.get()) is not None:
            result = post(host, port, item[1], due=item[0])
            with lock:
                results.append(result)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    for i, request in enumerate(requests):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        due_queue.put((due, request))
    for _ in threads:
        due_queue.put(None)
    for t in threads:
        t.join()
    return results, time.perf_counter() - started
