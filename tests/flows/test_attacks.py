"""Issue 13, findings 2 to 5, each reproduced through secreview's real HTTP app with signed requests.

2. With the automatic fast track on, an owner cannot lower the risk after a reviewer stepped in and have the
   system approve it: the reviewers are told what changed instead.
3. The same signed bytes of a command, a click or a modal submission, sent again within Slack's 5-minute
   window, run once.
4. A single bot token serves the workspace it belongs to and no other.
5. Absurd ids, owners that are not users, invisible characters in titles, file modes, /metrics.
"""

from __future__ import annotations

import json
import os
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.common.ids import ActionId, BlockId, CallbackId
from sandbox import payloads
from storage import db
from storage.models import AuditEvent, Workspace
from tests.flows.test_review_flow import decision_values, intake_values, open_one, select_
from tests.support.world import (
    ANNOUNCE,
    OWNER,
    REVIEWER,
    SECURITY,
    STRANGER,
    World,
    flatten_text,
    running_process_world,
    running_world,
)

FORM = "application/x-www-form-urlencoded"


def audit_actions(world: World, action: str) -> int:
    """How many audit rows record `action`."""
    with world.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))
                   or 0)


def low_risk_values() -> dict[str, dict[str, Any]]:
    """Intake answers that score low: public data, internal only, on our own servers, no AI, no auth change."""
    return intake_values(**{
        BlockId.CLASSIFICATION: {BlockId.CLASSIFICATION: select_("public")},
        BlockId.SENSITIVE: {BlockId.SENSITIVE: {"type": "checkboxes", "selected_options": [{"value": "none"}]}},
        BlockId.EXPOSURE: {BlockId.EXPOSURE: select_("internal", "radio_buttons")},
        BlockId.HOSTING: {BlockId.HOSTING: select_("on_prem")},
        BlockId.THIRD_PARTIES: {BlockId.THIRD_PARTIES: {"type": "plain_text_input", "value": None}},
        BlockId.CHANGES_AUTH: {BlockId.CHANGES_AUTH: select_("no", "radio_buttons")},
    })


def submit_intake(world: World, values: dict[str, dict[str, Any]], *, user: str = OWNER, key: int = 1) -> Any:
    """Submits the intake modal of SR-<key> as `user` (as Slack would after the modal was opened)."""
    payload = payloads.view_submission(world.team, user, CallbackId.INTAKE, json.dumps({"key": key}), values)
    return world.sender.send_interaction(payload)


# --- 2. the fast track cannot be used to get around a reviewer ---------------------------------------------

@pytest.fixture
def auto_world(database_url: str) -> Iterator[World]:
    """secreview with SECREVIEW_FAST_TRACK_AUTO=true."""
    with running_world(database_url, secreview_fast_track_auto=True) as running:
        yield running


def test_an_owner_lowering_the_risk_after_a_reviewer_stepped_in_is_flagged_not_approved(auto_world: World) -> None:
    world = auto_world
    open_one(world)
    assert submit_intake(world, intake_values()).status == 200  # high risk: personal data, internet, SaaS
    world.fake.wait_for(lambda: world.review(1).risk_tier == "high")
    world.ask("info SR-1 Which personal data, and who can reach it?", user=REVIEWER)
    world.fake.wait_for(lambda: world.review(1).state == "needs_info")
    world.settle()
    dms_before = len(world.fake.messages(REVIEWER))

    assert submit_intake(world, low_risk_values()).status == 200  # the owner answers again, all low
    world.fake.wait_for(lambda: world.review(1).risk_tier == "low")
    world.settle()
    review = world.review(1)
    assert review.state == "in_review" and review.decisions == []  # still the reviewer's to decide
    flagged = world.fake.wait_for(lambda: world.fake.messages(REVIEWER)[dms_before:])
    text = flatten_text(flagged)
    assert "SR-1" in text and "high" in text and "low" in text and "internet" in text.lower()
    with world.session() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "intake_submitted")
                                      .order_by(AuditEvent.seq)))
    last = events[-1].data
    assert last["before"]["answers"]["exposure"] == "internet" and last["answers"]["exposure"] == "internal"
    assert last["before"]["risk_tier"] == "high" and last["risk_tier"] == "low"


def test_the_first_low_intake_of_an_untouched_review_is_still_fast_tracked(auto_world: World) -> None:
    world = auto_world
    open_one(world)
    assert submit_intake(world, low_risk_values()).status == 200
    world.fake.wait_for(lambda: world.review(1).state == "approved_with_conditions")
    assert world.review(1).decisions[0].fast_track


def test_a_taken_review_is_never_fast_tracked_automatically(auto_world: World) -> None:
    world = auto_world
    open_one(world)
    world.ask("take SR-1", user=REVIEWER)
    assert submit_intake(world, low_risk_values()).status == 200
    world.fake.wait_for(lambda: world.review(1).risk_tier == "low")
    world.settle()
    assert world.review(1).state == "in_review" and world.review(1).decisions == []


# --- 3. a captured signed request runs once -------------------------------------------------------------------

