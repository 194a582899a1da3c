"""The tally of bench/chaos.py: what was acknowledged, against what the database holds and what Slack received."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import Engine, func, select

from bench.chaos_app import AppProcess
from bench.chaos_config import ANNOUNCE
from bench.chaos_traffic import Ledger
from sandbox.fake_slack import Call, FakeSlack
from storage.models import Decision, OutboxMessage, Review, utcnow

OPENED_PURPOSES = ("thread_opened", "card")
DECIDED_PURPOSES = ("thread_decision", "card_update", "dm_decision")


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
                   OutboxMessage.payload, OutboxMessage.state, OutboxMessage.last_error, OutboxMessage.attempts,
                   OutboxMessage.next_attempt_at, OutboxMessage.claimed_by, OutboxMessage.claimed_until)
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
    if pending:
        # Why a row is still waiting: its attempts, when it is due again, who holds it, what went wrong last.
        figures["pending_rows"] = [
            f"#{row.id} {row.purpose} {row.method}: {row.attempts} attempts, due {row.next_attempt_at:%H:%M:%S}, "
            f"claimed by {row.claimed_by or '-'} until {row.claimed_until and f'{row.claimed_until:%H:%M:%S}'}, "
            f"last error {row.last_error}"
            for row in rows if row.state == "pending"][:5]
    return Tally(figures=figures, complete=not missing and pending == 0)


def sent_row_ids(engine: Engine) -> set[int]:
    """Outbox rows recorded as sent now (taken right after a kill)."""
    with engine.connect() as connection:
        return set(connection.scalars(select(OutboxMessage.id).where(OutboxMessage.state == "sent")))


def seconds_until_last_retry(engine: Engine) -> float:
    """How long until the last pending outbox row is due again (0 when none waits)."""
    with engine.connect() as connection:
        latest = connection.scalar(select(func.max(OutboxMessage.next_attempt_at))
                                   .where(OutboxMessage.state == "pending"))
    if latest is None:
        return 0.0
    if latest.tzinfo is None:  # SQLite hands back naive UTC
        latest = latest.replace(tzinfo=UTC)
    return max(0.0, (latest - utcnow()).total_seconds())
