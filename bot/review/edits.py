"""An announcement edited or deleted after its review opened: what each stage of the review does with it.

- Announced, before the intake: the review follows the text (title, go-live, tags, vendors; regulations added).
- Once the intake is in: what it says wins. Its title and go-live are never overwritten by what the text seems
  to say; a go-live the text now disagrees on is put to the owner (a DM with the intake's button, pre-filled with
  the announcement's date) while the review is open. Tags, vendors and regulations the text names are added.
- Taken or decided: the same, and the assignee (or, nobody assigned, the security channel) is told what changed
  in the card's thread. On a decided review a material change (an earlier go-live, a new regulation, a new
  vendor) marks it "changed since decision" until a reviewer reopens it.
- Withdrawn or not a project: only logged.
An edit that leaves the text as it was (Slack sends one when a link unfurls) changes nothing and logs nothing.
Every applied edit logs the values it replaced (`before`) and set (`after`): bot/figures/history.py reads a past
period's go-live, tags and regulations from them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import intake
from bot.config import Settings
from bot.review import notices
from bot.review.lifecycle import MAX_TEXT, MAX_TITLE, SYSTEM_USER, Actor, clean, clean_name, lock_workspace, transition
from bot.review.states import CLOSED_STATES, DECIDED_STATES, OPEN_STATES, State
from storage.models import AuditEvent, Review, utcnow


def update_announcement(
    session: Session, *, settings: Settings, detector: intake.Detector, workspace_id: str, channel: str, ts: str,
    new_text: str, editor_id: str, now: datetime | None = None,
) -> Review | None:
    """Applies an edited announcement to its review as the review's stage allows (see the module's docstring)."""
    now = now or utcnow()
    review = _by_message(session, workspace_id, channel, ts)
    if review is None:
        return None
    new_text = clean(new_text, MAX_TEXT)
    if new_text == review.announcement_text:
        return review  # an unfurl, or the same words saved again: nothing happened to the project
    workspace = lock_workspace(session, workspace_id)
    review = _by_message(session, workspace_id, channel, ts)
    assert review is not None
    applied = review.state not in CLOSED_STATES
    data: dict[str, Any] = {"applied": applied}
    if not applied:
        transition(session, workspace=workspace, review=review, actor=Actor(editor_id), action="announcement_edited",
                   to_state=None, now=now, note=new_text, data=data)
        return review
    today = now.astimezone(settings.timezone).date()
    said_before = detector.prefill(review.announcement_text, today=today)
    said = detector.prefill(new_text, today=today)
    owner = owner_values(session, review)
    data["before"] = _extracted(review)
    review.announcement_text = new_text
    if owner is None:
        review.title = clean_name(said.title, MAX_TITLE) or review.title
        review.go_live = said.go_live or review.go_live
        review.tags = list(said.tags)
        review.vendors = list(said.vendors)
    else:
        # The owner's answers stand; the text only adds what the intake does not ask about.
        if owner.get("go_live") is None:
            review.go_live = said.go_live or review.go_live
        review.tags = _union(review.tags, said.tags)
        review.vendors = _union(review.vendors, said.vendors)
    review.regulations = sorted(set(review.regulations) | set(said.regulations))
    data["after"] = _extracted(review)
    changes = _changes(data["before"], data["after"])
    if changes:
        data["changes"] = changes
    disagreement = _disagreement(owner, said_before.go_live, said.go_live)
    if disagreement:
        data["intake_differs"] = disagreement
    material = _material(changes) if review.state in DECIDED_STATES else {}
    if material:
        review.changed_since_decision = _merged(review.changed_since_decision, material, editor_id, now)
        data["changed_since_decision"] = material
    transition(session, workspace=workspace, review=review, actor=Actor(editor_id), action="announcement_edited",
               to_state=None, now=now, note=new_text, data=data)
    notices.refresh(session, settings=settings, review=review)
    if changes and _past_take(review):
        notices.announcement_changed(session, settings=settings, review=review, changes=changes,
                                     material=bool(material), actor_id=editor_id)
    if disagreement and review.state in OPEN_STATES:
        notices.intake_differs(session, review=review, go_live=disagreement["announcement"],
                               intake_go_live=disagreement["intake"])
    return review


def note_deleted(
    session: Session, *, settings: Settings, workspace_id: str, channel: str, ts: str, now: datetime | None = None,
) -> Review | None:
    """A deleted announcement is noted in the log and on the card; once taken or decided, in the card's thread."""
    now = now or utcnow()
    workspace = lock_workspace(session, workspace_id)
    review = _by_message(session, workspace_id, channel, ts)
    if review is None or review.deleted_in_slack:
        return review
    review.deleted_in_slack = True
    transition(session, workspace=workspace, review=review, actor=Actor(SYSTEM_USER), action="announcement_deleted",
               to_state=None, now=now)
    notices.refresh(session, settings=settings, review=review)  # the card says the announcement is gone
    if _past_take(review):
        notices.announcement_deleted(session, settings=settings, review=review)
    return review


