"""A local stand-in for Jira Cloud's REST API v2 over real HTTP, for the tests and the sandbox.

The real `jira` package (JIRA(server=fake.url, basic_auth=(API_EMAIL, API_TOKEN))) talks to it. It answers the
calls secreview makes, with the shapes and error bodies of Atlassian's documentation: serverInfo, myself,
project/{key}, issue/createmeta/{project}/issuetypes, issue (create, get), issue/{key}/transitions (list, do),
issue/{key}/comment, user/search, search/jql (Cloud; search for Data Center) with a JQL subset (jql.py).
It sends signed admin webhooks on changes, injects 503/429/5xx on demand, and serves a page listing its issues
with buttons to resolve them as an engineer would.

Modules: state (the site's data and workflow), api (one function per endpoint), jql, server (HTTP, routing,
authentication, faults, webhooks, FakeJira), page (the HTML).
"""

from sandbox.fake_jira.server import API_EMAIL, API_TOKEN, BOT_ACCOUNT, PAT, FakeJira
from sandbox.fake_jira.state import Call, JiraError

__all__ = ["API_EMAIL", "API_TOKEN", "BOT_ACCOUNT", "PAT", "Call", "FakeJira", "JiraError"]
