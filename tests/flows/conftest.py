"""Flow-test fixtures: a running world per test, in-process or as a real `secreview serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.world import World, running_process_world, running_world


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """secreview serving HTTP mode (in this process, on waitress) against the fake Slack."""
    with running_world(database_url) as running:
        yield running


@pytest.fixture(params=["in-process", "serve-process"])
def any_world(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[World]:
    """The same flows twice: in-process, and against `secreview serve` as a real process."""
    if request.param == "in-process":
        with running_world(database_url) as running:
            yield running
    else:
        with running_process_world(database_url, log_dir=tmp_path) as running:
            yield running
