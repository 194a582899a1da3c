"""Several workspaces: every query is scoped by workspace, and each workspace speaks with its own bot token."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from sandbox import payloads
from storage import db
from tests.flows.test_review_flow import decision_values
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, SECURITY, World, flatten_text, running_world

TEAM_A, TEAM_B = "T0AAAAAAA", "T0BBBBBBB"


def announce_in(world: World, team: str, text: str) -> str:
    message = world.fake.add_message(ANNOUNCE, OWNER, text)
    world.sender.send_event(payloads.message_event(team, ANNOUNCE, OWNER, text, ts=message["ts"]))
    return str(message["ts"])


def ask_in(world: World, team: str, text: str, user: str) -> str:
    before = world.answer_count(user)
    form = payloads.slash_command(team, ANNOUNCE, user, text, response_url=world.fake.response_url(ANNOUNCE, user),
                                  trigger_id=world.fake.trigger_id(user))
    assert world.sender.send_command(form).status == 200
    return world.wait_answer(user, before)


def two_workspaces(world: World) -> None:
    announce_in(world, TEAM_A, "New project: alpha payroll in team A")
    world.fake.wait_for(lambda: len(world.reviews()) == 1)
    announce_in(world, TEAM_B, "New project: bravo CRM in team B")
    world.fake.wait_for(lambda: len(world.reviews()) == 2)
    world.settle()


def test_a_user_of_one_workspace_never_sees_or_changes_the_others(oauth_world: World) -> None:
    # Several workspaces are served through OAuth installations only: one bot token serves its own (test_attacks).
    world = oauth_world
    two_workspaces(world)
    keys = sorted((r.workspace_id, r.key) for r in world.reviews())
    assert keys == [(TEAM_A, "SR-1"), (TEAM_B, "SR-1")]  # keys are per workspace

    listed = ask_in(world, TEAM_B, "list all", REVIEWER)
    listed = listed.lower()  # titles start with a capital ("Bravo CRM in team B")
    assert "bravo" in listed and "alpha" not in listed
    shown = ask_in(world, TEAM_B, "show SR-1", REVIEWER)
    shown = shown.lower()
    assert "bravo" in shown and "alpha" not in shown

    ask_in(world, TEAM_B, "export csv", REVIEWER)
    rows = list(csv.DictReader(io.StringIO(world.fake.files()[-1]["content"].decode())))
    assert [(r["workspace"], r["key"]) for r in rows] == [(TEAM_B, "SR-1")]

    # Deciding SR-1 from workspace B decides B's SR-1 only.
    form = payloads.slash_command(TEAM_B, ANNOUNCE, REVIEWER, "decide SR-1",
                                  response_url=world.fake.response_url(ANNOUNCE, REVIEWER),
                                  trigger_id=world.fake.trigger_id(REVIEWER))
    world.sender.send_command(form)
    modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER))[-1]
    submission = payloads.view_submission(TEAM_B, REVIEWER, modal["callback_id"], modal["private_metadata"],
                                          decision_values("approved"), view=modal)
    assert world.sender.send_interaction(submission).status == 200
    world.fake.wait_for(lambda: any(r.state == "approved" for r in world.reviews()))
    states = {r.workspace_id: r.state for r in world.reviews()}
    assert states == {TEAM_A: "announced", TEAM_B: "approved"}

    # The fake has one set of users for both teams: the home B's decision republished is there first.
    world.settle()
    world.sender.send_event(payloads.app_home_opened_event(TEAM_A, OWNER))
    home = world.fake.wait_for(
        lambda: "alpha" in flatten_text(world.fake.home(OWNER) or {}).lower() and world.fake.home(OWNER))
    assert "bravo" not in flatten_text(home).lower()


@pytest.fixture
def oauth_world(database_url: str) -> Iterator[World]:
    """secreview with OAuth on: two installations, each with its own bot token."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    store = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    for team, token in ((TEAM_A, "xoxb-team-a"), (TEAM_B, "xoxb-team-b")):
        store.save(Installation(app_id="A0SECREV", team_id=team, bot_token=token, bot_id=f"B{team[1:]}",
                                bot_user_id="U0SECBOT", bot_scopes=["chat:write"], user_id=OWNER,
                                installed_at=datetime.now(UTC).timestamp()))
    engine.dispose()
    with running_world(database_url, slack_client_id="111.222", slack_client_secret="oauth-secret",
                       slack_bot_token=None) as running:
        yield running


def test_oauth_each_workspace_uses_its_own_token(oauth_world: World) -> None:
    world = oauth_world
    two_workspaces(world)
    posts = world.fake.calls("chat.postMessage")
    tokens = {json.dumps(call.params.get("channel")) + call.headers.get("Authorization", "") for call in posts}
    assert any("xoxb-team-a" in t for t in tokens) and any("xoxb-team-b" in t for t in tokens)
    cards = [c for c in posts if c.params.get("channel") == SECURITY]
    assert len(cards) == 2
    # The install page is served (Bolt's OAuth flow), on the same database.
    with urllib.request.urlopen(f"{world.base_url}/slack/install") as response:
        assert response.status == 200 and "slack.com/oauth/v2/authorize" in response.read().decode()
