"""Review states, transitions and permissions: the frame every change of a review goes through.

Callers own the transaction: each change changes the review, appends the audit event and enqueues the Slack
notices on the session it is given, and the caller commits all of it together (or nothing).

Here: who acts (Actor), review keys, the workspace's write lock, loading a review for a change, the permission
and state checks, and `transition`, which writes the audit event of every change. The changes live beside it:
announcements.py (opening a review), edits.py (the announcement edited or deleted), intake_answers.py (the intake
questionnaire), transitions.py (take, assign, ask for info, withdraw, not a project, reopen), decisions.py
(decide, fast track) and safeguards.py (a decision's conditions done or waived).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.common.invisible import without_invisible
from bot.review import audit
from bot.review.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from storage.models import Review, Workspace, utcnow

KEY_PATTERN = re.compile(r"^\s*(?:SR-?)?#?(\d{1,9})\s*$", re.IGNORECASE)
MAX_TITLE = 200
MAX_TEXT = 4000
SYSTEM_USER = "secreview"
# Review numbers and condition ids are 32-bit columns: a larger number (a forged modal's metadata, a button
# value, 40 digits typed in a command) names nothing, and handing it to the driver raised OverflowError.
MAX_ID = 2**31 - 1


def is_id(number: object) -> bool:
    """Whether `number` can be the number of a review or the id of a condition."""
    return isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= MAX_ID


@dataclass(frozen=True)
class Actor:
    """Who acts, with the roles resolved for this request (settings and user groups)."""

    user_id: str
    is_reviewer: bool = False
    is_admin: bool = False

    @property
    def may_review(self) -> bool:
        """Reviewers and admins may take, decide, reopen and export."""
        return self.is_reviewer or self.is_admin


SYSTEM = Actor(SYSTEM_USER, is_reviewer=True)


def parse_key(text: str) -> int:
    """The review number in 'SR-12' (or '12'); InvalidInput otherwise."""
    match = KEY_PATTERN.match(text or "")
    if not match:
        raise InvalidInput("error.bad_key", text=(text or "").strip()[:40])
    return int(match.group(1))


def ensure_workspace(session: Session, workspace_id: str, name: str = "") -> None:
    """Creates the workspace row if this is its first request (safe when replicas race)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Workspace)
        .values(id=workspace_id, name=name, last_review_number=0, write_version=0, audit_head_seq=0,
                created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["id"])
    )


def lock_workspace(session: Session, workspace_id: str) -> Workspace:
    """Takes the workspace's write lock (a row lock; on SQLite the database write lock) and returns it.

    Every change starts here, so review numbers and the audit chain are assigned in one order even with
    several replicas writing at once.
    """
    ensure_workspace(session, workspace_id)
    session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(write_version=Workspace.write_version + 1)
        .execution_options(synchronize_session=False)
    )
    workspace = session.get(Workspace, workspace_id, populate_existing=True)
    assert workspace is not None
    return workspace


def get_review(session: Session, *, workspace_id: str, key: str | int, for_update: bool = False) -> Review:
    """Finds a review of this workspace by key; NotFound names the key."""
    number = key if isinstance(key, int) else parse_key(key)
    if not is_id(number):
        raise NotFound("error.not_found", key=f"SR-{str(number)[:20]}")
    query = select(Review).where(Review.workspace_id == workspace_id, Review.number == number)
    if for_update:
        query = query.execution_options(populate_existing=True)
    review = session.scalars(query).first()
    if review is None:
        raise NotFound("error.not_found", key=f"SR-{number}")
    return review


def load_for_change(session: Session, workspace_id: str, key: str | int) -> tuple[Workspace, Review]:
    """Takes the workspace's write lock and loads the review to change, fresh from the database."""
    workspace = lock_workspace(session, workspace_id)
    return workspace, get_review(session, workspace_id=workspace_id, key=key, for_update=True)


def require(condition: bool, message_key: str, /, **params: Any) -> None:
    """NotAllowed with the message unless the condition holds (a permission check)."""
    if not condition:
        raise NotAllowed(message_key, **params)


def require_state(review: Review, allowed: frozenset[str] | set[str], action: str) -> None:
    """InvalidTransition unless the review is in one of the allowed states for this action."""
    if review.state not in allowed:
        raise InvalidTransition(
            "error.invalid_transition", key=review.key, state=review.state, action=action
        )


def is_owner(actor: Actor, review: Review) -> bool:
    """Whether the actor owns the review or announced it."""
    return actor.user_id in (review.owner_id, review.announcer_id)


def clean(text: str | None, limit: int) -> str:
    """The text stripped and cut to the limit ('' for None), without direction controls (bot/common/invisible)."""
    return without_invisible(text or "", zero_width=False).strip()[:limit]


def clean_name(text: str | None, limit: int) -> str:
    """Like clean(), for a title or a name: zero-width characters go too, so it cannot pass for another."""
    return without_invisible(text or "").strip()[:limit]


def required(text: str | None, message_key: str, field: str) -> str:
    """The cleaned text; InvalidInput on the field when it is empty."""
    cleaned = clean(text, MAX_TEXT)
    if not cleaned:
        raise InvalidInput(message_key, field=field)
    return cleaned


def first_response(review: Review, now: datetime) -> None:
    """Records the first response to the review at `now` unless there was one already."""
    if review.first_response_at is None:
        review.first_response_at = now


def transition(
    session: Session,
    *,
    workspace: Workspace,
    review: Review,
    actor: Actor,
    action: str,
    to_state: str | None,
    now: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
    opening: bool = False,
) -> None:
    """Moves the review to `to_state` (None: stays), stamps it and appends the audit event."""
    from_state = None if opening else review.state
    if to_state is not None:
        review.state = to_state
    review.updated_at = now
    audit.append(
        session,
        workspace=workspace,
        review=review,
        actor=actor.user_id,
        action=action,
        from_state=from_state,
        to_state=review.state,
        note=note,
        data=data,
        at=now,
    )
