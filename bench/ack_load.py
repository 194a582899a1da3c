"""Acknowledgement latency of `secreview serve` beside the floor: a bare Bolt app on the same server stack.

Starts a fake Slack Web API, `secreview serve` (waitress, SQLite, no scheduler) and bench/bare_app.py as real
processes, then sends both the same realistic mix of signed requests (60% ordinary channel messages, 20%
announcements, 10% `/secreview list`, 10% button clicks) in two phases:

- closed loop: a fixed number of requests at a fixed concurrency (each sender sends its next request when it
  has the answer to its last), in rounds that alternate between the apps (A B, B A, …);
- open loop: a fixed rate (200 requests/s by default) for a fixed time per app, in two stretches (A B B A),
  each request sent when it is due whatever the answers so far, and its latency counted from that due time.

Latency is Slack's view: from sending the request to receiving the HTTP response. Between rounds the benchmark
waits until every process is idle, so what secreview does after its acks (opening reviews, notices, answers)
never lands in the floor's figures; how long that took is reported as "drain s". Loopback only, bounded
counts and times; the processes are stopped whatever happens.

    python bench/ack.py [--quick] [--concurrency 16] [--count 4000] [--rate 200] [--duration 30]

Prints a table per phase, then one JSON line: p50_ms, p99_ms, bare_p50_ms, bare_p99_ms, p50_ratio, p99_ratio
(closed loop), over_3s (secreview acks over 3 s or without a 200, both phases), requests, errors, and "rate"
(the open loop's figures under the same names).
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import random
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/ack.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from sandbox import payloads
from sandbox.slack_sender import SLACK_USER_AGENT, sign

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
TEAM = payloads.DEFAULT_TEAM_ID
PROJECTS, GENERAL, SECURITY, DIGEST = "C0PROJECTS", "C0GENERAL", "C0SECURITY", "C0DIGEST"
PEOPLE = ("U0ALICE", "U0BOB", "U0CAROL")
REVIEWER = "U0BOB"
MIX = (("message", 0.60), ("announcement", 0.20), ("list", 0.10), ("click", 0.10))
SLACK_DEADLINE = 3.0  # Slack's acknowledgement deadline: later and it retries
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


# ------------------------------------------------------------------------------------------------ the stack


@dataclass
class Target:
    """One app under load: where it listens and the processes whose CPU it uses."""

    name: str
    host: str
    port: int
    child: common.Child | None = None


class Stack:
    """The fake Slack, secreview and the bare app as child processes; stopped whatever happens."""

    def __init__(self, *, threads: int, listener_threads: int, out: Path) -> None:
        self.out = out
        self.threads = threads
        self.listener_threads = listener_threads
        self.fake: common.Child | None = None
        self.targets: dict[str, Target] = {}
        self.fake_url = ""

    def start(self) -> Stack:
        """Starts the three processes and waits until each answers."""
        py = sys.executable
        self.out.mkdir(parents=True, exist_ok=True)
        fake_port = common.free_port()
        # The fake stands in for slack.com, which is not on this machine: at idle priority it takes only the CPU
        # that the apps and the senders leave, instead of competing with them (only secreview calls it).
        self.fake = common.Child("fake_slack", [py, "-m", "sandbox.fake_slack", "--port", str(fake_port)], idle=True,
                                 log_dir=self.out)
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        self.fake.wait_line("http://", timeout=30)
        database = self.database = self.out / "ack.db"
        for stem in ("ack", "ack-queue"):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.out / stem}.db{suffix}").unlink(missing_ok=True)
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{self.fake_url}/api/", "DATABASE_URL": f"sqlite:///{database}",
            "SECREVIEW_SECURITY_CHANNEL": SECURITY, "SECREVIEW_DIGEST_CHANNEL": DIGEST,
            "SECREVIEW_REVIEWERS": f"{REVIEWER},S0REVIEWERS", "SECREVIEW_ADMINS": "U0CAROL",
            "SECREVIEW_LISTENER_THREADS": str(self.listener_threads), "PYTHONUNBUFFERED": "1",
        }
        secreview_port, bare_port = common.free_port(), common.free_port()
        # The scheduler stays off: a catch-up digest at start would land in the first round.
        command = [str(Path(py).parent / "secreview"), "serve", "--host", "127.0.0.1", "--port", str(secreview_port),
                   "--threads", str(self.threads), "--no-scheduler"]
        secreview = common.Child("secreview", command, env=env, log_dir=self.out)
        bare = common.Child("bare_app", [py, str(common.ROOT / "bench" / "bare_app.py"), "--port", str(bare_port),
                                         "--threads", str(self.threads)], env=env, log_dir=self.out)
        self.targets = {"secreview": Target("secreview", "127.0.0.1", secreview_port, secreview),
                        "bare": Target("bare", "127.0.0.1", bare_port, bare)}
        for target in self.targets.values():
            assert target.child is not None
            target.child.wait_http(f"http://127.0.0.1:{target.port}/healthz", timeout=60)
        return self

    def children(self) -> list[common.Child]:
        """Every process of the stack."""
        found = [t.child for t in self.targets.values() if t.child is not None]
        return [*found, *([self.fake] if self.fake else [])]

    def cpu(self, name: str) -> float:
        """CPU seconds an app's processes (secreview's worker included) have used so far."""
        child = self.targets[name].child
        return child.cpu_seconds() if child else 0.0

    def ack_cpu(self, name: str) -> float:
        """CPU seconds of the process that answers the requests."""
        child = self.targets[name].child
        return child.own_cpu_seconds() if child else 0.0

    def work_done(self) -> dict[str, int]:
        """What secreview's database holds once the stack is idle: reviews opened, requests still queued."""
        import sqlite3

        counts = {}
        for key, path, table in (("reviews_opened", self.database, "reviews"),
                                 ("still_queued", self.database.with_name("ack-queue.db"), "queued_requests")):
            try:
                with sqlite3.connect(path) as connection:
                    counts[key] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            except sqlite3.Error:
                counts[key] = -1  # not there: shown as such rather than as a count
        return counts

    def stop(self) -> None:
        """Stops everything (apps first, then the fake they talk to)."""
        for child in self.children():
            child.stop()


