"""What was open and what fell due: the backlog at a period's end, the overdue reviews, and both SLAs.

Each figure is a function whose docstring is its definition (the README repeats them). All of them are read as
of the period's end from the audit log (history.Log), so a closed period's figures never change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from bot.figures.window import Window
from bot.review.states import CLOSED_STATES, DECIDED_STATES, OPEN_STATES
from storage.models import Review

_OPEN = {str(s) for s in OPEN_STATES}
_DECIDED = {str(s) for s in DECIDED_STATES}
_CLOSED = {str(s) for s in CLOSED_STATES}
# What each figure reads of today's rows (fewer columns, fewer values to decode).
_BACKLOG = (Review.id, Review.number, Review.title, Review.state, Review.announced_at, Review.due_at,
            Review.assignee_id)
_CYCLE = (Review.id, Review.state, Review.due_at)
_RESPONSE = (Review.id, Review.state, Review.first_response_due, Review.first_response_at)


class OpenReview(NamedTuple):
    """A review that was open at an instant, with the due date it had then."""

    key: str
    title: str
    due_at: datetime
    assignee_id: str | None


def open_at(w: Window, at: datetime | None = None) -> list[OpenReview]:
    """Backlog: reviews open (announced, in review, waiting for information) at the period's end.

    A review's state and due date at that instant come from the audit log, so reopening, deciding or closing it
    later does not change a past period's backlog.
    """
    at = w.end if at is None else at
    candidates = {row.id: row for row in w.reviews(Review.state.in_(sorted(_OPEN)), columns=_BACKLOG)}
    # Changed since: the log alone tells their state then; only the ones open then are read.
    changed = [rid for rid in w.log.changed_since(at) - candidates.keys()
               if w.log.state_if_changed(rid, at)[1] in _OPEN]
    candidates.update((row.id, row) for row in w.reviews_by_id(changed, _BACKLOG))
    result = []
    for row in candidates.values():
        if row.announced_at >= at or w.log.state_at(row.id, row.state, at) not in _OPEN:
            continue
        due = w.log.value_at(row.id, "due_at", row.due_at, at)
        result.append(OpenReview(f"SR-{row.number}", row.title, due, row.assignee_id))
    return sorted(result, key=lambda r: int(r.key[3:]))


def overdue(reviews: Iterable[OpenReview], at: datetime) -> list[OpenReview]:
    """Overdue: reviews open at the period's end whose due date (as it was then) had passed; oldest due first."""
    return sorted((r for r in reviews if r.due_at < at), key=lambda r: (r.due_at, r.key))


@dataclass(frozen=True)
class Dues:
    """Due dates that fell in a window: how many were met, how many missed, and the misses still undecided."""

    met: int = 0
    missed: int = 0
    undecided: int = 0  # of the missed: still without a decision (or response) at the period's end

    @property
    def due(self) -> int:
        """Every due date judged (met + missed)."""
        return self.met + self.missed


def _cycle_dues(w: Window) -> list[tuple[Any, datetime, datetime | None]]:
    """(review row, due date, when the cycle ended by a reopen) for each decision due date in the window."""
    rows = {row.id: row for row in w.reviews(*w.has(Review.due_at), columns=_CYCLE)}
    # Today's due date is the newest cycle's; a reopen replaced the one before and kept it in the log.
    ended: list[tuple[int, datetime, datetime]] = []
    for review_id, change in w.log.reopens():
        replaced = change.before.get("due_at")
        if replaced is not None and w.start <= replaced < w.end and change.at > replaced:
            ended.append((review_id, replaced, change.at))
    missing = {rid for rid, _, _ in ended} - rows.keys()
    rows.update((row.id, row) for row in w.reviews_by_id(missing, _CYCLE))
    dues: list[tuple[Any, datetime, datetime | None]] = [(row, row.due_at, None) for row in rows.values()
                                                         if w.start <= row.due_at < w.end]
    dues += [(rows[rid], due, reopened) for rid, due, reopened in ended]
    return dues


def sla(w: Window) -> Dues:
    """SLA met: of the reviews whose due date fell in the period, those decided by it.

    A review is due SECREVIEW_SLA_DAYS business days after its announcement, or after a reopen (a fresh due
    date). Met: decided (approved, with conditions or rejected) by the due date. Missed: decided after it, or
    still undecided at it. Left out: reviews withdrawn or closed as not a project by their due date, and a due
    date a reopen replaced before it came.
    """
    met = missed = undecided = 0
    for row, due, reopened in _cycle_dues(w):
        state = w.log.state_at(row.id, row.state, due, inclusive=True)
        if state in _CLOSED:
            continue
        if state in _DECIDED:
            met += 1
            continue
        missed += 1
        then = w.log.state_at(row.id, row.state, w.end) if reopened is None or reopened >= w.end else "reopened"
        undecided += then in _OPEN
    return Dues(met, missed, undecided)


def first_response_sla(w: Window) -> Dues:
    """First response met: of the reviews whose first-response due date fell in the period, those answered by it.

    A first response (taken, assigned, information asked, decided or closed as not a project) is due one business
    day after the announcement. Missed: answered after it, or not answered by it. Left out: reviews withdrawn by
    their owner before it with no response.
    """
    met = missed = undecided = 0
    for row in w.reviews(*w.has(Review.first_response_due), columns=_RESPONSE):
        answered = row.first_response_at
        if answered is not None and answered <= row.first_response_due:
            met += 1
            continue
        if w.log.state_at(row.id, row.state, row.first_response_due, inclusive=True) in _CLOSED:
            continue
        missed += 1
        undecided += answered is None or answered >= w.end
    return Dues(met, missed, undecided)
