"""A long intake's earlier pages, kept between its "Next" and its last "Submit" (the modal cannot hold them).

A draft belongs to one open modal (its view id) and the person answering it, for one questionnaire version;
the last page takes it back in the transaction that records the intake. Drafts a person walked away from are
dropped after DRAFT_TTL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import IntakeDraft, utcnow

DRAFT_TTL = timedelta(days=1)


def save_page(session: Session, *, workspace_id: str, view_id: str, user_id: str, digest: str,
              answers: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Adds one page's answers to the modal's draft; returns every answer so far."""
    now = now or utcnow()
    session.execute(delete(IntakeDraft).where(IntakeDraft.updated_at < now - DRAFT_TTL))
    draft = _draft(session, workspace_id, view_id)
    if draft is None or draft.user_id != user_id or draft.questionnaire_digest != digest:
        if draft is not None:
            session.delete(draft)
            session.flush()
        draft = IntakeDraft(workspace_id=workspace_id, view_id=view_id, user_id=user_id,
                            questionnaire_digest=digest, answers={})
        session.add(draft)
    draft.answers = {**draft.answers, **answers}
    draft.updated_at = now
    return dict(draft.answers)


def take(session: Session, *, workspace_id: str, view_id: str, user_id: str, digest: str) -> dict[str, Any] | None:
    """The earlier pages' answers, removed from the drafts; None when there are none (or not this person's)."""
    draft = _draft(session, workspace_id, view_id)
    if draft is None or draft.user_id != user_id or draft.questionnaire_digest != digest:
        return None
    answers = dict(draft.answers)
    session.delete(draft)
    return answers


def peek(session: Session, *, workspace_id: str, view_id: str, user_id: str) -> dict[str, Any]:
    """The answers so far without removing them (to pre-fill the next page)."""
    draft = _draft(session, workspace_id, view_id)
    return dict(draft.answers) if draft is not None and draft.user_id == user_id else {}


def _draft(session: Session, workspace_id: str, view_id: str) -> IntakeDraft | None:
    return session.scalars(
        select(IntakeDraft).where(IntakeDraft.workspace_id == workspace_id, IntakeDraft.view_id == view_id)
    ).first()
