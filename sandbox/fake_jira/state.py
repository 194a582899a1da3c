"""What the fake Jira keeps: one site with its API user, people, projects, issues, a workflow, comments, webhooks.

Shapes follow Jira Cloud's REST API v2 (the `jira` package's default): an issue is {id, key, self, fields}, a
status carries its statusCategory (new / indeterminate / done), a transition moves to a status, a change adds a
changelog history. Timestamps are Jira's "2026-12-02T10:00:00.000+0000".
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
# (status id, name, category key); the default workflow of a Jira Cloud software project, plus "Won't Do".
STATUSES = (("10000", "To Do", "new"), ("3", "In Progress", "indeterminate"), ("10001", "Done", "done"),
            ("10002", "Won't Do", "done"))
# Global transitions (any status → the target): (transition id, name, target status id).
TRANSITIONS = (("11", "To Do", "10000"), ("21", "In Progress", "3"), ("31", "Done", "10001"),
               ("41", "Won't Do", "10002"))
ISSUE_TYPES = (("10001", "Task", False), ("10002", "Bug", False), ("10003", "Sub-task", True))
SYSTEM_FIELDS = {"project", "issuetype", "summary", "description", "labels", "assignee", "reporter", "duedate",
                 "priority", "components"}


def jira_time(at: datetime) -> str:
    """Jira's timestamp format, e.g. 2026-12-02T10:00:00.000+0000."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


