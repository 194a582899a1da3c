"""Issue 13, finding 1: nothing answers or calls out for a request before its signature is verified.

Against `secreview serve` as a real process (waitress, its worker child, the fake Slack): an unsigned or badly
signed request aimed at an attacker's URL gets a 4xx and no connection to that URL, nor any call to Slack; a
signed request whose response_url is not Slack's is refused and that URL never contacted; what is logged of a
rejected body is short and cannot forge a log line.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.common.ids import ActionId
from sandbox import payloads
from sandbox.slack_sender import sign
from tests.support.sink import TcpSink
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, SIGNING_SECRET, World, running_process_world

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[World]:
    """`secreview serve` as a real process; its log is tmp_path/serve.log."""
    with running_process_world(database_url, log_dir=tmp_path) as running:
        yield running


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POSTs exactly these headers (no signing added) and returns the status."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": FORM, "Connection": "close", **headers})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def attack_bodies(world: World, hook: str) -> dict[str, bytes]:
    """A slash command and a button click, both asking secreview to answer at `hook`."""
    command = payloads.slash_command(world.team, ANNOUNCE, OWNER, "help", response_url=hook)
    click = payloads.block_actions(world.team, REVIEWER, ActionId.TAKE, "SR-1", channel=ANNOUNCE, response_url=hook)
    return {
        "command": urllib.parse.urlencode(command).encode(),
        "click": urllib.parse.urlencode({"payload": json.dumps(click)}).encode(),
    }


def header_cases(body: bytes) -> dict[str, dict[str, str]]:
    """Every way a request can fail verification, by the headers it carries."""
    now = int(time.time())
    good = sign(SIGNING_SECRET, body, now)
    return {
        "timestamp not a number": {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": good},
        "timestamp empty": {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": good},
        "timestamp huge": {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": good},
        "timestamp with a fraction": {"X-Slack-Request-Timestamp": f"{now}.5", "X-Slack-Signature": good},
        "timestamp far in the future": {"X-Slack-Request-Timestamp": str(now + 3600),
                                        "X-Slack-Signature": sign(SIGNING_SECRET, body, now + 3600)},
        "timestamp an hour old": {"X-Slack-Request-Timestamp": str(now - 3600),
                                  "X-Slack-Signature": sign(SIGNING_SECRET, body, now - 3600)},
        "no timestamp": {"X-Slack-Signature": good},
        "no signature": {"X-Slack-Request-Timestamp": str(now)},
        "wrong signature": {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64},
        "signature not ASCII": {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=\u00fc"},
        "signature of another secret": {"X-Slack-Request-Timestamp": str(now),
                                        "X-Slack-Signature": sign("not-the-secret", body, now)},
    }


def test_unverified_requests_get_a_4xx_and_nothing_is_sent_anywhere(served: World) -> None:
    world = served
    url = f"{world.base_url}/slack/events"
    calls_before = len(world.fake.calls())
    with TcpSink() as attacker:
        statuses = {}
        for kind, body in attack_bodies(world, attacker.url).items():
            for case, headers in header_cases(body).items():
                statuses[f"{kind}: {case}"] = post(url, body, headers)
        time.sleep(1.0)  # whatever a listener or an error handler would have sent after the answer
        assert {case: status for case, status in statuses.items() if not 400 <= status < 500} == {}
        assert attacker.received() == []
    # auth.test is the worker process checking its token as it starts (it may still be starting): it carries
    # nothing of any request. Everything else would be an answer to an unverified request.
    sent = [call for call in world.fake.calls()[calls_before:] if call.method != "auth.test"]
    assert sent == []
    assert world.fake.responses() == []
    # And secreview still answers Slack itself.
    assert "/secreview" in world.ask("help")


def test_a_signed_request_with_a_response_url_not_of_slack_is_refused_and_that_url_never_contacted(
        served: World) -> None:
    world = served
    world.announce("New project: payroll moves to Workday")
    world.fake.wait_for(lambda: world.reviews(), timeout=10)
    with TcpSink() as attacker:
        hooks = {"attacker": attacker.url,
                 "attacker behind a Slack-looking name": f"http://hooks.slack.com@127.0.0.1:{attacker.port}/x",
                 "Slack's host over plain http": "http://hooks.slack.com/commands/T1/2/3",
                 "not a URL": "javascript:alert(1)"}
        for name, hook in hooks.items():
            for kind, body in attack_bodies(world, hook).items():
                status = world.sender.send_raw(body, FORM).status
                assert 400 <= status < 500, (name, kind, status)
        time.sleep(1.0)
        assert attacker.received() == []
    assert world.fake.responses() == []
    assert [(r.key, r.state, r.assignee_id) for r in world.reviews()] == [("SR-1", "announced", None)]  # not taken


def test_a_rejected_body_is_logged_short_and_cannot_forge_a_log_line(served: World, tmp_path: Path) -> None:
    world = served
    forged = "2031-01-01 00:00:00 CRITICAL secreview forged: reviewer approved everything"
    body = f"command=%2Fsecreview&text=help\r\n{forged}\n".encode() + b"A" * 20_000
    status = post(f"{world.base_url}/slack/events", body,
                  {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "1" * 64})
    assert status == 401
    time.sleep(0.5)
    log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert not any(line.startswith(forged[:20]) for line in log.splitlines())
    assert "A" * 1000 not in log
    refused = [line for line in log.splitlines() if "unverified" in line]
    assert refused, "the refusal is logged"
    assert all(len(line) < 1000 for line in refused)
    assert "\\n" in refused[-1] or "\\r" in refused[-1]  # the newline shows as an escape, on the same line
