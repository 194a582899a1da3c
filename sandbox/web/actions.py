"""What people do on the sandbox page, turned into what Slack would send secreview.

A typed message is stored in the fake and delivered as a `message` event; a slash command, a button click,
a modal's submit or close, or opening App Home is sent as Slack's payload, signed, to secreview's endpoint.
Buttons are looked up in the message or view as secreview sent it, never as the page describes them.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import payloads
from sandbox.slack_sender import Response
from sandbox.web.state import PageState, WebError

MAX_TEXT = 4_000
COMMAND = "/secreview"
TYPED_TOKENS = re.compile(
    r"(?P<url>https?://(?:(?!&[gl]t;)[^\s<>|])*[^\s<>|&.,;:!?)\]'\"])"
    r"|(?<![\w@#/])@(?P<user>[a-zA-Z][\w.-]*[\w])"
    r"|(?<![\w@#/&])#(?P<channel>[a-z0-9][a-z0-9_-]*)"
)


class PageActions(PageState):
    """The actions a person takes on the page: post, run a command, click, submit or close a modal, open Home."""

    def _channel_for(self, user: str, channel: Any, *, writing: bool = False) -> str:
        """The conversation id if `user` may act there: a channel they can see, or their DM with the app (where
        they may click, not write: secreview's manifest makes its Messages tab read-only, as Slack enforces)."""
        if not isinstance(channel, str) or not channel:
            raise WebError("no channel given")
        if channel == payloads.dm_channel_id(user) or channel == self.fake.dm_channel(user):
            if writing:
                raise WebError("Sending messages to this app has been turned off: reply in the announcement's "
                               "thread, or use /secreview in a channel", 403)
            return self.fake.dm_channel(user)
        info = next((c for c in self.fake.snapshot()["channels"] if c["id"] == channel), None)
        hidden = info is not None and info.get("is_private") and user not in info.get("members", [])
        if info is None or info.get("is_im") or hidden:
            raise WebError("that channel does not exist for you")
        return channel

    def post_message(self, user: Any, channel: Any, text: Any, thread_ts: Any = None) -> dict[str, Any]:
        """A person types in the message box: a command, or a message that secreview receives as an event."""
        user = self._check_user(user)
        channel = self._channel_for(user, channel, writing=True)
        text = _clean_text(text)
        if text.startswith("/"):
            return self.command(user, channel, text)
        thread = _optional_ts(thread_ts)
        slack_text = self._as_typed(text)
        message = self.fake.add_message(channel, user, slack_text, thread_ts=thread)
        envelope = payloads.message_event(self.fake.team_id, channel, user, slack_text, ts=message["ts"],
                                          thread_ts=thread)
        _check_answer(self._deliver(lambda: self.sender.send_event(envelope)), "the message")
        return {"ok": True, "ts": message["ts"]}

    def _as_typed(self, text: str) -> str:
        # What Slack's clients send: &, < and > escaped; @handle, #channel and links turned into <…> tokens.
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        handles = {p.handle: p.id for p in self.directory.people}
        channels = {c["name"]: c["id"] for c in self.fake.snapshot()["channels"] if c.get("name")}

        def token(match: re.Match[str]) -> str:
            if match.group("url"):
                return f"<{match.group('url')}>"
            if match.group("user"):
                user_id = handles.get(match.group("user").lower())
                return f"<@{user_id}>" if user_id else match.group(0)
            name = match.group("channel").lower()
            return f"<#{channels[name]}|{name}>" if name in channels else match.group(0)

        return TYPED_TOKENS.sub(token, escaped)

    def command(self, user: Any, channel: Any, text: Any) -> dict[str, Any]:
        """A slash command: sent with a response_url and a trigger id, as Slack sends it."""
        user = self._check_user(user)
        channel = self._channel_for(user, channel, writing=True)
        text = _clean_text(text)
        name, _, rest = text.partition(" ")
        if name.lower() != COMMAND:
            raise WebError(f"{name[:40]} is not a valid command here. This sandbox has one app: try "
                           f"{COMMAND} help")
        person = self._person(user)
        response_url = self.fake.response_url(channel, user)
        form = payloads.slash_command(
            self.fake.team_id, channel, user, self._as_typed(rest.strip()), command=COMMAND,
            trigger_id=self.fake.trigger_id(user), response_url=response_url,
            user_name=person.handle if person else None, channel_name=self._channel_name(channel),
        )
        answer = _check_answer(self._deliver(lambda: self.sender.send_command(form)), "the command")
        immediate = _answer_body(answer)
        if immediate:
            # An app may answer a command in its HTTP response; Slack shows that to the user like a respond().
            _post_json(response_url, {"response_type": "ephemeral", **immediate})
        return {"ok": True}

    def _channel_name(self, channel: str) -> str:
        if channel.startswith("D"):
            return "directmessage"
        info = next((c for c in self.fake.snapshot()["channels"] if c["id"] == channel), None)
        return str(info["name"]) if info and info.get("name") else channel.lower()

    def post_digest(self, user: Any) -> dict[str, Any]:
        """The page's "post digest now": `/secreview digest post` as this person, in the digest channel."""
        user = self._check_user(user)
        return self.command(user, self.directory.digest, f"{COMMAND} digest post")

    def click(self, user: Any, source: Any, action: Any, channel: Any = None, ts: Any = None,
              view_id: Any = None) -> dict[str, Any]:
        """A button: `block_actions` for the message, ephemeral message, App Home or modal it is in."""
        user = self._check_user(user)
        if not isinstance(action, dict):
            raise WebError("no button given")
        team = self.fake.team_id
        trigger = self.fake.trigger_id(user)
        if source in ("home", "modal"):
            view = self.fake.home(user) if source == "home" else self.fake.view(str(view_id or ""))
            if view is None:
                raise WebError("that view is gone: open it again", 409)
            element, block_id = _find_button(view.get("blocks") or [], action)
            payload = payloads.block_actions(team, user, element["action_id"], element.get("value", ""),
                                             view=view, trigger_id=trigger, block_id=block_id,
                                             action=_action_entry(element, block_id))
        elif source in ("message", "ephemeral"):
            channel = self._channel_for(user, channel)
            message_ts = _optional_ts(ts)
            if message_ts is None:
                raise WebError("no message given")
            if source == "ephemeral":
                found = next((e for e in self.fake.ephemerals(user=user) if e["ts"] == message_ts), None)
            else:
                found = self.fake.message(channel, message_ts)
            if found is None:
                raise WebError("that message is gone", 409)
            element, block_id = _find_button(found.get("blocks") or [], action)
            ephemeral = source == "ephemeral"
            payload = payloads.block_actions(
                team, user, element["action_id"], element.get("value", ""), channel=channel,
                message_ts=message_ts, trigger_id=trigger, block_id=block_id,
                action=_action_entry(element, block_id), message=None if ephemeral else found,
                is_ephemeral=ephemeral,
                response_url=self.fake.response_url(channel, user, message_ts=message_ts,
                                                    is_ephemeral=ephemeral, kind="actions"),
            )
        else:
            raise WebError("unknown place for a button")
        _check_answer(self._deliver(lambda: self.sender.send_interaction(payload)), "the click")
        return {"ok": True}

    def submit(self, user: Any, view_id: Any, values: Any) -> dict[str, Any]:
        """A modal's submit: `view_submission` with Slack's view.state.values; field errors come back."""
        user = self._check_user(user)
        view = self._open_view(user, view_id)
        if not isinstance(values, dict) or not all(
            isinstance(v, dict) and all(isinstance(s, dict) for s in v.values()) for v in values.values()
        ):
            raise WebError("the form's values are malformed")
        person = self._person(user)
        payload = payloads.view_submission(self.fake.team_id, user, None, None, values, view=view,
                                           user_name=person.handle if person else None,
                                           trigger_id=self.fake.trigger_id(user))
        answer = self._deliver(lambda: self.sender.send_interaction(payload))
        if answer.status != 200:
            return {"ok": False, "message": "We had some trouble connecting. Try again? "
                                            f"(secreview answered HTTP {answer.status})"}
        body = _json_body(answer)
        action = body.get("response_action")
        if action == "errors":
            errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
            return {"ok": False, "errors": {str(k): str(v) for k, v in errors.items()}}
        client = WebClient(base_url=self.fake.api_url, token="xoxb-sandbox-page")
        try:
            if action == "update":
                client.views_update(view_id=view["id"], view=body.get("view"))
                return {"ok": True}
            if action == "push":
                client.views_push(trigger_id=self.fake.trigger_id(user), view=body.get("view"))
                return {"ok": True}
        except SlackApiError as exc:
            return {"ok": False, "message": f"secreview's answer was refused: {exc.response.get('error')}"}
        if action == "clear":
            self._close_all(user)
        else:
            self._close(view["id"])
        return {"ok": True}

    def close_view(self, user: Any, view_id: Any) -> dict[str, Any]:
        """The modal's close button; `view_closed` is sent when the app asked for it (notify_on_close)."""
        user = self._check_user(user)
        view = self._open_view(user, view_id)
        self._close(view["id"])
        if view.get("notify_on_close"):
            payload = {"type": "view_closed",
                       "team": {"id": self.fake.team_id, "domain": payloads.DEFAULT_TEAM_DOMAIN},
                       "user": {"id": user}, "api_app_id": self.fake.app_id, "view": view,
                       "is_cleared": False}
            self._deliver(lambda: self.sender.send_interaction(payload))
        return {"ok": True}

    def open_home(self, user: Any, tab: Any = "home") -> dict[str, Any]:
        """The person opens the app's Home or Messages tab: `app_home_opened`, as Slack sends every time."""
        user = self._check_user(user)
        tab = "messages" if tab == "messages" else "home"
        envelope = payloads.app_home_opened_event(self.fake.team_id, user, tab=tab,
                                                  view=self.fake.home(user) if tab == "home" else None)
        _check_answer(self._deliver(lambda: self.sender.send_event(envelope)), "opening the app")
        return {"ok": True}

    def _open_view(self, user: str, view_id: Any) -> dict[str, Any]:
        view = self.fake.view(str(view_id or ""))
        mine = [v["id"] for v in self.fake.views(user=user)]
        with self._changed:
            closed = view is None or view["id"] in self._closed_views
        if view is None or closed or view["id"] not in mine:
            raise WebError("that form is no longer open", 409)
        return view

    def _close(self, view_id: str) -> None:
        with self._changed:
            self._closed_views.add(view_id)
        self._bump()

    def _close_all(self, user: str) -> None:
        opened = [v["id"] for v in self.fake.views(user=user)]  # read before taking our lock: one lock at a time
        with self._changed:
            self._closed_views.update(opened)
        self._bump()

    @staticmethod
    def _deliver(send: Any) -> Response:
        try:
            return send()  # type: ignore[no-any-return]
        except OSError as exc:
            raise WebError(f"secreview did not answer: {exc}", 502) from None


def _clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise WebError("the message is empty")
    if len(text) > MAX_TEXT:
        raise WebError(f"the message is too long (at most {MAX_TEXT} characters here)")
    return text.strip()


def _optional_ts(ts: Any) -> str | None:
    if ts in (None, ""):
        return None
    try:
        payloads.parse_ts(str(ts))
    except ValueError:
        raise WebError("not a message timestamp") from None
    return str(ts)


def _check_answer(answer: Response, what: str) -> Response:
    if answer.status != 200:
        raise WebError(f"secreview refused {what} (HTTP {answer.status}): {answer.body[:200]}", 502)
    return answer


def _json_body(answer: Response) -> dict[str, Any]:
    text = answer.body.strip()
    if not text:
        return {}
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return {"text": text}
    return body if isinstance(body, dict) else {}


def _answer_body(answer: Response) -> dict[str, Any]:
    body = _json_body(answer)
    return {k: body[k] for k in ("text", "blocks", "response_type") if body.get(k)} if (
        body.get("text") or body.get("blocks")) else {}


def _post_json(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    with opener.open(request, timeout=5) as reply:
        reply.read()


def _elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any], int]]:
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("accessory"), dict):
            yield block, block["accessory"], index
        for element in block.get("elements") or []:
            if isinstance(element, dict) and block.get("type") == "actions":
                yield block, element, index


def _find_button(blocks: list[dict[str, Any]], wanted: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The button as secreview sent it (never as the page describes it), and its block's id."""
    for block, element, index in _elements(blocks):
        if element.get("type") != "button" or element.get("action_id") != wanted.get("action_id"):
            continue
        if str(element.get("value", "")) != str(wanted.get("value", "")):
            continue
        block_id = str(block.get("block_id") or f"b{index}")
        if wanted.get("block_id") and wanted["block_id"] != block_id:
            continue
        return element, block_id
    raise WebError("that button is no longer there (the message changed)", 409)


def _action_entry(element: dict[str, Any], block_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"action_id": element["action_id"], "block_id": block_id,
                             "text": element.get("text") or {"type": "plain_text", "text": ""},
                             "value": element.get("value", ""), "type": "button",
                             "action_ts": payloads.new_ts()}
    if element.get("style"):
        entry["style"] = element["style"]
    return entry
