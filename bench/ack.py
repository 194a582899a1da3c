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

Here: the command line and the run. Beside it: ack_load.py (the requests and the senders), ack_stack.py (the
processes) and ack_phases.py (the interleaved rounds and the figures made of them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/ack.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.ack_load import announcements_in, build_requests, closed_loop, open_loop
from bench.ack_phases import figures, interleaved, last_line, phase_table
from bench.ack_stack import Stack


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


if __name__ == "__main__":
    main()
