"""Run a fake Slack workspace on its own, for manual use: `python -m sandbox.fake_slack --port 8900`."""

from sandbox.fake_slack.conversations import main

if __name__ == "__main__":
    raise SystemExit(main())
