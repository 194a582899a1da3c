"""The outbox's Jira rows with the clock in the test's hands: Jira down for a minute, Retry-After, replicas racing
for a row whose lease ran out, a process that died after Jira created the issue. Never two issues for one
safeguard, never a lost one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.run import delivery
from bot.run.delivery import OutboxWorker
from bot.run.jira_side import slack_owner_lookup, slack_permalinks
from bot.slack.client import make_client
from bot.tracker.client import JiraClient, connect
from bot.tracker.delivery import IN_FLIGHT_SECONDS, JiraDelivery, OutboxRow
from storage.models import OutboxMessage
from tests.flows.test_jira_flow import decide_with_conditions
from tests.support.clock import Clock
from tests.support.jira_world import conditions, running_jira_world
from tests.support.world import SECURITY, World


@pytest.fixture
def quiet(database_url: str) -> Iterator[World]:
    """The Jira world without its background outbox worker (nor webhooks): each test drives delivery itself."""
    with running_jira_world(database_url, webhook=False) as world:
        assert world.services.outbox_worker is not None
        world.services.outbox_worker.stop()
        yield world


@pytest.fixture
def clock() -> Clock:
    """A controllable clock."""
    return Clock()


def jira_delivery(world: World, clock: Clock,
                  client_factory: Callable[[Settings], JiraClient] = connect) -> JiraDelivery:
    """A Jira deliverer on the world's database, fake Slack and fake Jira, on the test's clock."""
    plain = make_client(world.services.settings, retries=False)
    return JiraDelivery(settings=world.services.settings, session_factory=world.services.session_factory,
                        owner_of=slack_owner_lookup(lambda _ws: plain),
                        permalink_of=slack_permalinks(lambda _ws: plain), clock=clock, client_factory=client_factory)


def worker(world: World, clock: Clock, *, instance: str = "worker-a", jira: JiraDelivery | None = None) -> OutboxWorker:
    """An outbox worker (Slack and Jira) on the test's clock."""
    plain = make_client(world.services.settings, retries=False)
    return OutboxWorker(session_factory=world.services.session_factory, client_for=lambda _ws: plain,
                        instance_id=instance, security_channel=SECURITY, clock=clock,
                        jira=jira or jira_delivery(world, clock))


def jira_rows(world: World) -> list[OutboxMessage]:
    """The outbox's Jira rows, oldest first."""
    with world.session() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.method.like("jira.%"))
                                    .order_by(OutboxMessage.id)))


def settle(world: World, *workers: OutboxWorker, clock: Clock, step: float = 10.0, passes: int = 100) -> None:
    """Runs passes of every worker, moving time on, until nothing is pending."""
    for _ in range(passes):
        for work in workers:
            work.run_once()
        with world.session() as session:
            if not session.scalars(select(OutboxMessage.id).where(OutboxMessage.state == "pending")).first():
                return
        clock.advance(step)
    raise AssertionError(f"still pending: {[(r.purpose, r.last_error) for r in jira_rows(world)]}")


def creates(world: World) -> list[Any]:
    """Create requests the fake Jira accepted."""
    return [c for c in world.jira.calls("issue", "POST") if c.path == "issue" and c.status == 201]  # type: ignore[attr-defined]


def one_issue_per_safeguard(world: World) -> None:
    """Every condition has exactly one issue carrying its marker, and it is the one recorded."""
    issues = world.jira.issues()  # type: ignore[attr-defined]
    for condition in conditions(world):
        marker = f"secreview-{world.team.lower()}-{condition.id}"
        carrying = [i["key"] for i in issues if marker in i["fields"]["labels"]]
        assert carrying == [condition.jira_key], (condition.id, carrying, condition.jira_key)


def test_jira_503_for_a_minute_then_each_issue_is_created_once(quiet: World, clock: Clock) -> None:
    jira = quiet.jira  # type: ignore[attr-defined]
    jira.outage(503, retry_after=20)
    decide_with_conditions(quiet)
    assert quiet.review(1).state == "approved_with_conditions"  # recorded at once, whatever Jira is doing
    work = worker(quiet, clock)
    work.run_once()
    rows = jira_rows(quiet)
    assert len(rows) == 3 and all(r.state == "pending" and "503" in (r.last_error or "") for r in rows)
    assert all(r.next_attempt_at >= clock() + timedelta(seconds=19) for r in rows)  # Retry-After: 20
    for _ in range(6):  # a minute of Jira answering 503
        clock.advance(10)
        work.run_once()
    assert jira.issues() == [] and all(r.state == "pending" for r in jira_rows(quiet))
    assert all(c.jira_sent_at is None for c in conditions(quiet))  # 503: Jira did nothing, so nothing to look for
    jira.recover()
    clock.advance(delivery.MAX_BACKOFF_SECONDS + 1)
    settle(quiet, work, clock=clock)
    assert {r.state for r in jira_rows(quiet)} == {"sent"}
    assert len(creates(quiet)) == 3 and len(jira.issues()) == 3
    one_issue_per_safeguard(quiet)


