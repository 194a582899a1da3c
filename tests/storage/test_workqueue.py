"""The queue between `secreview serve`'s HTTP process and its worker: stored once, claimed once, run in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.run import workqueue
from bot.run.workqueue import QueueWorker, WorkQueue, queue_url
from storage.models import QueuedRequest, utcnow


@pytest.fixture
def queue(database_url: str, engine: Engine) -> Iterator[WorkQueue]:
    opened = WorkQueue.open(database_url, engine)
    assert opened is not None
    yield opened
    opened.dispose()


def _put(queue: WorkQueue, key: str, priority: int = workqueue.EVENT, **body: Any) -> None:
    queue.put(dedupe_key=key, priority=priority, workspace_id="T0TEST", body={"key": key, **body})


def test_queue_sits_beside_a_sqlite_file_and_inside_postgresql() -> None:
    assert queue_url("sqlite:////srv/secreview/secreview.db") == "sqlite:////srv/secreview/secreview-queue.db"
    assert queue_url("sqlite:///relative/app.sqlite") == "sqlite:///relative/app-queue.sqlite"
    assert queue_url("sqlite:///:memory:") is None
    assert queue_url("sqlite://") is None
    pg = "postgresql+psycopg://secreview@db:5432/secreview"
    assert queue_url(pg) == pg


def test_a_delivery_slack_retries_is_stored_once(queue: WorkQueue) -> None:
    _put(queue, "Ev1")
    _put(queue, "Ev1")
    assert queue.depth() == 1


def test_people_waiting_go_first_then_arrival_order(queue: WorkQueue) -> None:
    _put(queue, "Ev1")
    _put(queue, "trigger:1", workqueue.PERSON_WAITING)
    _put(queue, "Ev2")
    _put(queue, "trigger:2", workqueue.PERSON_WAITING)
    claimed = queue.claim(instance_id="w1", limit=3, now=utcnow())
    assert [row.body["key"] for row in claimed] == ["trigger:1", "trigger:2", "Ev1"]
    assert all(row.attempts == 1 for row in claimed)


def test_a_claimed_row_is_nobody_elses_until_its_lease_runs_out(queue: WorkQueue) -> None:
    _put(queue, "Ev1")
    now = utcnow()
    first = queue.claim(instance_id="w1", limit=10, now=now)
    assert [row.body["key"] for row in first] == ["Ev1"]
    assert queue.claim(instance_id="w2", limit=10, now=now + timedelta(seconds=5)) == []
    # w1 died: after the lease the row is claimed again, its attempts counted.
    again = queue.claim(instance_id="w2", limit=10, now=now + workqueue.LEASE + timedelta(seconds=1))
    assert [(row.body["key"], row.attempts) for row in again] == [("Ev1", 2)]
    # The dead worker's late finish touches nothing that is no longer its own.
    queue.finish(first, retry={})
    assert queue.depth() == 1
    queue.finish(again, retry={})
    assert queue.depth() == 0


def test_finish_deletes_the_claim_and_releases_retries_for_later(queue: WorkQueue, engine: Engine) -> None:
    for key in ("Ev1", "Ev2", "Ev3"):
        _put(queue, key)
    now = utcnow()
    claimed = queue.claim(instance_id="w1", limit=3, now=now)
    queue.finish(claimed, retry={claimed[1].id: now + timedelta(seconds=30)})
    with queue.session_factory() as session:
        left = session.scalars(select(QueuedRequest)).all()
        assert [(row.body["key"], row.claimed_by) for row in left] == [("Ev2", None)]
        assert left[0].not_before == now + timedelta(seconds=30)  # read back as the aware datetime written
    assert queue.claim(instance_id="w1", limit=3, now=now + timedelta(seconds=29)) == []
    assert [row.body["key"] for row in queue.claim(instance_id="w1", limit=3, now=now + timedelta(seconds=31))] == [
        "Ev2"]


def test_two_workers_claiming_at_once_never_share_a_row(queue: WorkQueue) -> None:
    for n in range(60):
        _put(queue, f"Ev{n}")
    got: dict[str, list[str]] = {"a": [], "b": []}

    def take(name: str) -> None:
        while rows := queue.claim(instance_id=name, limit=3, now=utcnow()):
            got[name].extend(row.body["key"] for row in rows)

    threads = [threading.Thread(target=take, args=(name,)) for name in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(got["a"] + got["b"]) == sorted(f"Ev{n}" for n in range(60))
    assert not set(got["a"]) & set(got["b"])


class _Dispatch:
    """Stands in for the app: records what it ran and fails the bodies it is told to."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.ran: list[str] = []
        self.failing = failing or set()

    def __call__(self, body: dict[str, Any]) -> bool:
        self.ran.append(body["key"])
        if body["key"] == "explodes":
            raise RuntimeError("not the listener: the dispatch itself")
        return body["key"] not in self.failing