def resend(world: World, body: bytes, times: int) -> list[int]:
    """Sends the very same signed bytes (same timestamp, same signature) `times` times."""
    timestamp = int(time.time())
    return [world.sender.send_raw(body, FORM, timestamp=timestamp).status for _ in range(times)]


def test_a_command_a_click_and_a_submission_sent_again_run_once(any_world: World) -> None:
    world = any_world
    open_one(world)
    take = payloads.block_actions(world.team, REVIEWER, ActionId.TAKE, "SR-1", channel=SECURITY,
                                  trigger_id=world.fake.trigger_id(REVIEWER),
                                  response_url=world.fake.response_url(SECURITY, REVIEWER, kind="actions"))
    assert resend(world, urllib.parse.urlencode({"payload": json.dumps(take)}).encode(), 2) == [200, 200]
    world.fake.wait_for(lambda: audit_actions(world, "taken") >= 1)

    info = payloads.slash_command(world.team, ANNOUNCE, REVIEWER, "info SR-1 Which data moves?",
                                  response_url=world.fake.response_url(ANNOUNCE, REVIEWER),
                                  trigger_id=world.fake.trigger_id(REVIEWER))
    assert resend(world, urllib.parse.urlencode(info).encode(), 3) == [200, 200, 200]
    world.fake.wait_for(lambda: audit_actions(world, "info_requested") >= 1)

    question = payloads.view_submission(
        world.team, REVIEWER, CallbackId.ASK_INFO, json.dumps({"key": 1}),
        {BlockId.QUESTION: {BlockId.QUESTION: {"type": "plain_text_input", "value": "And who may see it?"}}})
    assert resend(world, urllib.parse.urlencode({"payload": json.dumps(question)}).encode(), 2) == [200, 200]
    world.fake.wait_for(lambda: audit_actions(world, "info_requested") >= 2)

    time.sleep(1.5)  # what a replay would have done after its ack
    world.ask("help", user=REVIEWER)  # the pipeline is still moving
    world.settle()
    assert audit_actions(world, "taken") == 1
    assert audit_actions(world, "info_requested") == 2  # the command once, the submission once
    questions = [m for m in world.fake.messages(OWNER) if "question" in flatten_text(m)]
    assert len(questions) == 2


# --- 4. one bot token, one workspace ------------------------------------------------------------------------

def test_a_single_token_serves_only_its_own_workspace(database_url: str, tmp_path: Path) -> None:
    with running_process_world(database_url, log_dir=tmp_path) as world:
        stranger_team = "TNOTINST"
        message = world.fake.add_message(ANNOUNCE, OWNER, "New project: a CRM for another company")
        envelope = payloads.message_event(stranger_team, ANNOUNCE, OWNER, message["text"], ts=message["ts"])
        assert world.sender.send_event(envelope).status == 200
        form = payloads.slash_command(stranger_team, ANNOUNCE, OWNER, "list all",
                                      response_url=world.fake.response_url(ANNOUNCE, OWNER),
                                      trigger_id=world.fake.trigger_id(OWNER))
        assert world.sender.send_command(form).status == 200
        open_one(world, "New project: payroll moves to Workday")  # the token's own workspace is served
        time.sleep(1.0)
        assert [(r.workspace_id, r.key) for r in world.reviews()] == [(world.team, "SR-1")]
        with world.session() as session:
            assert list(session.scalars(select(Workspace.id))) == [world.team]
        assert len(world.fake.messages(SECURITY)) == 1
        assert world.fake.responses() == []
        log = (tmp_path / "serve.log").read_text()
        assert "TNOTINST" in log and world.team in log


def test_oauth_workspaces_have_reviewers_of_their_own(database_url: str, tmp_path: Path) -> None:
    from slack_sdk.oauth.installation_store import Installation
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    team_a, team_b = "T0AAAAAAA", "T0BBBBBBB"
    config = tmp_path / "secreview.toml"
    config.write_text(f'[workspaces.{team_b}]\nreviewers = ["{STRANGER}"]\nadmins = []\n', encoding="utf-8")
    engine = db.make_engine(database_url)
    store = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    for team in (team_a, team_b):
        store.save(Installation(app_id="A0SECREV", team_id=team, bot_token=f"xoxb-{team.lower()}", bot_id="B0SEC",
                                bot_user_id="U0SECBOT", bot_scopes=["chat:write"], user_id=OWNER,
                                installed_at=time.time()))
    engine.dispose()
    with running_world(database_url, slack_client_id="111.222", slack_client_secret="oauth-secret",
                       slack_bot_token=None, secreview_config=config) as world:
        for team, text in ((team_a, "New project: alpha payroll"), (team_b, "New project: bravo CRM")):
            message = world.fake.add_message(ANNOUNCE, OWNER, text)
            world.sender.send_event(payloads.message_event(team, ANNOUNCE, OWNER, text, ts=message["ts"]))
        world.fake.wait_for(lambda: len(world.reviews()) == 2)

        def take(team: str, user: str) -> str:
            before = world.answer_count(user)
            form = payloads.slash_command(team, ANNOUNCE, user, "take SR-1",
                                          response_url=world.fake.response_url(ANNOUNCE, user),
                                          trigger_id=world.fake.trigger_id(user))
            assert world.sender.send_command(form).status == 200
            return world.wait_answer(user, before)

        assert "reviewer" in take(team_a, STRANGER).lower()  # refused in A: the global list applies there
        assert "reviewer" in take(team_b, REVIEWER).lower()  # refused in B: B has its own list
        take(team_b, STRANGER)
        world.settle()
        assignees = {r.workspace_id: r.assignee_id for r in world.reviews()}
        assert assignees == {team_a: None, team_b: STRANGER}


