"""Faults around the app: a busy SQLite file, a SIGKILLed `secreview serve`, a PostgreSQL restart under load."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bench import chaos_app, chaos_config, chaos_tally, chaos_traffic
from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import Response, SlackSender
from storage import db
from storage.models import Base, Decision, Review
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, STRANGER, World, running_world

TEST_DATABASE_URL = os.environ.get("SECREVIEW_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
LEAKS = ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "sqlite3")


def decision_submission(world: World, number: int) -> dict[str, Any]:
    """The decision modal, submitted by the reviewer with "approved"."""
    return payloads.view_submission(world.team, REVIEWER, "decision-modal", json.dumps({"key": number}),
                                    chaos_traffic.decision_values("approved"))


def is_clean_ack(response: Response) -> bool:
    """An answer that closes the modal: Slack shows the user success."""
    return response.status == 200 and response.body.strip() in ("", "{}")


def announce(world: World, text_: str = "New project: payroll moves to Workday") -> tuple[str, dict[str, Any]]:
    """Posts an announcement, delivers its event, and waits for its review."""
    message = world.fake.add_message(ANNOUNCE, OWNER, text_)
    envelope = payloads.message_event(world.team, ANNOUNCE, OWNER, text_, ts=message["ts"])
    before = len(world.reviews())
    assert world.sender.send_event(envelope).status == 200
    world.fake.wait_for(lambda: len(world.reviews()) > before)
    return message["ts"], envelope


# --- SQLite busy -------------------------------------------------------------------------------------------

class ReleaseOnRetry(logging.Handler):
    """Lets go of the other connection's lock once secreview has logged that it will retry its write."""

    def __init__(self, holder: sqlite3.Connection) -> None:
        super().__init__()
        self.holder = holder
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "transient database error" in record.getMessage():
            self.retries += 1
            if self.holder.in_transaction:
                self.holder.rollback()


