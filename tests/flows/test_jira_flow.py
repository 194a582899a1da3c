"""Safeguards in Jira, end to end through the real Bolt app: a decision's conditions become issues in the fake Jira
Cloud (through the outbox), Jira's resolutions come back by webhook and by poll, and secreview's own closes
resolve the issues. What the fake Jira holds, what Slack shows and what the database and audit log record."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.run.jira_side import shared_client
from bot.tracker.poll import run_poll
from sandbox import payloads
from storage.models import AuditEvent, Condition, OutboxMessage, utcnow
from tests.support.jira_world import ALICE_ACCOUNT, ERIN_ACCOUNT, conditions, running_jira_world, signed
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, SECURITY, World, flatten_text

ANNOUNCEMENT = "Kick-off: we are rolling out Salesforce for the support team, go-live 2031-04-15."
SAFEGUARDS = ("SSO with MFA for every agent", "DPA signed with Salesforce", "Quarterly access review")


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """secreview in HTTP mode with Jira configured, against the fake Slack and the fake Jira."""
    with running_jira_world(database_url) as running:
        yield running


def decide_with_conditions(world: World, conditions_text: tuple[str, ...] = SAFEGUARDS) -> None:
    """Announces a project and has the reviewer approve it with these conditions (the decision modal)."""
    _ts, responses = world.announce(ANNOUNCEMENT)
    assert [r.status for r in responses] == [200]
    world.fake.wait_for(lambda: world.reviews())
    values = {
        "outcome": {"outcome": {"type": "radio_buttons", "selected_option": {"value": "approved_with_conditions"}}},
        "rationale": {"rationale": {"type": "plain_text_input", "value": "Fine with these safeguards"}},
        "conditions": {"conditions": {"type": "plain_text_input", "value": "\n".join(conditions_text)}},
    }
    submission = payloads.view_submission(world.team, REVIEWER, "decision-modal", json.dumps({"key": 1}), values)
    response = world.sender.send_interaction(submission)
    assert response.status == 200 and response.body in ("", "{}"), response.body


def post_webhook(world: World, data: bytes, signature: str | None, query: str = "") -> int:
    """POSTs a body to /jira/webhook as Jira would; returns the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    request = urllib.request.Request(f"{world.base_url}/jira/webhook{query}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_decision_with_three_conditions_opens_three_issues_with_their_fields(world: World) -> None:
    jira = world.jira  # type: ignore[attr-defined]
    decide_with_conditions(world)
    world.settle()
    issues = jira.issues()
    assert len(issues) == 3
    ids = [c.id for c in conditions(world)]
    permalink = world.fake.wait_for(lambda: [c for c in world.fake.calls("chat.getPermalink")])[0]
    assert permalink.params["channel"] == ANNOUNCE  # the link back goes to the announcement's thread
    for issue, text, condition_id in zip(issues, SAFEGUARDS, ids, strict=True):
        fields = issue["fields"]
        assert fields["project"]["key"] == "SEC" and fields["issuetype"]["name"] == "Task"
        assert fields["summary"] == f"SR-1: {text}"
        assert fields["labels"] == ["secreview", f"secreview-{world.team.lower()}-{condition_id}"]
        assert fields["duedate"] == "2031-04-15"  # the go-live date, the conditions' default due date
        assert fields["assignee"]["accountId"] == ALICE_ACCOUNT  # Slack email → Jira user search
        description = fields["description"]
        assert "SR-1" in description and "Alice Adams" in description and "/archives/" + ANNOUNCE in description
    stored = conditions(world)
    assert [c.jira_key for c in stored] == ["SEC-1", "SEC-2", "SEC-3"]
    assert all(c.jira_url == f"{jira.url}/browse/{c.jira_key}" for c in stored)
    # The card shows each safeguard's issue with its link (updated in place, once per recorded key).
    world.settle()
    card = world.fake.messages(SECURITY)[0]
    card_json = json.dumps(card["blocks"])
    for c in stored:
        assert f"<{c.jira_url}|{c.jira_key}>" in card_json
    assert len(world.fake.messages(SECURITY)) == 1
    # App Home lists the owner's open safeguards with their issues.
    world.sender.send_event(payloads.app_home_opened_event(world.team, OWNER))
    home = world.fake.wait_for(lambda: world.fake.home(OWNER))
    assert all(f"<{c.jira_url}|{c.jira_key}>" in json.dumps(home) for c in stored)
    # The export has them too.
    with world.session() as session:
        from bot.figures.export import iter_reviews

        exported = list(iter_reviews(session, workspace_id=world.team))
    assert [c["jira_key"] for c in exported[0]["conditions"]] == ["SEC-1", "SEC-2", "SEC-3"]
    creates = [c for c in jira.calls("issue", "POST") if c.path == "issue"]
    assert len(creates) == 3 and all(c.status == 201 for c in creates)


def test_an_owner_jira_does_not_know_gets_an_unassigned_issue_that_says_why(world: World) -> None:
    world.fake.add_user(OWNER, "Alice Adams", display_name="alice", email="alice@elsewhere.example")
    decide_with_conditions(world, ("SSO with MFA",))
    world.settle()
    (issue,) = world.jira.issues()  # type: ignore[attr-defined]
    assert issue["fields"]["assignee"] is None
    assert "No active Jira user has the owner's email address alice@elsewhere.example" in \
        issue["fields"]["description"]


def test_resolved_by_webhook_and_by_poll_reopened_in_jira_and_both_idempotent(world: World) -> None:
    jira = world.jira  # type: ignore[attr-defined]
    decide_with_conditions(world)
    world.settle()
    # An engineer resolves SEC-1 in Jira: the webhook (signed with the secret) marks the safeguard done.
    jira.transition("SEC-1", "Done", by=ERIN_ACCOUNT)
    jira.wait_for(lambda: [d for d in jira.deliveries() if d["key"] == "SEC-1" and d["status"] == 200])
    world.fake.wait_for(lambda: conditions(world)[0].state == "done")
    with world.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "condition_done")).one()
    assert event.actor == "jira" and event.data["jira_key"] == "SEC-1" and event.data["via"] == "webhook"
    assert event.data["changed_by"] == "Erin Engineer" and event.data["changed_by_account"] == ERIN_ACCOUNT
    assert "Resolved in Jira (SEC-1: Done) by Erin Engineer" in event.note
    # SEC-2 is resolved while the webhook is lost: the poll brings it back (as in Socket Mode).
    jira.transition("SEC-2", "Done", by=ERIN_ACCOUNT, notify=False)
    assert conditions(world)[1].state == "open"
    services = world.services
    client = shared_client(services.settings)
    now = utcnow()  # one instant for both runs of the same period, wherever the clock is in it
    result = run_poll(settings=services.settings, session_factory=services.session_factory, instance_id="poll-a",
                      client=client, now=now)
    assert result is not None and result.changed == 1 and 'labels = "secreview"' in result.jql
    assert [c.state for c in conditions(world)] == ["done", "done", "open"]
    with world.session() as session:
        polled = session.scalars(select(AuditEvent).where(AuditEvent.action == "condition_done")
                                 .order_by(AuditEvent.seq)).all()[-1]
    assert polled.data["via"] == "poll" and polled.data["changed_by"] == "Erin Engineer"
    # The same period again (another replica, or a second run): claimed already, so nothing is asked of Jira.
    searches = len(jira.calls("search/jql"))
    assert run_poll(settings=services.settings, session_factory=services.session_factory, instance_id="poll-b",
                    client=client, now=now + timedelta(seconds=1)) is None
    assert len(jira.calls("search/jql")) == searches
    # A webhook delivered twice, and the poll of the next period, change nothing more.
    (done_issue,) = [i for i in jira.issues() if i["key"] == "SEC-1"]
    body = {"webhookEvent": "jira:issue_updated", "user": {"accountId": ERIN_ACCOUNT, "displayName": "Erin"},
            "issue": done_issue}
    assert post_webhook(world, *signed(body)) == 200
    with world.session() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    later = now + timedelta(minutes=services.settings.secreview_jira_poll_minutes)
    again = run_poll(settings=services.settings, session_factory=services.session_factory, instance_id="poll-a",
                     client=client, now=later)
    assert again is not None and again.changed == 0
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    # Reopened in Jira: the safeguard is open again, and the card says so.
    jira.transition("SEC-1", "In Progress", by=ERIN_ACCOUNT)
    world.fake.wait_for(lambda: conditions(world)[0].state == "open")
    with world.session() as session:
        reopened = session.scalars(select(AuditEvent).where(AuditEvent.action == "condition_reopened")).one()
    assert reopened.data["jira_key"] == "SEC-1" and "Reopened in Jira" in reopened.note
    world.settle()
    assert "Quarterly access review" in flatten_text(world.fake.messages(SECURITY)[0])
    # An older event arriving late (the "Done" of before) does not undo the newer reopening.
    assert post_webhook(world, *signed(body)) == 200
    assert conditions(world)[0].state == "open"


