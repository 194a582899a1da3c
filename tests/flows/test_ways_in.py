"""Every way into a review besides an announcement: the message shortcut, the global shortcut and the Workflow
Builder step, through the real Bolt app with signed requests, each ending in one review with its card and its
reply (in the message's thread, or to the owner by DM when there is no message)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.common.ids import ActionId, BlockId, FunctionId, ShortcutId
from sandbox import payloads
from storage.models import AuditEvent, Review
from tests.flows.test_review_flow import card_buttons, intake_values
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, SECURITY, STRANGER, World, flatten_text

IDEA = "We will try Notion AI for meeting notes, go-live 2031-05-20. Customer names end up in the notes."


def shortcut_on(world: World, message: dict[str, Any], *, user: str, channel: str = ANNOUNCE) -> int:
    """Uses "Request security review" on a message as `user`; returns the HTTP status Slack would see."""
    payload = payloads.message_shortcut(world.team, user, ShortcutId.REQUEST_REVIEW, channel, message,
                                        trigger_id=world.fake.trigger_id(user),
                                        response_url=world.fake.response_url(channel, user, kind="actions"))
    return world.sender.send_interaction(payload).status


def reviews_count(world: World) -> int:
    with world.session() as session:
        return int(session.scalar(select(func.count()).select_from(Review)) or 0)


def test_message_shortcut_opens_a_prefilled_intake_and_the_review_answers_in_the_thread(any_world: World) -> None:
    world = any_world
    # Not an announcement by its words: nothing happens until someone asks for a review.
    message = world.fake.add_message(ANNOUNCE, OWNER, IDEA)
    assert shortcut_on(world, message, user=REVIEWER) == 200
    modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER))[-1]
    fields = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    assert "Notion" in fields[BlockId.TITLE]["initial_value"]
    assert fields[BlockId.OWNER]["initial_user"] == OWNER  # the person who posted it
    assert fields[BlockId.GO_LIVE]["initial_date"] == "2031-05-20"
    assert reviews_count(world) == 0  # closing the modal would leave nothing behind

    response = world.submit(modal, intake_values(), user=REVIEWER)
    assert response.status == 200 and response.body in ("", "{}")
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) == 1)
    world.settle()
    [review] = world.reviews()
    assert (review.source_channel, review.source_ts) == (ANNOUNCE, message["ts"])
    assert review.owner_id == OWNER and review.announcer_id == REVIEWER
    assert review.announcement_text == IDEA and review.risk_tier is not None
    replies = world.fake.thread(ANNOUNCE, message["ts"])[1:]
    assert len(replies) == 1 and "SR-1" in flatten_text(replies[0])  # the review links back to the message
    card = world.fake.messages(SECURITY)[0]
    assert ActionId.TAKE in card_buttons(card) and "SR-1" in flatten_text(card)
    with world.session() as session:
        notes = list(session.scalars(select(AuditEvent.note).where(AuditEvent.action == "announced")))
    assert notes == ["shortcut"]


def test_message_shortcut_on_a_thread_reply_answers_in_that_thread(world: World) -> None:
    parent = world.fake.add_message(ANNOUNCE, STRANGER, "Roadmap for Q3")
    reply = world.fake.add_message(ANNOUNCE, OWNER, "New vendor for payroll: Deel, starting June",
                                   thread_ts=parent["ts"])
    assert shortcut_on(world, reply, user=OWNER) == 200
    modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
    assert world.submit(modal, intake_values(), user=OWNER).status == 200
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) == 1)
    world.settle()
    [review] = world.reviews()
    assert (review.source_ts, review.source_thread_ts) == (reply["ts"], parent["ts"])
    thread = world.fake.thread(ANNOUNCE, parent["ts"])
    assert [m["ts"] for m in thread[:2]] == [parent["ts"], reply["ts"]]
    assert len(thread) == 3 and "SR-1" in flatten_text(thread[2])


def test_a_forged_source_message_is_refused(world: World) -> None:
    message = world.fake.add_message(ANNOUNCE, OWNER, IDEA)
    elsewhere = world.fake.add_message(SECURITY, REVIEWER, "Reviewers only: the pen-test schedule")
    shortcut_on(world, message, user=STRANGER)
    modal = world.fake.wait_for(lambda: world.fake.views(user=STRANGER))[-1]
    # The client sends private_metadata back: pointed at another message, it no longer matches its signature.
    metadata = {**json.loads(modal["private_metadata"]), "channel": SECURITY, "ts": elsewhere["ts"]}
    forged = payloads.view_submission(world.team, STRANGER, modal["callback_id"], json.dumps(metadata),
                                      intake_values(), view=modal)
    body = world.sender.send_interaction(forged).json()
    assert body["response_action"] == "errors" and "out of date" in json.dumps(body["errors"])
    assert world.reviews() == [] and world.fake.thread(SECURITY, elsewhere["ts"])[1:] == []


def test_a_message_with_a_review_gets_no_second_one(world: World) -> None:
    message = world.fake.add_message(ANNOUNCE, OWNER, IDEA)
    shortcut_on(world, message, user=OWNER)
    modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
    world.submit(modal, intake_values(), user=OWNER)
    world.fake.wait_for(lambda: reviews_count(world) == 1)
    # Someone else asks again: they are told which review covers it, and no modal opens for them.
    before = world.answer_count(STRANGER)
    assert shortcut_on(world, message, user=STRANGER) == 200
    answer = world.wait_answer(STRANGER, before)
    assert "SR-1" in answer and "already covers this message" in answer
    assert world.fake.views(user=STRANGER) == []
    # The owner asking again gets the intake of that review, to edit it.
    shortcut_on(world, message, user=OWNER)
    edit = world.fake.wait_for(lambda: len(world.fake.views(user=OWNER)) == 2 and world.fake.views(user=OWNER))[-1]
    assert json.loads(edit["private_metadata"])["key"] == 1
    world.submit(edit, intake_values(), user=OWNER)
    world.settle()
    assert reviews_count(world) == 1


def test_global_shortcut_opens_an_empty_intake_and_tells_the_owner_by_dm(any_world: World) -> None:
    world = any_world
    payload = payloads.global_shortcut(world.team, OWNER, ShortcutId.NEW_REVIEW,
                                       trigger_id=world.fake.trigger_id(OWNER))
    assert world.sender.send_interaction(payload).status == 200
    modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
    fields = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    assert "initial_value" not in fields[BlockId.TITLE]
    assert world.submit(modal, intake_values(), user=OWNER).status == 200
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) == 1)
    world.settle()
    [review] = world.reviews()
    assert review.title == "Salesforce Service Cloud" and review.source_channel is None
    assert review.risk_tier in ("medium", "high", "critical") and "GDPR" in review.regulations
    dm = world.fake.messages(world.fake.dm_channel(OWNER))
    assert dm and "SR-1" in flatten_text(dm[0]) and ActionId.START_INTAKE in json.dumps(dm[0]["blocks"])
    assert "SR-1" in flatten_text(world.fake.messages(SECURITY)[0])


STEP_INPUTS = {"title": "Expense reports move to Pleo", "description": "Finance wants card receipts in Pleo",
               "owner": OWNER, "go_live_date": "2031-09-01", "link": "https://wiki.example.com/pleo"}


def run_step(world: World, inputs: dict[str, Any], *, deliveries: int = 1) -> str:
    """Slack runs the workflow step with these inputs (delivering the event `deliveries` times)."""
    execution_id, token = world.fake.start_function(FunctionId.OPEN_REVIEW)
    envelope = payloads.function_executed_event(world.team, FunctionId.OPEN_REVIEW, inputs,
                                                function_execution_id=execution_id, bot_access_token=token)
    for attempt in range(deliveries):
        retry = {"retry_num": attempt, "retry_reason": "http_timeout"} if attempt else {}
        assert world.sender.send_event(envelope, **retry).status == 200
    return execution_id


def ended(world: World, execution_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """The step's execution once the app has completed or failed it."""

    def done() -> dict[str, Any] | None:
        run = world.fake.function_run(execution_id)
        return run if run is not None and run["state"] != "running" else None

    return world.fake.wait_for(done, timeout=timeout)


