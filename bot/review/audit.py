"""The append-only audit log: one row per transition or edit, hash-chained per workspace."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, Review, Workspace

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_canonical(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _instant(value: datetime) -> str:
    # Microsecond precision in UTC: what both SQLite and PostgreSQL give back unchanged.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(event: AuditEvent) -> str:
    """The SHA-256 over every field of the row and the previous row's hash."""
    body = {
        "workspace_id": event.workspace_id,
        "seq": event.seq,
        "review_id": event.review_id,
        "review_key": event.review_key,
        "actor": event.actor,
        "at": _instant(event.at),
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    workspace: Workspace,
    actor: str,
    action: str,
    review: Review | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime,
) -> AuditEvent:
    """Appends one event; the caller holds the workspace's write lock, so seq and chain are in order."""
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.workspace_id == workspace.id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    if review is not None and review.id is None:
        session.flush()
    event = AuditEvent(
        workspace_id=workspace.id,
        seq=seq,
        review_id=review.id if review is not None else None,
        review_key=review.key if review is not None else None,
        actor=actor,
        at=at.astimezone(UTC).replace(microsecond=at.microsecond),
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=_canonical(data or {}),
        prev_hash=prev_hash,
    )
    event.hash = row_hash(event)
    session.add(event)
    workspace.audit_head_seq = seq
    workspace.audit_head_hash = event.hash
    return event


@dataclass(frozen=True)
class VerifyProblem:
    """The first row that breaks the chain, and how."""

    workspace_id: str
    seq: int | None
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    """What `audit verify` found."""

    checked: int
    workspaces: int
    problem: VerifyProblem | None

    @property
    def ok(self) -> bool:
        """True when every chain is intact."""
        return self.problem is None


def verify(session: Session, *, batch_size: int = 5000) -> VerifyResult:
    """Recomputes every workspace's chain; stops at the first edited, inserted or deleted row."""
    checked = 0
    workspaces = session.scalars(select(Workspace).order_by(Workspace.id)).all()
    for workspace in workspaces:
        expected_seq, prev_hash = 1, GENESIS_HASH
        last_seq = 0
        query = (
            select(AuditEvent)
            .where(AuditEvent.workspace_id == workspace.id)
            .order_by(AuditEvent.seq)
            .execution_options(yield_per=batch_size)
        )
        for event in session.scalars(query):
            checked += 1
            if event.seq != expected_seq:
                return _fail(workspace.id, event, f"row missing before seq {event.seq} (expected {expected_seq})")
            if event.prev_hash != prev_hash:
                return _fail(workspace.id, event, "does not follow the previous row (a row was removed or replaced)")
            if row_hash(event) != event.hash:
                return _fail(workspace.id, event, "content was changed after it was written")
            prev_hash, expected_seq, last_seq = event.hash, expected_seq + 1, event.seq
        if (workspace.audit_head_seq or 0) != last_seq or (last_seq and workspace.audit_head_hash != prev_hash):
            return VerifyResult(
                checked,
                len(workspaces),
                VerifyProblem(
                    workspace.id,
                    workspace.audit_head_seq,
                    None,
                    f"the log ends at seq {last_seq} but {workspace.audit_head_seq} rows were written "
                    "(the newest rows were deleted)",
                ),
            )
        session.expunge_all()  # keep memory flat on long logs
    return VerifyResult(checked, len(workspaces), None)


def _fail(workspace_id: str, event: AuditEvent, reason: str) -> VerifyResult:
    return VerifyResult(0, 0, VerifyProblem(workspace_id, event.seq, event.id, reason))
