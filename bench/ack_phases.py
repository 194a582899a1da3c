"""The phases of bench/ack.py: rounds interleaved between the two apps, and the figures, tables and JSON line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench import common
from bench.ack_load import MIX, Request, Result
from bench.ack_stack import Stack, Target

SLACK_DEADLINE = 3.0  # Slack's acknowledgement deadline: later and it retries


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
