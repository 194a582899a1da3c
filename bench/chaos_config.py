"""What bench/chaos.py runs with: its knobs (ChaosConfig), and the tokens, channels and people of the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.fake_slack import FakeSlack

SIGNING_SECRET = "chaos-signing-secret"
BOT_TOKEN = "xoxb-chaos"
ANNOUNCE = "C0PROJECTS"
SECURITY = "C0SECURITY"
REVIEWER = "U0BOB"
OWNERS = ("U0ALICE", "U0CAROL", "U0DAVE", "U0ERIN")


@dataclass
class ChaosConfig:
    """The knobs of one run."""

    announcements: int = 150
    concurrency: int = 8
    kills: int = 2
    rate_429: float = 0.10
    rate_500: float = 0.10
    rate_timeout: float = 0.05
    timeout_seconds: float = 1.0
    retry_after: int = 1
    duplicate_rate: float = 0.2
    settle_seconds: float = 150.0
    request_deadline: float = 90.0
    review_wait_seconds: float = 30.0  # an acked announcement with no review by then is counted as lost
    database_url: str | None = None
    seed: int = 7
    workdir: Path | None = None


def quick_config(**overrides: Any) -> ChaosConfig:
    """A run that finishes in well under a minute: fewer projects."""
    values: dict[str, Any] = {"announcements": 40, "concurrency": 6, "kills": 2,
                              "settle_seconds": 40.0, "request_deadline": 30.0, "review_wait_seconds": 20.0}
    values.update(overrides)
    return ChaosConfig(**values)


def populate(fake: FakeSlack) -> None:
    """The people and channels of the run."""
    for user, name in ((REVIEWER, "Bob Brown"), ("U0ALICE", "Alice Adams"), ("U0CAROL", "Carol Chen"),
                       ("U0DAVE", "Dave Doe"), ("U0ERIN", "Erin Evans")):
        fake.add_user(user, name, display_name=name.split()[0].lower())
    fake.add_channel(ANNOUNCE, "projects")
    fake.add_channel(SECURITY, "security-reviews")