def hold_write_lock(database_url: str) -> sqlite3.Connection:
    """Another process's writer, modelled by a second connection holding SQLite's write lock."""
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file lock")
def test_a_write_waits_while_another_connection_holds_the_lock(world: World, database_url: str) -> None:
    _, _ = announce(world)
    holder = hold_write_lock(database_url)
    try:
        threading.Timer(0.3, holder.rollback).start()  # a moment, well inside SQLite's busy timeout
        response = world.sender.send_interaction(decision_submission(world, 1))
    finally:
        holder.close()
    assert is_clean_ack(response), response.body
    assert world.review(1).state == "approved"


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file lock")
def test_sqlite_busy_past_its_timeout_is_retried_and_recorded_once(database_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite's own wait is shortened so the lock outlasts it and the write fails with "database is locked".
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    with running_world(database_url) as world:
        announce(world)
        world.settle()
        holder = hold_write_lock(database_url)
        release = ReleaseOnRetry(holder)
        services_log = logging.getLogger("bot.slack.services")
        services_log.addHandler(release)
        try:
            response = world.sender.send_interaction(decision_submission(world, 1))
        finally:
            services_log.removeHandler(release)
            holder.close()
        assert release.retries >= 1  # the first attempt really was refused as busy
        assert is_clean_ack(response), response.body
        assert world.review(1).state == "approved"
        with world.session() as session:
            assert len(session.scalars(select(Decision)).all()) == 1


# --- SIGKILL -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_sigkill_mid_stream_then_restart_duplicates_nothing_and_loses_no_decision(tmp_path: Path,
                                                                                  database_url: str) -> None:
    fake = FakeSlack().start()
    chaos_config.populate(fake)
    engine = db.make_engine(database_url)
    app = chaos_app.AppProcess(env=chaos_app.app_environment(api_url=fake.api_url, database_url=database_url),
                               port=chaos_app.free_port(), workdir=tmp_path)
    ledger = chaos_traffic.Ledger()
    try:
        app.start()
        sender = SlackSender(f"{app.url}/slack/events", chaos_config.SIGNING_SECRET)
        traffic = chaos_traffic.Traffic(fake=fake, sender=sender, engine=engine, ledger=ledger,
                                        config=chaos_config.ChaosConfig(request_deadline=40, review_wait_seconds=20))
        projects = []
        for n in range(8):
            message = fake.add_message(ANNOUNCE, OWNER, f"New project #{n}: a vendor portal for team {n}")
            envelope = payloads.message_event(fake.team_id, ANNOUNCE, OWNER, message["text"], ts=message["ts"])
            assert traffic.deliver_event(envelope)
            ledger.announcements_acked[message["ts"]] = n
            projects.append((message["ts"], envelope))
        numbers = [traffic.wait_review(ts, 20) for ts, _ in projects]
        assert all(numbers)
        # The thread replies and the cards went out.
        fake.wait_for(lambda: len(chaos_tally.delivered_calls(fake)) >= 16, timeout=20)

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(traffic.decide, ts, number, "approved")
                       for (ts, _), number in zip(projects, numbers, strict=True)]
            fake.wait_for(lambda: ledger.decisions_acked, timeout=20)
            app.kill()  # decisions in flight, notices being delivered
            sent_at_kill = chaos_tally.sent_row_ids(engine)
            app.start()
            for future in futures:
                future.result()
        for _, envelope in projects:  # Slack delivers every announcement once more after the outage
            redelivered = traffic.sender.send_event(envelope, retry_num=1, retry_reason="http_timeout")
            assert redelivered.status == 200

        deadline = time.monotonic() + 30
        result = chaos_tally.tally(engine=engine, fake=fake, ledger=ledger, app=app, sent_at_kill=sent_at_kill)
        while not result.complete and time.monotonic() < deadline:
            time.sleep(0.2)
            result = chaos_tally.tally(engine=engine, fake=fake, ledger=ledger, app=app, sent_at_kill=sent_at_kill)
        figures = result.figures
        print(json.dumps(figures, sort_keys=True))
        assert figures["kills"] == 1 and len(sent_at_kill) >= 16
        assert figures["reviews_found"] == 8 and figures["duplicated_reviews"] == 0
        assert figures["decisions_expected"] == 8 and figures["decisions_found"] == 8
        assert figures["lost_decisions"] == 0 and figures["duplicated_decisions"] == 0
        assert figures["sent_rows_redelivered"] == 0  # nothing recorded as sent was sent again
        assert figures["notices_missing"] == 0, figures["notices_missing_by_outbox_state"]
    finally:
        app.close()
        fake.stop()
        engine.dispose()


# --- PostgreSQL restart ------------------------------------------------------------------------------------