def test_workflow_step_opens_a_review_and_completes_with_its_key_and_link(any_world: World) -> None:
    world = any_world
    execution_id = run_step(world, STEP_INPUTS, deliveries=2)
    run = ended(world, execution_id)
    assert run["state"] == "completed", run
    world.settle()
    [review] = world.reviews()
    assert run["outputs"]["review_key"] == review.key == "SR-1"
    card = world.fake.message(SECURITY, review.card_ts or "")
    assert card is not None and "Expense reports move to Pleo" in flatten_text(card)
    assert run["outputs"]["review_link"].endswith(f"/archives/{SECURITY}/p{review.card_ts.replace('.', '')}")
    assert review.owner_id == OWNER and str(review.go_live) == "2031-09-01"
    assert review.links == "https://wiki.example.com/pleo" and review.summary == STEP_INPUTS["description"]
    dm = world.fake.messages(world.fake.dm_channel(OWNER))
    assert dm and ActionId.START_INTAKE in json.dumps(dm[0]["blocks"])  # the owner's reply: answer the intake
    with world.session() as session:
        opened = session.scalars(select(AuditEvent).where(AuditEvent.action == "announced")).one()
    assert opened.note == "workflow" and opened.data["workflow"]["function_execution_id"] == execution_id


def test_workflow_step_fails_with_the_reason_for_inputs_it_cannot_use(world: World) -> None:
    cases = [
        ({**STEP_INPUTS, "title": "  "}, "needs a project title"),
        ({**STEP_INPUTS, "owner": "C0PROJECTS"}, "must be a person"),
        ({**STEP_INPUTS, "go_live_date": "next spring"}, "must be a date like 2027-01-15"),
        ({**STEP_INPUTS, "link": "javascript:alert(1)"}, "must start with https://"),
    ]
    for inputs, reason in cases:
        execution_id = run_step(world, inputs)
        run = ended(world, execution_id)
        assert run["state"] == "failed" and reason in run["error"], run
    assert world.reviews() == []
    assert world.fake.messages(SECURITY) == []
