"""The benchmarks' core functions on tiny sizes: they run, and their JSON lines have the documented keys.

No timing is asserted here, ever: figures depend on the machine; bench/ is where they are read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from waitress.server import create_server

from bench import ack_load, ack_phases, bare_app, common, detect
from bench import dates as dates_bench
from bench import digest as digest_bench
from sandbox.fake_slack import FakeSlack
from tests.support.world import running_world

ACK_KEYS = {"p50_ms", "p99_ms", "bare_p50_ms", "bare_p99_ms", "p50_ratio", "p99_ratio", "over_3s", "requests",
            "errors"}
DIGEST_KEYS = {"week_ms", "quarter_ms", "floor_ms", "growth"}
DETECT_KEYS = {"messages_per_s", "floor_messages_per_s", "ratio_to_floor"}


def test_common_helpers(capsys: pytest.CaptureFixture[str]) -> None:
    assert common.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert common.percentile([], 0.99) == 0.0
    assert common.summary_ms([0.001, 0.002])["max"] == 2.0
    assert common.ratio(3, 2) == 1.5
    assert "---" in common.table(["a", "b"], [["x", 1.5]])
    common.emit({"k": 1})
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"k": 1}


def test_detect_measures_the_mix_and_the_floor() -> None:
    texts = detect.messages(400)
    result = detect.measure(texts, rounds=1)
    assert result.keys() >= DETECT_KEYS
    assert 0 < result["announcements"] < len(texts)


def test_detect_reads_the_languages_it_is_given() -> None:
    texts = detect.messages(400, languages=("en", "fr", "de", "es", "nl"))
    assert any("mise en production" in t for t in texts)
    result = detect.measure(texts, rounds=1, languages=("en", "fr", "de", "es", "nl"))
    assert result.keys() >= DETECT_KEYS


def test_dates_compares_every_reader_on_a_few_sentences() -> None:
    today, sentences = dates_bench.load(dates_bench.CORPUS)
    sample = sentences[:3] + [s for s in sentences if s.language == "fr"][:3]
    results = dates_bench.measure(sample, today, rounds=1, holdout=sample[:2])
    assert set(results) == set(dates_bench.READERS)
    for result in results.values():
        assert result["all"].sentences == len(sample) and result["messages_per_s"] > 0
        assert 0.0 <= result["all"].precision <= 1.0 and result["holdout"].sentences == 2


def test_digest_builds_a_small_history_and_times_it(tmp_path: Path) -> None:
    path = tmp_path / "tiny.db"
    counts = digest_bench.build(path, 400, recent_per_week=2)
    assert counts["reviews"] == 400 and counts["events"] > counts["reviews"]
    timings = digest_bench.measure(path, repeat=1)
    result = digest_bench.figures({400: timings, 401: timings})
    assert result.keys() >= DIGEST_KEYS
    assert set(result["week_ms"]) == {"400", "401"}


@pytest.fixture
def bare_server() -> Iterator[tuple[str, int]]:
    """The floor app in this process, on waitress on loopback, with its own fake Web API."""
    fake = FakeSlack().start()
    app = bare_app.build(fake.api_url, ack_load.BOT_TOKEN, ack_load.SIGNING_SECRET, listener_threads=2)
    server = create_server(bare_app.wsgi(app), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(server.effective_port)
    finally:
        server.close()
        thread.join(5)
        fake.stop()


def test_ack_load_both_ways_and_figures(bare_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = bare_server
    with running_world(f"sqlite:///{tmp_path / 'ack.db'}", slack_signing_secret=ack_load.SIGNING_SECRET,
                       secreview_reviewers=[ack_load.REVIEWER]) as world:
        requests = ack_load.build_requests(24, fake_url=world.fake.url)
        assert {r.kind for r in requests} <= {kind for kind, _ in ack_load.MIX}
        ours_host, ours_port = world.base_url.removeprefix("http://").split(":")
        ours, ours_wall = ack_load.closed_loop(ours_host, int(ours_port), requests, 3)
        floor, floor_wall = ack_load.open_loop(host, port, requests, rate=200, senders=4)
    assert all(r.status == 200 for r in ours + floor)
    phase = ack_phases.Phase("test", results={"secreview": ours, "bare": floor},
                             busy_seconds={"secreview": ours_wall, "bare": floor_wall},
                             cpu_seconds={"secreview": 0.1, "bare": 0.1},
                             ack_cpu_seconds={"secreview": 0.05, "bare": 0.1},
                             drain_seconds={"secreview": 0.0, "bare": 0.0})
    closed = ack_phases.figures(phase)
    assert "acks/s" in ack_phases.phase_table(phase)
    last = ack_phases.last_line(closed, {**closed, "rate": 200.0}, concurrency=3)
    assert last.keys() >= ACK_KEYS and ACK_KEYS - {"requests"} <= last["rate"].keys()
    assert last["requests"] == 2 * len(requests)
