"""The whole review flow through the real Bolt App over HTTP: what Slack receives and what the database holds.

The core flows run twice (`any_world`): in-process, and against `secreview serve` as a real process.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.common.ids import ActionId, BlockId
from sandbox import payloads
from storage.models import AuditEvent, Decision, OutboxMessage, Review
from tests.support.world import (
    ANNOUNCE,
    CISO,
    GROUP_REVIEWER,
    OWNER,
    REVIEWER,
    SECURITY,
    STRANGER,
    World,
    flatten_text,
)

ANNOUNCEMENT = "Kick-off: we are rolling out Salesforce for the support team, go-live 2031-04-15. Customer data moves."


def select_(value: str, kind: str = "static_select") -> dict[str, Any]:
    return {"type": kind, "selected_option": {"value": value}}


def intake_values(**overrides: Any) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        BlockId.TITLE: {BlockId.TITLE: {"type": "plain_text_input", "value": "Salesforce Service Cloud"}},
        BlockId.SUMMARY: {BlockId.SUMMARY: {"type": "plain_text_input", "value": "Support tickets move to SaaS"}},
        BlockId.OWNER: {BlockId.OWNER: {"type": "users_select", "selected_user": OWNER}},
        BlockId.GO_LIVE: {BlockId.GO_LIVE: {"type": "datepicker", "selected_date": "2031-04-15"}},
        BlockId.CLASSIFICATION: {BlockId.CLASSIFICATION: select_("confidential")},
        BlockId.SENSITIVE: {BlockId.SENSITIVE: {"type": "checkboxes", "selected_options": [{"value": "personal"}]}},
        BlockId.EXPOSURE: {BlockId.EXPOSURE: select_("internet", "radio_buttons")},
        BlockId.HOSTING: {BlockId.HOSTING: select_("saas")},
        BlockId.THIRD_PARTIES: {BlockId.THIRD_PARTIES: {"type": "plain_text_input", "value": "Salesforce"}},
        BlockId.USES_AI: {BlockId.USES_AI: select_("no", "radio_buttons")},
        BlockId.CHANGES_AUTH: {BlockId.CHANGES_AUTH: select_("yes", "radio_buttons")},
        BlockId.LINKS: {BlockId.LINKS: {"type": "plain_text_input", "value": "https://wiki.example.com/sf"}},
    }
    values.update(overrides)
    return values


def decision_values(outcome: str, rationale: str = "", conditions: str = "", cost: str = "") -> dict[str, Any]:
    return {
        BlockId.OUTCOME: {BlockId.OUTCOME: select_(outcome, "radio_buttons")},
        BlockId.RATIONALE: {BlockId.RATIONALE: {"type": "plain_text_input", "value": rationale or None}},
        BlockId.CONDITIONS: {BlockId.CONDITIONS: {"type": "plain_text_input", "value": conditions or None}},
        BlockId.COST_AVOIDED: {BlockId.COST_AVOIDED: {"type": "plain_text_input", "value": cost or None}},
    }


def open_one(world: World, text: str = ANNOUNCEMENT) -> tuple[str, Review]:
    ts, responses = world.announce(text)
    assert [r.status for r in responses] == [200]
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) >= 1)
    world.settle()
    return ts, world.reviews()[-1]


def card_of(world: World, review: Review) -> dict[str, Any]:
    message = world.fake.message(SECURITY, review.card_ts or "")
    assert message is not None
    return message


def card_buttons(card: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in card.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def test_an_announcement_delivered_three_times_opens_one_review(any_world: World) -> None:
    world = any_world
    ts, responses = world.announce(ANNOUNCEMENT, retries=2)
    assert [r.status for r in responses] == [200, 200, 200]
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) == 1)
    world.settle()
    reviews = world.reviews()
    assert [r.key for r in reviews] == ["SR-1"]
    assert reviews[0].go_live == date(2031, 4, 15)
    assert "saas" in reviews[0].tags or "Salesforce" in reviews[0].vendors
    replies = world.fake.thread(ANNOUNCE, ts)[1:]
    assert len(replies) == 1
    assert "SR-1" in flatten_text(replies[0])
    assert ActionId.START_INTAKE in json.dumps(replies[0]["blocks"])
    card = world.fake.messages(SECURITY)[0]
    assert card_buttons(card) == [ActionId.TAKE, ActionId.DECIDE, ActionId.ASK_INFO, ActionId.NOT_A_PROJECT]
    assert len(world.fake.messages(SECURITY)) == 1


def test_bots_thread_replies_other_subtypes_and_chatter_are_ignored(world: World) -> None:
    world.announce("new project: the build bot says hi", bot_id="B0OTHER")
    world.announce("new project: a classic bot", subtype="bot_message")
    world.announce("new project mentioned in a reply", thread_ts="1700000000.000001")
    world.announce("who moved my stapler?")
    world.announce("new project in a private channel", channel_type="group")
    # A real announcement afterwards proves the listener ran all along.
    open_one(world, "New project: payroll moves to Workday")
    assert [r.title for r in world.reviews()] == [world.reviews()[0].title]
    assert len(world.reviews()) == 1


def test_the_lock_reaction_opens_a_review_once(world: World) -> None:
    message = world.fake.add_message(ANNOUNCE, OWNER, "We will try a vendor for expense reports next month")
    envelope = payloads.reaction_added_event(world.team, ANNOUNCE, STRANGER, "lock", message["ts"])
    assert world.sender.send_event(envelope).status == 200
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) == 1)
    again = payloads.reaction_added_event(world.team, ANNOUNCE, REVIEWER, "lock", message["ts"])
    world.sender.send_event(again)
    other = payloads.reaction_added_event(world.team, ANNOUNCE, REVIEWER, "thumbsup", message["ts"])
    world.sender.send_event(other)
    world.settle()
    reviews = world.reviews()
    assert len(reviews) == 1
    assert reviews[0].owner_id == OWNER and "expense" in reviews[0].announcement_text


def test_edit_updates_the_review_and_delete_is_logged(world: World) -> None:
    ts, _review = open_one(world)
    edited = payloads.message_changed_event(world.team, ANNOUNCE, ts, "New project: Salesforce, go-live 2031-06-01",
                                            OWNER)
    world.sender.send_event(edited)
    world.fake.wait_for(lambda: world.review(1).go_live == date(2031, 6, 1))
    deleted = payloads.message_deleted_event(world.team, ANNOUNCE, ts, OWNER)
    world.sender.send_event(deleted)
    world.fake.wait_for(lambda: world.review(1).deleted_in_slack)
    with world.session() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions == ["announced", "announcement_edited", "announcement_deleted"]


def test_owner_fills_the_intake_and_the_card_shows_the_risk(any_world: World) -> None:
    world = any_world
    _ts, review = open_one(world)
    before = len(world.fake.calls("chat.update"))
    assert world.click(ActionId.START_INTAKE, review.key, user=OWNER, channel=ANNOUNCE).status == 200
    modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
    assert modal["callback_id"] == "intake-modal"
    response = world.submit(modal, intake_values(), user=OWNER)
    assert response.status == 200 and response.body in ("", "{}")
    world.fake.wait_for(lambda: len(world.fake.calls("chat.update")) > before)
    world.settle()
    stored = world.review(1)
    assert stored.title == "Salesforce Service Cloud" and stored.risk_tier in ("medium", "high", "critical")
    assert "GDPR" in stored.regulations
    card = card_of(world, stored)
    text = flatten_text(card)
    assert "personal data" in text and "internet-facing" in text  # the reasons, in words
    assert len(world.fake.messages(SECURITY)) == 1  # updated in place, not posted again


def test_intake_field_errors_are_shown_on_the_field(world: World) -> None:
    _, review = open_one(world)
    world.click(ActionId.START_INTAKE, review.key, user=OWNER, channel=ANNOUNCE)
    modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
    past = (date.today() - timedelta(days=3)).isoformat()
    response = world.submit(modal, intake_values(**{
        BlockId.GO_LIVE: {BlockId.GO_LIVE: {"type": "datepicker", "selected_date": past}}}), user=OWNER)
    body = response.json()
    assert body["response_action"] == "errors" and "go_live" in body["errors"]
    blank = world.submit(modal, intake_values(**{
        BlockId.TITLE: {BlockId.TITLE: {"type": "plain_text_input", "value": "   "}}}), user=OWNER)
    assert "title" in blank.json()["errors"]
    assert world.review(1).answers is None


def test_a_stranger_cannot_open_someone_elses_intake(world: World) -> None:
    _, review = open_one(world)
    text = world.press(ActionId.START_INTAKE, review.key, user=STRANGER, channel=ANNOUNCE)
    assert "Only the project owner" in text and OWNER in text
    assert world.fake.views(user=STRANGER) == []


def test_reviewer_decides_with_conditions(any_world: World) -> None:
    world = any_world
    ts, review = open_one(world)
    assert "You took" in world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    world.click(ActionId.DECIDE, review.key, user=REVIEWER, message_ts=review.card_ts)
    modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER))[-1]
    assert modal["callback_id"] == "decision-modal"
    response = world.submit(modal, decision_values("approved_with_conditions", "Fine once SSO is on",
                                                   "SSO with MFA\nDPA signed", "25 000"), user=REVIEWER)
    assert response.status == 200 and response.body in ("", "{}")
    world.fake.wait_for(lambda: world.review(1).state == "approved_with_conditions")
    world.settle()
    stored = world.review(1)
    assert [c.text for c in stored.conditions] == ["SSO with MFA", "DPA signed"]
    with world.session() as session:
        decision = session.scalars(select(Decision)).one()
        assert decision.decided_by == REVIEWER and str(decision.cost_avoided) == "25000.00"
    thread_text = flatten_text(world.fake.thread(ANNOUNCE, ts)[-1])
    assert "Approved with conditions" in thread_text and "SSO with MFA" in thread_text
    card = card_of(world, stored)
    assert card_buttons(card) == []  # no stale buttons on a decided card
    assert "Approved with conditions" in flatten_text(card)
    dm = world.fake.messages(world.fake.dm_channel(OWNER))
    assert dm and "Approved with conditions" in flatten_text(dm[-1])


def test_non_reviewer_can_neither_open_nor_submit_a_decision(any_world: World) -> None:
    world = any_world
    _, review = open_one(world)
    refusal = world.press(ActionId.DECIDE, review.key, user=STRANGER, message_ts=review.card_ts)
    assert "Only the security reviewers" in refusal
    assert world.fake.views(user=STRANGER) == []
    # A forged submission of the decision modal: checked again on submit, nothing recorded.
    forged = payloads.view_submission(world.team, STRANGER, "decision-modal", json.dumps({"key": review.number}),
                                      decision_values("approved"))
    response = world.sender.send_interaction(forged)
    assert response.json()["response_action"] == "errors"
    assert "Only the security reviewers" in json.dumps(response.json()["errors"])
    assert world.review(1).state == "announced"
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 0


def test_decision_validation_errors_land_on_the_field(world: World) -> None:
    _, review = open_one(world)
    world.click(ActionId.DECIDE, review.key, user=REVIEWER, message_ts=review.card_ts)
    modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER))[-1]
    for values, field in ((decision_values("rejected"), "rationale"),
                          (decision_values("approved_with_conditions", "ok"), "conditions"),
                          (decision_values("approved", cost="a lot"), "cost_avoided")):
        body = world.submit(modal, values, user=REVIEWER).json()
        assert body["response_action"] == "errors" and field in body["errors"]
    assert world.review(1).state == "announced"


def test_user_group_reviewer_may_take(world: World) -> None:
    _, review = open_one(world)
    world.click(ActionId.TAKE, review.key, user=GROUP_REVIEWER, message_ts=review.card_ts)
    world.fake.wait_for(lambda: world.review(1).assignee_id == GROUP_REVIEWER)
    assert world.fake.calls("usergroups.users.list")


def test_not_a_project_and_fast_track_buttons(world: World) -> None:
    _, first = open_one(world)
    closed = world.press(ActionId.NOT_A_PROJECT, first.key, user=REVIEWER, message_ts=first.card_ts)
    assert "not a project" in closed and world.review(1).state == "not_applicable"
    _, second = open_one(world, "New project: canteen menu page on the intranet")
    refused = world.press(ActionId.FAST_TRACK, second.key, user=REVIEWER, message_ts=second.card_ts)
    assert "not low risk" in refused
    assert world.review(2).state == "announced"


def test_hostile_text_reaches_nobody_as_a_ping_or_link(any_world: World) -> None:
    world = any_world
    ts, _ = open_one(world, "New project <!channel> <!here> <@U0BOB> <http://evil.example|click here> & more")
    world.settle()
    for message in (world.fake.messages(SECURITY)[0], world.fake.thread(ANNOUNCE, ts)[-1]):
        text = json.dumps(message.get("blocks")) + message.get("text", "")
        for live in ("<!channel>", "<!here>", "<@U0BOB>", "<http://evil"):
            assert live not in text


def test_a_5000_character_title_is_cut_not_refused(world: World) -> None:
    _ts, _review = open_one(world, "New project: " + "very long name " * 350)
    world.settle()
    with world.session() as session:
        failed = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "failed"))
    assert failed == 0  # the fake refuses invalid blocks, so nothing over Slack's limits was sent
    header = world.fake.messages(SECURITY)[0]["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")


def test_admin_is_a_reviewer_too(world: World) -> None:
    _, review = open_one(world)
    world.click(ActionId.TAKE, review.key, user=CISO, message_ts=review.card_ts)
    world.fake.wait_for(lambda: world.review(1).assignee_id == CISO)
