"""Run a fake Slack workspace on its own, for manual use: `python -m sandbox.fake_slack --port 8900`."""

from __future__ import annotations

import argparse
import time

from sandbox.fake_slack.server import FakeSlack

# The --help line the single-module fake printed (its docstring's first line).
DESCRIPTION = (
    "A local stand-in for the Slack Web API over real HTTP, for tests, benchmarks, chaos runs and the sandbox."
)


def seed_demo(fake: FakeSlack) -> None:
    """Fill a fake workspace with a few people, channels and a reviewers group for manual use."""
    fake.add_user(
        "U0ALICE", "Alice Adams", display_name="alice", tz="Europe/Berlin", email="alice@example.com"
    )
    fake.add_user("U0BOB", "Bob Brown", display_name="bob", tz="Europe/London", email="bob@example.com")
    fake.add_user("U0CAROL", "Carol Chen", display_name="carol (CISO)", tz="America/New_York", is_admin=True)
    fake.add_channel("C0GENERAL", "general", is_general=True)
    fake.add_channel("C0PROJECTS", "projects", purpose="Announce new IT projects here")
    fake.add_channel("C0SECURITY", "security-reviews", is_private=True, members=["U0BOB", "U0CAROL"])
    fake.add_channel("C0DIGEST", "security-digest")
    fake.add_usergroup(
        "S0REVIEWERS", ["U0BOB", "U0CAROL"], handle="security-reviewers", name="Security reviewers"
    )


def main(argv: list[str] | None = None) -> int:
    """Run a fake Slack until interrupted and print its api_url."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.fake_slack", description=DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--empty", action="store_true", help="start without the demo users and channels")
    args = parser.parse_args(argv)
    fake = FakeSlack(args.host, args.port).start()
    if not args.empty:
        seed_demo(fake)
    print(fake.api_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

