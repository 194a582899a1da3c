"""What a review's messages say beyond its own columns, read from its audit log: when the intake came in, when the
current reviewer got it, the question that waits for an answer, when it was reopened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, Review

_ACTIONS = ("intake_submitted", "taken", "assigned", "released", "info_requested", "reopened")


@dataclass(frozen=True)
class Facts:
    """The moments of a review its thread reply, card and notices show."""

    intake_at: datetime | None = None
    intake_by: str | None = None
    assigned_at: datetime | None = None
    question: str | None = None
    question_by: str | None = None
    question_at: datetime | None = None
    reopened_at: datetime | None = None


NONE = Facts()


def facts_of(session: Session, review: Review) -> Facts:
    """The review's facts as of now (one query over its audit rows, this transaction's included)."""
    if review.id is None:
        return NONE
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.actor, AuditEvent.at, AuditEvent.note)
        .where(AuditEvent.review_id == review.id, AuditEvent.action.in_(_ACTIONS))
        .order_by(AuditEvent.seq)
    ).all()
    intake_at = intake_by = assigned_at = question = question_by = question_at = reopened_at = None
    for action, actor, at, note in rows:
        if action == "intake_submitted":
            intake_at, intake_by = at, actor
        elif action in ("taken", "assigned"):
            assigned_at = at
        elif action == "released":
            assigned_at = None
        elif action == "info_requested":
            question, question_by, question_at = note, actor, at
        elif action == "reopened":
            reopened_at = at
    return Facts(intake_at=intake_at, intake_by=intake_by, assigned_at=assigned_at if review.assignee_id else None,
                 question=question if review.state == "needs_info" else None,
                 question_by=question_by if review.state == "needs_info" else None,
                 question_at=question_at if review.state == "needs_info" else None, reopened_at=reopened_at)