def eventually(check: Callable[[], bool], seconds: float) -> bool:
    """Whether `check` comes true within `seconds` (work still queued in the app gets its chance)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _pg_versions() -> list[str]:
    return sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []


def _can_restart_postgres() -> bool:
    if not ON_POSTGRES or shutil.which("pg_ctlcluster") is None or len(_pg_versions()) != 1:
        return False
    url = make_url(TEST_DATABASE_URL)
    return url.host in ("127.0.0.1", "localhost") and (url.port or 5432) == 5432 and os.geteuid() == 0


def _pg_ctl(action: str) -> None:
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", _pg_versions()[0], "main", action, *extra],
                   check=True, capture_output=True, timeout=60)


def _get(url: str) -> int:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.fixture(scope="module")
def outage(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """One short PostgreSQL outage under load, with what secreview answered before, during and after it."""
    if not _can_restart_postgres():
        pytest.skip("needs SECREVIEW_TEST_DATABASE_URL on the local PostgreSQL and pg_ctlcluster as root")
    url = request.getfixturevalue("_pg_schema_url")
    engine = db.make_engine(url)
    with engine.begin() as connection:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    seen: dict[str, Any] = {"load": []}
    with running_world(url) as world:
        announce(world)
        world.settle()
        seen["ready_before"] = _get(f"{world.base_url}/readyz")
        stop_load = threading.Event()

        def load() -> None:
            # Commands keep coming in the whole time, as they would from a busy workspace.
            while not stop_load.is_set():
                try:
                    response = world.command("list", user=STRANGER)
                    seen["load"].append((response.status, response.body))
                except OSError as exc:
                    seen["load"].append((0, str(exc)))
                time.sleep(0.05)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        try:
            stopped = time.monotonic()
            _pg_ctl("stop")
            try:
                seen["ready_during"] = _get(f"{world.base_url}/readyz")
                answers_before = world.answer_count(OWNER)
                seen["command_during"] = world.command("show SR-1")
                seen["command_answer_during"] = world.wait_answer(OWNER, answers_before)
                message = world.fake.add_message(ANNOUNCE, OWNER, "New project: the CRM moves to a new vendor")
                seen["event"] = payloads.message_event(world.team, ANNOUNCE, OWNER, message["text"], ts=message["ts"])
                seen["event_ts"] = message["ts"]
                seen["event_during"] = world.sender.send_event(seen["event"])
                seen["decision_during"] = world.sender.send_interaction(decision_submission(world, 1))
            finally:
                _pg_ctl("start")
                seen["down_seconds"] = round(time.monotonic() - stopped, 1)
            seen["ready_after"] = world.fake.wait_for(lambda: _get(f"{world.base_url}/readyz") == 200, timeout=30)
        finally:
            stop_load.set()
            loader.join(10)
        if seen["event_during"].status != 200:
            world.sender.send_event(seen["event"], retry_num=1, retry_reason="http_error")  # Slack retries

        def event_review() -> bool:
            with world.session() as session:
                found = session.scalars(select(Review.id).where(Review.source_ts == seen["event_ts"])).first()
                return found is not None

        seen["event_recorded"] = eventually(event_review, 5.0)
        seen["decision_recorded"] = world.review(1).state == "approved"
        if not seen["decision_recorded"]:
            seen["decision_after"] = world.sender.send_interaction(decision_submission(world, 1))
            seen["decision_recorded_after_retry"] = world.review(1).state == "approved"
        answers_before = world.answer_count(OWNER)
        seen["command_after"] = world.command("show SR-1")
        seen["command_answer_after"] = world.wait_answer(OWNER, answers_before)
        world.settle(timeout=30)
        seen["notices_after"] = [m for m in world.fake.messages(world.fake.dm_channel(OWNER))]
    yield seen


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.alone  # stops the PostgreSQL server every other test uses
def test_readyz_reports_the_database_going_and_coming_back(outage: dict[str, Any]) -> None:
    print(f"PostgreSQL was down for {outage['down_seconds']} s; {len(outage['load'])} commands under load")
    assert (outage["ready_before"], outage["ready_during"], outage["ready_after"]) == (200, 503, True)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.alone  # stops the PostgreSQL server every other test uses
def test_requests_are_answered_politely_while_it_is_down_and_served_after(outage: dict[str, Any]) -> None:
    assert outage["command_during"].status == 200
    assert "try again" in outage["command_answer_during"].lower()
    for word in LEAKS:
        assert word not in outage["command_answer_during"]
    assert outage["load"] and all(status == 200 for status, _ in outage["load"])  # never a 5xx under load
    assert all(not any(word in body for word in LEAKS) for _, body in outage["load"])
    assert outage["command_after"].status == 200 and "SR-1" in outage["command_answer_after"]
    assert outage.get("decision_recorded") or outage.get("decision_recorded_after_retry")
    assert outage["notices_after"]  # the outbox worker survived the outage and delivered the decision's DM


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.alone  # stops the PostgreSQL server every other test uses
def test_a_decision_submitted_while_it_is_down_is_recorded_or_refused_visibly(outage: dict[str, Any]) -> None:
    response = outage["decision_during"]
    assert outage["decision_recorded"] or not is_clean_ack(response)
    if response.status == 200 and not outage["decision_recorded"]:
        assert json.loads(response.body)["response_action"] == "errors"


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.alone  # stops the PostgreSQL server every other test uses
def test_an_announcement_arriving_while_it_is_down_is_not_lost(outage: dict[str, Any]) -> None:
    assert outage["event_recorded"]
