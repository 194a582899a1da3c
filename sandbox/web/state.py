"""What the sandbox page shows: Slack's client view of the fake workspace, as one person sees it.

`state_for(user)` turns FakeSlack's snapshot into what that person's Slack client would show: the channels
they can see, their DM with secreview, their ephemerals, the modal they have open, their App Home. Every
change in the fake bumps a version, so the page's long poll (`GET /api/state?since=N`) wakes up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from bot.slack.commands import usage_lines
from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import SlackSender

LONG_POLL_SECONDS = 25.0


@dataclass(frozen=True)
class Person:
    """Someone in the sandbox workspace; `switchable` people are offered in the page's person switcher."""

    id: str
    real_name: str
    handle: str
    role: str
    switchable: bool = False


@dataclass(frozen=True)
class Directory:
    """Who and where: the people and the channels the page gives a special place."""

    people: tuple[Person, ...]
    announce: str
    security: str
    digest: str
    general: str
    jira_url: str | None = None  # the sandbox's fake Jira page, linked from the page's tools


class WebError(Exception):
    """A request the page made that cannot be carried out; the message is shown to the person."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class PageState:
    """The workspace behind the page, the version of what it shows, and one person's view of it."""

    def __init__(self) -> None:
        self._fake: FakeSlack | None = None
        self._sender: SlackSender | None = None
        self._directory: Directory | None = None
        self._unsubscribe: Any = None
        self._changed = threading.Condition()
        self._version = 0
        self._stopping = False
        self._closed_views: set[str] = set()

    @property
    def fake(self) -> FakeSlack:
        """The fake workspace."""
        if self._fake is None:
            raise WebError("the sandbox is still starting", 503)
        return self._fake

    @property
    def sender(self) -> SlackSender:
        """Signs and delivers payloads to secreview."""
        if self._sender is None:
            raise WebError("the sandbox is still starting", 503)
        return self._sender

    @property
    def directory(self) -> Directory:
        """People and special channels."""
        if self._directory is None:
            raise WebError("the sandbox is still starting", 503)
        return self._directory

    def _bump(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_newer(self, since: int, timeout: float = LONG_POLL_SECONDS) -> int:
        """Blocks until the state is newer than `since` (or the timeout, or shutdown); returns the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version > since or self._stopping, timeout)
            return self._version

    def _person(self, user_id: str) -> Person | None:
        return next((p for p in self.directory.people if p.id == user_id), None)

    def _default_user(self) -> str:
        return next(p.id for p in self.directory.people if p.switchable)

    def _check_user(self, user_id: Any) -> str:
        if not isinstance(user_id, str) or self._person(user_id) is None:
            raise WebError("unknown person: pick someone in the switcher")
        return user_id

    def state_for(self, user_id: str | None) -> dict[str, Any]:
        """What one person sees: their channels, their DM with secreview, their ephemerals, modal and home."""
        with self._changed:
            version = self._version
            closed = set(self._closed_views)
        me = user_id if user_id and self._person(user_id) else self._default_user()
        snap = self.fake.snapshot()
        d = self.directory
        special = [d.general, d.announce, d.security, d.digest]
        channels = []
        dm = None
        for ch in snap["channels"]:
            if ch.get("is_im"):
                if ch.get("user") == me:
                    dm = {"id": ch["id"], "messages": ch["messages"], "threads": ch["threads"]}
                continue
            if ch.get("is_mpim") or ch.get("is_archived"):
                continue
            if ch.get("is_private") and me not in ch.get("members", []):
                continue  # as in Slack: a private channel you are not in does not exist for you
            channels.append({"id": ch["id"], "name": ch["name"], "is_private": bool(ch.get("is_private")),
                             "purpose": (ch.get("purpose") or {}).get("value", ""),
                             "messages": ch["messages"], "threads": ch["threads"]})
        rank = {channel_id: i for i, channel_id in enumerate(special)}
        channels.sort(key=lambda c: (rank.get(c["id"], len(special)), c["name"]))
        if dm is None:
            dm = {"id": payloads.dm_channel_id(me), "messages": [], "threads": {}}
        modal = None
        for entry in reversed(snap["views"]):
            if entry.get("user") == me and entry["view"]["id"] not in closed:
                modal = entry["view"]
                break
        people = []
        for user in snap["users"]:
            if user.get("is_bot") or user.get("deleted"):
                continue
            person = self._person(user["id"])
            people.append({"id": user["id"], "name": user.get("real_name") or user["name"],
                           "handle": user["name"], "role": person.role if person else "",
                           "switchable": bool(person and person.switchable)})
        return {
            "version": version,
            "me": me,
            "team": {"id": snap["team"]["id"], "name": snap["team"]["name"]},
            "bot": {**snap["bot"], "name": self.fake.bot_name},
            "people": people,
            "channels": channels,
            "dm": dm,
            "ephemerals": [e for e in snap["ephemerals"] if e.get("user") == me],
            "modal": modal,
            "home": snap["homes"].get(me),
            "special": {"announce": d.announce, "security": d.security, "digest": d.digest,
                        "general": d.general},
            "commands": usage_lines(),  # the typing hint, from the table the command parser reads
        }

    def file(self, file_id: str) -> dict[str, Any] | None:
        """One uploaded file (the digest's chart, an export) with its bytes."""
        return next((f for f in self.fake.files() if f["id"] == file_id), None)
