"""The chaos run, very small: a real `secreview serve`, a flaky fake Slack, one SIGKILL and restart; nothing lost."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import chaos

# The suite's database choice; on PostgreSQL the run makes (and drops) a schema of its own.
TEST_DATABASE_URL = os.environ.get("SECREVIEW_TEST_DATABASE_URL", "")

# Smaller than `--quick`: a dozen projects and one kill, with every kind of Slack fault still injected.
TINY = ["--quick", "--announcements", "12", "--concurrency", "4", "--kills", "1",
        "--settle", "40", "--review-wait", "15", "--rate-429", "0.08", "--rate-500", "0.08", "--rate-timeout", "0.04"]


@pytest.mark.slow
def test_chaos_quick_loses_nothing_and_duplicates_no_review(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    args = [*TINY, "--workdir", str(tmp_path)]
    if TEST_DATABASE_URL.startswith("postgresql"):
        args += ["--database-url", TEST_DATABASE_URL]
    chaos.main(args)  # the command line itself: the figures, then one JSON object on the last line
    output = capsys.readouterr().out
    print(output)  # shown with the test's report
    figures = json.loads(output.strip().splitlines()[-1])
    assert figures["kills"] == 1 and sum(figures["slack_faults"].values()) > 0  # the chaos really happened
    assert figures["reviews_expected"] == 12
    assert figures["duplicated_reviews"] == 0
    assert figures["duplicated_decisions"] == 0
    assert figures["lost_decisions"] == 0 and figures["decisions_found"] == figures["decisions_expected"]
    assert figures["notices_missing"] == 0, figures["notices_missing_by_outbox_state"]
    assert figures["out_of_order"] == 0
    assert figures["sent_rows_redelivered"] == 0  # nothing recorded as sent went out again
    # An announcement acknowledged just before the kill was kept first (bot/run/inbox.py) and replayed after the
    # restart, within the review wait above.
    assert figures["lost_announcements"] == 0
    assert figures["lost"] == 0
