"""`secreview serve`'s split: the HTTP side stores and acknowledges, the worker side does the work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.review import announcements
from bot.run.workqueue import QueueWorker
from bot.slack.services import WRITE_ATTEMPTS
from sandbox import payloads
from storage.models import QueuedRequest, utcnow
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, SECURITY, World, running_split_world


@pytest.fixture
def split(database_url: str) -> Iterator[World]:
    """The split world with its worker held back: each test runs the worker's batches itself."""
    with running_split_world(database_url, start_worker=False) as running:
        yield running


def _drain(world: World) -> None:
    while world.queue_worker.run_once():
        pass


def _queued(world: World) -> list[str]:
    with world.work_queue.session_factory() as session:
        return [row.dedupe_key for row in session.scalars(select(QueuedRequest).order_by(QueuedRequest.id))]


def test_the_ack_stores_and_the_worker_opens_the_review(split: World) -> None:
    ts, responses = split.announce("New project: customer portal on Salesforce, go-live 2031-03-01")
    chatter = split.fake.add_message(ANNOUNCE, OWNER, "lunch at noon?")
    split.sender.send_event(payloads.message_event(split.team, ANNOUNCE, OWNER, chatter["text"], ts=chatter["ts"]))
    listed = split.command("list")
    assert [r.status for r in responses] == [200] and listed.status == 200
    # Acknowledged, and nothing done yet: the announcement and the command wait for the worker, chatter is gone.
    assert split.reviews() == []
    queued = _queued(split)
    assert len(queued) == 2 and queued[1].startswith("trigger:")
    assert split.fake.messages(SECURITY) == []

    _drain(split)
    split.settle()
    reviews = split.reviews()
    assert [review.source_ts for review in reviews] == [ts]
    assert reviews[0].key in payloads_text(split.fake.messages(SECURITY))  # the card, posted by the worker side
    assert split.last_text(OWNER)  # /secreview list answered through response_url
    assert _queued(split) == []


def payloads_text(messages: list[dict[str, object]]) -> str:
    return " ".join(str(message) for message in messages)


def test_slack_retries_while_it_waits_are_one_review(split: World) -> None:
    _, responses = split.announce("Kick-off: payroll platform on Workday, go-live 2031-02-01", retries=2)
    assert [r.status for r in responses] == [200, 200, 200]
    assert len(_queued(split)) == 1
    _drain(split)
    assert len(split.reviews()) == 1


def test_a_click_is_run_by_the_worker_for_the_right_person(split: World) -> None:
    split.announce("New project: partner extranet with SSO on Okta, go-live 2031-04-01")
    _drain(split)
    review = split.reviews()[0]
    split.settle()
    assert split.click("review-take", str(review.id), user=REVIEWER, message_ts=review.card_ts).status == 200
    assert split.review(review.number).assignee_id is None  # stored, not yet run
    _drain(split)
    assert split.review(review.number).assignee_id == REVIEWER


def test_an_event_that_cannot_be_stored_is_not_acknowledged(split: World, monkeypatch: pytest.MonkeyPatch) -> None:
    http_queue = split.http_services.work_queue
    assert http_queue is not None

    def broken_put(**_: object) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(http_queue, "put", broken_put)
    _, responses = split.announce("New project: data lake on Snowflake, go-live 2031-05-01")
    assert [r.status for r in responses] == [503]  # not acknowledged: Slack delivers it again later
    # A person waiting is served by the HTTP side itself instead, with nothing left for the worker.
    assert "No" in split.ask("list decided", user=OWNER)
    assert _queued(split) == []


def test_a_listener_that_fails_keeps_its_event_for_later(split: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = announcements.open_review
    failures = {"left": WRITE_ATTEMPTS}  # every attempt of the first run: the database stays away a while

    def database_gone_once(*args: object, **kwargs: object) -> announcements.Opened:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(announcements, "open_review", database_gone_once)
    ts, _ = split.announce("New project: mobile app for field engineers, go-live 2031-06-01")
    split.queue_worker.run_once()
    assert split.reviews() == [] and len(_queued(split)) == 1  # kept, with a backoff
    later = utcnow() + timedelta(seconds=5)
    retrying = QueueWorker(queue=split.work_queue, dispatch=split.queue_dispatch,
                           instance_id="flow-worker-2", clock=lambda: later)
    assert retrying.run_once() == 1
    assert [review.source_ts for review in split.reviews()] == [ts]
    assert _queued(split) == []


def test_started_the_worker_takes_what_arrives(database_url: str) -> None:
    with running_split_world(database_url) as world:
        for n in range(5):
            world.announce(f"New project number {n}: vendor onboarding on Zendesk, go-live 2031-07-0{n + 1}")
        world.fake.wait_for(lambda: len(world.reviews()) == 5, timeout=20)
        world.fake.wait_for(lambda: world.work_queue.depth() == 0)
        assert [review.number for review in world.reviews()] == [1, 2, 3, 4, 5]