def test_429_waits_for_retry_after(quiet: World, clock: Clock) -> None:
    jira = quiet.jira  # type: ignore[attr-defined]
    jira.fail_next(429, path="issue", method="POST", retry_after=30)
    decide_with_conditions(quiet, ("SSO with MFA",))
    work = worker(quiet, clock)
    work.run_once()
    (row,) = jira_rows(quiet)
    assert row.state == "pending" and "429" in (row.last_error or "")
    assert row.next_attempt_at >= clock() + timedelta(seconds=29)
    clock.advance(25)
    work.run_once()
    assert jira.issues() == []
    clock.advance(6)
    work.run_once()
    assert [i["key"] for i in jira.issues()] == ["SEC-1"] and jira_rows(quiet)[0].state == "sent"


def test_a_replica_taking_over_a_row_whose_create_is_in_flight_creates_no_duplicate(quiet: World,
                                                                                   clock: Clock) -> None:
    decide_with_conditions(quiet)
    other = worker(quiet, clock, instance="worker-b")
    seen = {"creates": 0}

    class SlowCreate(JiraClient):
        """The first create outlasts the lease; the other replica runs a pass while it is under way."""

        def create_issue(self, fields: dict[str, Any]) -> str:
            seen["creates"] += 1
            if seen["creates"] == 1:
                clock.advance(delivery.CLAIM_SECONDS + 1)
                other.run_once()  # takes over every row whose lease ran out, this one included
            return super().create_issue(fields)

    first = worker(quiet, clock, jira=jira_delivery(quiet, clock, client_factory=SlowCreate))
    first.run_once()
    clock.advance(IN_FLIGHT_SECONDS + 1)
    settle(quiet, first, other, clock=clock)
    assert len(quiet.jira.issues()) == 3 and len(creates(quiet)) == 3  # type: ignore[attr-defined]
    one_issue_per_safeguard(quiet)


def test_a_process_that_died_after_jira_created_the_issue_leaves_no_duplicate(quiet: World, clock: Clock) -> None:
    decide_with_conditions(quiet, ("SSO with MFA",))
    (row,) = jira_rows(quiet)
    # The first process sent the create; Jira made SEC-1; the process died before it recorded anything.
    dead = jira_delivery(quiet, clock)
    dead.deliver(OutboxRow(row.id, row.workspace_id, row.review_id, row.method, row.purpose, dict(row.payload)))
    assert [i["key"] for i in quiet.jira.issues()] == ["SEC-1"]  # type: ignore[attr-defined]
    assert conditions(quiet)[0].jira_key is None and conditions(quiet)[0].jira_sent_at is not None
    restarted = worker(quiet, clock, instance="worker-b")
    restarted.run_once()
    assert jira_rows(quiet)[0].state == "pending"  # waits: the earlier request may still be under way
    clock.advance(IN_FLIGHT_SECONDS + 1)
    settle(quiet, restarted, clock=clock)
    assert len(creates(quiet)) == 1 and conditions(quiet)[0].jira_key == "SEC-1"
    searches = quiet.jira.calls("search/jql")  # type: ignore[attr-defined]
    assert any("secreview-" in str(c.params.get("jql")) for c in searches)  # found by its marker label


def test_two_replicas_delivering_at_once_create_each_issue_once(quiet: World, clock: Clock) -> None:
    decide_with_conditions(quiet)
    workers = [worker(quiet, clock, instance=f"replica-{n}") for n in range(3)]
    barrier = threading.Barrier(len(workers))

    def run(work: OutboxWorker) -> None:
        barrier.wait()
        for _ in range(5):
            work.run_once()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    settle(quiet, *workers, clock=clock)
    assert len(creates(quiet)) == 3
    one_issue_per_safeguard(quiet)
