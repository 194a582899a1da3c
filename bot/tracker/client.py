"""The one way secreview talks to Jira: the `jira` package (pycontribs), with failures sorted into two kinds.

`TrackerUnavailable` (network, timeout, 429, 5xx: a later attempt may go through; Retry-After kept) and
`TrackerRefused` (401/403/404/400: no retry cures it; the reason is Jira's own message). The jira package is
imported only here and only when a client is made, so without Jira settings it is never loaded. The package's
own retry loop is off (max_retries=0): the outbox and the poll schedule retries themselves, honouring Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMEOUT_SECONDS = 10.0
SEARCH_PAGE = 100


class TrackerUnavailable(Exception):
    """Jira did not answer usefully now (network, timeout, 429, 5xx); `retry_after` is Jira's Retry-After."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TrackerRefused(Exception):
    """Jira refused the call for good (credentials, permissions, a missing or invalid field)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _retry_after(headers: Any) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _translate(call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Runs one Jira call; turns the package's and requests' exceptions into the two kinds above."""
    from jira.exceptions import JIRAError
    from requests.exceptions import RequestException

    try:
        return call(*args, **kwargs)
    except JIRAError as exc:
        status = exc.status_code or 0
        response = getattr(exc, "response", None)
        reason = (exc.text or "").strip() or f"HTTP {status}"
        if status == 429:
            raise TrackerUnavailable(f"rate limited (429): {reason}",
                                     _retry_after(getattr(response, "headers", None))) from None
        if status >= 500 or status == 0:
            raise TrackerUnavailable(f"HTTP {status}: {reason}",
                                     _retry_after(getattr(response, "headers", None))) from None
        raise TrackerRefused(f"HTTP {status}: {reason}", status) from None
    except RequestException as exc:
        raise TrackerUnavailable(f"network: {exc.__class__.__name__}: {str(exc)[:200]}") from None


class JiraClient:
    """A connected Jira site: the handful of calls secreview makes, each through `_translate`."""

    def __init__(self, settings: Settings, *, timeout: float = TIMEOUT_SECONDS) -> None:
        from jira import JIRA

        assert settings.jira_url, "JiraClient needs JIRA_URL"
        self.base_url = settings.jira_url
        auth: dict[str, Any] = (
            {"token_auth": settings.jira_pat} if settings.jira_pat
            else {"basic_auth": (settings.jira_user, settings.jira_api_token)}
        )
        # serverInfo on connect tells Cloud (accountId, search/jql) from Data Center (name, search).
        self._jira = _translate(JIRA, server=settings.jira_url, max_retries=0, timeout=timeout,
                                get_server_info=True, options={"check_update": False}, **auth)
        self.is_cloud = self._jira.deploymentType == "Cloud"

    def browse_url(self, key: str) -> str:
        """The issue's page: <JIRA_URL>/browse/KEY."""
        return f"{self.base_url}/browse/{key}"

    def myself(self) -> dict[str, Any]:
        """Who the credentials are (authenticates)."""
        return _translate(self._jira.myself)

    def issue_type_names(self, project: str) -> list[str]:
        """The project's issue types (the project endpoint lists them, on Cloud and Data Center alike)."""
        found = _translate(self._jira.project, project)
        return [str(t.name) for t in getattr(found, "issueTypes", [])]

    def create_issue(self, fields: dict[str, Any]) -> str:
        """Creates an issue; returns its key."""
        issue = _translate(self._jira.create_issue, fields=fields, prefetch=False)
        return str(issue.key)

    def find_by_label(self, label: str) -> str | None:
        """The key of the issue carrying this label (secreview's idempotency marker), if there is one."""
        found = self.search(f'labels = "{label}" ORDER BY created ASC', fields="status", limit=5)
        return str(found[0]["key"]) if found else None

    def find_assignee(self, email: str) -> dict[str, Any] | None:
        """The assignee field value for the active user with this email (Cloud: accountId; DC: name), or None."""
        if self.is_cloud:
            users = _translate(self._jira.search_users, query=email, maxResults=10)
        else:
            users = _translate(self._jira.search_users, user=email, maxResults=10)
        wanted = email.strip().lower()
        exact = [u for u in users if str(getattr(u, "emailAddress", "") or "").lower() == wanted]
        # Cloud hides the address of people whose profile keeps it private: one hit for the query is still them.
        match = exact[0] if exact else (users[0] if len(users) == 1 else None)
        if match is None or not getattr(match, "active", True):
            return None
        return {"accountId": match.accountId} if self.is_cloud else {"name": match.name}

    def transitions(self, key: str) -> list[dict[str, Any]]:
        """The transitions the issue's workflow offers from its current status."""
        return list(_translate(self._jira.transitions, key))

    def transition(self, key: str, transition_id: str, comment: str | None = None) -> None:
        """Moves the issue through a transition, with a comment when given."""
        _translate(self._jira.transition_issue, key, transition_id, comment=comment)

    def comment(self, key: str, body: str) -> None:
        """Adds a comment."""
        _translate(self._jira.add_comment, key, body)

    def search(self, jql: str, *, fields: str, expand: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Issues matching the JQL, raw (id, key, fields, changelog), at most `limit`, page by page."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        start = 0
        while len(found) < limit:
            page_size = min(SEARCH_PAGE, limit - len(found))
            if self.is_cloud:
                page = _translate(self._jira.enhanced_search_issues, jql, nextPageToken=token, maxResults=page_size,
                                  fields=fields, expand=expand, json_result=True)
                found.extend(page.get("issues", []))
                token = page.get("nextPageToken")
                if not token or page.get("isLast", True):
                    break
            else:
                page = _translate(self._jira.search_issues, jql, startAt=start, maxResults=page_size, fields=fields,
                                  expand=expand, json_result=True)
                issues = page.get("issues", [])
                found.extend(issues)
                start += len(issues)
                if not issues or start >= int(page.get("total", 0)):
                    break
        return found


def connect(settings: Settings) -> JiraClient:
    """A client for the configured site (one serverInfo call); TrackerUnavailable/TrackerRefused if it fails."""
    return JiraClient(settings)
