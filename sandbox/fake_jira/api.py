"""The REST API v2 endpoints the fake Jira answers, on its SiteState: one function per endpoint.

GET serverInfo, myself, project/{key}, issue/createmeta/{project}/issuetypes, issue/{key},
issue/{key}/transitions, user/search, search/jql (Cloud) and search (Data Center);
POST issue, issue/{key}/transitions, issue/{key}/comment, search/jql. Each returns (status, body) or raises
JiraError with Jira's error body.
"""

from __future__ import annotations

import base64
import re
from datetime import date
from typing import Any

from sandbox.fake_jira import jql
from sandbox.fake_jira.state import ISSUE_TYPES, SYSTEM_FIELDS, JiraError, SiteState, jira_time

MAX_SUMMARY = 255
PAGE_LIMIT = 100


def server_info(site: SiteState) -> dict[str, Any]:
    """GET serverInfo."""
    now = site.clock()
    return {"baseUrl": site.base_url, "displayUrl": site.base_url, "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0], "deploymentType": site.deployment_type, "buildNumber": 100290,
            "buildDate": "2026-11-30T00:00:00.000+0000", "serverTime": jira_time(now), "scmInfo": "fake",
            "serverTitle": "Jira (secreview sandbox)"}


def fields(site: SiteState) -> list[dict[str, Any]]:
    """GET field: the system fields secreview may set and the site's custom fields."""
    system = [{"id": name, "key": name, "name": name.capitalize(), "custom": False, "orderable": True,
               "navigable": True, "searchable": True, "clauseNames": [name]} for name in sorted(SYSTEM_FIELDS)]
    custom = [{"id": fid, "key": fid, "name": name, "custom": True, "orderable": True, "navigable": True,
               "searchable": True, "clauseNames": [f"cf[{fid.removeprefix('customfield_')}]", name],
               "schema": {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:url",
                          "customId": int(fid.removeprefix("customfield_") or 0)}}
              for fid, name in site.custom_fields.items()]
    return system + custom


def _field_ref(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("key") or value.get("id") or value.get("name") or "")
    return str(value or "")


def create_issue(site: SiteState, body: Any, author: str) -> dict[str, Any]:
    """POST issue: validates like Jira (project, issue type, summary, labels, assignee, due date, unknown fields)."""
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        raise JiraError(400, ["No fields were given."])
    fields: dict[str, Any] = body["fields"]
    errors: dict[str, str] = {}
    try:
        project = site.project_object(_field_ref(fields.get("project")))
    except JiraError:
        raise JiraError(400, errors={"project": "valid project is required"}) from None
    wanted_type = fields.get("issuetype") or {}
    issue_type = next((t for t in ISSUE_TYPES if t[0] == str(wanted_type.get("id")) or
                       t[1].lower() == str(wanted_type.get("name", "")).lower()), None)
    if issue_type is None:
        errors["issuetype"] = "Specify a valid issue type"
    summary = fields.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "You must specify a summary of the issue."
    elif len(summary) > MAX_SUMMARY or "\n" in summary:
        errors["summary"] = "Summary must be less than 255 characters and a single line."
    labels = fields.get("labels") or []
    if not isinstance(labels, list) or any(not isinstance(x, str) or re.search(r"\s", x) for x in labels):
        errors["labels"] = "The label must not contain spaces."
    assignee = fields.get("assignee")
    if assignee is not None and (not isinstance(assignee, dict) or assignee.get("accountId") not in site.users):
        errors["assignee"] = "Specify a valid value for assignee"
    due = fields.get("duedate")
    if due is not None:
        try:
            date.fromisoformat(str(due))
        except ValueError:
            errors["duedate"] = "Error parsing date string: " + str(due)
    for name in fields:
        if name not in SYSTEM_FIELDS and not (name.startswith("customfield_") and name in site.custom_fields):
            errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown.")
    for name in sorted(site.required_fields):
        if not fields.get(name):
            errors[name] = f"{name.capitalize()} is required."
    if errors:
        raise JiraError(400, errors=errors)
    assert issue_type is not None
    now = site.clock()
    site.next_issue_id += 1
    number = sum(1 for i in site.issues.values() if i["fields"]["project"]["key"] == project["key"]) + 1
    key = f"{project['key']}-{number}"
    issue_id = str(site.next_issue_id)
    stored = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": issue_id, "self": f"{site.base_url}/rest/api/2/issue/{issue_id}", "key": key,
        "fields": {
            "summary": summary, "description": fields.get("description"),
            "issuetype": site.issue_type_object(issue_type[0]),
            "project": {"self": project["self"], "id": project["id"], "key": project["key"], "name": project["name"],
                        "projectTypeKey": "software", "simplified": False},
            "status": site.status_object("10000"), "resolution": None, "resolutiondate": None,
            "labels": list(labels), "assignee": site.user_object(assignee["accountId"]) if assignee else None,
            "reporter": site.user_object(author), "creator": site.user_object(author),
            "duedate": str(due) if due else None, "created": jira_time(now), "updated": jira_time(now),
            "statuscategorychangedate": jira_time(now), "priority": {"id": "3", "name": "Medium"},
            **{k: v for k, v in fields.items() if k.startswith("customfield_")},
        },
    }
    site.issues[key] = stored
    site.times[key] = {"created": now, "updated": now}
    return {"id": issue_id, "key": key, "self": stored["self"]}


