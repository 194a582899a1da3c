"""A local stand-in for the Slack Web API over real HTTP, for tests, benchmarks, chaos runs and the sandbox.

The module became a package so that it can be split by the Web API families it stands in for; until then
everything lives in conversations.py, which keeps the file's history.
"""

from sandbox.fake_slack.conversations import ApiError, Call, FakeSlack, validate_blocks

__all__ = ["ApiError", "Call", "FakeSlack", "validate_blocks"]
