"""The Jira side in pieces: settings, the webhook's authentication, reading issues back, the marker, escaping, the
card and App Home with issue links (validated by slack_sdk), the poll's window, `check`'s lines against the fake
Jira, and the jira package staying unloaded without Jira settings."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.common.render import escape_jira
from bot.config import Settings, SettingsError, load_settings
from bot.review import jira_notices, messages
from bot.slack import views
from bot.tracker import webhook
from bot.tracker.check import JiraCheckFailed, check_jira
from bot.tracker.delivery import _pick_transition
from bot.tracker.issues import from_issue, parse_time
from bot.tracker.poll import jql_since, period_start
from sandbox.fake_jira import API_EMAIL, API_TOKEN, PAT, FakeJira
from sandbox.fake_jira import jql as fake_jql
from tests.unit.test_views import NOW, OWNER, check_message, check_view, decide, make_review

ROOT = Path(__file__).resolve().parents[2]


def jira_settings(**overrides: object) -> Settings:
    """Settings with Jira configured (no .env)."""
    values: dict[str, object] = {"jira_url": "https://example.atlassian.net", "jira_user": "bot@example.com",
                                 "jira_api_token": "t", "secreview_jira_project": "SEC",
                                 "secreview_jira_webhook_secret": "s3cret"}
    values.update(overrides)
    return load_settings(_env_file=None, **values)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    """A fake Jira Cloud site."""
    with FakeJira() as fake:
        yield fake


@pytest.mark.parametrize(("values", "message"), [
    ({"jira_url": "https://x.atlassian.net"}, "JIRA_API_TOKEN: Jira needs JIRA_USER and JIRA_API_TOKEN"),
    ({"jira_url": "https://x.atlassian.net", "jira_user": "a@b.c"}, "JIRA_API_TOKEN: JIRA_USER is set"),
    ({"jira_url": "https://x.atlassian.net", "jira_pat": "p"}, "SECREVIEW_JIRA_PROJECT: JIRA_URL is set"),
    ({"secreview_jira_project": "SEC"}, "SECREVIEW_JIRA_PROJECT: is set but JIRA_URL is not"),
    ({"jira_url": "jira.example.com", "jira_pat": "p", "secreview_jira_project": "SEC"}, "JIRA_URL: 'jira.example"),
    ({"jira_url": "https://x", "jira_pat": "p", "secreview_jira_project": "sec ops"}, "SECREVIEW_JIRA_PROJECT: 'sec"),
    ({"secreview_jira_labels": "ok," + "x" * 300}, "SECREVIEW_JIRA_LABELS: 'xxx"),
    ({"secreview_jira_field_map": "due"}, "SECREVIEW_JIRA_FIELD_MAP: 'due' is not name=field"),
    ({"secreview_jira_field_map": "owner=customfield_1"}, "SECREVIEW_JIRA_FIELD_MAP: 'owner' is not one of"),
    ({"secreview_jira_poll_minutes": "-1"}, "SECREVIEW_JIRA_POLL_MINUTES:"),
])
def test_a_bad_jira_setting_is_one_line_naming_the_variable(values: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **values)
    # Every bad setting is reported at once, one line each, each naming its variable.
    lines = str(caught.value).splitlines()
    assert any(line.startswith(message) for line in lines), str(caught.value)
    assert all(re.match(r"[A-Z_]+: ", line) for line in lines), lines


def test_jira_settings_parse_and_default() -> None:
    plain = load_settings(_env_file=None)
    assert not plain.jira_enabled and not plain.jira_webhook_enabled
    settings = jira_settings(jira_url="https://example.atlassian.net/", secreview_jira_labels="security, appsec",
                             secreview_jira_field_map="link=customfield_10050, due=")
    assert settings.jira_url == "https://example.atlassian.net" and settings.jira_enabled
    assert settings.secreview_jira_labels == ["security", "appsec"]
    assert settings.secreview_jira_field_map == {"due": "", "link": "customfield_10050"}
    assert settings.secreview_jira_issue_type == "Task" and settings.secreview_jira_poll_minutes == 5
    assert jira_settings().secreview_jira_field_map == {"due": "duedate"}


def _sign(body: bytes, secret: str = "s3cret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_webhook_accepts_only_the_secrets_signature_or_the_token() -> None:
    settings = jira_settings()
    body = b'{"webhookEvent": "jira:issue_updated"}'
    assert webhook.authentic(settings, body=body, signature=_sign(body), token=None)
    assert webhook.authentic(settings, body=body, signature=_sign(body).upper().replace("SHA256", "sha256"),
                             token=None)
    for signature in (None, "", "sha256=", _sign(body, "other"), _sign(body + b" "), "sha1=" + _sign(body)[7:]):
        assert not webhook.authentic(settings, body=body, signature=signature, token="s3cret")
    by_token = jira_settings(secreview_jira_webhook_secret=None, secreview_jira_webhook_token="tok-123")
    assert webhook.authentic(by_token, body=body, signature=None, token="tok-123")
    assert not webhook.authentic(by_token, body=body, signature=None, token="tok-12")
    assert not webhook.authentic(by_token, body=body, signature=None, token=None)
    neither = jira_settings(secreview_jira_webhook_secret=None)
    assert not neither.jira_webhook_enabled
    assert not webhook.authentic(neither, body=body, signature=_sign(body), token="")


def test_reading_an_issue_event_back() -> None:
    issue = {"key": "SEC-7", "fields": {"labels": ["secreview", "secreview-t0001-12"], "updated":
                                        "2026-12-02T10:00:00.123+0100",
                                        "status": {"name": "Done", "statusCategory": {"key": "done"}}}}
    body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": issue,
                       "user": {"accountId": "acc-1", "displayName": "Erin Engineer"}}).encode()
    state = webhook.parse(body)
    assert state is not None and state.key == "SEC-7" and state.done and state.status == "Done"
    assert state.changed_by == "Erin Engineer" and state.changed_by_account == "acc-1"
    assert state.updated == datetime(2026, 12, 2, 9, 0, 0, 123000, tzinfo=UTC)
    assert webhook.parse(b'{"webhookEvent": "comment_created"}') is None
    assert webhook.parse(b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "not a key", "fields": {}}}') \
        is None
    with pytest.raises(ValueError):
        webhook.parse(b"\xff not json")
    assert parse_time("yesterday") is None and parse_time(None) is None
    polled = dict(issue, changelog={"histories": [
        {"author": {"displayName": "Someone"}, "items": [{"field": "labels"}]},
        {"author": {"displayName": "Erin"}, "items": [{"field": "status"}]},
        {"author": {"displayName": "Commenter"}, "items": [{"field": "comment"}]}]})
    assert from_issue(polled) is not None and from_issue(polled).changed_by == "Erin"  # type: ignore[union-attr]


def test_the_marker_names_one_safeguard_of_one_workspace() -> None:
    label = jira_notices.marker("T0ABC123", 42)
    assert label == "secreview-t0abc123-42"
    assert jira_notices.parse_marker(["security", label]) == ("T0ABC123", 42)
    assert jira_notices.parse_marker(["secreview", "secreview-x"]) is None


def test_jira_wiki_markup_from_people_is_escaped() -> None:
    assert escape_jira("[click|http://evil] {code}x{code} *b* [~accountid:1] !img.png!") == \
        r"\[click\|http://evil\] \{code\}x\{code\} \*b\* \[\~accountid:1\] \!img.png\!"


def test_the_card_and_app_home_show_each_safeguards_issue_as_a_link() -> None:
    review = decide(make_review(), conditions=["SSO with MFA", "DPA signed"])
    first = review.conditions[0]
    first.jira_key, first.jira_url = "SEC-12", "https://example.atlassian.net/browse/SEC-12"
    card = check_message(messages.review_card(review, jira_settings()))
    assert "<https://example.atlassian.net/browse/SEC-12|SEC-12>" in json.dumps(card)
    assert json.dumps(card).count("atlassian.net") == 1  # the safeguard without an issue has no link
    home = check_view(views.home(user_id=OWNER, is_reviewer=False, queue=[], taken=[], mine=[review], figures=None,
                                 now=NOW), "home")
    assert "<https://example.atlassian.net/browse/SEC-12|SEC-12>" in json.dumps(home)


def test_picking_the_transition_by_name_then_target_then_any_done() -> None:
    def t(tid: str, name: str, target: str, category: str) -> dict[str, object]:
        return {"id": tid, "name": name, "to": {"name": target, "statusCategory": {"key": category}}}

    offered = [t("11", "Start", "In Progress", "indeterminate"), t("41", "Drop it", "Won't Do", "done"),
               t("31", "Close", "Closed", "done")]
    assert _pick_transition(offered, "drop it")["id"] == "41"  # type: ignore[index]
    assert _pick_transition(offered, "Won't Do")["id"] == "41"  # type: ignore[index]
    assert _pick_transition(offered, "Done")["id"] == "41"  # type: ignore[index]
    assert _pick_transition(offered[:1], "Done") is None


def test_poll_periods_and_window() -> None:
    at = datetime(2026, 12, 2, 10, 17, 42, tzinfo=UTC)
    assert period_start(at, 5) == datetime(2026, 12, 2, 10, 15, tzinfo=UTC)
    assert period_start(at, 120) == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert jql_since(None, at) == 'labels = "secreview" ORDER BY updated ASC'
    assert jql_since(at - timedelta(minutes=10), at) == \
        'labels = "secreview" AND updated >= "-12m" ORDER BY updated ASC'


def test_the_fake_jiras_jql_subset() -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    issue = {"key": "SEC-3", "id": "10003", "fields": {
        "project": {"key": "SEC", "id": "10000"}, "labels": ["secreview", "secreview-t1-3"],
        "status": {"name": "Done", "id": "10001", "statusCategory": {"key": "done", "name": "Done", "id": 3}}},
        "_times": {"updated": now - timedelta(minutes=3), "created": now - timedelta(days=1)}}
    assert fake_jql.parse('labels = "secreview-t1-3"', now=now).matches(issue)
    assert fake_jql.parse('project = SEC AND labels in (a, secreview) AND updated >= "-5m"', now=now).matches(issue)
    assert not fake_jql.parse('labels = secreview AND updated >= -2m', now=now).matches(issue)
    assert fake_jql.parse("statusCategory = done AND key not in (SEC-1) ORDER BY updated DESC", now=now).descending
    for bad in ("labelz = x", "labels ~ x", "labels = secreview OR key = SEC-1", 'updated >= "yesterday"',
                "labels in (a"):
        with pytest.raises(fake_jql.JqlError, match="Error in the JQL Query"):
            fake_jql.parse(bad, now=now)


def test_check_says_in_one_line_what_works_and_what_does_not(jira: FakeJira) -> None:
    good = {"jira_url": jira.url, "jira_user": API_EMAIL, "jira_api_token": API_TOKEN}
    lines = check_jira(jira_settings(**good))
    assert lines[0].startswith("jira: ok (Cloud at http://127.0.0.1") and "as secreview" in lines[0]
    assert lines[1] == "jira: project SEC takes Task issues"
    assert any("HMAC secret" in line for line in lines)
    assert check_jira(jira_settings(jira_url=jira.url, jira_user=None, jira_api_token=None, jira_pat=PAT))
    failures = {
        "JIRA_USER/JIRA_API_TOKEN: Jira refused them (HTTP 401": {**good, "jira_api_token": "wrong"},
        "SECREVIEW_JIRA_PROJECT: Jira has no project OPS": {**good, "secreview_jira_project": "OPS"},
        "SECREVIEW_JIRA_ISSUE_TYPE: project SEC has no issue type 'Story' (it has Task, Bug, Sub-task)":
            {**good, "secreview_jira_issue_type": "Story"},
        "JIRA_URL: cannot reach Jira at http://127.0.0.1:9": {**good, "jira_url": "http://127.0.0.1:9"},
    }
    for expected, values in failures.items():
        with pytest.raises(JiraCheckFailed) as caught:
            check_jira(jira_settings(**values))
        assert str(caught.value).startswith(expected), str(caught.value)
        assert "\n" not in str(caught.value)
    assert check_jira(load_settings(_env_file=None)) == [
        "jira: not configured (JIRA_URL unset): safeguards are tracked in secreview only"]


def test_without_jira_settings_the_jira_package_is_never_loaded() -> None:
    program = (
        "import sys\n"
        "from bot.config import load_settings\n"
        "from bot.run import assemble, delivery, http, scheduler, worker, socket\n"
        "from bot.review import decisions, safeguards\n"
        "import bot.cli, handlers\n"
        "settings = load_settings(_env_file=None, database_url='sqlite://')\n"
        "services = assemble.build_services(settings, instance='t')\n"
        "jobs = scheduler.build_scheduler(settings=settings, session_factory=services.session_factory,\n"
        "                                 workspace_ids=lambda: [], instance_id='t').get_jobs()\n"
        "assert 'jira-poll' not in [j.id for j in jobs], jobs\n"
        "assert services.outbox_worker._jira is None\n"
        "assert 'jira' not in sys.modules, 'the jira package was imported'\n"
        "print('ok')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
