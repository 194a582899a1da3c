"""A local stand-in for the Slack Web API over real HTTP, for tests, benchmarks, chaos runs and the sandbox.

The real `slack_sdk.WebClient(base_url=fake.api_url)` talks to it. State lives in memory behind one lock;
answers follow Slack's format (`{"ok": false, "error": "..."}` with HTTP 200 for API errors, 429 with
`Retry-After` for rate limits). Besides the Web API it serves the upload URLs of `files_upload_v2`,
response_urls registered with `response_url()`, permalinks and file downloads, and `/_fake/snapshot`.

One module per part of Slack: state (the data kept), server (HTTP, routing, token checks, FakeSlack),
auth, users, conversations, chat, reactions, views, files, functions (workflow steps), responses (response_urls),
faults (failure injection) and blocks (Block Kit checks). Run `python -m sandbox.fake_slack --port 8900` for manual use.
"""

from sandbox.fake_slack.blocks import validate_blocks
from sandbox.fake_slack.server import FakeSlack
from sandbox.fake_slack.state import ApiError, Call

__all__ = ["ApiError", "Call", "FakeSlack", "validate_blocks"]
