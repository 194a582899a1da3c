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
  says: pending, failed, recorded as sent, or never written). Slack's faults go on after the stream; the run
  waits up to --settle seconds for the outbox, longer while a pending row's backoff has it due later (two
  minutes more at most): a notice still pending then is lost, and `pending_rows` says why it waited.

The last line printed is one JSON object with every figure. `--quick` finishes in under a minute with
fewer projects. What a killed app had claimed (outbox rows, queued requests) is taken over by the restarted
app at once: the claims name a process of this host that no longer runs (bot/run/claims.py), so nothing waits
for the leases to run out. `python bench/chaos.py --help` lists the knobs (fault rates, size, kills,
database).

Here: the command line and the run. Beside it: chaos_config.py (the knobs, tokens, channels and people),
chaos_app.py (the app process and its database), chaos_traffic.py (what is sent, and the ledger of what
was acknowledged) and chaos_tally.py (the comparison that makes the figures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/chaos.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chaos_app import AppProcess, app_environment, chaos_database, free_port
from bench.chaos_config import SIGNING_SECRET, ChaosConfig, populate, quick_config
from bench.chaos_tally import seconds_until_last_retry, sent_row_ids, tally
from bench.chaos_traffic import Ledger, Traffic
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import SlackSender
from storage import db

# How long past the last pending row's due time the settle waits for it to be sent and recorded.
SETTLE_GRACE_SECONDS = 5.0
SETTLE_EXTENSION_LIMIT_SECONDS = 120.0


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
        # Slack keeps failing as before while the outbox catches up. A notice that met several faults in a row
        # waits out its backoff (up to a minute after six failures), so the wait lasts --settle seconds, longer
        # while a pending row is due again later (two minutes more at most): a row still pending then is lost.
        log(f"stream done after {time.monotonic() - started:.1f} s: {ledger.requests} requests; "
            "waiting for the outbox to settle")
        deadline = time.monotonic() + config.settle_seconds
        latest_deadline = deadline + SETTLE_EXTENSION_LIMIT_SECONDS  # a row retried for ever must not hang the run
        result = tally(engine=engine, fake=fake, ledger=ledger, app=app, sent_at_kill=sent_at_kill)
        while not result.complete:
            deadline = min(latest_deadline, max(
                deadline, time.monotonic() + seconds_until_last_retry(engine) + SETTLE_GRACE_SECONDS))
            if time.monotonic() >= deadline:
                break
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
