"""Every /secreview subcommand through the real App: the happy path and the unhappy ones, as a user sees them."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from bot.common.ids import ActionId
from storage.models import AuditEvent, DigestRun, Review
from tests.flows.test_review_flow import ANNOUNCEMENT, decision_values, open_one
from tests.support.world import ANNOUNCE, CISO, DIGEST, OWNER, REVIEWER, SECURITY, STRANGER, World, flatten_text


def test_help_and_empty_text(world: World) -> None:
    for text in ("", "help"):
        answer = world.ask(text, user=STRANGER)
        for sub in ("new", "list", "show", "take", "decide", "roadmap", "metrics", "digest", "export"):
            assert sub in answer


def test_unknown_subcommand_and_bad_arguments_are_answered(world: World) -> None:
    assert "is not a /secreview command" in world.ask("frobnicate", user=STRANGER)
    assert "SR-12" in world.ask("show", user=STRANGER)
    assert "not a review key" in world.ask("take banana", user=REVIEWER)
    assert "There is no review SR-99" in world.ask("show SR-99", user=STRANGER)
    assert "open, mine, overdue, decided, all" in world.ask("list everything", user=STRANGER)
    assert "1 to 52" in world.ask("roadmap 400", user=STRANGER)
    pinged = world.ask("<!channel>", user=STRANGER)
    assert "<!channel>" not in json.dumps(world.last_response(STRANGER)["blocks"]) and "channel" in pinged


def test_list_filters_and_paging(world: World) -> None:
    for index in range(23):
        world.announce(f"New project number {index}: payroll pilot")
    world.fake.wait_for(lambda: len(world.reviews()) == 23, timeout=15)
    world.settle(timeout=20)
    first = world.ask("list", user=OWNER)
    assert "SR-23" in first and "SR-4 " not in first
    page = world.last_response(OWNER)
    buttons = [e for b in page["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == ["open:2"]
    second = world.press(ActionId.LIST_PAGE, "open:2", user=OWNER, channel=ANNOUNCE)
    assert "SR-1 " in second or "SR-1*" in second
    assert "No" in world.ask("list decided", user=OWNER)
    assert "SR-23" in world.ask("list mine", user=OWNER)


def test_show_includes_the_history(world: World) -> None:
    _, review = open_one(world)
    world.ask(f"take {review.key}", user=REVIEWER)
    answer = world.ask(f"show {review.key}", user=STRANGER)
    assert review.key in answer and "Bob" not in answer  # ids, not names: Slack renders <@U…>
    assert "took the review" in answer


def test_take_assign_info_withdraw_reopen(world: World) -> None:
    ts, review = open_one(world)
    assert "You took" in world.ask(f"take {review.key}", user=REVIEWER)
    assert "Only the security reviewers" in world.ask(f"take {review.key}", user=STRANGER)
    assert "not a security reviewer" in world.ask(f"assign {review.key} <@{STRANGER}|dave>", user=REVIEWER)
    assert "now assigned" in world.ask(f"assign {review.key} <@{CISO}|carol>", user=REVIEWER)
    world.fake.wait_for(lambda: world.fake.messages(world.fake.dm_channel(CISO)))
    answer = world.ask(f"info {review.key} Which customer fields go to Salesforce?", user=REVIEWER)
    assert "went to" in answer
    world.fake.wait_for(lambda: len(world.fake.thread(ANNOUNCE, ts)) >= 3)
    assert "Which customer fields" in flatten_text(world.fake.thread(ANNOUNCE, ts)[-1])
    dm = world.fake.wait_for(lambda: world.fake.messages(world.fake.dm_channel(OWNER)))
    assert "Which customer fields" in flatten_text(dm[-1])
    assert world.review(1).state == "needs_info"
    assert "Only the project owner" in world.ask(f"withdraw {review.key}", user=STRANGER)
    assert "withdrawn" in world.ask(f"withdraw {review.key} postponed", user=OWNER)
    assert "cannot be reopened" in world.ask(f"reopen {review.key} changed", user=REVIEWER)


def test_decide_command_opens_the_modal_and_reopen_works(world: World) -> None:
    _, review = open_one(world)
    assert "Only the security reviewers" in world.ask(f"decide {review.key}", user=OWNER)
    world.command(f"decide {review.key}", user=REVIEWER)
    modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER))[-1]
    world.submit(modal, decision_values("rejected", "No EU hosting available"), user=REVIEWER)
    world.fake.wait_for(lambda: world.review(1).state == "rejected")
    assert "reopened" in world.ask(f"reopen {review.key} vendor now offers EU hosting", user=REVIEWER)
    assert world.review(1).state == "in_review"
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) >= 3


def test_conditions_done_and_waive(world: World) -> None:
    _, review = open_one(world)
    world.command(f"decide {review.key}", user=REVIEWER)
    modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER))[-1]
    world.submit(modal, decision_values("approved_with_conditions", "ok", "MFA\nDPA"), user=REVIEWER)
    world.fake.wait_for(lambda: len(world.review(1).conditions) == 2)
    first, second = (c.id for c in world.review(1).conditions)
    assert "Only the safeguard's owner" in world.ask(f"done {first}", user=STRANGER)
    assert "is done" in world.ask(f"done {first}", user=OWNER)
    assert "Only the security reviewers" in world.ask(f"waive {second} no longer needed", user=OWNER)
    assert "waived" in world.ask(f"waive {second} compensating control", user=REVIEWER)
    assert "already done" in world.ask(f"done {first}", user=OWNER)
    assert [c.state for c in world.review(1).conditions] == ["done", "waived"]


def test_roadmap_and_metrics(world: World) -> None:
    open_one(world, "Kick-off: new HR portal, go-live in 3 weeks")
    answer = world.ask("roadmap", user=STRANGER)
    assert "SR-1" in answer
    assert "SR-1" not in world.ask("roadmap 1", user=STRANGER)
    metrics = world.ask("metrics", user=STRANGER)
    assert "pproval" in metrics
    assert "pproval" in world.ask("metrics quarter", user=STRANGER)


def test_digest_preview_for_anyone_post_for_admins_once(world: World) -> None:
    open_one(world)
    assert "Security reviews, week of" in world.ask("digest", user=STRANGER)
    assert "Only secreview admins" in world.ask("digest post", user=REVIEWER)
    assert "on its way" in world.ask("digest post", user=CISO)
    assert "already posted" in world.ask("digest post", user=CISO)
    world.fake.wait_for(lambda: world.fake.messages(DIGEST))
    world.settle()
    # The digest, then its chart: uploaded through files.getUploadURLExternal + completeUploadExternal.
    posted = world.fake.messages(DIGEST)
    assert [bool(m.get("files")) for m in posted] == [False, True]
    assert posted[1]["files"][0]["name"].startswith("secreview-trend-")
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 1


def test_a_refused_chart_upload_leaves_the_digest_posted_and_says_so(world: World) -> None:
    """Without files:write (say), the upload is refused: the digest is in the channel, the security channel told."""
    open_one(world)
    world.fake.fail_next("files.getUploadURLExternal", "missing_scope")
    assert "on its way" in world.ask("digest post", user=CISO)
    world.fake.wait_for(lambda: world.fake.messages(DIGEST))
    world.settle()
    posted = world.fake.messages(DIGEST)
    assert len(posted) == 1 and "Security reviews, week of" in posted[0]["text"]
    told = [m["text"] for m in world.fake.messages(SECURITY) if "could not deliver" in m.get("text", "")]
    assert told and "digest_chart" in told[0] and "missing_scope" in told[0]


def test_export_is_a_file_in_the_reviewers_dms(world: World) -> None:
    open_one(world)
    assert "Only the security reviewers" in world.ask("export", user=OWNER)
    assert "in your DMs" in world.ask("export csv", user=REVIEWER)
    files = world.fake.files()
    assert len(files) == 1
    rows = list(csv.DictReader(io.StringIO(files[0]["content"].decode())))
    assert rows[0]["key"] == "SR-1" and rows[0]["state"] == "announced"
    world.ask("export json", user=REVIEWER)
    exported = json.loads(world.fake.files()[-1]["content"])
    assert exported[0]["key"] == "SR-1" and exported[0]["events"][0]["action"] == "announced"


def test_new_opens_an_empty_intake_and_creates_the_review_on_submit(world: World) -> None:
    world.command("new Vendor risk platform", user=STRANGER)
    modal = world.fake.wait_for(lambda: world.fake.views(user=STRANGER))[-1]
    assert modal["callback_id"] == "intake-modal"
    from tests.flows.test_review_flow import intake_values

    response = world.submit(modal, intake_values(), user=STRANGER)
    assert response.status == 200
    world.fake.wait_for(lambda: world.reviews())
    world.settle()
    review = world.reviews()[0]
    assert review.announcer_id == STRANGER and review.source_channel is None and review.risk_tier
    assert world.fake.messages(SECURITY)  # the card
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 1


def test_app_home_for_reviewers_and_everyone(world: World) -> None:
    from sandbox import payloads

    open_one(world, ANNOUNCEMENT)
    for user in (REVIEWER, OWNER):
        world.sender.send_event(payloads.app_home_opened_event(world.team, user))
    reviewer_home = world.fake.wait_for(lambda: world.fake.home(REVIEWER))
    owner_home = world.fake.wait_for(lambda: world.fake.home(OWNER))
    reviewer_actions = [e.get("action_id") for b in reviewer_home["blocks"] if b["type"] == "actions"
                        for e in b["elements"]]
    assert ActionId.DECIDE in json.dumps(reviewer_home) and ActionId.NEW_REVIEW in reviewer_actions + [
        b.get("accessory", {}).get("action_id") for b in reviewer_home["blocks"]]
    assert "SR-1" in flatten_text(owner_home)
    assert ActionId.DECIDE not in json.dumps(owner_home)
