"""Flow-test fixtures: a running world per test, in-process or as a real `secreview serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.world import World, running_process_world, running_split_world, running_world


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """secreview serving HTTP mode (in this process, on waitress) against the fake Slack."""
    with running_world(database_url) as running:
        yield running


@pytest.fixture(params=["in-process", "split", "serve-process"])
def any_world(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[World]:
    """The same flows three times: in one process; split into an HTTP side that stores and acks and a worker
    side that runs what was stored (as `secreview serve` does, here in one process); and against
    `secreview serve` as real processes."""
    if request.param == "in-process":
        with running_world(database_url) as running:
            yield running
    elif request.param == "split":
        with running_split_world(database_url) as running:
            yield running
    else:
        with running_process_world(database_url, log_dir=tmp_path) as running:
            yield running