def test_a_wrong_webhook_signature_is_refused_and_nothing_changes(world: World) -> None:
    jira = world.jira  # type: ignore[attr-defined]
    decide_with_conditions(world, ("SSO with MFA",))
    world.settle()
    jira.transition("SEC-1", "Done", by=ERIN_ACCOUNT, notify=False)
    (issue,) = jira.issues()
    body = {"webhookEvent": "jira:issue_updated", "user": {"accountId": ERIN_ACCOUNT}, "issue": issue}
    data, good = signed(body)
    with world.session() as session:
        events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    _, wrong = signed(body, secret="not-the-secret")
    assert post_webhook(world, data, wrong) == 401
    assert post_webhook(world, data, None) == 401
    assert post_webhook(world, data, "sha1=" + good.removeprefix("sha256=")) == 401
    assert post_webhook(world, data + b" ", good) == 401  # the body changed after it was signed
    assert post_webhook(world, data, None, query="?token=jira-webhook-secret-for-tests") == 401  # a secret is set
    assert conditions(world)[0].state == "open"
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
    assert post_webhook(world, data, good) == 200
    assert conditions(world)[0].state == "done"
    assert post_webhook(world, b"{not json", signed({})[1]) == 401  # signed for another body
    assert post_webhook(world, b"{not json", "sha256=" + signed({"x": 1})[1][7:]) == 401


