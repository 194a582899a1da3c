"""Socket Mode frames: the envelope Slack wraps every delivery in, and the `hello` a connection opens with."""

from __future__ import annotations

from typing import Any

from sandbox.payloads.ids import DEFAULT_APP_ID, new_envelope_id


def socket_mode_envelope(
    type_: str,
    payload: dict[str, Any],
    envelope_id: str | None = None,
    retry_attempt: int = 0,
    retry_reason: str = "",
    *,
    accepts_response_payload: bool | None = None,
) -> dict[str, Any]:
    """Wrap a payload in a Socket Mode envelope (`events_api`, `slash_commands` or `interactive`)."""
    if accepts_response_payload is None:
        # Slack lets the app answer in the ack only where an HTTP response body would count too.
        accepts_response_payload = type_ == "slash_commands" or (
            type_ == "interactive" and payload.get("type") in ("view_submission", "block_suggestion")
        )
    envelope: dict[str, Any] = {
        "envelope_id": envelope_id or new_envelope_id(),
        "payload": payload,
        "type": type_,
        "accepts_response_payload": accepts_response_payload,
    }
    # Only Events API deliveries are retried by Slack, so only they carry the retry fields.
    if type_ == "events_api":
        envelope["retry_attempt"] = retry_attempt
        envelope["retry_reason"] = retry_reason
    return envelope


def socket_mode_hello(num_connections: int = 1, app_id: str = DEFAULT_APP_ID) -> dict[str, Any]:
    """Build the `hello` frame Slack sends when a Socket Mode connection opens."""
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060},
        "connection_info": {"app_id": app_id},
    }
