"""Every message secreview posted about a review stays true as the review moves (issue 14, points 1–7).

Through the real Bolt app over HTTP: what the fake Slack shows in the thread, on the card, in DMs and on App Home
after each step, and what the database holds.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.common.ids import ActionId
from bot.slack.commands import COMMANDS, parse
from sandbox import payloads
from storage.models import AuditEvent, OutboxMessage, PostedMessage
from tests.flows.test_review_flow import card_buttons, card_of, decision_values, intake_values, open_one
from tests.support.world import ANNOUNCE, GROUP_REVIEWER, OWNER, REVIEWER, SECURITY, World, flatten_text

PERMALINK = re.compile(r"<http://127\.0\.0\.1:\d+/archives/C0PROJECTS/p\d+\|the announcement's thread>")


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a message or view, wherever it sits (actions blocks, accessories)."""
    found: list[dict[str, Any]] = []
    for block in message.get("blocks", []):
        found += [e for e in block.get("elements", []) if isinstance(e, dict) and e.get("type") == "button"]
        if isinstance(block.get("accessory"), dict) and block["accessory"].get("type") == "button":
            found.append(block["accessory"])
    return found


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in buttons(message)]


def reply_of(world: World, ts: str) -> dict[str, Any]:
    """secreview's first reply in the announcement's thread, as it stands now."""
    return world.fake.thread(ANNOUNCE, ts)[1]


def dms(world: World, user: str) -> list[dict[str, Any]]:
    return world.fake.messages(world.fake.dm_channel(user))


def intake(world: World, number: int, user: str = OWNER, **overrides: Any) -> None:
    """The owner opens the intake from the thread's button and submits it."""
    before = len(world.fake.views(user=user))
    world.click(ActionId.START_INTAKE, f"SR-{number}", user=user, channel=ANNOUNCE)
    modal = world.fake.wait_for(lambda: world.fake.views(user=user)[before:])[-1]
    response = world.submit(modal, intake_values(**overrides), user=user)
    assert response.status == 200 and response.body in ("", "{}"), response.body
    world.settle()


def decide(world: World, number: int, outcome: str = "approved_with_conditions") -> None:
    before = len(world.fake.views(user=REVIEWER))
    world.command(f"decide SR-{number}", user=REVIEWER, channel=SECURITY)
    modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER)[before:])[-1]
    response = world.submit(modal, decision_values(outcome, "Fine once SSO is on", "SSO with MFA\nDPA signed"),
                            user=REVIEWER)
    assert response.status == 200 and response.body in ("", "{}"), response.body
    world.fake.wait_for(lambda: world.review(number).state == outcome)
    world.settle()


def audit_count(world: World) -> int:
    with world.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


# --- 1. the thread reply and everything else posted follow the review ------------------------------------------

def test_the_thread_reply_says_where_the_review_stands_and_drops_its_button_once_decided(world: World) -> None:
    ts, review = open_one(world)
    opened = reply_of(world, ts)
    assert "answers a few questions" in flatten_text(opened) and labels(opened) == ["Start security intake"]
    world.sender.send_event(payloads.app_home_opened_event(world.team, OWNER))
    world.fake.wait_for(lambda: world.fake.home(OWNER))

    intake(world, review.number)
    after_intake = reply_of(world, ts)
    text = flatten_text(after_intake)
    assert "The intake is in" in text and "answers a few questions" not in text
    assert labels(after_intake) == ["Edit the intake"]  # the intake can still be edited while the review is open
    # The owner gets a short confirmation, with a link to the thread where the review lives.
    confirmation = flatten_text(dms(world, OWNER)[-1])
    assert "Thanks, the intake of" in confirmation and "is in" in confirmation and PERMALINK.search(confirmation)

    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    world.settle()
    assert f"<@{REVIEWER}> is reviewing it" in flatten_text(reply_of(world, ts))
    decide(world, review.number)

    thread = world.fake.thread(ANNOUNCE, ts)[1:]
    decided = flatten_text(thread[0])
    assert "is decided" in decided and "Approved with conditions" in decided and "Next:" not in decided
    assert [labels(m) for m in thread] == [[] for _ in thread]  # no button left in the thread
    assert len(world.fake.messages(SECURITY)) == 1 and card_buttons(card_of(world, world.review(1))) == []
    # The owner's home shows the decision without being opened again.
    home = flatten_text(world.fake.home(OWNER))
    assert "Approved with conditions" in home and "SSO with MFA" in home
    # Every message that shows the review is recorded where it landed, so the next change can update it.
    with world.session() as session:
        kinds = sorted(session.scalars(select(PostedMessage.kind)))
    assert kinds == ["card", "decision", "decision", "thread"]


