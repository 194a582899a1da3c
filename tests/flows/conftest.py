"""Flow-test fixtures: a running world per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.world import World, running_world


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """secreview serving HTTP mode against the fake Slack, on this test's database."""
    with running_world(database_url) as running:
        yield running