def search(site: SiteState, params: dict[str, Any], *, cloud_enhanced: bool) -> dict[str, Any]:
    """search/jql (Cloud: nextPageToken, isLast) or search (Data Center: startAt, total)."""
    text = str(params.get("jql") or "")
    if not text.strip() and cloud_enhanced:
        raise JiraError(400, ["Unbounded JQL queries are not allowed here. Please add a search restriction."])
    try:
        query = jql.parse(text, now=site.clock())
    except jql.JqlError as exc:
        raise JiraError(400, [str(exc)]) from None
    views = [{"key": i["key"], "id": i["id"], "fields": i["fields"], "_times": site.times[i["key"]]}
             for i in site.issues.values()]
    found = [v for v in views if query.matches(v)]
    found.sort(key=lambda v: _sort_key(v, query.order_field), reverse=query.descending)
    try:
        limit = max(1, min(PAGE_LIMIT, int(params.get("maxResults") or 50)))
        start = int(params.get("nextPageToken") or 0) if cloud_enhanced else int(params.get("startAt") or 0)
    except ValueError:
        raise JiraError(400, ["The value of 'maxResults', 'startAt' or 'nextPageToken' is not valid."]) from None
    page = found[start:start + limit]
    expand = str(params.get("expand") or "")
    issues = [_project_fields(site.issue_object(v["key"], expand=expand), params.get("fields")) for v in page]
    if cloud_enhanced:
        body: dict[str, Any] = {"issues": issues, "isLast": start + limit >= len(found)}
        if not body["isLast"]:
            body["nextPageToken"] = str(start + limit)
        return body
    return {"expand": "schema,names", "startAt": start, "maxResults": limit, "total": len(found), "issues": issues}


def _sort_key(view: dict[str, Any], field: str) -> Any:
    if field in ("updated", "created"):
        return view["_times"][field]
    project, _, number = view["key"].partition("-")
    return (project, int(number) if number.isdigit() else 0)


def _project_fields(issue: dict[str, Any], wanted: Any) -> dict[str, Any]:
    names = wanted if isinstance(wanted, list) else [f for f in str(wanted or "").split(",") if f]
    names = [n.strip() for n in names]
    if not names or "*all" in names or "*navigable" in names:
        return issue
    issue["fields"] = {k: v for k, v in issue["fields"].items() if k in names}
    return issue


def user_search(site: SiteState, params: dict[str, Any]) -> list[dict[str, Any]]:
    """user/search: `query` (Cloud) or `username` (Data Center) matched against display name and email."""
    term = str(params.get("query") or params.get("username") or "").strip().lower()
    if not term:
        raise JiraError(400, ["The query parameter 'query' is required."])
    include_inactive = str(params.get("includeInactive", "false")).lower() == "true"
    found = []
    for account_id, user in site.users.items():
        if not user["active"] and not include_inactive:
            continue
        if term in user["emailAddress"].lower() or term in user["displayName"].lower():
            found.append(site.user_object(account_id))
    return found[: int(params.get("maxResults") or 50)]


def do_transition(site: SiteState, key: str, body: Any, author: str) -> dict[str, Any]:
    """POST issue/{key}/transitions: the transition, and a comment given in `update` with it."""
    if key.upper() not in site.issues:
        raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
    if not isinstance(body, dict) or not isinstance(body.get("transition"), dict):
        raise JiraError(400, ["Missing 'transition' identifier"])
    history = site.move(key.upper(), str(body["transition"].get("id")), author)
    for change in ((body.get("update") or {}).get("comment") or []):
        text = (change.get("add") or {}).get("body")
        if text:
            site.add_comment(key.upper(), str(text), author)
    return history


def add_comment(site: SiteState, key: str, body: Any, author: str) -> dict[str, Any]:
    """POST issue/{key}/comment."""
    if key.upper() not in site.issues:
        raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
    if not isinstance(body, dict) or not str(body.get("body") or "").strip():
        raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
    return site.add_comment(key.upper(), str(body["body"]), author)


def authenticate(site: SiteState, header: str, credentials: dict[str, str]) -> str:
    """The account id of the API user the Authorization header names (Basic email:token, or Bearer PAT)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            email, _, secret = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            email, secret = "", ""
        account = credentials.get(f"basic:{email.lower()}:{secret}")
    elif scheme.lower() == "bearer":
        account = credentials.get(f"bearer:{value.strip()}")
    else:
        account = None
    if account is None:
        raise JiraError(401, ["You are not authenticated. Authentication required to perform this operation."])
    return account
