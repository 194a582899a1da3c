"""Digest scaling: the weekly metrics and the digest over 10k, 100k and 1M reviews, beside an indexed count.

Builds SQLite databases of several sizes (cached under bench/out/, keyed by size, schema revision and generator
version), then times `reports.compute` and the full digest (`digest.preview`: every figure rendered to Block
Kit and text) for the latest complete week and quarter, beside the floor: one indexed `SELECT count(*)` of the
reviews announced in the same window.

How the history is built: the latest 78 weeks hold the same activity at every size (100 announcements a week,
same seed), so the week's and the quarter's windows (and the four quarters that trends compare with) have the
same content everywhere; the rest of the reviews are older history spread over the five years before, all of it
decided or closed, as in a team that works its backlog. The growth from 10k to 1M therefore measures how much the
figures depend on the size of the history alone: ~1 for window-bound queries, up to ~100 for history-bound ones.

    python bench/digest.py [--quick] [--sizes 10000,100000,1000000] [--repeat 5] [--rebuild]

Prints a table per size, then one JSON line: week_ms, quarter_ms, floor_ms (each per size), growth, and the
digest timings beside them.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as `python bench/digest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bench import common
from bot.config import Settings
from bot.figures import digest, periods, reports
from storage import db

GENERATOR_VERSION = 2  # bump when the generated data changes, so cached databases are rebuilt
WORKSPACE = "T0BENCH"
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # fixed, so a cached database stays "current"
TZ = ZoneInfo("UTC")
RECENT_WEEKS = 78  # the latest 1.5 years: the week, the quarter, the trend windows and the year to date
HISTORY_YEARS = 5
RECENT_PER_WEEK = 100
BATCH = 20_000
FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)

TAGS = ("ai", "saas", "cloud", "mobile", "payments", "identity", "data", "network", "iot", "vendor")
VENDORS = ("Salesforce", "Workday", "Snowflake", "Okta", "Stripe", "OpenAI", "Zendesk", "ServiceNow", "AWS", "Azure")
REGULATIONS = ("GDPR", "PCI DSS", "HIPAA", "SOX", "NIS2", "DORA")
TIERS = ("low", "medium", "high", "critical")
CLOSED_OUTCOMES = (("approved", 0.55), ("approved_with_conditions", 0.20), ("rejected", 0.08),
                   ("withdrawn", 0.10), ("not_applicable", 0.07))
USERS = tuple(f"U{n:07d}" for n in range(400))
REVIEWERS = tuple(f"U9{n:06d}" for n in range(8))
FAKE_HASH = "0" * 64  # audit rows need a hash; `audit verify` is not what this benchmark measures


def _ts(seconds: float) -> str:
    # The exact text SQLAlchemy stores for a naive UTC DateTime on SQLite, so range predicates compare alike.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + ".000000"


def _day(seconds: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def _iso(seconds: float) -> str:
    # As the audit log writes instants (bot/review/audit.py).
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(seconds))


INTAKE_ANSWERS = {"data_classification": "confidential", "sensitive_data": ["personal"], "exposure": "internet",
                  "hosting": "saas", "third_parties": "Salesforce", "uses_ai": False, "changes_auth": True}


@dataclass
class Rows:
    """One batch of rows for each table, as tuples in the insert statements' column order."""

    reviews: list[tuple[Any, ...]]
    decisions: list[tuple[Any, ...]]
    conditions: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]