def test_a_question_keeps_its_button_only_while_it_waits_for_the_answer(world: World) -> None:
    ts, review = open_one(world)
    world.ask(f"info SR-{review.number} Which customer data moves to the vendor?", user=REVIEWER, channel=SECURITY)
    world.settle()
    in_thread = world.fake.thread(ANNOUNCE, ts)[-1]
    in_dm = dms(world, OWNER)[-1]
    for message in (in_thread, in_dm):
        assert "Which customer data moves" in flatten_text(message) and labels(message) == ["Update the intake"]
    assert "Answer in this thread" in flatten_text(in_thread)
    # 6. In a DM "this thread" is not there: the owner is pointed at the announcement's thread, by link.
    assert "Answer in this thread" not in flatten_text(in_dm) and PERMALINK.search(flatten_text(in_dm))
    assert "Update the intake" in labels(reply_of(world, ts))
    card = flatten_text(card_of(world, world.review(1)))
    assert "*Asked* by" in card and "Which customer data moves" in card and "Waiting for information since" in card

    intake(world, review.number)
    for message in (world.fake.thread(ANNOUNCE, ts)[-1], dms(world, OWNER)[-2]):
        assert labels(message) == [] and "No longer waiting for an answer" in flatten_text(message)
    assert "*Asked* by" not in flatten_text(card_of(world, world.review(1)))


# --- 3. the card says what happened ------------------------------------------------------------------------------

def test_the_card_says_the_intake_is_in_the_tier_and_why_who_has_it_and_what_comes_next(world: World) -> None:
    _ts, review = open_one(world)
    before = flatten_text(card_of(world, review))
    assert "intake pending" in before and "answers the intake" in before
    intake(world, review.number)
    card = flatten_text(card_of(world, world.review(1)))
    assert "Announced · intake in" in card and "Status: Announced" not in card
    assert "+3 personal data" in card and "points" in card
    assert "unassigned" in card and "Next:* take it and decide" in card
    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    world.settle()
    card = flatten_text(card_of(world, world.review(1)))
    assert "In review · intake in" in card and f"<@{REVIEWER}> since" in card and f"<@{REVIEWER}> decides" in card


# --- 4. take ----------------------------------------------------------------------------------------------------

def test_take_take_over_and_release(world: World) -> None:
    _ts, review = open_one(world)
    assert "You took" in world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    world.settle()
    take = next(b for b in buttons(card_of(world, world.review(1))) if b["action_id"] == ActionId.TAKE)
    assert take["text"]["text"] == "Take over" and take["value"] == f"{review.key}:{REVIEWER}"
    assert f"<@{REVIEWER}>" in take["confirm"]["text"]["text"]  # the confirmation names who has it

    # Bob takes his own review again: said once, nothing recorded, nobody told; he may release it instead.
    audit, dm_count = audit_count(world), len(dms(world, REVIEWER))
    told = world.press(ActionId.TAKE, take["value"], user=REVIEWER, message_ts=review.card_ts)
    assert "You already have" in told and "You took" not in told
    assert labels(world.last_response(REVIEWER)) == ["Release"]
    world.settle()
    assert audit_count(world) == audit and len(dms(world, REVIEWER)) == dm_count

    # Erin clicks a card that still said "Take": she is asked to confirm a take-over, nothing moves silently.
    told = world.press(ActionId.TAKE, review.key, user=GROUP_REVIEWER, message_ts=review.card_ts)
    assert f"is with <@{REVIEWER}>" in told and world.review(1).assignee_id == REVIEWER
    prompt = buttons(world.last_response(GROUP_REVIEWER))
    assert [b["text"]["text"] for b in prompt] == ["Take over"] and "confirm" in prompt[0]
    told = world.press(ActionId.TAKE, prompt[0]["value"], user=GROUP_REVIEWER, message_ts=review.card_ts)
    assert "You took over" in told and world.review(1).assignee_id == GROUP_REVIEWER
    world.settle()
    assert "took over" in flatten_text(dms(world, REVIEWER)[-1])  # the previous reviewer is told

    # Releasing: only the one who has it (or an admin); the card offers "Take" again.
    assert "only they" in world.ask(f"release SR-{review.number}", user=REVIEWER, channel=SECURITY)
    assert "back in the queue" in world.ask(f"release SR-{review.number}", user=GROUP_REVIEWER, channel=SECURITY)
    world.settle()
    assert world.review(1).assignee_id is None
    assert labels(card_of(world, world.review(1)))[:2] == ["Take", "Decide"]


def test_a_click_delivered_twice_is_answered_once(world: World) -> None:
    _ts, review = open_one(world)
    click = payloads.block_actions(world.team, REVIEWER, ActionId.TAKE, review.key, channel=SECURITY,
                                   message_ts=review.card_ts, trigger_id=world.fake.trigger_id(REVIEWER),
                                   response_url=world.fake.response_url(SECURITY, REVIEWER, kind="actions"))
    answered = world.answer_count(REVIEWER)
    assert world.sender.send_interaction(click).status == 200
    world.wait_answer(REVIEWER, answered)
    assert world.sender.send_interaction(click).status == 200  # the same click (same action_ts) again
    world.settle()
    with world.session() as session:
        taken = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "taken"))
    assert taken == 1 and world.answer_count(REVIEWER) == answered + 1


