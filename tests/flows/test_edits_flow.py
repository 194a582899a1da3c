"""An announcement edited (or deleted) at each stage of its review, through the real Bolt app over HTTP (issue 18).

Signed message_changed / message_deleted events; what the fake Slack then shows in the card's thread, in DMs, on
the card and in App Home, and what the review and its audit log hold.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from bot.common.ids import ActionId, BlockId
from sandbox import payloads
from storage.models import AuditEvent, OutboxMessage, ProcessedEvent
from tests.flows.test_messages_stay_true import buttons, decide, dms, intake
from tests.flows.test_review_flow import ANNOUNCEMENT, card_of, open_one
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, SECURITY, STRANGER, World, flatten_text

EARLIER = ("Kick-off: we are rolling out Salesforce for the support team, go-live 2031-02-01. Customer data moves."
           " Zendesk stays for the chat.")
WITH_PATIENTS = ("Kick-off: we are rolling out Salesforce for the support team, go-live 2031-02-01. Customer data"
                 " moves, and patient data too.")


def send(world: World, envelope: dict[str, Any]) -> None:
    """Delivers a signed event and waits until secreview has handled it and sent what it queued."""
    assert world.sender.send_event(envelope).status == 200

    def handled() -> bool:
        with world.session() as session:
            return session.get(ProcessedEvent, envelope["event_id"]) is not None

    world.fake.wait_for(handled)
    world.settle()


def edit(world: World, ts: str, text: str) -> None:
    """The owner edits the announcement; its signed message_changed event reaches secreview."""
    send(world, payloads.message_changed_event(world.team, ANNOUNCE, ts, text, OWNER))


def counts(world: World) -> tuple[int, int]:
    """How many audit rows and outbox rows there are."""
    with world.session() as session:
        return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def card_thread(world: World, number: int) -> list[dict[str, Any]]:
    """secreview's replies in the thread of the review's card."""
    card_ts = world.review(number).card_ts or ""
    return world.fake.thread(SECURITY, card_ts)[1:]


def last_edit(world: World) -> dict[str, Any]:
    with world.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "announcement_edited")
                                .order_by(AuditEvent.seq.desc())).first()
        assert event is not None
        return dict(event.data)


def test_before_the_intake_the_review_follows_the_text_and_an_unchanged_text_changes_nothing(world: World) -> None:
    ts, _review = open_one(world)
    edit(world, ts, EARLIER)
    stored = world.review(1)
    assert stored.go_live == date(2031, 2, 1) and "Zendesk" in stored.vendors
    assert "*Go-live*\n01 Feb 2031" in flatten_text(card_of(world, stored))
    assert card_thread(world, 1) == []  # nobody took it yet: the card itself shows the new facts
    before = counts(world)
    # Slack sends an "edit" when a link unfurls: the same text, which must leave no trace.
    send(world, payloads.message_changed_event(world.team, ANNOUNCE, ts, EARLIER, OWNER))
    send(world, payloads.message_changed_event(world.team, ANNOUNCE, ts, f"  {EARLIER}\n", OWNER))
    assert counts(world) == before
    assert world.review(1).announcement_text == EARLIER


def test_after_the_intake_the_owners_answers_stand_and_the_owner_is_asked(world: World) -> None:
    ts, review = open_one(world)
    intake(world, review.number)  # title "Salesforce Service Cloud", go-live 15 Apr 2031
    dm_count = len(dms(world, OWNER))
    edit(world, ts, EARLIER)
    stored = world.review(1)
    assert stored.title == "Salesforce Service Cloud" and stored.go_live == date(2031, 4, 15)
    assert "Zendesk" in stored.vendors and "Salesforce" in stored.vendors  # what the intake does not ask: added
    assert stored.announcement_text == EARLIER
    asked = dms(world, OWNER)[dm_count:]
    assert len(asked) == 1
    text = flatten_text(asked[0])
    assert "now says go-live *01 Feb 2031*" in text and "your intake says *15 Apr 2031*" in text
    [button] = buttons(asked[0])
    assert button["action_id"] == ActionId.START_INTAKE and button["value"] == "SR-1@2031-02-01"
    # The button opens the intake with the announcement's date in it; the owner's other answers as they were.
    before = len(world.fake.views(user=OWNER))
    world.click(ActionId.START_INTAKE, button["value"], user=OWNER, channel=world.fake.dm_channel(OWNER))
    modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER)[before:])[-1]
    go_live = next(b for b in modal["blocks"] if b.get("block_id") == BlockId.GO_LIVE)
    assert go_live["element"]["initial_date"] == "2031-02-01"
    assert world.review(1).go_live == date(2031, 4, 15)  # opening the modal wrote nothing
    # The same disagreement again (a typo fixed elsewhere in the text) asks nobody twice.
    edit(world, ts, EARLIER.replace("chat.", "chat!"))
    assert len(dms(world, OWNER)) == dm_count + 1
    assert last_edit(world)["before"]["go_live"] == "2031-04-15"
    # The owner takes the announcement's date: the question is settled, and the DM loses its button.
    intake(world, review.number, **{BlockId.GO_LIVE: {BlockId.GO_LIVE: {"type": "datepicker",
                                                                        "selected_date": "2031-02-01"}}})
    assert world.review(1).go_live == date(2031, 2, 1)
    settled = world.fake.wait_for(
        lambda: [m for m in dms(world, OWNER)[dm_count:] if "Settled" in flatten_text(m)])
    assert len(settled) == 1 and buttons(settled[0]) == []
    assert "the intake now says go-live *01 Feb 2031*" in flatten_text(settled[0])


def test_the_owners_question_loses_its_button_when_the_review_is_decided(world: World) -> None:
    ts, review = open_one(world)
    intake(world, review.number)
    edit(world, ts, EARLIER)
    [asked] = [m for m in dms(world, OWNER) if "Update the intake?" in flatten_text(m)]
    assert buttons(asked)
    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    decide(world, review.number)
    now = world.fake.wait_for(lambda: [m for m in dms(world, OWNER) if "can no longer be changed" in flatten_text(m)])
    assert len(now) == 1 and buttons(now[0]) == []  # the same DM, updated in place
    assert not [m for m in dms(world, OWNER) if "Update the intake?" in flatten_text(m) and buttons(m)]


def test_in_review_the_assignee_hears_what_changed_in_the_cards_thread(world: World) -> None:
    ts, review = open_one(world)
    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    world.settle()
    edit(world, ts, EARLIER)
    [reply] = card_thread(world, 1)
    text = flatten_text(reply)
    assert f"<@{REVIEWER}>" in text and f"<@{OWNER}> edited the announcement" in text
    assert "go-live 15 Apr 2031 → *01 Feb 2031*" in text and "new vendors: *Zendesk*" in text
    assert reply.get("subtype") is None  # the mention tells the assignee; the channel is spared
    stored = world.review(1)
    assert stored.go_live == date(2031, 2, 1)  # no intake: the reminders go by the newest text
    assert stored.changed_since_decision is None  # open reviews are weighed anyway
    data = last_edit(world)
    assert data["before"]["go_live"] == "2031-04-15" and data["after"]["go_live"] == "2031-02-01"


def test_unassigned_in_review_the_whole_channel_hears_it(world: World) -> None:
    ts, review = open_one(world)
    world.ask(f"info SR-{review.number} Which data moves?", user=REVIEWER, channel=SECURITY)
    world.settle()
    world.ask(f"release SR-{review.number}", user=REVIEWER, channel=SECURITY)
    world.settle()
    assert world.review(1).assignee_id is None and world.review(1).state == "needs_info"
    edit(world, ts, EARLIER)
    [reply] = card_thread(world, 1)
    assert reply.get("subtype") == "thread_broadcast" and "<@U0BOB>," not in flatten_text(reply)


def test_a_decided_review_that_changed_is_flagged_and_a_reviewer_reopens_it(world: World) -> None:
    ts, review = open_one(world)
    intake(world, review.number)
    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    decide(world, review.number)
    owner_dms = len(dms(world, OWNER))
    edit(world, ts, WITH_PATIENTS)
    stored = world.review(1)
    assert stored.state == "approved_with_conditions" and stored.go_live == date(2031, 4, 15)  # the intake's
    assert stored.changed_since_decision is not None
    assert stored.changed_since_decision["regulations"] == ["HIPAA"]
    assert "go_live" not in stored.changed_since_decision  # the owner's date stands, so it did not move
    assert len(dms(world, OWNER)) == owner_dms  # decided: the intake cannot be edited, the owner is not asked
    [reply] = card_thread(world, 1)
    assert "new regulations: *HIPAA*" in flatten_text(reply) and "changed since decision" in flatten_text(reply)
    card = card_of(world, stored)
    assert "Changed since decision:* new regulations HIPAA" in flatten_text(card)
    assert [b["action_id"] for b in buttons(card)] == [ActionId.REOPEN]
    world.sender.send_event(payloads.app_home_opened_event(world.team, REVIEWER))
    home = world.fake.wait_for(lambda: world.fake.home(REVIEWER))
    assert "Changed since decision (1)" in flatten_text(home)
    assert ActionId.REOPEN in [b["action_id"] for b in buttons(home)]

    # Someone who is not a reviewer is told why nothing happened.
    refused = world.press(ActionId.REOPEN, review.key, user=STRANGER, message_ts=stored.card_ts)
    assert "Only the security reviewers may reopen reviews" in refused
    assert world.review(1).state == "approved_with_conditions"
    done = world.press(ActionId.REOPEN, review.key, user=REVIEWER, message_ts=stored.card_ts)
    assert "is reopened and back in review" in done
    world.settle()
    reopened = world.review(1)
    assert reopened.state == "in_review" and reopened.changed_since_decision is None
    with world.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "reopened")).one()
    assert "changed since the decision: new regulations HIPAA" in event.note
    assert event.data["before"]["changed_since_decision"]["regulations"] == ["HIPAA"]
    told = flatten_text(dms(world, OWNER)[-1])
    assert "reopened" in told and "HIPAA" in told
    assert "Changed since decision" not in flatten_text(card_of(world, reopened))


def test_a_decided_review_that_moved_earlier_without_an_intake_follows_the_text(world: World) -> None:
    ts, review = open_one(world)
    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    decide(world, review.number)
    edit(world, ts, EARLIER)
    stored = world.review(1)
    assert stored.go_live == date(2031, 2, 1)
    assert stored.changed_since_decision is not None
    assert stored.changed_since_decision["go_live"] == ["2031-04-15", "2031-02-01"]
    assert stored.changed_since_decision["vendors"] == ["Zendesk"]
    edit(world, ts, ANNOUNCEMENT)  # back to the later date: not material, the flag keeps what was first seen
    assert world.review(1).changed_since_decision["go_live"] == ["2031-04-15", "2031-02-01"]
    assert len(card_thread(world, 1)) == 2


def test_a_deleted_announcement_after_the_decision_is_told_in_the_cards_thread(world: World) -> None:
    ts, review = open_one(world)
    world.press(ActionId.TAKE, review.key, user=REVIEWER, message_ts=review.card_ts)
    decide(world, review.number)
    send(world, payloads.message_deleted_event(world.team, ANNOUNCE, ts, OWNER))
    [reply] = card_thread(world, 1)
    text = flatten_text(reply)
    assert f"<@{REVIEWER}>" in text and "was deleted in Slack" in text
    assert "the announcement was deleted" in flatten_text(card_of(world, world.review(1)))