# ---------------------------------------------------------------------------------------------- measuring


@dataclass
class Phase:
    """One phase's results for both apps."""

    name: str
    results: dict[str, list[Result]]
    busy_seconds: dict[str, float]  # wall time spent sending to each app
    cpu_seconds: dict[str, float]  # CPU the app's processes used for its rounds, its work after the acks included
    ack_cpu_seconds: dict[str, float]  # CPU of the process answering the requests only
    drain_seconds: dict[str, float]  # after its last ack of a round, how long the app (and the fake) kept working
    unsettled: int = 0  # rounds after which the stack never went quiet (the next round's figures are suspect)


def interleaved(stack: Stack, requests: Sequence[Request], rounds: int,
                run: Callable[[Target, Sequence[Request]], tuple[list[Result], float]], name: str) -> Phase:
    """Splits the requests into rounds; each round goes to both apps (order alternating), idle between."""
    apps = list(stack.targets)
    phase = Phase(name, {n: [] for n in apps}, dict.fromkeys(apps, 0.0), dict.fromkeys(apps, 0.0),
                  dict.fromkeys(apps, 0.0), dict.fromkeys(apps, 0.0))
    size = max(1, -(-len(requests) // rounds))
    chunks = [requests[i:i + size] for i in range(0, len(requests), size)]
    common.wait_idle(stack.children())
    for number, chunk in enumerate(chunks):
        for app in apps if number % 2 == 0 else reversed(apps):
            cpu_before, ack_cpu_before = stack.cpu(app), stack.ack_cpu(app)
            results, wall = run(stack.targets[app], chunk)
            # The work an app left for after its acks (notices, answers) finishes before the other app's turn.
            drain, settled = common.wait_idle(stack.children())
            phase.results[app].extend(results)
            phase.busy_seconds[app] += wall
            phase.drain_seconds[app] += drain
            phase.cpu_seconds[app] += stack.cpu(app) - cpu_before
            phase.ack_cpu_seconds[app] += stack.ack_cpu(app) - ack_cpu_before
            phase.unsettled += not settled
        common.note(f"  {name}: round {number + 1}/{len(chunks)} done")
    return phase


def figures(phase: Phase) -> dict[str, Any]:
    """The headline figures of one phase (milliseconds, ratios secreview/bare, counts)."""
    ours_results, floor_results = phase.results["secreview"], phase.results["bare"]
    ours = common.summary_ms([r.seconds for r in ours_results])
    floor = common.summary_ms([r.seconds for r in floor_results])

    def rate(app: str) -> float:
        busy = phase.busy_seconds[app]
        return round(len(phase.results[app]) / busy, 1) if busy else 0.0

    return {
        "p50_ms": ours["p50"], "p95_ms": ours["p95"], "p99_ms": ours["p99"], "max_ms": ours["max"],
        "bare_p50_ms": floor["p50"], "bare_p95_ms": floor["p95"], "bare_p99_ms": floor["p99"],
        "bare_max_ms": floor["max"],
        "p50_ratio": common.ratio(ours["p50"], floor["p50"]), "p99_ratio": common.ratio(ours["p99"], floor["p99"]),
        "over_3s": sum(1 for r in ours_results if r.seconds > SLACK_DEADLINE or r.status != 200),
        "bare_over_3s": sum(1 for r in floor_results if r.seconds > SLACK_DEADLINE or r.status != 200),
        "requests": len(ours_results),
        "errors": sum(1 for r in ours_results if r.status != 200),
        "bare_errors": sum(1 for r in floor_results if r.status != 200),
        "throughput_rps": rate("secreview"), "bare_throughput_rps": rate("bare"),
        "cpu_ms_per_request": round(1000 * phase.cpu_seconds["secreview"] / max(1, len(ours_results)), 2),
        "bare_cpu_ms_per_request": round(1000 * phase.cpu_seconds["bare"] / max(1, len(floor_results)), 2),
        "ack_cpu_ms_per_request": round(1000 * phase.ack_cpu_seconds["secreview"] / max(1, len(ours_results)), 2),
        "drain_s": round(phase.drain_seconds["secreview"], 2),
        "unsettled_rounds": phase.unsettled,
    }


def phase_table(phase: Phase) -> str:
    """Latency per app and per request kind; per app also throughput, CPU per request and the drain time."""
    rows = []
    for app, results in phase.results.items():
        busy = phase.busy_seconds[app]
        for kind in ["all", *(k for k, _ in MIX)]:
            chosen = [r for r in results if kind == "all" or r.kind == kind]
            if not chosen:
                continue
            s = common.summary_ms([r.seconds for r in chosen])
            whole = kind == "all"
            rows.append([
                app, kind, len(chosen), s["p50"], s["p95"], s["p99"], s["max"],
                round(len(results) / busy, 1) if whole and busy else "",
                round(1000 * phase.ack_cpu_seconds[app] / len(results), 2) if whole else "",
                round(1000 * phase.cpu_seconds[app] / len(results), 2) if whole else "",
                round(phase.drain_seconds[app], 2) if whole else "",
                sum(1 for r in chosen if r.status != 200),
            ])
    # "ack cpu": the process answering the requests; "all cpu": with secreview's worker process (the work).
    return common.table(["app", "kind", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "acks/s", "ack cpu ms/req",
                         "all cpu ms/req", "drain s", "errors"], rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the closed-loop and the open-loop phases and prints their tables and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run under 30 s")
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop: requests in flight")
    parser.add_argument("--count", type=int, default=None, help="closed loop: requests per app")
    parser.add_argument("--rate", type=float, default=200.0, help="open loop: requests per second (0: skip)")
    parser.add_argument("--duration", type=float, default=None, help="open loop: seconds per app")
    parser.add_argument("--rounds", type=int, default=None, help="closed loop: interleaved rounds")
    parser.add_argument("--rate-rounds", type=int, default=2,
                        help="open loop: interleaved rounds (2: each app gets two stretches of duration/2)")
    parser.add_argument("--threads", type=int, default=16, help="waitress threads (both apps)")
    parser.add_argument("--listener-threads", type=int, default=16, help="Bolt listener pool (both apps)")
    args = parser.parse_args(argv)
    count = args.count or (400 if args.quick else 4000)
    duration = args.duration or (2.0 if args.quick else 30.0)
    rounds = args.rounds or (2 if args.quick else 8)
    warmup = 60 if args.quick else 300

    common.only_run(common.OUT / "ack")
    common.install_cleanup()
    stack = Stack(threads=args.threads, listener_threads=args.listener_threads, out=common.OUT / "ack")
    try:
        common.note("starting fake Slack, secreview serve and the bare app …")
        stack.start()
        warm = build_requests(warmup, fake_url=stack.fake_url, seed=1)
        closed = build_requests(count, fake_url=stack.fake_url, seed=2, announced_before=announcements_in(warm))
        opened = build_requests(int(args.rate * duration), fake_url=stack.fake_url, seed=3,
                                announced_before=announcements_in(warm) + announcements_in(closed))
        for target in stack.targets.values():  # imports, caches, pools and connections of both apps
            closed_loop(target.host, target.port, warm, args.concurrency)
        common.note(f"closed loop: {count} requests per app at concurrency {args.concurrency}")
        phase = interleaved(stack, closed, rounds,
                            lambda t, chunk: closed_loop(t.host, t.port, chunk, args.concurrency), "closed")
        result = figures(phase)
        print(f"# closed loop: {count} requests per app, concurrency {args.concurrency}, "
              f"{args.threads} server threads, {args.listener_threads} listener threads")
        print(phase_table(phase))
        print(f"secreview/bare: p50 x{result['p50_ratio']}, p99 x{result['p99_ratio']}")
        rate_figures: dict[str, Any] = {}
        if args.rate > 0:
            common.note(f"open loop: {args.rate:g} requests/s for {duration:g} s per app")
            rate_phase = interleaved(stack, opened, args.rate_rounds,
                                     lambda t, chunk: open_loop(t.host, t.port, chunk, args.rate), "open")
            rate_figures = figures(rate_phase)
            rate_figures["rate"] = args.rate
            print()
            print(f"# open loop: {args.rate:g} requests/s, {len(opened)} requests per app, latency from the due time")
            print(phase_table(rate_phase))
            print(f"secreview/bare: p50 x{rate_figures['p50_ratio']}, p99 x{rate_figures['p99_ratio']}; "
                  f"secreview acks over 3 s: {rate_figures['over_3s']}")
        # The acks are only worth something if the work behind them was done: every announcement has its review
        # and nothing is left in the queue once the stack is idle.
        common.wait_idle(stack.children())
        done = stack.work_done()
        sent = announcements_in(warm) + announcements_in(closed) + (announcements_in(opened) if args.rate > 0 else 0)
        print(f"\nwork behind the acks: {done['reviews_opened']} reviews opened for {sent} announcements, "
              f"{done['still_queued']} requests still queued")
    finally:
        stack.stop()
    last = last_line(result, rate_figures, concurrency=args.concurrency)
    last.update(announcements=sent, **done)
    common.emit(last)
    return last


def last_line(closed: dict[str, Any], rate: dict[str, Any] | None, *, concurrency: int) -> dict[str, Any]:
    """The JSON line: the closed loop's latency figures; acks over 3 s, requests and errors over both phases;
    the open loop's figures under "rate"."""
    rate = rate or {}
    last = {key: closed[key] for key in ("p50_ms", "p99_ms", "bare_p50_ms", "bare_p99_ms", "p50_ratio", "p99_ratio")}
    last["over_3s"] = closed["over_3s"] + rate.get("over_3s", 0)
    last["requests"] = closed["requests"] + rate.get("requests", 0)
    last["errors"] = closed["errors"] + rate.get("errors", 0)
    last.update(concurrency=concurrency, throughput_rps=closed["throughput_rps"],
                bare_throughput_rps=closed["bare_throughput_rps"], cpu_ms_per_request=closed["cpu_ms_per_request"],
                bare_cpu_ms_per_request=closed["bare_cpu_ms_per_request"],
                ack_cpu_ms_per_request=closed["ack_cpu_ms_per_request"], drain_s=closed["drain_s"])
    if rate:
        last["rate"] = {key: rate[key] for key in (
            "rate", "p50_ms", "p99_ms", "max_ms", "bare_p50_ms", "bare_p99_ms", "p50_ratio", "p99_ratio", "over_3s",
            "requests", "errors", "throughput_rps", "cpu_ms_per_request", "drain_s")}
    return last


if __name__ == "__main__":
    main()