class Generator:
    """Reviews with their audit events, decisions and conditions, in announcement order."""

    def __init__(self, size: int, recent_per_week: int) -> None:
        self.now = NOW.timestamp()
        self.recent_start = self.now - RECENT_WEEKS * 7 * 86400
        self.history_start = self.recent_start - HISTORY_YEARS * 365 * 86400
        self.recent = min(size, recent_per_week * RECENT_WEEKS)
        self.history = size - self.recent
        self.review_id = self.decision_id = self.condition_id = self.event_id = 0

    def announced_times(self) -> Iterator[tuple[float, random.Random]]:
        """Every review's announcement time (ascending) with the random stream that shapes it."""
        history = random.Random(1000 + self.history)
        span = self.recent_start - self.history_start
        for t in sorted(self.history_start + history.random() * span for _ in range(self.history)):
            yield t, history
        recent = random.Random(42)  # the same recent block at every size
        span = self.now - self.recent_start
        for t in sorted(self.recent_start + recent.random() * span for _ in range(self.recent)):
            yield t, recent

    def batches(self) -> Iterator[Rows]:
        """The rows, BATCH reviews at a time."""
        rows = Rows([], [], [], [])
        for announced, rng in self.announced_times():
            self._review(rows, announced, rng)
            if len(rows.reviews) >= BATCH:
                yield rows
                rows = Rows([], [], [], [])
        if rows.reviews:
            yield rows

    def _event(self, rows: Rows, review_id: int, at: float, actor: str, action: str, from_state: str | None,
               to_state: str, note: str = "", data: dict[str, Any] | None = None) -> None:
        self.event_id += 1
        rows.events.append((self.event_id, WORKSPACE, self.event_id, review_id, f"SR-{review_id}", actor, _ts(at),
                            action, from_state, to_state, note, json.dumps(data or {}), FAKE_HASH, FAKE_HASH))

    def _review(self, rows: Rows, announced: float, rng: random.Random) -> None:
        self.review_id += 1
        rid = self.review_id
        owner = rng.choice(USERS)
        reviewer = rng.choice(REVIEWERS)
        tags = sorted(set(rng.sample(TAGS, rng.randint(0, 3))))
        vendors = rng.sample(VENDORS, rng.randint(0, 2))
        regulations = sorted(set(rng.sample(REGULATIONS, rng.randint(0, 2))))
        tier = rng.choices(TIERS, (5, 3, 2, 1))[0]
        go_live = announced + rng.uniform(14, 140) * 86400
        first_response = announced + rng.uniform(0.5, 72) * 3600
        needs_info = rng.random() < 0.15
        closed = first_response + rng.uniform(0.5, 10) * 86400 + (3 * 86400 if needs_info else 0)
        outcome = rng.choices([o for o, _ in CLOSED_OUTCOMES], [w for _, w in CLOSED_OUTCOMES])[0]
        # What has happened by NOW: only the recent block has reviews still open.
        responded = first_response <= self.now
        done = closed <= self.now
        state = outcome if done else ("in_review" if responded else "announced")
        if needs_info and responded and not done and rng.random() < 0.5:
            state = "needs_info"
        decided = done and outcome in ("approved", "approved_with_conditions", "rejected")
        self._event(rows, rid, announced, owner, "announced", None, "announced", "announcement",
                    {"go_live": _day(go_live), "tags": tags, "vendors": vendors, "regulations": regulations})
        # The owner's intake, as the app logs it: the answers, and the go-live date it replaced (often none).
        intake_at = min(announced + rng.uniform(0.1, 0.9) * (first_response - announced), self.now)
        self._event(rows, rid, intake_at, owner, "intake_submitted", "announced", "announced", "", {
            "before": {"title": "", "owner": owner, "risk_tier": None,
                       "go_live": _day(go_live - 7 * 86400) if rng.random() < 0.2 else None},
            "risk_score": 5, "risk_tier": tier, "regulations": regulations, "answers": INTAKE_ANSWERS})
        if responded:
            self._event(rows, rid, first_response, reviewer, "taken", "announced", "in_review")
            if needs_info and first_response + 86400 <= self.now:
                self._event(rows, rid, first_response + 3600, reviewer, "info_requested", "in_review", "needs_info")
                if first_response + 2 * 86400 <= self.now:
                    self._event(rows, rid, first_response + 2 * 86400, owner, "intake", "needs_info", "in_review")
        if done:
            self._event(rows, rid, closed, reviewer, "decided" if decided else outcome, "in_review", outcome)
        # A few decisions are reopened two days later (a fresh due date) and decided again the day after.
        due = announced + 7 * 86400
        reopened = decided and closed + 3 * 86400 <= self.now and rng.random() < 0.03
        decided_at = closed
        if reopened:
            reopen_at, decided_at = closed + 2 * 86400, closed + 3 * 86400
            self._event(rows, rid, reopen_at, reviewer, "reopened", outcome, "in_review", "Scope changed", {
                "before": {"due_at": _iso(due)}, "due_at": _iso(reopen_at + 7 * 86400)})
            self._event(rows, rid, decided_at, reviewer, "decided", "in_review", outcome)
            due = reopen_at + 7 * 86400
        if decided:
            self.decision_id += 1
            cost = round(rng.uniform(1_000, 250_000), 2) if rng.random() < 0.3 else None
            rows.decisions.append((self.decision_id, WORKSPACE, rid, outcome, "" if outcome == "approved" else
                                   "Residual risk accepted with safeguards.", reviewer, _ts(closed), tier,
                                   json.dumps(regulations), cost, "EUR", int(tier == "low" and rng.random() < 0.5)))
            if outcome == "approved_with_conditions":
                for n in range(rng.randint(1, 3)):
                    self.condition_id += 1
                    finished = closed + rng.uniform(1, 60) * 86400
                    still_open = finished > self.now
                    rows.conditions.append((
                        self.condition_id, WORKSPACE, rid, self.decision_id, f"Safeguard {n + 1}", owner,
                        _day(go_live), "open" if still_open else rng.choice(("done", "done", "done", "waived")),
                        _ts(closed), None if still_open else _ts(finished), None if still_open else owner, None))
        if reopened:
            self.decision_id += 1
            rows.decisions.append((self.decision_id, WORKSPACE, rid, outcome, "Reviewed again after the scope change.",
                                   reviewer, _ts(decided_at), tier, json.dumps(regulations), None, "EUR", 0))
        rows.reviews.append((
            rid, WORKSPACE, rid, f"Project {rid}: {' '.join(tags) or 'internal tool'}", "",
            f"New project: rollout of {', '.join(vendors) or 'an internal tool'}, go-live {_day(go_live)}",
            owner, owner, "C0PROJECTS", f"{int(announced)}.{rid % 1_000_000:06d}", "C0SECURITY",
            f"{int(announced) + 1}.{rid % 1_000_000:06d}", _day(go_live), None, "", json.dumps(tags),
            json.dumps(vendors), json.dumps(regulations), {"low": 2, "medium": 5, "high": 8, "critical": 12}[tier],
            tier, "[]", state, reviewer if responded else None, _ts(announced), _ts(announced + 86400),
            _ts(first_response) if responded else None, _ts(due),
            _ts(decided_at) if decided else None, _ts(first_response + 3600) if needs_info and responded else None,
            _ts(min(closed, self.now) if done else (first_response if responded else announced)), 0,
        ))


