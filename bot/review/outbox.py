"""The outbox: Slack calls decided by a state change, stored in its transaction, delivered after it.

Three payload keys are secreview's own and never reach Slack: VIEW_KEY marks a message that shows a review's state
(delivery records where it landed, or finds the message an update is for), LINK_KEY asks delivery for the
permalink of a message (a DM links to the announcement's thread), CARD_THREAD_KEY asks delivery to post in the
thread of the review's card (only known once the card is posted).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.models import OutboxMessage

VIEW_KEY = "secreview_view"
LINK_KEY = "secreview_link"
CARD_THREAD_KEY = "secreview_card_thread"


def enqueue(
    session: Session,
    *,
    workspace_id: str,
    method: str,
    payload: dict[str, Any],
    purpose: str,
    review_id: int | None = None,
    ordering_key: str = "",
) -> OutboxMessage:
    """Adds one Slack call to the outbox; it is sent only if the surrounding transaction commits."""
    row = OutboxMessage(
        workspace_id=workspace_id,
        review_id=review_id,
        purpose=purpose,
        method=method,
        payload=payload,
        ordering_key=ordering_key or f"{method}:{payload.get('channel', '')}",
    )
    session.add(row)
    return row
