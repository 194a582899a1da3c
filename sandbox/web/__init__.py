"""The sandbox's web page and its JSON API: a small Slack in the browser, in front of FakeSlack and secreview.

The page never talks to secreview directly. It asks this server to act as a person, and this server does what
Slack would: it stores a typed message in the fake workspace and delivers the `message` event, or sends the
slash command, button click or modal submission as Slack's payload, signed, to secreview's endpoint. What
secreview answers through the Web API lands in the fake, whose changes wake the page's long poll
(`GET /api/state?since=N` returns when the state is newer than N, or after 25 s).

server.py holds the routes and SandboxWeb, state.py what the page renders, actions.py what people do.
"""

from sandbox.web.server import SandboxWeb
from sandbox.web.state import Directory, Person, WebError

__all__ = ["Directory", "Person", "SandboxWeb", "WebError"]