INSERTS = {
    "reviews": "INSERT INTO reviews (id, workspace_id, number, title, summary, announcement_text, owner_id, "
               "announcer_id, source_channel, source_ts, card_channel, card_ts, go_live, answers, links, tags, "
               "vendors, regulations, risk_score, risk_tier, risk_reasons, state, assignee_id, announced_at, "
               "first_response_due, first_response_at, due_at, decided_at, info_requested_at, updated_at, "
               "deleted_in_slack) VALUES (" + ", ".join("?" * 31) + ")",
    "decisions": "INSERT INTO decisions (id, workspace_id, review_id, outcome, rationale, decided_by, decided_at, "
                 "risk_tier, regulations, cost_avoided, currency, fast_track) VALUES (" + ", ".join("?" * 12) + ")",
    "conditions": "INSERT INTO conditions (id, workspace_id, review_id, decision_id, text, owner_id, due_date, "
                  "state, created_at, closed_at, closed_by, waive_reason) VALUES (" + ", ".join("?" * 12) + ")",
    "events": "INSERT INTO audit_events (id, workspace_id, seq, review_id, review_key, actor, at, action, "
              "from_state, to_state, note, data, prev_hash, hash) VALUES (" + ", ".join("?" * 14) + ")",
}


def database_path(size: int, out: Path = common.OUT / "digest") -> Path:
    """Where the database of this size lives: keyed by size, schema revision and generator version."""
    return out / f"reviews-{size}-schema{db.head_revision()}-gen{GENERATOR_VERSION}.db"


