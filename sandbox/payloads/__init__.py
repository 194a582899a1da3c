"""Builders of the payloads Slack sends to an app: Events API, slash commands, interactivity, Socket Mode.

Every builder returns a plain dict in exactly the shape of a file in tests/fixtures/payloads/ (captured
from Slack's own SDK test suites): the same field sets, only ids, text and timestamps change. Ids that
are not given (event ids, trigger ids, envelope ids, timestamps) are generated unique per process, so
two calls never collide in a de-duplication table.

One module per surface: events (Events API), commands (slash commands), interactivity (block_actions,
view_submission), shortcuts (message and global shortcuts, a workflow step's function_executed), socket_mode
(its envelopes), plus ids (timestamps, ids, the sandbox's identity) and rich_text (the block a typed message
carries). Callers use `from sandbox import payloads`. The shortcut and function_executed shapes are not among the
fixtures; sandbox/payloads/shortcuts.py says where they come from.
"""

from sandbox.payloads.commands import slash_command
from sandbox.payloads.events import (
    app_home_opened_event,
    event_callback,
    message_changed_event,
    message_deleted_event,
    message_event,
    reaction_added_event,
    url_verification,
)
from sandbox.payloads.ids import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_NAME,
    DEFAULT_BOT_USER_ID,
    DEFAULT_HOOKS_BASE,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    DEFAULT_VERIFICATION_TOKEN,
    dm_channel_id,
    format_ts,
    make_response_url,
    new_block_id,
    new_envelope_id,
    new_event_id,
    new_trigger_id,
    new_ts,
    parse_ts,
)
from sandbox.payloads.interactivity import (
    block_actions,
    interaction_form,
    normalize_state_values,
    view_submission,
)
from sandbox.payloads.rich_text import rich_text_blocks
from sandbox.payloads.shortcuts import function_executed_event, global_shortcut, message_shortcut
from sandbox.payloads.socket_mode import socket_mode_envelope, socket_mode_hello

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_NAME",
    "DEFAULT_BOT_USER_ID",
    "DEFAULT_HOOKS_BASE",
    "DEFAULT_TEAM_DOMAIN",
    "DEFAULT_TEAM_ID",
    "DEFAULT_TEAM_NAME",
    "DEFAULT_VERIFICATION_TOKEN",
    "app_home_opened_event",
    "block_actions",
    "dm_channel_id",
    "event_callback",
    "format_ts",
    "function_executed_event",
    "global_shortcut",
    "interaction_form",
    "make_response_url",
    "message_changed_event",
    "message_deleted_event",
    "message_event",
    "message_shortcut",
    "new_block_id",
    "new_envelope_id",
    "new_event_id",
    "new_trigger_id",
    "new_ts",
    "normalize_state_values",
    "parse_ts",
    "reaction_added_event",
    "rich_text_blocks",
    "slash_command",
    "socket_mode_envelope",
    "socket_mode_hello",
    "url_verification",
    "view_submission",
]