def test_worker_runs_everything_and_empties_the_queue(queue: WorkQueue) -> None:
    for key in ("Ev1", "Ev2", "trigger:1", "Ev3", "Ev4", "Ev5"):
        _put(queue, key, workqueue.PERSON_WAITING if key.startswith("trigger") else workqueue.EVENT)
    dispatch = _Dispatch()
    worker = QueueWorker(queue=queue, dispatch=dispatch, instance_id="w1", threads=2)
    while worker.run_once():
        pass
    assert dispatch.ran[0] == "trigger:1"
    assert sorted(dispatch.ran) == ["Ev1", "Ev2", "Ev3", "Ev4", "Ev5", "trigger:1"]
    assert queue.depth() == 0


def test_a_failed_event_is_tried_again_later_then_given_up(queue: WorkQueue) -> None:
    _put(queue, "Ev-db-down")
    clock = [utcnow()]
    dispatch = _Dispatch(failing={"Ev-db-down"})
    worker = QueueWorker(queue=queue, dispatch=dispatch, instance_id="w1", clock=lambda: clock[0])
    assert worker.run_once() == 1
    assert queue.depth() == 1  # kept
    assert worker.run_once() == 0  # not before its backoff
    for _ in range(workqueue.MAX_EVENT_ATTEMPTS + 2):
        clock[0] += timedelta(seconds=61)
        worker.run_once()
    assert dispatch.ran == ["Ev-db-down"] * workqueue.MAX_EVENT_ATTEMPTS
    assert queue.depth() == 0  # given up after MAX_EVENT_ATTEMPTS, with an error in the log


def test_a_failed_command_or_click_is_not_run_twice(queue: WorkQueue) -> None:
    _put(queue, "trigger:1", workqueue.PERSON_WAITING)
    _put(queue, "explodes", workqueue.PERSON_WAITING)
    dispatch = _Dispatch(failing={"trigger:1"})
    worker = QueueWorker(queue=queue, dispatch=dispatch, instance_id="w1")
    worker.run_once()
    assert sorted(dispatch.ran) == ["explodes", "trigger:1"]
    assert queue.depth() == 0  # the person was told; a decision must never be recorded twice


def test_after_a_worker_died_an_event_runs_again_but_a_click_does_not(queue: WorkQueue) -> None:
    _put(queue, "Ev1")
    _put(queue, "trigger:1", workqueue.PERSON_WAITING)
    now = utcnow()
    queue.claim(instance_id="died", limit=10, now=now)  # claimed, never finished
    dispatch = _Dispatch()
    later = now + workqueue.LEASE + timedelta(seconds=1)
    worker = QueueWorker(queue=queue, dispatch=dispatch, instance_id="w2", clock=lambda: later)
    worker.run_once()
    assert dispatch.ran == ["Ev1"]  # the event is idempotent (its event_id); the click may have taken effect
    assert queue.depth() == 0


def test_a_restarted_worker_takes_over_at_once_what_a_killed_one_held(queue: WorkQueue) -> None:
    import subprocess
    import sys

    from bot.run.claims import instance_id

    _put(queue, "Ev1")
    _put(queue, "Ev2")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead = f"{instance_id().split(':')[0]}:{finished.stdout.strip()}:abc123"  # this host, a pid that has exited
    now = utcnow()
    queue.claim(instance_id=dead, limit=1, now=now)
    queue.claim(instance_id="elsewhere:1:def456", limit=1, now=now)  # another host: its lease is respected
    assert queue.release_claims_of_dead_processes(now) == 1
    assert [(row.body["key"], row.attempts) for row in queue.claim(instance_id="w2", limit=5, now=now)] == [
        ("Ev1", 2)]


def test_replicas_starting_together_all_open_a_new_queue_file(tmp_path: object) -> None:
    import subprocess
    import sys
    from pathlib import Path

    url = f"sqlite:///{Path(str(tmp_path)) / 'together.db'}"
    script = ("import sys; from storage import db; from bot.run.workqueue import WorkQueue; "
              "engine = db.make_engine(sys.argv[1]); queue = WorkQueue.open(sys.argv[1], engine); "
              "queue.put(dedupe_key=sys.argv[2], priority=1, workspace_id='T1', body={}); print(queue.depth() > 0)")
    starts = [subprocess.Popen([sys.executable, "-c", script, url, f"Ev{n}"], stdout=subprocess.PIPE, text=True)
              for n in range(4)]
    outputs = [process.communicate(timeout=60)[0].strip() for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0, 0] and outputs == ["True"] * 4


def test_only_events_wait_for_a_burst_of_acks_to_pass(queue: WorkQueue) -> None:
    paused: list[str] = []
    dispatch = _Dispatch()
    worker = QueueWorker(queue=queue, dispatch=dispatch, instance_id="w1", pause=lambda: paused.append("paused"))
    _put(queue, "trigger:1", workqueue.PERSON_WAITING)
    _put(queue, "Ev1")
    assert worker._pass()  # one pass of its loop, as its thread runs it
    assert paused == [] and dispatch.ran == ["trigger:1", "Ev1"]  # a click never waits for the acks
    _put(queue, "Ev2")
    worker._pass()
    assert paused == ["paused"] and dispatch.ran[-1] == "Ev2"
