"""The fake Jira's own small page: its issues with buttons to move them, as an engineer would in Jira."""

from __future__ import annotations

from html import escape

from sandbox.fake_jira.state import SiteState

STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#172b4d}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #dfe1e6;padding:6px 8px;text-align:left;vertical-align:top}th{color:#5e6c84}
.done{color:#006644;font-weight:600}.new{color:#42526e}.indeterminate{color:#0052cc}form{display:inline}
button{margin-right:4px}.note{color:#5e6c84}"""


def engineer_of(site: SiteState) -> str:
    """The account the page's buttons act as."""
    return site.page_person or next(iter(site.users))


def _row(site: SiteState, key: str) -> str:
    fields = site.issues[key]["fields"]
    status = fields["status"]
    assignee = (fields.get("assignee") or {}).get("displayName") or "Unassigned"
    buttons = "".join(
        f'<form method="post" action="/_fake/issues/{escape(key)}/transition">'
        f'<input type="hidden" name="name" value="{escape(t["name"])}">'
        f'<button type="submit" data-testid="jira-{escape(key)}-{escape(t["name"])}">'
        f'{escape(t["name"])}</button></form>'
        for t in site.transitions_for(key)
    )
    return (f'<tr><td><a href="/browse/{escape(key)}">{escape(key)}</a></td><td>{escape(fields["summary"])}</td>'
            f'<td>{escape(assignee)}</td><td>{escape(fields.get("duedate") or "")}</td>'
            f'<td class="{escape(status["statusCategory"]["key"])}">{escape(status["name"])}</td>'
            f'<td>{buttons}</td></tr>')


def index(site: SiteState) -> str:
    """Every issue, newest first, with the transitions available from its status."""
    rows = "".join(_row(site, key) for key in reversed(list(site.issues)))
    person = escape(site.users[engineer_of(site)]["displayName"])
    empty = '<tr><td colspan="6" class="note">No issues yet: decide a review with conditions.</td></tr>'
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Jira (sandbox)</title><style>{STYLE}</style>"
            f"</head><body><h1>Jira (sandbox)</h1><p class='note'>A pretend Jira on this machine. The buttons act "
            f"as {person}, an engineer; secreview hears of it through its webhook.</p><table><tr><th>Key</th>"
            f"<th>Summary</th><th>Assignee</th><th>Due</th><th>Status</th><th>Move to</th></tr>"
            f"{rows or empty}</table></body></html>")


def issue(site: SiteState, key: str) -> str | None:
    """One issue: summary, status, description and comments."""
    if key.upper() not in site.issues:
        return None
    key = key.upper()
    fields = site.issues[key]["fields"]
    comments = "".join(f"<li><b>{escape(c['author']['displayName'])}</b>: <pre>{escape(c['body'])}</pre></li>"
                       for c in site.comments.get(key, []))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(key)}</title><style>{STYLE}</style>"
            f"</head><body><p><a href='/'>All issues</a></p><h1>{escape(key)}: {escape(fields['summary'])}</h1>"
            f"<p>Status: {escape(fields['status']['name'])} · Labels: {escape(', '.join(fields['labels']))}</p>"
            f"<pre>{escape(fields.get('description') or '')}</pre><h2>Comments</h2><ul>{comments}</ul>"
            f"<table>{_row(site, key)}</table></body></html>")
