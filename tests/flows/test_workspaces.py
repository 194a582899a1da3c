"""Several workspaces: every query is scoped by workspace, and each workspace speaks with its own bot token."""

from __future__ import annotations

import csv
import io

from sandbox import payloads
from tests.flows.test_review_flow import decision_values
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, World, flatten_text

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


def test_a_user_of_one_workspace_never_sees_or_changes_the_others(world: World) -> None:
    two_workspaces(world)
    keys = sorted((r.workspace_id, r.key) for r in world.reviews())
    assert keys == [(TEAM_A, "SR-1"), (TEAM_B, "SR-1")]  # keys are per workspace

    listed = ask_in(world, TEAM_B, "list all", REVIEWER)
    assert "bravo" in listed and "alpha" not in listed
    shown = ask_in(world, TEAM_B, "show SR-1", REVIEWER)
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

    world.sender.send_event(payloads.app_home_opened_event(TEAM_A, OWNER))
    home = world.fake.wait_for(lambda: world.fake.home(OWNER))
    assert "alpha" in flatten_text(home) and "bravo" not in flatten_text(home)
