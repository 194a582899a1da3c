"""What Jira is told when a safeguard changes: written to the outbox in the change's transaction, like Slack notices.

A decision's conditions each get one "jira.create_issue" row carrying the issue's fields (project, type, summary,
labels with secreview's marker, due date, review key) and what its description says; a safeguard done or waived
in secreview gets one "jira.close_issue" row (Done, or Won't Do with the reason). bot/run/delivery.py hands these
rows to bot/tracker, which maps the owner, adds the link back and makes the calls. Nothing here runs without
JIRA_URL. The marker label (secreview-<workspace>-<condition id>) is what finds an issue again when an earlier
attempt's outcome is unknown, so a safeguard never gets two issues.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.common import render
from bot.config import Settings
from bot.review import outbox
from storage.models import Condition, OutboxMessage, Review

CREATE = "jira.create_issue"
CLOSE = "jira.close_issue"
BASE_LABEL = "secreview"
MAX_SUMMARY = 255
_MARKER = re.compile(r"^secreview-([a-z0-9]+)-(\d+)$")


def marker(workspace_id: str, condition_id: int) -> str:
    """The label that names one safeguard's issue: secreview-<workspace>-<condition id>."""
    return f"{BASE_LABEL}-{workspace_id.lower()}-{condition_id}"


def parse_marker(labels: list[str]) -> tuple[str, int] | None:
    """The workspace and condition id a marker label among `labels` names, if any."""
    for label in labels:
        match = _MARKER.match(label.lower())
        if match:
            return match.group(1).upper(), int(match.group(2))
    return None


def ordering_key(workspace_id: str, condition_id: int) -> str:
    """One safeguard's Jira calls go in order: the create first, a close after it."""
    return f"jira:{workspace_id}:{condition_id}"


def _summary(review: Review, condition: Condition) -> str:
    text = render.raw_message("jira.summary", key=review.key, text=" ".join(condition.text.split()))
    return render.cut(text, MAX_SUMMARY)


def issues_opened(session: Session, *, settings: Settings, review: Review, conditions: list[Condition]) -> None:
    """One Jira issue per new condition, created through the outbox once this transaction commits."""
    if not settings.jira_enabled:
        return
    field_map = settings.secreview_jira_field_map
    for condition in conditions:
        fields: dict[str, Any] = {
            "project": {"key": settings.secreview_jira_project},
            "issuetype": {"name": settings.secreview_jira_issue_type},
            "summary": _summary(review, condition),
            "labels": list(dict.fromkeys([BASE_LABEL, marker(review.workspace_id, condition.id),
                                          *settings.secreview_jira_labels])),
        }
        if field_map.get("due") and condition.due_date is not None:
            fields[field_map["due"]] = condition.due_date.isoformat()
        if field_map.get("review"):
            fields[field_map["review"]] = review.key
        payload = {
            "condition_id": condition.id,
            "marker": marker(review.workspace_id, condition.id),
            "owner": condition.owner_id,
            "fields": fields,
            "link_field": field_map.get("link") or None,
            # What the description says, as decided now; the deliverer adds the owner and the link back.
            "about": {"review_key": review.key, "title": review.title, "condition": condition.text,
                      "condition_id": condition.id, "due": condition.due_date.isoformat() if condition.due_date
                      else None, "go_live": review.go_live.isoformat() if review.go_live else None},
        }
        outbox.enqueue(session, workspace_id=review.workspace_id, method=CREATE, payload=payload,
                       purpose="jira_issue", review_id=review.id,
                       ordering_key=ordering_key(review.workspace_id, condition.id))


def _has_issue(session: Session, condition: Condition) -> bool:
    if condition.jira_key:
        return True
    # Even behind a create Jira refused: `secreview jira retry` sends both again, the create first.
    created = session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.ordering_key == ordering_key(condition.workspace_id,
                                                                                 condition.id),
                                       OutboxMessage.method == CREATE).limit(1)
    ).first()
    return created is not None


def condition_closed(session: Session, *, settings: Settings, review: Review, condition: Condition,
                     actor_id: str, reason: str) -> None:
    """A safeguard done or waived in secreview: its issue is resolved (Done / Won't Do) with a comment saying so."""
    if not settings.jira_enabled or not _has_issue(session, condition):
        return
    waived = condition.state == "waived"
    comment = render.raw_message("jira.waived_comment" if waived else "jira.done_comment", key=review.key,
                                 id=condition.id, who=actor_id, reason=render.escape_jira(reason))
    outbox.enqueue(
        session, workspace_id=review.workspace_id, method=CLOSE, purpose="jira_waived" if waived else "jira_done",
        review_id=review.id, ordering_key=ordering_key(review.workspace_id, condition.id),
        payload={"condition_id": condition.id, "kind": "waived" if waived else "done", "comment": comment,
                 "transition": settings.secreview_jira_waive_transition if waived
                 else settings.secreview_jira_done_transition},
    )
