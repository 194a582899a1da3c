"""Back from Jira: an issue's state (from the webhook or the poll) applied to the safeguard it tracks."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.review import jira_notices, safeguards
from bot.tracker.issues import IssueState
from storage.models import Condition

log = logging.getLogger(__name__)


def find_condition(session: Session, issue: IssueState) -> Condition | None:
    """The safeguard an issue tracks: by its recorded key, else by the marker label (a key not yet recorded)."""
    found = session.scalars(select(Condition).where(Condition.jira_key == issue.key)).first()
    if found is not None:
        return found
    marked = jira_notices.parse_marker(list(issue.labels))
    if marked is None:
        return None
    workspace_id, condition_id = marked
    condition = session.get(Condition, condition_id)
    if condition is None or condition.workspace_id != workspace_id:
        return None
    if condition.jira_key and condition.jira_key != issue.key:
        log.warning("jira: %s carries the marker of safeguard #%s, which is tracked by %s: ignored", issue.key,
                    condition_id, condition.jira_key)
        return None
    return condition


def apply(session: Session, *, settings: Settings, issue: IssueState, via: str,
          now: datetime | None = None) -> str | None:
    """Done in Jira → done here; reopened → open again. "done"/"reopened" when it changed, None otherwise."""
    condition = find_condition(session, issue)
    if condition is None:
        return None
    change = safeguards.TrackerChange(jira_key=issue.key, status=issue.status, done=issue.done,
                                      updated=issue.updated, changed_by=issue.changed_by,
                                      changed_by_account=issue.changed_by_account, via=via)
    outcome = safeguards.apply_tracker_state(session, settings=settings, workspace_id=condition.workspace_id,
                                             condition_id=condition.id, change=change, now=now)
    if outcome:
        log.info("jira: %s is %s, so safeguard #%s is %s (via %s)", issue.key, issue.status, condition.id, outcome,
                 via)
    return outcome
