"""`secreview check`'s Jira lines: authenticates, finds the project and the issue type; one line each."""

from __future__ import annotations

from bot.config import Settings
from bot.tracker.client import JiraClient, TrackerRefused, TrackerUnavailable, connect


class JiraCheckFailed(Exception):
    """A Jira setting does not work; the message is one line naming the variable."""


def check_jira(settings: Settings) -> list[str]:
    """The lines to print when Jira works; JiraCheckFailed naming what is wrong otherwise (no Jira: one note)."""
    if not settings.jira_enabled:
        return ["jira: not configured (JIRA_URL unset): safeguards are tracked in secreview only"]
    credentials = "JIRA_PAT" if settings.jira_pat else "JIRA_USER/JIRA_API_TOKEN"
    try:
        client: JiraClient = connect(settings)
        me = client.myself()
    except TrackerUnavailable as exc:
        raise JiraCheckFailed(f"JIRA_URL: cannot reach Jira at {settings.jira_url} ({exc.reason})") from None
    except TrackerRefused as exc:
        raise JiraCheckFailed(f"{credentials}: Jira refused them ({exc.reason})") from None
    who = me.get("displayName") or me.get("emailAddress") or me.get("name") or "?"
    lines = [f"jira: ok ({'Cloud' if client.is_cloud else 'Data Center'} at {settings.jira_url}, as {who})"]
    project = settings.secreview_jira_project or ""
    try:
        types = client.issue_type_names(project)
    except TrackerRefused as exc:
        raise JiraCheckFailed(f"SECREVIEW_JIRA_PROJECT: Jira has no project {project} that {who} can see "
                              f"({exc.reason})") from None
    except TrackerUnavailable as exc:
        raise JiraCheckFailed(f"JIRA_URL: Jira stopped answering ({exc.reason})") from None
    wanted = settings.secreview_jira_issue_type
    if wanted.lower() not in {t.lower() for t in types}:
        raise JiraCheckFailed(f"SECREVIEW_JIRA_ISSUE_TYPE: project {project} has no issue type {wanted!r} "
                              f"(it has {', '.join(types) or 'none'})")
    lines.append(f"jira: project {project} takes {wanted} issues")
    if settings.jira_webhook_enabled:
        how = "HMAC secret" if settings.secreview_jira_webhook_secret else "token"
        lines.append(f"jira: POST /jira/webhook accepts Jira's calls signed with the {how} (HTTP mode)")
    else:
        lines.append("note: no SECREVIEW_JIRA_WEBHOOK_SECRET: POST /jira/webhook refuses everything; the poll "
                     "brings Jira's changes back")
    if settings.secreview_jira_poll_minutes:
        lines.append(f"jira: polls for resolved issues every {settings.secreview_jira_poll_minutes} minute(s)")
    return lines