def test_a_condition_waived_in_secreview_resolves_its_issue_as_wont_do(world: World) -> None:
    jira = world.jira  # type: ignore[attr-defined]
    decide_with_conditions(world, ("SSO with MFA", "DPA signed"))
    world.settle()
    first, second = (c.id for c in conditions(world))
    assert "waived" in world.ask(f"waive {first} compensating control: the vendor's SSO is enforced",
                                 user=REVIEWER, channel=SECURITY)
    assert "done" in world.ask(f"done {second}", user=OWNER)
    world.settle()
    issues = {i["key"]: i for i in jira.issues()}
    assert issues["SEC-1"]["fields"]["status"]["name"] == "Won't Do"
    assert issues["SEC-1"]["fields"]["resolution"]["name"] == "Won't Do"
    (comment,) = jira.comments("SEC-1")
    assert "waived in secreview" in comment["body"] and "compensating control" in comment["body"]
    assert issues["SEC-2"]["fields"]["status"]["name"] == "Done"
    assert "marked done in secreview" in jira.comments("SEC-2")[0]["body"]
    # Jira's webhooks for those transitions come back and change nothing (no loop, no second close).
    jira.wait_for(lambda: len([d for d in jira.deliveries() if d["status"] == 200]) >= 4)
    world.settle()
    assert [c.state for c in conditions(world)] == ["waived", "done"]
    with world.session() as session:
        closes = session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.method == "jira.close_issue"))
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert closes == 2 and actions.count("condition_done") == 1 and actions.count("condition_waived") == 1


def test_a_workflow_without_the_transition_gets_a_comment_instead(database_url: str) -> None:
    with running_jira_world(database_url, secreview_jira_waive_transition="Abandon") as world:
        jira = world.jira  # type: ignore[attr-defined]
        jira.remove_transition("Won't Do")
        jira.remove_transition("Done")
        decide_with_conditions(world, ("SSO with MFA",))
        world.settle()
        condition_id = conditions(world)[0].id
        world.ask(f"waive {condition_id} not needed any more", user=REVIEWER, channel=SECURITY)
        world.settle()
        (issue,) = jira.issues()
        assert issue["fields"]["status"]["name"] == "To Do"
        (comment,) = jira.comments("SEC-1")
        assert "not needed any more" in comment["body"] and 'could not move this issue to "Abandon"' in \
            comment["body"]


def test_a_refused_create_is_recorded_with_the_reason_and_reported(world: World) -> None:
    jira = world.jira  # type: ignore[attr-defined]
    jira.require_field("components")
    decide_with_conditions(world, ("SSO with MFA",))
    world.settle()
    assert jira.issues() == []
    with world.session() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.method == "jira.create_issue")).one()
        assert row.state == "failed" and "Components is required" in (row.last_error or "")
        assert session.scalars(select(Condition.jira_sent_at)).one() is None  # refused: nothing was created
    notices = [flatten_text(m) for m in world.fake.messages(SECURITY) if "Jira refused" in flatten_text(m)]
    assert len(notices) == 1 and "SR-1" in notices[0] and "Components is required" in notices[0]
    # The Jira admin fixes the project; `secreview jira retry` sends it again, and the issue is created.
    from click.testing import CliRunner

    from bot.cli import main

    jira.site.required_fields.clear()
    settings = world.services.settings
    env = {"DATABASE_URL": settings.database_url, "JIRA_URL": jira.url, "JIRA_USER": settings.jira_user,
           "JIRA_API_TOKEN": settings.jira_api_token, "SECREVIEW_JIRA_PROJECT": "SEC"}
    result = CliRunner().invoke(main, ["jira", "retry"], env=env)
    assert result.exit_code == 0 and "1 Jira call(s) queued again" in result.output, result.output
    world.services.outbox_worker.wake()  # type: ignore[union-attr]
    world.fake.wait_for(lambda: jira.issues())
    world.settle()
    assert conditions(world)[0].jira_key == "SEC-1"


