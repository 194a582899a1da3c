"""`secreview check`'s Jira lines: authenticates, finds the project and the issue type; one line each."""

from __future__ import annotations

from bot.common.render import raw_message
from bot.config import Settings
from bot.tracker.client import JiraClient, TrackerRefused, TrackerUnavailable, connect


class JiraCheckFailed(Exception):
    """A Jira setting does not work; the message is one line naming the variable."""


def check_jira(settings: Settings) -> list[str]:
    """The lines to print when Jira works; JiraCheckFailed naming what is wrong otherwise (no Jira: one note)."""
    if not settings.jira_enabled:
        return [raw_message("check.jira_off")]
    credentials = "JIRA_PAT" if settings.jira_pat else "JIRA_USER/JIRA_API_TOKEN"
    try:
        client: JiraClient = connect(settings)
        me = client.myself()
    except TrackerUnavailable as exc:
        raise JiraCheckFailed(raw_message("check.jira_unreachable", url=settings.jira_url, reason=exc.reason)) from None
    except TrackerRefused as exc:
        raise JiraCheckFailed(raw_message("check.jira_refused", credentials=credentials, reason=exc.reason)) from None
    who = me.get("displayName") or me.get("emailAddress") or me.get("name") or "?"
    lines = [raw_message("check.jira_ok", cloud=client.is_cloud, url=settings.jira_url, who=who)]
    project = settings.secreview_jira_project or ""
    try:
        types = client.issue_type_names(project)
    except TrackerRefused as exc:
        raise JiraCheckFailed(raw_message("check.jira_no_project", project=project, who=who,
                                          reason=exc.reason)) from None
    except TrackerUnavailable as exc:
        raise JiraCheckFailed(raw_message("check.jira_stopped", reason=exc.reason)) from None
    wanted = settings.secreview_jira_issue_type
    if wanted.lower() not in {t.lower() for t in types}:
        raise JiraCheckFailed(raw_message("check.jira_no_issue_type", project=project, quoted=repr(wanted),
                                          types=", ".join(types)))
    lines.append(raw_message("check.jira_issue_type_ok", project=project, issue_type=wanted))
    if settings.jira_webhook_enabled:
        lines.append(raw_message("check.jira_webhook_ok", hmac=bool(settings.secreview_jira_webhook_secret)))
    else:
        lines.append(raw_message("check.jira_no_webhook"))
    if settings.secreview_jira_poll_minutes:
        lines.append(raw_message("check.jira_polls", minutes=settings.secreview_jira_poll_minutes))
    return lines
