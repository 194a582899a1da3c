"""The sandbox's web page and its JSON API: a small Slack in the browser, in front of FakeSlack and secreview.

The module became a package so that it can be split into the routes, the state the page renders and the
actions people take; until then everything lives in actions.py, which keeps the file's history.
"""

from sandbox.web.actions import Directory, Person, SandboxWeb, WebError

__all__ = ["Directory", "Person", "SandboxWeb", "WebError"]