# --- 5. and 6. who is told what, and what they can do -----------------------------------------------------------

def test_the_reviewer_who_decides_is_told_and_the_owner_is_shown_where_to_reply(world: World) -> None:
    _ts, review = open_one(world)
    decide(world, review.number)
    confirmation = flatten_text(dms(world, REVIEWER)[-1])
    assert f"You recorded *Approved with conditions* for *{review.key}" in confirmation
    assert "2 safeguards are tracked" in confirmation
    owner_dm = flatten_text(next(m for m in dms(world, OWNER) if "Safeguards to put in place" in flatten_text(m)))
    assert "Reply in this thread" not in owner_dm and PERMALINK.search(owner_dm)
    assert "/secreview done" in owner_dm
    with world.session() as session:  # the permalink came from Slack, at delivery
        assert session.scalars(select(OutboxMessage.id).where(OutboxMessage.state == "failed")).all() == []
    assert world.fake.calls("chat.getPermalink")


def test_a_safeguard_done_shows_on_the_card_the_decision_notices_and_the_home(world: World) -> None:
    ts, review = open_one(world)
    decide(world, review.number)
    condition = world.review(1).conditions[0]
    assert "Thank you" in world.ask(f"done {condition.id}", user=OWNER)
    world.settle()
    for message in (world.fake.thread(ANNOUNCE, ts)[-1], card_of(world, world.review(1))):
        assert re.search(r":white_check_mark: SSO with MFA \(#\d+", flatten_text(message))
    assert "1 of 2 safeguards still open" in flatten_text(reply_of(world, ts))
    home = world.fake.home(OWNER)
    assert home is not None and "SSO with MFA" not in flatten_text(home) and "DPA signed" in flatten_text(home)


def test_a_reopened_decision_says_it_is_no_longer_in_force(world: World) -> None:
    ts, review = open_one(world)
    decide(world, review.number)
    assert "reopened" in world.ask(f"reopen SR-{review.number} scope changed", user=REVIEWER, channel=SECURITY)
    world.settle()
    decision = next(m for m in world.fake.thread(ANNOUNCE, ts) if "Safeguards to put in place" in flatten_text(m))
    assert "no longer in force" in flatten_text(decision)
    reply = reply_of(world, ts)
    assert "is open for" in flatten_text(reply) and labels(reply) == ["Start security intake"]


# --- 7. help is made from the parser's table ------------------------------------------------------------------

def test_help_lists_every_subcommand_the_parser_knows_with_examples_that_parse(world: World) -> None:
    text = world.ask("help")
    for command in COMMANDS:
        usage = command.usage.replace("<", "&lt;").replace(">", "&gt;")
        assert f"`{usage}`" in text, command.sub
        if command.example:
            assert parse(f"{command.sub.value} {command.example}").sub is command.sub
    assert "`/secreview done 12`" in text and "`/secreview waive 12 &lt;reason&gt;`" in text


# --- App Home and messages that are gone ------------------------------------------------------------------------

def test_a_reviewer_looking_at_the_queue_sees_it_change_and_others_are_left_alone(world: World) -> None:
    world.sender.send_event(payloads.app_home_opened_event(world.team, GROUP_REVIEWER))
    world.fake.wait_for(lambda: world.fake.home(GROUP_REVIEWER))
    assert "SR-1" not in flatten_text(world.fake.home(GROUP_REVIEWER))
    open_one(world)
    world.settle()
    # Erin opened her Home a moment ago: the new review is in her queue without her opening it again. Bob never
    # opened his, so nothing is published for him (he gets his when he opens it).
    assert "SR-1" in flatten_text(world.fake.home(GROUP_REVIEWER))
    assert world.fake.home(REVIEWER) is None


def test_a_deleted_card_is_posted_again_by_the_next_change_and_nobody_is_alarmed(world: World) -> None:
    _ts, review = open_one(world)
    client = WebClient(token="xoxb-flow-test", base_url=world.fake.api_url)
    client.chat_delete(channel=SECURITY, ts=review.card_ts or "")  # an admin cleaned up the channel
    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    world.settle()  # the card's update fails: Slack says the message is gone
    with world.session() as session:
        assert session.scalars(select(PostedMessage.kind)).all() == ["thread"]
        failed = session.scalars(select(OutboxMessage.purpose).where(OutboxMessage.state == "failed")).all()
    assert failed == ["card_update"] and world.fake.messages(SECURITY) == []  # and no "could not deliver" notice
    world.ask(f"info SR-{review.number} Which data?", user=REVIEWER, channel=SECURITY)
    world.settle()
    cards = world.fake.messages(SECURITY)
    assert len(cards) == 1 and "*Asked* by" in flatten_text(cards[0])
    assert world.review(1).card_ts == cards[0]["ts"]