class JiraError(Exception):
    """A refusal with Jira's error body: {"errorMessages": [...], "errors": {field: message}}."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {messages or errors}")
        self.status = status
        self.body = {"errorMessages": list(messages or []), "errors": dict(errors or {})}


@dataclass
class Call:
    """One request the fake answered: what a test asserts on."""

    method: str
    path: str
    params: dict[str, Any]
    body: Any
    status: int
    fault: str | None = None


@dataclass
class Fault:
    """A planned failure: HTTP status (503, 429, 500, …), Retry-After for 429/503, `times` calls (-1: until cleared)."""

    status: int
    path_prefix: str = ""
    method: str | None = None
    retry_after: int | None = None
    times: int = 1


@dataclass
class Webhook:
    """A registered admin webhook: where to POST and the secret it is signed with (X-Hub-Signature)."""

    url: str
    secret: str | None = None
    events: tuple[str, ...] = ("jira:issue_created", "jira:issue_updated")


@dataclass
class SiteState:
    """The site's data behind one lock."""

    base_url: str = ""
    deployment_type: str = "Cloud"
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    times: dict[str, dict[str, datetime]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    webhooks: list[Webhook] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    removed_transitions: set[str] = field(default_factory=set)
    required_fields: set[str] = field(default_factory=set)
    custom_fields: dict[str, str] = field(default_factory=dict)  # id → name, the fields a create may set
    page_person: str = ""  # whom the page's buttons act as (an engineer); the first person when unset
    next_issue_id: int = 10000
    next_comment_id: int = 20000
    next_history_id: int = 30000
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # --- people and projects -----------------------------------------------------------------------------

    def user_object(self, account_id: str) -> dict[str, Any]:
        """The user as Jira Cloud shows it (GET /user, user/search, an issue's assignee)."""
        user = self.users[account_id]
        return {
            "self": f"{self.base_url}/rest/api/2/user?accountId={account_id}",
            "accountId": account_id,
            "accountType": "atlassian",
            "emailAddress": user["emailAddress"],
            "avatarUrls": {size: f"{self.base_url}/avatar/{account_id}?s={size}" for size in
                           ("48x48", "24x24", "16x16", "32x32")},
            "displayName": user["displayName"],
            "active": user["active"],
            "timeZone": "UTC",
            "locale": "en_US",
        }

    def status_object(self, status_id: str) -> dict[str, Any]:
        """A status with its category, as in an issue's `status` field and a transition's `to`."""
        _sid, name, category = next(s for s in STATUSES if s[0] == status_id)
        cat = CATEGORIES[category]
        return {
            "self": f"{self.base_url}/rest/api/2/status/{status_id}", "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png", "name": name, "id": status_id,
            "statusCategory": {"self": f"{self.base_url}/rest/api/2/statuscategory/{cat['id']}", **cat},
        }

    def issue_type_object(self, type_id: str) -> dict[str, Any]:
        """An issue type (Task, Bug, Sub-task)."""
        _tid, name, subtask = next(t for t in ISSUE_TYPES if t[0] == type_id)
        return {"self": f"{self.base_url}/rest/api/2/issuetype/{type_id}", "id": type_id, "description": "",
                "iconUrl": f"{self.base_url}/images/icons/issuetypes/{name.lower()}.png", "name": name,
                "subtask": subtask, "avatarId": 10318, "hierarchyLevel": -1 if subtask else 0}

    def project_object(self, key_or_id: str) -> dict[str, Any]:
        """GET /project/{key}: the project with its issue types; 404 with Jira's message when unknown."""
        project = self.projects.get(key_or_id.upper()) or next(
            (p for p in self.projects.values() if p["id"] == key_or_id), None)
        if project is None:
            raise JiraError(404, [f"No project could be found with key '{key_or_id}'."])
        return {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{self.base_url}/rest/api/2/project/{project['id']}", "id": project["id"],
            "key": project["key"], "name": project["name"], "projectTypeKey": "software", "simplified": False,
            "style": "classic", "isPrivate": False, "properties": {},
            "issueTypes": [self.issue_type_object(t[0]) for t in ISSUE_TYPES],
        }

    # --- issues ------------------------------------------------------------------------------------------

    def issue_object(self, key: str, *, expand: str = "") -> dict[str, Any]:
        """GET /issue/{key}: {id, key, self, fields} (and the changelog when expanded)."""
        issue = self.issues.get(key.upper())
        if issue is None:
            raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
        body = copy.deepcopy(issue)
        if "changelog" in expand:
            histories = copy.deepcopy(self.histories.get(issue["key"], []))
            body["changelog"] = {"startAt": 0, "maxResults": len(histories), "total": len(histories),
                                 "histories": histories}
        return body

    def touch(self, key: str, at: datetime) -> None:
        """Stamps the issue updated (fields.updated and the time JQL compares)."""
        self.issues[key]["fields"]["updated"] = jira_time(at)
        self.times[key]["updated"] = at

    def add_history(self, key: str, author: str, items: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
        """Appends a changelog history (who changed what) and returns it."""
        self.next_history_id += 1
        history = {"id": str(self.next_history_id), "author": self.user_object(author), "created": jira_time(at),
                   "items": items}
        self.histories.setdefault(key, []).append(history)
        return history

    def transitions_for(self, key: str) -> list[dict[str, Any]]:
        """The transitions available from the issue's status (global ones, minus removed, minus the current)."""
        current = self.issues[key]["fields"]["status"]["id"]
        found = []
        for tid, name, target in TRANSITIONS:
            if target == current or name in self.removed_transitions:
                continue
            found.append({"id": tid, "name": name, "to": self.status_object(target), "hasScreen": False,
                          "isGlobal": True, "isInitial": False, "isAvailable": True, "isConditional": False,
                          "isLooped": False})
        return found

    def move(self, key: str, transition_id: str, author: str) -> dict[str, Any]:
        """Applies a transition as `author`; returns the changelog history it added."""
        transition = next((t for t in self.transitions_for(key) if t["id"] == str(transition_id)), None)
        if transition is None:
            raise JiraError(400, [f"Transition id '{transition_id}' is not valid for this issue."])
        now = self.clock()
        fields = self.issues[key]["fields"]
        before = fields["status"]
        fields["status"] = transition["to"]
        items = [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": before["id"],
                  "fromString": before["name"], "to": transition["to"]["id"], "toString": transition["to"]["name"]}]
        done = transition["to"]["statusCategory"]["key"] == "done"
        resolution = {"self": f"{self.base_url}/rest/api/2/resolution/1", "id": "10000" if done else None,
                      "description": "", "name": transition["to"]["name"]} if done else None
        if (fields.get("resolution") or {}).get("name") != (resolution or {}).get("name"):
            items.append({"field": "resolution", "fieldtype": "jira", "fieldId": "resolution",
                          "from": None, "fromString": (fields.get("resolution") or {}).get("name"),
                          "to": None, "toString": (resolution or {}).get("name")})
        fields["resolution"] = resolution
        fields["resolutiondate"] = jira_time(now) if done else None
        fields["statuscategorychangedate"] = jira_time(now)
        self.touch(key, now)
        return self.add_history(key, author, items, now)

    def add_comment(self, key: str, body: str, author: str) -> dict[str, Any]:
        """Adds a comment as `author`; returns it as POST /comment answers."""
        now = self.clock()
        self.next_comment_id += 1
        comment = {"self": f"{self.base_url}/rest/api/2/issue/{self.issues[key]['id']}/comment/"
                           f"{self.next_comment_id}",
                   "id": str(self.next_comment_id), "author": self.user_object(author), "body": body,
                   "updateAuthor": self.user_object(author), "created": jira_time(now), "updated": jira_time(now),
                   "jsdPublic": True}
        self.comments.setdefault(key, []).append(comment)
        self.touch(key, now)
        return comment
