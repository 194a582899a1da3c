"""The outbox worker against the fake Slack, with its clock in the test's hands: retries, give-ups, order, cards."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, cast

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.common.ids import ActionId
from bot.run import delivery
from bot.run.delivery import OutboxWorker
from bot.slack.client import make_client
from bot.slack.home import home_renderer
from sandbox import payloads
from sandbox.fake_slack import Call
from storage.models import OutboxMessage, Review
from tests.support.clock import Clock
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, SECURITY, World, flatten_text

ANNOUNCEMENT = "New project: payroll moves to Workday, go-live 2031-03-01"


@pytest.fixture
def quiet(world: World) -> Iterator[World]:
    """The world without its background worker: each test drives delivery itself."""
    assert world.services.outbox_worker is not None
    world.services.outbox_worker.stop()
    yield world


@pytest.fixture
def clock() -> Clock:
    """A controllable clock."""
    return Clock()


def worker(world: World, clock: Clock, *, instance: str = "worker-a",
           client: Callable[[str], Any] | None = None,
           session_factory: sessionmaker[Session] | None = None) -> OutboxWorker:
    """An outbox worker on the world's database and fake Slack, on the test's clock."""
    plain = make_client(world.services.settings, retries=False)
    assert world.services.roles is not None
    return OutboxWorker(session_factory=session_factory or world.services.session_factory,
                        client_for=client or (lambda _ws: plain), instance_id=instance,
                        security_channel=SECURITY, clock=clock,
                        render_home=home_renderer(world.services.settings, world.services.roles))


def rows(world: World) -> list[OutboxMessage]:
    """Every outbox row, oldest first."""
    with world.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def row(world: World, purpose: str) -> OutboxMessage:
    """The one outbox row written for `purpose`."""
    found = [r for r in rows(world) if r.purpose == purpose]
    assert len(found) == 1, [r.purpose for r in rows(world)]
    return found[0]


def delivered(world: World, method: str = "chat.postMessage", **params: Any) -> list[Call]:
    """Calls the fake accepted (no injected fault, ok: true) whose params match `params`."""
    return [c for c in world.fake.calls(method)
            if c.fault is None and (c.response or {}).get("ok")
            and all(c.params.get(k) == v for k, v in params.items())]


def announce(world: World, text: str = ANNOUNCEMENT) -> str:
    """Announces a project and waits until its review (and its outbox rows) are recorded."""
    before = len(world.reviews())
    ts, responses = world.announce(text)
    assert [r.status for r in responses] == [200]
    world.fake.wait_for(lambda: len(world.reviews()) > before)
    return ts


def decide(world: World, number: int, outcome: str = "approved") -> None:
    """Submits the decision modal as the reviewer; the decision is recorded when the answer comes."""
    rationale = None if outcome == "approved" else "ok"
    values = {"outcome": {"outcome": {"type": "radio_buttons", "selected_option": {"value": outcome}}},
              "rationale": {"rationale": {"type": "plain_text_input", "value": rationale}}}
    submission = payloads.view_submission(world.team, REVIEWER, "decision-modal", json.dumps({"key": number}), values)
    response = world.sender.send_interaction(submission)
    assert response.status == 200 and response.body in ("", "{}"), response.body


def run_until_settled(world: World, work: OutboxWorker, clock: Clock, *, step: float = 5.0, passes: int = 200) -> None:
    """Runs passes, moving time on, until no row is pending."""
    for _ in range(passes):
        work.run_once()
        if not any(r.state == "pending" for r in rows(world)):
            return
        clock.advance(step)
    raise AssertionError(f"still pending: {[(r.purpose, r.last_error) for r in rows(world) if r.state == 'pending']}")


def test_429_waits_for_retry_after(quiet: World, clock: Clock) -> None:
    ts = announce(quiet)
    quiet.fake.fail_next("chat.postMessage", "ratelimited", retry_after=30)
    work = worker(quiet, clock)
    stats = work.run_once()
    assert (stats.sent, stats.retried) == (2, 1)  # the card and the owner's home went; the thread reply waits
    limited = row(quiet, "thread_opened")
    assert limited.state == "pending" and limited.last_error == "ratelimited"
    assert limited.next_attempt_at >= clock() + timedelta(seconds=29)
    clock.advance(28)
    assert work.run_once().sent == 0
    assert delivered(quiet, channel=ANNOUNCE) == []
    clock.advance(3)
    assert work.run_once().sent == 1
    assert len(delivered(quiet, channel=ANNOUNCE, thread_ts=ts)) == 1
    assert row(quiet, "thread_opened").attempts == 2


def test_500_is_retried_until_it_goes_through(quiet: World, clock: Clock) -> None:
    announce(quiet)
    quiet.fake.fail_next("chat.postMessage", "internal_error", status=500, times=3)
    work = worker(quiet, clock)
    assert work.run_once().retried == 2
    assert {r.last_error for r in rows(quiet) if r.method == "chat.postMessage"} == {"internal_error"}
    run_until_settled(quiet, work, clock)
    assert [r.state for r in rows(quiet)] == ["sent", "sent", "sent"]  # thread reply, card, the owner's home
    assert len(delivered(quiet, channel=ANNOUNCE)) == 1 and len(delivered(quiet, channel=SECURITY)) == 1
    assert quiet.fake.fault_counts["500"] == 3


def test_a_timeout_is_retried_and_sent_once(quiet: World, clock: Clock) -> None:
    announce(quiet)
    quiet.fake.fail_next("chat.postMessage", "timeout", hang_seconds=0.2)
    work = worker(quiet, clock)
    assert work.run_once().retried == 1
    timed_out = [r for r in rows(quiet) if r.state == "pending"]
    assert len(timed_out) == 1 and (timed_out[0].last_error or "").startswith("network")
    run_until_settled(quiet, work, clock)
    assert len(delivered(quiet, channel=ANNOUNCE)) == 1 and len(delivered(quiet, channel=SECURITY)) == 1


@pytest.mark.parametrize("cause", ["not_in_channel", "is_archived"])
def test_a_permanent_refusal_fails_the_row_and_tells_the_security_channel(quiet: World, clock: Clock,
                                                                        cause: str) -> None:
    announce(quiet)
    if cause == "is_archived":
        quiet.fake.archive_channel(ANNOUNCE)  # the real thing: Slack refuses posts to an archived channel
    else:
        quiet.fake.fail_next("chat.postMessage", cause)
    work = worker(quiet, clock)
    run_until_settled(quiet, work, clock)
    failed = row(quiet, "thread_opened")
    assert failed.state == "failed" and failed.last_error == cause
    assert failed.attempts == 1  # given up at once: no retry cures it
    notices = [flatten_text(m) for m in quiet.fake.messages(SECURITY) if cause in flatten_text(m)]
    assert len(notices) == 1 and ANNOUNCE in notices[0]
    assert row(quiet, "delivery_failed").state == "sent"


def test_when_the_security_channel_itself_refuses_the_log_says_so(quiet: World, clock: Clock,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    announce(quiet)
    quiet.fake.fail_next("chat.postMessage", "ratelimited", retry_after=1)  # the thread reply waits a second
    quiet.fake.fail_next("chat.postMessage", "channel_not_found")  # the card is refused for good
    work = worker(quiet, clock)
    with caplog.at_level(logging.ERROR, logger="bot.run.delivery"):
        run_until_settled(quiet, work, clock)
    assert row(quiet, "card").state == "failed" and row(quiet, "card").last_error == "channel_not_found"
    assert not [r for r in rows(quiet) if r.purpose == "delivery_failed"]  # no notice into the broken channel
    assert any("channel_not_found" in record.getMessage() for record in caplog.records)


def test_order_is_kept_per_conversation_while_an_earlier_message_backs_off(quiet: World, clock: Clock) -> None:
    ts = announce(quiet)
    quiet.fake.fail_next("chat.postMessage", "ratelimited", retry_after=20)
    work = worker(quiet, clock)
    work.run_once()  # the thread reply backs off for 20 s; the card is posted
    decide(quiet, 1)  # recorded at once: thread reply, card update and DM are queued behind
    assert quiet.review(1).state == "approved"
    for _ in range(3):
        work.run_once()
    assert quiet.fake.thread(ANNOUNCE, ts)[1:] == []  # the decision did not overtake the "opened" reply
    assert row(quiet, "dm_decision").state == "sent" and row(quiet, "card_update").state == "sent"
    clock.advance(21)
    run_until_settled(quiet, work, clock)
    replies = quiet.fake.thread(ANNOUNCE, ts)[1:]
    assert len(replies) == 2
    posted = [c for c in delivered(quiet, channel=ANNOUNCE)]
    assert ActionId.START_INTAKE in json.dumps(posted[0].params.get("blocks"))  # the reply went first, as written
    assert "is decided" in flatten_text(replies[0])  # and was updated after (it no longer offers the intake)
    assert "Approved" in flatten_text(replies[1])


def test_the_card_update_waits_for_the_card_and_finds_its_ts(quiet: World, clock: Clock) -> None:
    announce(quiet)
    quiet.fake.fail_next("chat.postMessage", "internal_error", status=500, times=2)  # thread reply and card
    work = worker(quiet, clock)
    work.run_once()
    decide(quiet, 1, "rejected")
    work.run_once()
    assert quiet.fake.calls("chat.update") == []  # no card yet, so no update either
    run_until_settled(quiet, work, clock)
    review = quiet.review(1)
    assert review.card_ts and review.card_channel == SECURITY
    assert row(quiet, "card").result_ts == review.card_ts
    updates = delivered(quiet, "chat.update", channel=SECURITY)
    assert len(updates) == 1 and updates[0].params["ts"] == review.card_ts
    cards = quiet.fake.messages(SECURITY)
    assert len(cards) == 1  # updated in place, never posted twice
    assert "Rejected" in flatten_text(cards[0])
    assert not [b for b in cards[0].get("blocks", []) if b["type"] == "actions"]  # no stale buttons


def test_slack_down_for_an_hour_loses_nothing_and_sends_everything_once(quiet: World, clock: Clock) -> None:
    quiet.fake.set_faults(rate_429=0.3, rate_500=0.7, seed=5)  # every call fails: Slack is down
    work = worker(quiet, clock)
    sources = [announce(quiet, f"New project {n}: a vendor portal for team {n}") for n in range(1, 4)]
    for number in (1, 2, 3):
        decide(quiet, number, "approved")
    # Every decision is recorded the moment it is made, whatever Slack is doing.
    assert [r.state for r in quiet.reviews()] == ["approved"] * 3
    for _ in range(60):  # an hour, a pass a minute
        work.run_once()
        clock.advance(60)
    pending = rows(quiet)
    # Per review: thread reply, card, owner's home; then the decision: thread reply and card updated, the
    # outcome in the thread and to the owner, the reviewer's confirmation, the owner's home.
    assert len(pending) == 3 * 9
    assert all(r.state == "pending" for r in pending if r.purpose != "home")
    # A home with a newer publish waiting behind it is skipped at once; the newest waits for Slack.
    assert [r.state for r in pending if r.purpose == "home"] == ["skipped"] * 5 + ["pending"]
    assert delivered(quiet) == [] and delivered(quiet, "chat.update") == []
    pending = [r for r in pending if r.state == "pending"]
    assert max(r.attempts for r in pending) <= 30  # backoff spaced the attempts out (capped at 5 minutes)
    quiet.fake.clear_faults()  # Slack is back
    clock.advance(delivery.MAX_BACKOFF_SECONDS + 1)
    run_until_settled(quiet, work, clock)
    assert {r.state for r in rows(quiet)} == {"sent", "skipped"}
    # Only homes are skipped: each owner's last publish renders the home as it is, the earlier ones would not add.
    assert {r.purpose for r in rows(quiet) if r.state == "skipped"} == {"home"}
    for ts in sources:
        replies = quiet.fake.thread(ANNOUNCE, ts)[1:]
        assert len(replies) == 2 and "Approved" in flatten_text(replies[1])
    cards = quiet.fake.messages(SECURITY)
    assert len(cards) == 3 and all("Approved" in flatten_text(c) for c in cards)
    assert len(delivered(quiet, "chat.update")) == 3 * 2  # each card and each thread reply, once
    assert len(quiet.fake.messages(quiet.fake.dm_channel(OWNER))) == 3
    posted = [(c.params["channel"], c.params.get("thread_ts"), c.params["text"]) for c in delivered(quiet)]
    assert len(posted) == len(set(posted)) == 3 * 5  # thread x2, card, owner's DM, reviewer's DM: each once


def test_a_lease_that_ran_out_mid_batch_is_not_delivered_by_two_replicas(quiet: World, clock: Clock) -> None:
    announce(quiet)  # two rows in two conversations: one batch
    plain = make_client(quiet.services.settings, retries=False)
    other = worker(quiet, clock, instance="worker-b")
    calls = {"n": 0}

    class SlowBatch(WebClient):
        """The first call outlasts the lease; a second replica runs a pass during the second call."""

        def api_call(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            calls["n"] += 1
            if calls["n"] == 1:
                result = plain.api_call(*args, **kwargs)
                clock.advance(delivery.CLAIM_SECONDS + 1)
                return result
            other.run_once()
            return plain.api_call(*args, **kwargs)

    slow = SlowBatch(token="xoxb-flow-test", base_url=quiet.fake.api_url)
    first = worker(quiet, clock, client=lambda _ws: slow)
    first.run_once()
    other.run_once()
    assert len(delivered(quiet, channel=ANNOUNCE)) == 1
    assert len(delivered(quiet, channel=SECURITY)) == 1
    assert {r.state for r in rows(quiet)} == {"sent"}


def test_a_delivery_whose_record_fails_once_is_not_sent_again(quiet: World, clock: Clock) -> None:
    announce(quiet)
    real_factory = quiet.services.session_factory
    armed = {"fail": False}

    def flaky_factory() -> Session:
        # The database drops the connection right after Slack accepted the message.
        if armed["fail"]:
            armed["fail"] = False
            raise OperationalError("COMMIT", None, Exception("server closed the connection unexpectedly"))
        return real_factory()

    plain = make_client(quiet.services.settings, retries=False)

    class ThenDatabaseHiccup(WebClient):
        """Delivers, then makes the next database session fail once."""

        def api_call(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            result = plain.api_call(*args, **kwargs)
            armed["fail"] = True
            return result

    client = ThenDatabaseHiccup(token="xoxb-flow-test", base_url=quiet.fake.api_url)
    work = worker(quiet, clock, client=lambda _ws: client,
                  session_factory=cast(sessionmaker[Session], flaky_factory))
    work.run_once()
    clock.advance(delivery.CLAIM_SECONDS + 1)  # had the row stayed claimed, it would be due again now
    work.run_once()
    assert {r.state for r in rows(quiet)} == {"sent"}
    assert len(delivered(quiet, channel=ANNOUNCE)) == 1 and len(delivered(quiet, channel=SECURITY)) == 1
    with quiet.session() as session:
        assert session.scalars(select(Review.card_ts)).one() == row(quiet, "card").result_ts


def test_notices_held_by_a_killed_process_go_out_on_restart_without_waiting(quiet: World, clock: Clock) -> None:
    import socket
    import subprocess
    import sys

    announce(quiet)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    killed = worker(quiet, clock, instance=f"{socket.gethostname()}:{finished.stdout.strip()}:abc123")
    assert killed._claim(10)  # claimed, then the process was SIGKILLed before it sent them
    restarted = worker(quiet, clock, instance="worker-b")
    assert restarted.run_once().sent == 0  # the lease still holds them
    assert restarted.release_claims_of_dead_processes() == 3  # thread reply, card, the owner's home
    assert restarted.run_once().sent == 3  # no minute's wait for the lease
    assert {r.state for r in rows(quiet)} == {"sent"}