def owner_values(session: Session, review: Review) -> dict[str, Any] | None:
    """What the last intake set that text must not overwrite (title, go-live); None before any intake."""
    if review.answers is None:
        return None
    data = session.scalars(
        select(AuditEvent.data).where(AuditEvent.review_id == review.id, AuditEvent.action == "intake_submitted")
        .order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    given = (data or {}).get("intake")
    if not isinstance(given, dict):
        # An intake recorded before it logged what it set: nothing since overwrote its values.
        return {"title": review.title, "go_live": review.go_live}
    go_live = given.get("go_live")
    return {"title": given.get("title"), "go_live": date.fromisoformat(str(go_live)[:10]) if go_live else None}


def _past_take(review: Review) -> bool:
    # Someone on the security side looks at it: taken (in review, waiting for an answer) or decided.
    return review.state in DECIDED_STATES or (review.state in OPEN_STATES and review.state != State.ANNOUNCED)


def _disagreement(owner: dict[str, Any] | None, before: date | None, after: date | None) -> dict[str, Any]:
    # Only a date the text newly says: fixing a typo in a text that disagreed already asks nobody twice.
    if owner is None or owner.get("go_live") is None or after is None:
        return {}
    if after == owner["go_live"] or after == before:
        return {}
    return {"announcement": after, "intake": owner["go_live"]}


def _extracted(review: Review) -> dict[str, Any]:
    return {"go_live": review.go_live, "tags": list(review.tags), "vendors": list(review.vendors),
            "regulations": list(review.regulations)}


def _union(kept: list[str], added: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys([*kept, *added]))


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the edit changed in the facts, as the notices tell it: the go-live's move, what was added or dropped."""
    changes: dict[str, Any] = {}
    if before["go_live"] != after["go_live"]:
        changes["go_live"] = [before["go_live"], after["go_live"]]
    for key in ("tags", "vendors", "regulations"):
        added = [v for v in after[key] if v not in before[key]]
        dropped = [v for v in before[key] if v not in after[key]]
        if added:
            changes[key] = added
        if dropped:
            changes[f"{key}_dropped"] = dropped
    return changes


def _material(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes a decision may not have weighed: an earlier (or newly known) go-live, a new regulation (the
    text's sensitive-data words bring one: personal data, card data, patient data), a new vendor."""
    material: dict[str, Any] = {}
    moved = changes.get("go_live")
    if moved and moved[1] is not None and (moved[0] is None or moved[1] < moved[0]):
        material["go_live"] = moved
    for key in ("regulations", "vendors"):
        if changes.get(key):
            material[key] = list(changes[key])
    return material


def _merged(flag: dict[str, Any] | None, material: dict[str, Any], editor_id: str, now: datetime) -> dict[str, Any]:
    """The review's "changed since decision" with this edit's material changes added (the first go-live kept)."""
    merged: dict[str, Any] = dict(flag or {})
    merged.setdefault("at", now.isoformat())
    merged["by"] = editor_id
    if "go_live" in material:
        first = (merged.get("go_live") or [None])[0]
        before, after = material["go_live"]
        merged["go_live"] = [first if "go_live" in merged else _iso(before), _iso(after)]
    for key in ("regulations", "vendors"):
        if key in material:
            merged[key] = _union(list(merged.get(key) or []), tuple(material[key]))
    return merged


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _by_message(session: Session, workspace_id: str, channel: str, ts: str) -> Review | None:
    return session.scalars(
        select(Review).where(Review.workspace_id == workspace_id, Review.source_channel == channel,
                             Review.source_ts == ts).execution_options(populate_existing=True)
    ).first()