def build(path: Path, size: int, *, recent_per_week: int = RECENT_PER_WEEK) -> dict[str, int]:
    """Creates the database (schema by the app's own migrations, rows by bulk insert); returns row counts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{partial}")
    db.ensure_schema(engine)
    engine.dispose()
    generator = Generator(size, recent_per_week)
    connection = sqlite3.connect(partial, isolation_level=None)
    try:
        # A throwaway file until the rename below: no journal, no syncs.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-200000")
        # The app's secondary indexes are dropped for the load and created again after it, exactly as the
        # migrations defined them: building an index once over sorted keys is far quicker than updating it row
        # by row. (The unique constraints stay; their keys arrive in ascending order.)
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('reviews', 'decisions', 'conditions', 'audit_events')").fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.execute("BEGIN")
        for rows in generator.batches():
            connection.executemany(INSERTS["reviews"], rows.reviews)
            connection.executemany(INSERTS["decisions"], rows.decisions)
            connection.executemany(INSERTS["conditions"], rows.conditions)
            connection.executemany(INSERTS["events"], rows.events)
        connection.execute(
            "INSERT INTO workspaces (id, name, last_review_number, write_version, audit_head_seq, audit_head_hash, "
            "created_at) VALUES (?, 'bench', ?, ?, ?, ?, ?)",
            (WORKSPACE, generator.review_id, generator.event_id, generator.event_id, FAKE_HASH,
             _ts(generator.history_start)))
        connection.execute("COMMIT")
        for _, sql in indexes:
            connection.execute(sql)
    finally:
        connection.close()
    partial.rename(path)
    return {"reviews": generator.review_id, "decisions": generator.decision_id,
            "conditions": generator.condition_id, "events": generator.event_id}


def ensure(size: int, *, rebuild: bool = False) -> tuple[Path, float]:
    """The cached database of this size, built first if missing; returns it and the seconds building took."""
    path = database_path(size)
    if path.exists() and not rebuild:
        return path, 0.0
    path.unlink(missing_ok=True)
    for stale in path.parent.glob(f"reviews-{size}-*.db"):  # an older schema or generator: never read again
        stale.unlink()
    common.note(f"building {size:,} reviews into {path.name} …")
    started = time.perf_counter()
    counts = build(path, size)
    took = time.perf_counter() - started
    common.note(f"  built in {took:.1f} s: {counts}")
    return path, took


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    """The median wall time of `repeat` runs after one warm-up run, in milliseconds."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def measure(path: Path, *, repeat: int = 5, now: datetime = NOW) -> dict[str, float]:
    """Times the week's and the quarter's metrics and digests, and the indexed count of each window."""
    engine = db.make_engine(f"sqlite:///{path}")
    factory = db.make_session_factory(engine)
    settings = Settings(_env_file=None, database_url=f"sqlite:///{path}", secreview_timezone="UTC",
                        secreview_currency="EUR")
    results: dict[str, float] = {}
    try:
        for kind, name in (("week", "last-week"), ("quarter", "last-quarter")):
            period = periods.period_for(kind, now=now, tz=TZ)

            def compute(period: periods.Period = period) -> None:
                with db.session_scope(factory) as session:
                    reports.compute(session, workspace_id=WORKSPACE, period=period, now=now, tz=TZ, currency="EUR")

            def render(name: str = name) -> None:
                with db.session_scope(factory) as session:
                    digest.preview(session, settings=settings, workspace_id=WORKSPACE, period_name=name, now=now)

            def floor(period: periods.Period = period) -> None:
                with db.session_scope(factory) as session:
                    session.execute(text(
                        "SELECT count(*) FROM reviews WHERE workspace_id = :ws AND announced_at >= :start "
                        "AND announced_at < :end"), {"ws": WORKSPACE, "start": _ts(period.start.timestamp()),
                                                     "end": _ts(period.end.timestamp())}).scalar_one()

            results[f"{kind}_ms"] = median_ms(compute, repeat)
            results[f"{kind}_digest_ms"] = median_ms(render, repeat)
            results[f"{kind}_floor_ms"] = median_ms(floor, repeat)
    finally:
        engine.dispose()
    return results


def figures(by_size: dict[int, dict[str, float]]) -> dict[str, Any]:
    """The JSON line: per-size timings and the growth of the week's metrics from the smallest to the largest."""
    sizes = sorted(by_size)

    def per(key: str) -> dict[str, float]:
        return {str(size): by_size[size][key] for size in sizes}

    smallest, largest = by_size[sizes[0]], by_size[sizes[-1]]
    return {
        "sizes": sizes,
        "week_ms": per("week_ms"), "quarter_ms": per("quarter_ms"), "floor_ms": per("week_floor_ms"),
        "growth": round(largest["week_ms"] / smallest["week_ms"], 2) if smallest["week_ms"] else 0.0,
        "quarter_growth": round(largest["quarter_ms"] / smallest["quarter_ms"], 2) if smallest["quarter_ms"] else 0.0,
        "week_digest_ms": per("week_digest_ms"), "quarter_digest_ms": per("quarter_digest_ms"),
        "quarter_floor_ms": per("quarter_floor_ms"),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Builds (or reuses) the databases, measures each and prints the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 100k reviews")
    parser.add_argument("--sizes", help="comma-separated review counts (default 10k,100k,1M)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median reported)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached databases")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if args.quick else FULL_SIZES)

    by_size: dict[int, dict[str, float]] = {}
    built: dict[int, float] = {}
    for size in sizes:
        path, built[size] = ensure(size, rebuild=args.rebuild)
        common.note(f"measuring {size:,} reviews …")
        by_size[size] = measure(path, repeat=args.repeat)
    rows = []
    for size in sizes:
        r = by_size[size]
        rows.append([size, r["week_ms"], r["week_digest_ms"], r["week_floor_ms"],
                     common.ratio(r["week_ms"], r["week_floor_ms"]), r["quarter_ms"], r["quarter_digest_ms"],
                     r["quarter_floor_ms"], round(built[size], 1) if built[size] else "cached"])
    print(f"# latest week and quarter before {NOW:%Y-%m-%d %H:%M} UTC; median of {args.repeat} warm runs; "
          f"{RECENT_PER_WEEK} announcements a week in the latest {RECENT_WEEKS} weeks at every size")
    print(common.table(["reviews", "week ms", "week digest ms", "week floor ms", "week/floor", "quarter ms",
                        "quarter digest ms", "quarter floor ms", "build s"], rows))
    result = figures(by_size)
    print(f"growth of the week's metrics from {sizes[0]:,} to {sizes[-1]:,} reviews: x{result['growth']} "
          f"(quarter: x{result['quarter_growth']})")
    common.emit(result)
    return result


if __name__ == "__main__":
    main()
