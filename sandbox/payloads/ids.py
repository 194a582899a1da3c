"""Slack's identifiers as an app sees them, and the sandbox workspace's own identity.

Message timestamps (ts), event ids, trigger ids, envelope ids, block ids, DM channel ids and response_urls,
each generated in Slack's format and unique per process, so two payloads never collide in a de-duplication
table. The DEFAULT_* values are the team, app and bot that the fake Web API reports too.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import threading
import time
import uuid
from typing import Final

# Defaults shared with sandbox.fake_slack, so events built here carry the same app/bot identity that the
# fake's auth.test reports (Bolt drops "its own" messages by comparing these).
DEFAULT_TEAM_ID: Final = "T0SECREV"
DEFAULT_TEAM_DOMAIN: Final = "secreview-sandbox"
DEFAULT_TEAM_NAME: Final = "secreview sandbox"
DEFAULT_APP_ID: Final = "A0SECREV"
DEFAULT_BOT_USER_ID: Final = "U0SECBOT"
DEFAULT_BOT_ID: Final = "B0SECBOT"
DEFAULT_BOT_NAME: Final = "secreview"
# The legacy verification token Slack still puts in payloads; Bolt ignores it unless configured.
DEFAULT_VERIFICATION_TOKEN: Final = "verification_token"
# A response_url nobody registered must never reach hooks.slack.com (tests run offline); port 9 (discard)
# on loopback refuses at once, so a forgotten response_url fails fast instead of hanging.
DEFAULT_HOOKS_BASE: Final = "http://127.0.0.1:9"

_lock = threading.Lock()
_counter = itertools.count(1)
_last_ts_us = 0


def new_ts() -> str:
    """Return a Slack message timestamp ("1700000000.000100") unique and increasing within this process."""
    global _last_ts_us
    with _lock:
        # Slack's ts doubles as the message id, so two builders called in the same microsecond must differ.
        _last_ts_us = max(int(time.time() * 1_000_000), _last_ts_us + 1)
        return format_ts(_last_ts_us)


def format_ts(microseconds: int) -> str:
    """Format integer microseconds since the epoch as a Slack ts string."""
    return f"{microseconds // 1_000_000}.{microseconds % 1_000_000:06d}"


def parse_ts(ts: str) -> int:
    """Parse a Slack ts ("1700000000.000100") into integer microseconds; raise ValueError if malformed."""
    if not isinstance(ts, str) or not re.fullmatch(r"\d{1,12}(\.\d{1,6})?", ts):
        raise ValueError(f"not a Slack ts: {ts!r}")
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction or "0").ljust(6, "0"))


def _serial() -> int:
    with _lock:
        return next(_counter)


def new_event_id() -> str:
    """Return a unique Events API event id ("Ev…")."""
    return f"Ev{_serial():06X}{secrets.token_hex(3).upper()}"


def new_trigger_id() -> str:
    """Return a unique trigger id in Slack's "<digits>.<digits>.<hex>" format."""
    first = f"{int(time.time() * 1000)}{_serial() % 1000:03d}"
    return f"{first}.{secrets.randbelow(10**11):011d}.{secrets.token_hex(16)}"


def new_envelope_id() -> str:
    """Return a unique Socket Mode envelope id (a UUID, as Slack sends)."""
    return str(uuid.uuid4())


def new_block_id() -> str:
    """Return a short random block id like the ones Slack assigns ("8KR")."""
    return secrets.token_urlsafe(4)[:5]


def dm_channel_id(user_id: str) -> str:
    """Return the stable DM channel id ("D…") between the app and a user, as the fake Web API assigns it."""
    # Derived from the user id so payloads built here (app_home_opened.channel) match the fake's DMs.
    return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()


def make_response_url(
    kind: str = "commands", team_id: str = DEFAULT_TEAM_ID, base: str = DEFAULT_HOOKS_BASE
) -> str:
    """Return a response_url in Slack's /commands|actions/<team>/<n>/<secret> form under `base`."""
    return f"{base.rstrip('/')}/{kind}/{team_id}/{secrets.randbelow(10**12):012d}/{secrets.token_urlsafe(18)}"
