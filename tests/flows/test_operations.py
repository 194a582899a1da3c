"""Operating `secreview serve`: health, readiness, Prometheus metrics, JSON logs, graceful shutdown, bad input."""

from __future__ import annotations

import http.client
import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import SlackSender
from tests.support.processes import alive, children_of, serve_process
from tests.support.world import ANNOUNCE, OWNER, SECURITY, SIGNING_SECRET, populate, world_settings


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def announced_size_status(url: str, size: int) -> int:
    """Sends only the headers of a request announcing `size` bytes and returns the status the server answers."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.slow
def test_serve_operations(database_url: str, tmp_path: Path) -> None:
    fake = FakeSlack().start()
    populate(fake)
    settings = world_settings(fake, database_url, secreview_log_format="json")
    log = tmp_path / "serve.log"
    try:
        with serve_process(settings, extra_args=("--no-scheduler",), log_path=log) as proc:
            url, process = proc["url"], proc["process"]
            assert get(f"{url}/healthz") == (200, "ok\n")
            assert get(f"{url}/readyz") == (200, "ready\n")
            sender = SlackSender(f"{url}/slack/events", SIGNING_SECRET)
            message = fake.add_message(ANNOUNCE, OWNER, "New project: data lake on AWS")
            sender.send_event(payloads.message_event(fake.team_id, ANNOUNCE, OWNER, message["text"],
                                                     ts=message["ts"]))
            fake.wait_for(lambda f: f.messages(SECURITY), timeout=15)

            # Bad input: wrong signature, stale timestamp, garbage, unknown action: never a 5xx.
            assert sender.send_raw(b"{}", "application/json", signature="v0=bad").status == 401
            assert sender.send_raw(b"{}", "application/json", timestamp=1).status == 401
            assert sender.send_raw(b"payload=%7Bnot-json", "application/x-www-form-urlencoded").status < 500
            assert sender.send_raw(b"\xff\xfe garbage", "application/json").status < 500
            unknown = payloads.block_actions(fake.team_id, OWNER, "no-such-action", "x", channel=ANNOUNCE,
                                             response_url=fake.response_url(ANNOUNCE, OWNER, kind="actions"))
            assert sender.send_interaction(unknown).status == 200
            assert announced_size_status(url, 2_000_000) == 413  # refused before a byte of it is read
            assert get(f"{url}/healthz")[0] == 200  # still healthy

            code, metrics = get(f"{url}/metrics")
            assert code == 200
            assert "secreview_slack_requests_total" in metrics and 'secreview_reviews{state="announced"} 1.0' in metrics
            assert "secreview_outbox_backlog" in metrics and "secreview_slow_acks_total" in metrics

            process.send_signal(signal.SIGTERM)
            assert process.wait(15) == 0  # graceful: in-flight work finished, scheduler and outbox stopped
        lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
        records = [json.loads(line) for line in lines]
        assert records and all({"ts", "level", "logger", "message"} <= set(r) for r in records)
        assert any("stopped" in r["message"] for r in records)
    finally:
        fake.stop()


@pytest.mark.slow
def test_serve_keeps_its_worker_process_running(database_url: str, tmp_path: Path) -> None:
    fake = FakeSlack().start()
    populate(fake)
    settings = world_settings(fake, database_url)
    try:
        with serve_process(settings, extra_args=("--no-scheduler",), log_path=tmp_path / "serve.log") as proc:
            url, process = proc["url"], proc["process"]
            worker = fake.wait_for(lambda: children_of(process.pid), timeout=10)[0]
            assert get(f"{url}/readyz") == (200, "ready\n")
            os.kill(worker, signal.SIGKILL)
            # Acknowledged while no worker runs: kept in the queue, and done by the worker started in its place.
            sender = SlackSender(f"{url}/slack/events", SIGNING_SECRET)
            message = fake.add_message(ANNOUNCE, OWNER, "New project: vendor onboarding on Zendesk, go-live 2031-01-05")
            assert sender.send_event(payloads.message_event(fake.team_id, ANNOUNCE, OWNER, message["text"],
                                                            ts=message["ts"])).status == 200
            replacement = fake.wait_for(lambda: [p for p in children_of(process.pid) if p != worker], timeout=15)[0]
            fake.wait_for(lambda f: f.messages(SECURITY), timeout=20)
            fake.wait_for(lambda: get(f"{url}/readyz")[0] == 200, timeout=10)
            code, metrics = get(f"{url}/metrics")
            assert code == 200 and "secreview_work_queue_depth 0.0" in metrics

            # The serving process killed outright: its worker notices and stops too, leaving nothing behind.
            process.send_signal(signal.SIGKILL)
            process.wait(5)
            fake.wait_for(lambda: not alive(replacement), timeout=10)
    finally:
        fake.stop()
