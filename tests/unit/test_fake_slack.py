"""The fake Slack Web API, the payload builders and the signed sender, exercised with the real slack_sdk."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient

from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import SlackSender

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
FAST_RETRY = FixedValueRetryIntervalCalculator(fixed_internal=0.01)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def key_shape(value: Any) -> Any:
    """Reduce a payload to its structure: dict keys (recursively) and list element shapes, no values."""
    if isinstance(value, dict):
        return {key: key_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [key_shape(item) for item in value]
    return None


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeSlack) -> FakeSlack:
    """A running fake with a small directory and nothing else (state from earlier tests dropped)."""
    server.reset()
    server.tokens = None
    server.strict_triggers = False
    server.add_user("U1", "Alice Adams", display_name="alice", tz="Europe/Berlin", email="alice@example.com")
    server.add_user("U2", "Bob Brown", tz="America/New_York")
    server.add_user("U3", "Carol Chen")
    server.add_channel("C1", "projects")
    server.add_channel("C2", "security-reviews", is_private=True, members=["U2"])
    server.add_channel("C3", "random", is_member=False)
    server.add_channel("C4", "old", is_archived=True)
    server.add_channel("C5", "secret", is_private=True, is_member=False)
    return server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.api_url, token="xoxb-test", retry_handlers=[])


def api_error(call: Any, *args: Any, **kwargs: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value


# ------------------------------------------------------------------------------------ Web API basics


def test_server_urls_and_auth_test(fake: FakeSlack, client: WebClient) -> None:
    assert fake.api_url.startswith("http://127.0.0.1:") and fake.api_url.endswith("/api/")
    auth = client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == (
        payloads.DEFAULT_TEAM_ID,
        payloads.DEFAULT_BOT_USER_ID,
        payloads.DEFAULT_BOT_ID,
    )
    assert auth["url"] == fake.team_url
    assert client.team_info()["team"]["id"] == fake.team_id


def test_post_message_records_state_and_returns_slack_shape(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*SR-1* opened"}}]
    first = client.chat_postMessage(channel="C1", text="SR-1 opened", blocks=blocks)
    second = client.chat_postMessage(channel="C1", text="SR-2 opened")
    assert first["ok"] and first["channel"] == "C1"
    assert first["message"]["bot_id"] == fake.bot_id and first["message"]["blocks"] == blocks
    assert float(second["ts"]) > float(first["ts"])
    assert [m["text"] for m in fake.messages("C1")] == ["SR-1 opened", "SR-2 opened"]
    call = fake.calls("chat.postMessage")[0]
    assert call.params["blocks"] == blocks
    assert call.headers["Authorization"] == "Bearer xoxb-test"


def test_ts_unique_and_increasing_under_concurrency(fake: FakeSlack) -> None:
    def post(n: int) -> None:
        worker = WebClient(base_url=fake.api_url, token="xoxb-test")
        for i in range(8):
            worker.chat_postMessage(channel="C1", text=f"{n}-{i}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = [m["ts"] for m in fake.messages("C1")]
    assert len(stamps) == 48 == len(set(stamps))
    assert stamps == sorted(stamps, key=float)


def test_direct_messages_by_user_id(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U1", text="Your review SR-1 was approved")
    opened = client.conversations_open(users="U1")
    assert posted["channel"] == opened["channel"]["id"] == fake.dm_channel("U1")
    assert posted["channel"].startswith("D") and posted["channel"] == payloads.dm_channel_id("U1")
    assert [m["text"] for m in fake.messages(posted["channel"])] == ["Your review SR-1 was approved"]
    assert fake.messages("U1") == fake.messages(posted["channel"])
    info = client.conversations_info(channel=posted["channel"])["channel"]
    assert info["is_im"] and info["user"] == "U1"
    assert (
        api_error(client.chat_postMessage, channel="U404", text="x").response["error"] == "channel_not_found"
    )
    assert api_error(client.conversations_open, users="U404").response["error"] == "user_not_found"


def test_threads_history_and_replies(fake: FakeSlack, client: WebClient) -> None:
    parent = fake.add_message("C1", "U1", "We are launching a new CRM pilot")
    reply1 = client.chat_postMessage(channel="C1", thread_ts=parent["ts"], text="SR-1 opened")
    reply2 = client.chat_postMessage(channel="C1", thread_ts=parent["ts"], text="Decision: approved")
    later = client.chat_postMessage(channel="C1", text="top level")

    thread = fake.thread("C1", parent["ts"])
    assert [m["text"] for m in thread] == [parent["text"], "SR-1 opened", "Decision: approved"]
    assert thread[0]["reply_count"] == 2 and thread[0]["latest_reply"] == reply2["ts"]
    assert thread[1]["parent_user_id"] == "U1"

    history = client.conversations_history(channel="C1")
    assert [m["ts"] for m in history["messages"]] == [later["ts"], parent["ts"]]  # newest first, no replies

    replies = client.conversations_replies(channel="C1", ts=parent["ts"])["messages"]
    assert [m["ts"] for m in replies] == [parent["ts"], reply1["ts"], reply2["ts"]]
    bounded = client.conversations_replies(channel="C1", ts=parent["ts"], oldest=reply1["ts"])["messages"]
    assert [m["ts"] for m in bounded] == [parent["ts"], reply2["ts"]]
    inclusive = client.conversations_replies(
        channel="C1", ts=parent["ts"], oldest=reply1["ts"], inclusive=True
    )
    assert len(inclusive["messages"]) == 3
    assert api_error(client.conversations_replies, channel="C1", ts="1.000001").response["error"] == (
        "thread_not_found"
    )
    # A reply threaded under a reply's ts is lost to the thread, as in Slack.
    client.chat_postMessage(channel="C1", thread_ts=reply1["ts"], text="orphan")
    assert "orphan" not in [m["text"] for m in fake.thread("C1", parent["ts"])]


def test_history_bounds_limit_and_cursor(fake: FakeSlack, client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]
    page = client.conversations_history(channel="C1", limit=2)
    assert [m["text"] for m in page["messages"]] == ["4", "3"] and page["has_more"]
    rest = client.conversations_history(
        channel="C1", limit=10, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["2", "1", "0"] and not rest["has_more"]
    window = client.conversations_history(channel="C1", oldest=stamps[1], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["2"]
    window = client.conversations_history(channel="C1", oldest=stamps[1], latest=stamps[3], inclusive=True)
    assert [m["text"] for m in window["messages"]] == ["3", "2", "1"]
    assert sum(len(p["messages"]) for p in client.conversations_history(channel="C1", limit=2)) == 5


def test_update_delete_permalink(fake: FakeSlack, client: WebClient) -> None:
    card = client.chat_postMessage(channel="C1", text="SR-1: Take", blocks=[{"type": "divider"}])
    updated = client.chat_update(channel="C1", ts=card["ts"], text="SR-1: taken by Bob", blocks=[])
    assert updated["ts"] == card["ts"]
    current = fake.messages("C1")[0]
    assert current["text"] == "SR-1: taken by Bob" and "blocks" not in current and "edited" in current
    assert len(fake.messages("C1")) == 1
    link = client.chat_getPermalink(channel="C1", message_ts=card["ts"])["permalink"]
    assert link.startswith(fake.team_url) and card["ts"].replace(".", "") in link
    with urllib.request.urlopen(link) as reply:
        assert json.load(reply)["message"]["text"] == "SR-1: taken by Bob"

    human = fake.add_message("C1", "U1", "kick-off of project Apollo")
    assert api_error(client.chat_update, channel="C1", ts=human["ts"], text="x").response["error"] == (
        "cant_update_message"
    )
    assert api_error(client.chat_update, channel="C1", ts="1.000001", text="x").response["error"] == (
        "message_not_found"
    )
    client.chat_delete(channel="C1", ts=card["ts"])
    assert [m["ts"] for m in fake.messages("C1")] == [human["ts"]]
    assert api_error(client.chat_delete, channel="C1", ts=card["ts"]).response["error"] == "message_not_found"


def test_deleting_a_parent_with_replies_leaves_a_tombstone(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="parent")
    client.chat_postMessage(channel="C1", text="reply", thread_ts=parent["ts"])
    client.chat_delete(channel="C1", ts=parent["ts"])
    assert fake.messages("C1")[0]["subtype"] == "tombstone"
    assert [m["text"] for m in fake.thread("C1", parent["ts"])][1:] == ["reply"]


def test_ephemeral_messages(fake: FakeSlack, client: WebClient) -> None:
    answer = client.chat_postEphemeral(channel="C1", user="U1", text="Only reviewers may decide")
    assert answer["message_ts"]
    [ephemeral] = fake.ephemerals(user="U1")
    assert ephemeral["channel"] == "C1" and ephemeral["text"] == "Only reviewers may decide"
    assert fake.ephemerals(user="U2") == [] and fake.messages("C1") == []
    assert api_error(client.chat_postEphemeral, channel="C1", user="U404", text="x").response["error"] == (
        "user_not_found"
    )


def test_ephemeral_to_user_outside_a_private_channel(fake: FakeSlack, client: WebClient) -> None:
    error = api_error(client.chat_postEphemeral, channel="C2", user="U1", text="x")
    assert error.response["error"] == "user_not_in_channel"
    client.chat_postEphemeral(channel="C2", user="U2", text="fine")
    assert len(fake.ephemerals(channel="C2")) == 1


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_channel_errors_like_slack(fake: FakeSlack, client: WebClient) -> None:
    cases = {
        "C404": "channel_not_found",
        "C3": "not_in_channel",
        "C4": "is_archived",
        "C5": "channel_not_found",
    }
    for channel, error in cases.items():
        assert api_error(client.chat_postMessage, channel=channel, text="x").response["error"] == error
    assert api_error(client.chat_postMessage, channel="C1").response["error"] == "no_text"
    too_many = [{"type": "divider"}] * 51
    failure = api_error(client.chat_postMessage, channel="C1", text="x", blocks=too_many)
    assert failure.response["error"] == "invalid_blocks" and failure.response["response_metadata"]["messages"]
    long_button = [
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}],
        }
    ]
    assert api_error(client.chat_postMessage, channel="C1", text="x", blocks=long_button).response[
        "error"
    ] == ("invalid_blocks")
    assert api_error(client.api_call, "nope.nope").response["error"] == "unknown_method"
    assert fake.messages("C1") == []
    client.conversations_join(channel="C3")
    assert client.chat_postMessage(channel="C3", text="joined")["ok"]
    fake.archive_channel("C3")
    assert api_error(client.chat_postMessage, channel="C3", text="x").response["error"] == "is_archived"


def test_tokens(fake: FakeSlack) -> None:
    assert api_error(WebClient(base_url=fake.api_url).auth_test).response["error"] == "not_authed"
    fake.tokens = {"xoxb-good"}
    bad = WebClient(base_url=fake.api_url, token="xoxb-bad")
    assert api_error(bad.auth_test).response["error"] == "invalid_auth"
    assert WebClient(base_url=fake.api_url, token="xoxb-good").auth_test()["ok"]
    fake.tokens = None
    bot = WebClient(base_url=fake.api_url, token="xoxb-test")
    assert api_error(bot.apps_connections_open, app_token="xoxb-test").response["error"] == (
        "not_allowed_token_type"
    )
    fake.socket_mode_url = "ws://127.0.0.1:1/socket"
    assert bot.apps_connections_open(app_token="xapp-1-test")["url"] == "ws://127.0.0.1:1/socket"
    fake.socket_mode_url = None


def test_directory_methods(fake: FakeSlack, client: WebClient) -> None:
    fake.add_usergroup("S1", ["U1", "U2"], handle="security-reviewers")
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    assert api_error(client.usergroups_users_list, usergroup="S404").response["error"] == "no_such_subteam"
    assert client.usergroups_list(include_users=True)["usergroups"][0]["users"] == ["U1", "U2"]
    user = client.users_info(user="U1")["user"]
    assert (user["real_name"], user["profile"]["display_name"], user["tz"]) == (
        "Alice Adams",
        "alice",
        "Europe/Berlin",
    )
    assert user["tz_offset"] in (3600, 7200) and not user["is_bot"]
    assert client.users_info(user=fake.bot_user_id)["user"]["is_bot"]
    assert api_error(client.users_info, user="U404").response["error"] == "user_not_found"
    assert client.users_lookupByEmail(email="alice@example.com")["user"]["id"] == "U1"
    names = {c["name"] for c in client.conversations_list()["channels"]}
    assert {"projects", "random", "old"} <= names and "security-reviews" not in names
    names = {
        c["name"]
        for c in client.conversations_list(types="private_channel", exclude_archived=True)["channels"]
    }
    assert names == {"security-reviews"}
    assert client.conversations_info(channel="C1")["channel"]["name"] == "projects"
    assert api_error(client.conversations_info, channel="C5").response["error"] == "channel_not_found"
    assert set(client.conversations_members(channel="C2")["members"]) == {"U2", fake.bot_user_id}


def test_reactions(fake: FakeSlack, client: WebClient) -> None:
    message = fake.add_message("C1", "U1", "New project: payroll SaaS")
    client.reactions_add(channel="C1", name="eyes", timestamp=message["ts"])
    assert fake.messages("C1")[0]["reactions"] == [{"name": "eyes", "users": [fake.bot_user_id], "count": 1}]
    assert (
        api_error(client.reactions_add, channel="C1", name="eyes", timestamp=message["ts"]).response["error"]
        == "already_reacted"
    )
    assert (
        api_error(client.reactions_add, channel="C1", name="eyes", timestamp="1.000001").response["error"]
        == "message_not_found"
    )
    client.reactions_remove(channel="C1", name="eyes", timestamp=message["ts"])
    assert "reactions" not in fake.messages("C1")[0]


# ------------------------------------------------------------------------------------------ views


def modal(callback_id: str = "decide", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": "Decide SR-1"},
        "submit": {"type": "plain_text", "text": "Save"},
        "private_metadata": '{"review": 1}',
        "blocks": [
            {
                "type": "input",
                "block_id": "rationale",
                "label": {"type": "plain_text", "text": "Rationale"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
        **extra,
    }


def test_views_open_update_push(fake: FakeSlack, client: WebClient) -> None:
    trigger = fake.trigger_id("U2")
    opened = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "decide"
    assert fake.views(user="U2") == [opened]
    assert fake.calls("views.open")[0].params["trigger_id"] == trigger

    error = api_error(client.views_update, view_id=opened["id"], hash="stale", view=modal())
    assert error.response["error"] == "hash_conflict"
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("decide-2"))["view"]
    assert updated["hash"] != opened["hash"] and fake.view(opened["id"])["callback_id"] == "decide-2"
    assert api_error(client.views_update, view_id="V404", view=modal()).response["error"] == "not_found"

    pushed = client.views_push(trigger_id=fake.trigger_id("U2"), view=modal("conditions"))["view"]
    assert pushed["previous_view_id"] == opened["id"] and pushed["root_view_id"] == opened["id"]
    assert [v["callback_id"] for v in fake.views()] == ["decide-2", "conditions"]


def test_views_reject_what_slack_rejects(fake: FakeSlack, client: WebClient) -> None:
    assert api_error(client.views_open, trigger_id="", view=modal()).response["error"] == "invalid_arguments"
    no_submit = modal()
    del no_submit["submit"]
    assert api_error(client.views_open, trigger_id="1.2.3", view=no_submit).response["error"] == (
        "invalid_arguments"
    )
    long_title = modal(title={"type": "plain_text", "text": "x" * 25})
    assert api_error(client.views_open, trigger_id="1.2.3", view=long_title).response["error"] == (
        "invalid_arguments"
    )
    fake.strict_triggers = True
    client.views_open(trigger_id="9.9.9", view=modal())
    assert api_error(client.views_open, trigger_id="9.9.9", view=modal()).response["error"] == (
        "exchanged_trigger_id"
    )
    assert len(fake.views()) == 1


def test_views_publish_home(fake: FakeSlack, client: WebClient) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your reviews"}}],
    }
    first = client.views_publish(user_id="U1", view=home)["view"]
    again = client.views_publish(user_id="U1", view=home)["view"]
    assert first["id"] == again["id"] and fake.home("U1")["type"] == "home"
    assert fake.home("U2") is None and fake.views() == []
    assert api_error(client.views_publish, user_id="U404", view=home).response["error"] == "user_not_found"


# ------------------------------------------------------------------------------------------- files


def test_files_upload_v2_with_the_real_client(fake: FakeSlack, client: WebClient) -> None:
    content = "key,state\nSR-1,approved\n"
    dm = client.conversations_open(users="U2")["channel"]["id"]
    result = client.files_upload_v2(
        channel=dm, content=content, filename="reviews.csv", title="Export", initial_comment="Your export"
    )
    assert result["file"]["title"] == "Export"
    [stored] = fake.files()
    assert stored["content"] == content.encode() and stored["size"] == len(content)
    assert stored["name"] == "reviews.csv" and stored["ims"] == [dm]
    [message] = fake.messages(dm)
    assert message["text"] == "Your export" and message["files"][0]["id"] == stored["id"]
    with urllib.request.urlopen(stored["url_private"]) as reply:
        assert reply.read() == content.encode()
    methods = [c.method for c in fake.calls()]
    assert methods[-3:] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    error = api_error(
        client.files_completeUploadExternal, files=[{"id": "F404", "title": "x"}], channel_id="C1"
    )
    assert error.response["error"] == "file_not_found"


# ------------------------------------------------------------------------------------ response_url


def test_response_urls(fake: FakeSlack, client: WebClient) -> None:
    WebhookClient(fake.response_url("C1", "U1")).send(text="Unknown subcommand")
    assert [e["text"] for e in fake.ephemerals(user="U1")] == ["Unknown subcommand"]
    WebhookClient(fake.response_url("C1", "U1")).send(text="Posted for all", response_type="in_channel")
    assert [m["text"] for m in fake.messages("C1")] == ["Posted for all"]
    card = client.chat_postMessage(channel="C1", text="SR-1 card")
    url = fake.response_url("C1", "U2", message_ts=card["ts"], kind="actions")
    WebhookClient(url).send(text="SR-1 card (taken)", replace_original=True)
    assert fake.message("C1", card["ts"])["text"] == "SR-1 card (taken)"
    WebhookClient(url).send(delete_original=True)
    assert fake.message("C1", card["ts"]) is None
    assert len(fake.responses()) == 4


# --------------------------------------------------------------------------------- encodings, hooks


def raw_post(url: str, body: bytes, content_type: str, token: str = "xoxb-test") -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request) as reply:
        return json.load(reply)


def test_form_json_and_query_encodings(fake: FakeSlack) -> None:
    blocks = [{"type": "divider"}]
    form = urllib.parse.urlencode({"channel": "C1", "text": "form", "blocks": json.dumps(blocks)}).encode()
    assert raw_post(fake.api_url + "chat.postMessage", form, "application/x-www-form-urlencoded")["ok"]
    body = json.dumps({"channel": "C1", "limit": 1}).encode()
    history = raw_post(fake.api_url + "conversations.history", body, "application/json; charset=utf-8")
    assert history["messages"][0]["blocks"] == blocks
    with urllib.request.urlopen(fake.api_url + "users.info?user=U1&token=xoxb-test") as reply:
        assert json.load(reply)["user"]["name"]
    bad = raw_post(fake.api_url + "chat.postMessage", b"{nope", "application/json")
    assert bad == {"ok": False, "error": "invalid_json"}


def test_on_change_snapshot_and_wait_for(fake: FakeSlack, client: WebClient) -> None:
    seen: list[dict[str, Any]] = []
    unsubscribe = fake.on_change(seen.append)
    try:
        posted = client.chat_postMessage(channel="C1", text="hello")
        client.reactions_add(channel="C1", name="lock", timestamp=posted["ts"])
    finally:
        unsubscribe()
    assert [c["type"] for c in seen] == ["message", "reaction_added"]
    assert seen[0] == {"type": "message", "channel": "C1", "ts": posted["ts"]}
    snap = json.loads(json.dumps(fake.snapshot()))
    projects = next(c for c in snap["channels"] if c["id"] == "C1")
    assert projects["messages"][0]["text"] == "hello"
    assert {"team", "users", "channels", "ephemerals", "views", "homes", "files"} <= snap.keys()

    timer = threading.Timer(0.05, lambda: client.chat_postMessage(channel="C1", text="later"))
    timer.start()
    found = fake.wait_for(lambda f: [m for m in f.messages("C1") if m["text"] == "later"], timeout=2)
    assert found[0]["text"] == "later"
    with pytest.raises(TimeoutError):
        fake.wait_for(lambda: False, timeout=0.05)


# ------------------------------------------------------------------------------------------ faults


def test_rate_limit_is_retried_by_slack_sdk_and_changes_state_once(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RateLimitErrorRetryHandler sleeps Retry-After + random() seconds; drop the jitter to keep this fast.
    monkeypatch.setattr(builtin_handlers.random, "random", lambda: 0.0)
    fake.fail_next("chat.postMessage", retry_after=0)
    retrying = WebClient(
        base_url=fake.api_url,
        token="xoxb-test",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    assert retrying.chat_postMessage(channel="C1", text="SR-1 opened")["ok"]
    assert len(fake.messages("C1")) == 1
    assert [c.fault for c in fake.calls("chat.postMessage")] == ["429", None]
    assert fake.calls("chat.postMessage")[0].status == 429
    assert fake.fault_counts["429"] == 1


def test_server_errors_are_retried_and_change_state_once(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", error="internal_error", status=500, times=2)
    retrying = WebClient(
        base_url=fake.api_url,
        token="xoxb-test",
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=3, interval_calculator=FAST_RETRY)],
    )
    assert retrying.chat_postMessage(channel="C1", text="once")["ok"]
    assert [m["text"] for m in fake.messages("C1")] == ["once"]
    assert fake.fault_counts["500"] == 2


def test_random_faults_are_seeded_and_limited_to_methods(fake: FakeSlack) -> None:
    fake.set_faults(rate_500=0.5, seed=7, methods={"chat.postMessage"})
    retrying = WebClient(
        base_url=fake.api_url,
        token="xoxb-test",
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=50, interval_calculator=FAST_RETRY)],
    )
    for i in range(10):
        retrying.chat_postMessage(channel="C1", text=str(i))
        retrying.conversations_history(channel="C1")
    assert [m["text"] for m in fake.messages("C1")] == [str(i) for i in range(10)]
    assert fake.fault_counts["500"] > 0
    assert all(c.fault is None for c in fake.calls("conversations.history"))


def test_timeouts_drop_the_connection_without_changing_state(fake: FakeSlack) -> None:
    fake.set_faults(rate_timeout=1.0, timeout_seconds=0.05, methods={"chat.postMessage"})
    plain = WebClient(base_url=fake.api_url, token="xoxb-test", retry_handlers=[])
    with pytest.raises(Exception, match=r"Remote end closed|timed out|Connection"):
        plain.chat_postMessage(channel="C1", text="lost")
    assert fake.messages("C1") == [] and fake.fault_counts["timeout"] == 1
    fake.clear_faults()
    fake.fail_next("chat.postMessage", error="timeout", hang_seconds=0.05)
    retrying = WebClient(
        base_url=fake.api_url,
        token="xoxb-test",
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=FAST_RETRY)],
    )
    assert retrying.chat_postMessage(channel="C1", text="kept")["ok"]
    assert [m["text"] for m in fake.messages("C1")] == ["kept"]


def test_fail_next_api_error(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("views.open", error="expired_trigger_id")
    assert (
        api_error(client.views_open, trigger_id="1.2.3", view=modal()).response["error"]
        == "expired_trigger_id"
    )
    assert fake.views() == [] and fake.fault_counts["error"] == 1
    assert client.views_open(trigger_id="1.2.3", view=modal())["ok"]


# ---------------------------------------------------------------------------------- payload shapes


def test_message_event_shapes_match_fixtures() -> None:
    human = payloads.message_event("T111", "C111", "U111", "<@W111>", ts="1610197986.000300")
    assert key_shape(human) == key_shape(fixture("event_message.json"))
    assert human["event"]["blocks"][0]["elements"][0]["elements"] == [{"type": "user", "user_id": "W111"}]
    assert human["event_time"] == 1610197986 and human["event_id"].startswith("Ev")
    classic = payloads.message_event(
        "T111", "C111", None, "Hi there!", bot_id="B888", subtype="bot_message", enterprise_id="E111"
    )
    assert key_shape(classic) == key_shape(fixture("event_message_bot_message.json"))
    modern = payloads.message_event("T111", "C111", "U0BOT", "SR-1 opened", bot_id="B111")
    assert "subtype" not in modern["event"] and modern["event"]["bot_id"] == "B111"
    reply = payloads.message_event("T111", "C111", "U111", "more", thread_ts="1610197986.000300")
    assert reply["event"]["thread_ts"] == "1610197986.000300" and reply["event"]["parent_user_id"] == "U111"


def test_other_event_shapes() -> None:
    home = payloads.app_home_opened_event("T111", "W222", enterprise_id="E111")
    assert key_shape(home) == key_shape(fixture("event_app_home_opened_home_tab.json"))
    changed = payloads.message_changed_event("T1", "C1", "1.000100", "new text", "U1", old_text="old")
    event = changed["event"]
    assert event["subtype"] == "message_changed" and event["message"]["ts"] == "1.000100"
    assert event["message"]["edited"]["user"] == "U1" and event["previous_message"]["text"] == "old"
    deleted = payloads.message_deleted_event("T1", "C1", "1.000100", "U1")["event"]
    assert deleted["deleted_ts"] == "1.000100" and deleted["hidden"]
    reaction = payloads.reaction_added_event("T1", "C1", "U2", "lock", "1.000100")["event"]
    assert reaction["item"] == {"type": "message", "channel": "C1", "ts": "1.000100"}
    assert key_shape(payloads.url_verification()) == key_shape(fixture("url_verification.json"))


def test_command_and_interaction_shapes_match_fixtures() -> None:
    command = payloads.slash_command("T1", "C1", "U1", "list open")
    assert key_shape(command) == key_shape(fixture("slash_command.json"))
    assert all(isinstance(v, str) for v in command.values())
    assert not command["response_url"].startswith("https://hooks.slack.com")
    clicked = payloads.block_actions("T0G9PQBBK", "U111", "button", "clicked", channel="C111")
    assert key_shape(clicked) == key_shape(fixture("block_actions.json"))
    submitted = payloads.view_submission(
        "T111", "W111", "view-id", "This is for you!", {"hspI": {"maBWU": "test"}}, enterprise_id="E111"
    )
    assert key_shape(submitted) == key_shape(fixture("view_submission.json"))
    assert submitted["view"]["state"] == fixture("view_submission.json")["view"]["state"]


def test_socket_mode_shapes_match_fixtures() -> None:
    command = payloads.slash_command("T111", "C111", "U111", "", api_app_id="A111")
    envelope = payloads.socket_mode_envelope("slash_commands", command)
    assert key_shape(envelope) == key_shape(fixture("socket_mode_envelope_slash_commands.json"))
    assert envelope["accepts_response_payload"] is True
    event = payloads.socket_mode_envelope(
        "events_api", payloads.app_home_opened_event("T1", "U1"), retry_attempt=1
    )
    assert (event["retry_attempt"], event["accepts_response_payload"]) == (1, False)
    assert key_shape(payloads.socket_mode_hello()) == key_shape(fixture("socket_mode_hello.json"))


def test_builders_fill_unique_ids() -> None:
    events = {payloads.message_event("T1", "C1", "U1", "x")["event_id"] for _ in range(500)}
    triggers = {payloads.slash_command("T1", "C1", "U1", "")["trigger_id"] for _ in range(500)}
    stamps = [payloads.new_ts() for _ in range(500)]
    assert len(events) == len(triggers) == len(set(stamps)) == 500
    assert stamps == sorted(stamps, key=payloads.parse_ts)


def test_block_actions_from_a_stored_message_and_a_view(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="card")
    clicked = payloads.block_actions("T1", "U2", "take", "SR-1", channel="C1", message=fake.messages("C1")[0])
    assert clicked["container"]["message_ts"] == posted["ts"] and clicked["message"]["text"] == "card"
    opened = client.views_open(trigger_id="1.2.3", view=modal())["view"]
    in_view = payloads.block_actions("T1", "U2", "add", "x", view=opened)
    assert in_view["container"] == {"type": "view", "view_id": opened["id"]} and "channel" not in in_view
    submitted = payloads.view_submission("T1", "U2", None, None, {"rationale": {"value": "ok"}}, view=opened)
    assert submitted["view"]["id"] == opened["id"] and submitted["view"]["callback_id"] == "decide"
    assert submitted["view"]["private_metadata"] == '{"review": 1}'


# -------------------------------------------------------------------------------------- signatures


def test_sign_reproduces_slack_test_vector() -> None:
    vector = fixture("signing_test_vector.json")
    body = (FIXTURES / vector["raw_body_file"]).read_bytes()
    timestamp = int(vector["headers"]["X-Slack-Request-Timestamp"])
    sender = SlackSender("http://127.0.0.1:9/", vector["signing_secret"])
    assert sender.sign(body, timestamp) == vector["headers"]["X-Slack-Signature"]

    class FixedClock(Clock):
        def now(self) -> float:
            return float(timestamp)

    verifier = SignatureVerifier(vector["signing_secret"], clock=FixedClock())
    headers = sender.signed_headers(body, "application/x-www-form-urlencoded", timestamp)
    assert verifier.is_valid_request(body, headers)


SECRET = "sandbox-signing-secret"


@pytest.fixture(scope="module")
def verifying_app() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A tiny app endpoint that answers 200 only for requests slack_sdk's SignatureVerifier accepts."""
    received: list[dict[str, Any]] = []
    verifier = SignatureVerifier(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = dict(self.headers.items())
            valid = verifier.is_valid_request(body, headers)
            received.append({"headers": headers, "body": body, "valid": valid})
            answer = json.dumps({"valid": valid}).encode()
            self.send_response(200 if valid else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64  # the default backlog of 5 drops SYNs under 8 threads: a 1 s retransmit each

    app = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=app.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{app.server_address[1]}/slack/events", received
    app.shutdown()
    app.server_close()


def test_sender_requests_pass_slack_sdk_verification(verifying_app: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = verifying_app
    received.clear()
    sender = SlackSender(url, SECRET)
    event = sender.send_event(payloads.message_event("T1", "C1", "U1", "new project"), retry_num=1)
    command = sender.send_command(payloads.slash_command("T1", "C1", "U1", "help"))
    interaction = sender.send_interaction(payloads.block_actions("T1", "U1", "take", "SR-1", channel="C1"))
    assert [r.status for r in (event, command, interaction)] == [200, 200, 200]
    assert event.json() == {"valid": True} and event.elapsed > 0
    assert event.headers["content-type"] == "application/json" and "Content-Type" in event.headers
    sent = [r["headers"] for r in received]
    assert sent[0]["Content-Type"] == "application/json"
    assert (sent[0]["X-Slack-Retry-Num"], sent[0]["X-Slack-Retry-Reason"]) == ("1", "http_timeout")
    assert sent[1]["Content-Type"] == sent[2]["Content-Type"] == "application/x-www-form-urlencoded"
    assert "X-Slack-Retry-Num" not in sent[1]
    form = urllib.parse.parse_qs(received[2]["body"].decode())
    assert json.loads(form["payload"][0])["type"] == "block_actions"

    forged = sender.send_raw(b"{}", "application/json", signature="v0=" + "0" * 64)
    stale = sender.send_event({"type": "event_callback"}, timestamp=int(time.time()) - 600)
    assert (forged.status, stale.status) == (401, 401)


def test_sender_is_thread_safe(verifying_app: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = verifying_app
    sender = SlackSender(url, SECRET, timeout=5)
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(5):
            status = sender.send_event(payloads.message_event("T1", "C1", "U1", "hi")).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 40


def test_a_workflow_step_is_ended_once_with_outputs_or_an_error(fake: FakeSlack) -> None:
    execution_id, token = fake.start_function("open_security_review")
    assert token.startswith("xwfp-") and fake.function_run(execution_id)["state"] == "running"  # type: ignore[index]
    step = WebClient(base_url=fake.api_url, token=token)
    step.functions_completeSuccess(function_execution_id=execution_id, outputs={"review_key": "SR-1"})
    run = fake.function_run(execution_id)
    assert run is not None and (run["state"], run["outputs"]) == ("completed", {"review_key": "SR-1"})
    with pytest.raises(SlackApiError) as again:
        step.functions_completeError(function_execution_id=execution_id, error="too late")
    assert again.value.response["error"] == "execution_not_in_running_state"
    with pytest.raises(SlackApiError) as unknown:
        step.functions_completeSuccess(function_execution_id="Fx0NOPE", outputs={})
    assert unknown.value.response["error"] == "function_execution_not_found"
    other, _ = fake.start_function("open_security_review")
    step.functions_completeError(function_execution_id=other, error="The step needs a project title")
    assert fake.function_run(other) == {**fake.function_run(other), "state": "failed",  # type: ignore[dict-item]
                                        "error": "The step needs a project title"}
