"""A clock for outbox workers in tests: real time plus an offset the test moves forward."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.models import utcnow


class Clock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        """Moves time forward."""
        self.offset += timedelta(seconds=seconds)