def test_a_decision_recorded_while_jira_is_unreachable_is_not_held_up(world: World) -> None:
    jira = world.jira  # type: ignore[attr-defined]
    jira.outage(503)
    decide_with_conditions(world, ("SSO with MFA",))
    world.fake.wait_for(lambda: world.review(1).state == "approved_with_conditions")
    assert world.review(1).conditions[0].due_date == date(2031, 4, 15)
    world.fake.wait_for(lambda: world.fake.messages(SECURITY) and "Approved with conditions" in
                        flatten_text(world.fake.messages(SECURITY)[0]))


def test_the_sandbox_sends_a_safeguard_to_its_jira_and_hears_it_come_back_done() -> None:
    import http.client
    import urllib.parse

    from bot.review import announcements, decisions
    from bot.review.lifecycle import Actor
    from sandbox.server import ANNOUNCE as SANDBOX_ANNOUNCE
    from sandbox.server import OWNER as SANDBOX_OWNER
    from sandbox.server import REVIEWER as SANDBOX_REVIEWER
    from sandbox.server import Sandbox

    with Sandbox(port=0, demo_data=False) as sandbox:
        services, team = sandbox.services, sandbox.fake.team_id
        text = "Kick-off: payroll moves to Workday, go-live 2031-05-01"
        message = sandbox.fake.add_message(SANDBOX_ANNOUNCE, SANDBOX_OWNER, text)
        services.write(lambda s: announcements.open_review(
            s, settings=services.settings, detector=services.detector, workspace_id=team,
            actor=Actor(SANDBOX_OWNER), text=text, source_channel=SANDBOX_ANNOUNCE, source_ts=message["ts"]))
        form = decisions.DecisionForm(outcome="approved_with_conditions", rationale="ok", conditions=("SSO with MFA",))
        services.write(lambda s: decisions.decide(s, settings=services.settings, workspace_id=team,
                                                  actor=Actor(SANDBOX_REVIEWER, is_reviewer=True), key=1, form=form))
        (issue,) = sandbox.jira.wait_for(lambda: sandbox.jira.issues())
        assert issue["fields"]["assignee"]["displayName"] == "Alice Adams"
        # The page's link leads to the fake Jira; its "Done" button is an engineer resolving the issue.
        page = urllib.parse.urlsplit(sandbox.url)
        connection = http.client.HTTPConnection(page.hostname, page.port, timeout=10)
        connection.request("GET", "/jira")
        answer = connection.getresponse()
        assert answer.status == 302 and answer.getheader("Location") == sandbox.jira.url
        with urllib.request.urlopen(sandbox.jira.url, timeout=10) as listing:
            assert issue["key"] in listing.read().decode()
        request = urllib.request.Request(f"{sandbox.jira.url}/_fake/issues/{issue['key']}/transition",
                                         data=b"name=Done", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

        def state() -> str:
            with services.session_factory() as session:
                return str(session.scalars(select(Condition.state)).one())

        sandbox.fake.wait_for(lambda: state() == "done")


def test_split_like_serve_the_worker_creates_the_issues_and_the_http_side_takes_the_webhook(
        database_url: str) -> None:
    with running_jira_world(database_url, split=True) as world:
        jira = world.jira  # type: ignore[attr-defined]
        decide_with_conditions(world, ("SSO with MFA",))
        world.fake.wait_for(lambda: world.review(1).state == "approved_with_conditions")
        (issue,) = jira.wait_for(lambda: jira.issues())
        world.fake.wait_for(lambda: conditions(world)[0].jira_key == issue["key"])
        jira.transition(issue["key"], "Done", by=ERIN_ACCOUNT)
        world.fake.wait_for(lambda: conditions(world)[0].state == "done")
        assert [d["status"] for d in jira.deliveries() if d["event"] == "jira:issue_updated"] == [200]