# --- 5. hardening ---------------------------------------------------------------------------------------------

def test_absurd_ids_are_answered_as_no_such_review(world: World) -> None:
    open_one(world)
    for key in (10**30, 2**63, -1):
        payload = payloads.view_submission(world.team, REVIEWER, CallbackId.DECISION, json.dumps({"key": key}),
                                           decision_values("approved"))
        response = world.sender.send_interaction(payload)
        assert response.status == 200 and response.json()["response_action"] == "errors", (key, response.body)
        assert "There is no review" in json.dumps(response.json()["errors"])
    answer = world.press(ActionId.CONDITION_DONE, "9" * 40, user=REVIEWER, channel=ANNOUNCE)
    assert "There is no condition" in answer
    assert world.review(1).state == "announced"


def test_an_owner_must_be_a_person_and_a_named_owner_is_told(world: World) -> None:
    open_one(world)
    for bogus in ("C0PROJECTS", "not-a-user", "U0ALICE<!channel>"):
        response = submit_intake(world, intake_values(**{
            BlockId.OWNER: {BlockId.OWNER: {"type": "users_select", "selected_user": bogus}}}))
        assert response.json()["response_action"] == "errors" and BlockId.OWNER in response.json()["errors"]
    assert world.review(1).answers is None
    response = submit_intake(world, intake_values(**{
        BlockId.OWNER: {BlockId.OWNER: {"type": "users_select", "selected_user": STRANGER}}}))
    assert response.status == 200 and response.body in ("", "{}")
    told = world.fake.wait_for(lambda: world.fake.messages(STRANGER))
    assert "SR-1" in flatten_text(told) and OWNER in flatten_text(told)
    assert world.review(1).owner_id == STRANGER


def test_invisible_and_direction_changing_characters_never_reach_slack(world: World) -> None:
    spoof = "SR-5 \u202egnp.exe\u202c \u200bpay\u2066roll\u2069\ufeff"
    open_one(world, f"New project: {spoof} rollout")
    response = submit_intake(world, intake_values(**{
        BlockId.TITLE: {BlockId.TITLE: {"type": "plain_text_input", "value": f"Invoice {spoof}"}}}))
    assert response.status == 200
    world.fake.wait_for(lambda: world.review(1).answers is not None)
    world.settle()
    direction = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    zero_width = set("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff")
    title = world.review(1).title
    assert title.startswith("Invoice SR-5 gnp.exe payroll") and not (direction | zero_width) & set(title)
    posted = world.fake.calls("chat.postMessage") + world.fake.calls("chat.update")
    assert posted
    for call in posted:  # the titles in every card and reply, and no direction change anywhere
        text = json.dumps(call.params, ensure_ascii=False)
        assert not direction & set(text), call.params.get("text")
        assert "Invoice SR-5 gnp.exe payroll" in text or "SR-5 gnp.exe payroll" in text, call.params.get("text")


def test_sqlite_files_are_created_for_the_owner_only(tmp_path: Path) -> None:
    from bot.run.workqueue import WorkQueue

    previous = os.umask(0o022)  # a usual umask: files would be world-readable
    try:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        queue = WorkQueue.open(url, engine)
        assert queue is not None
        queue.dispose()
        engine.dispose()
    finally:
        os.umask(previous)
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert {p.name for p in tmp_path.iterdir()} >= {"fresh.db", "fresh-queue.db"}


def test_the_systemd_unit_keeps_files_private() -> None:
    unit = (Path(__file__).resolve().parents[2] / "deploy" / "secreview.service").read_text()
    assert "\nUMask=0077\n" in unit


def get(url: str, headers: dict[str, str] | None = None) -> int:
    """The status of a GET."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_metrics_can_require_a_bearer_token(database_url: str, tmp_path: Path) -> None:
    token = "scrape-me-7-0123456789"
    with running_process_world(database_url, log_dir=tmp_path, secreview_metrics_token=token) as world:
        url = f"{world.base_url}/metrics"
        assert get(url) == 401
        assert get(url, {"Authorization": "Bearer wrong"}) == 401
        assert get(url, {"Authorization": f"Bearer {token}"}) == 200
        assert get(f"{world.base_url}/healthz") == 200


def test_metrics_stay_open_without_a_token(world: World) -> None:
    assert get(f"{world.base_url}/metrics") == 200
