"""The pure parts of issue 13's safeguards: signature and response_url checks, log excerpts, invisible
characters, per-workspace roles in the configuration file, and the words of a lowered risk."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot import intake
from bot.common.invisible import without_invisible
from bot.config import SettingsError, load_settings
from bot.review.intake_answers import answer_changes
from bot.review.roles import RoleResolver
from bot.slack.verification import answer_origins, excerpt, expected_signature, foreign_response_url, signature_problem
from sandbox.slack_sender import sign
from tests.support.builders import make_settings

SECRET = "unit-secret"
BODY = b"command=%2Fsecreview&text=help"


def problem(timestamp: str | None, signature: str | None, *, body: bytes = BODY) -> str | None:
    return signature_problem(signing_secret=SECRET, body=body, timestamp=timestamp, signature=signature,
                             now=1_800_000_000)


def test_only_slacks_own_signature_of_a_recent_timestamp_passes() -> None:
    now = "1800000000"
    assert problem(now, sign(SECRET, BODY, now)) is None
    assert problem("1799999800", sign(SECRET, BODY, "1799999800")) is None  # 200 s old: inside the window
    refused = {
        "not a number": ("abc", sign(SECRET, BODY, now)), "empty": ("", None), "huge": ("9" * 5000, "v0=x"),
        "other digits": ("١٨٠٠٠٠٠٠٠٠", "v0=x"), "negative": ("-1800000000", "v0=x"),
        "an hour ahead": ("1800003600", sign(SECRET, BODY, "1800003600")), "missing": (None, "v0=x"),
        "no signature": (now, None), "not hex": (now, "v0=" + "z" * 64), "not ASCII": (now, "v0=ü"),
        "another secret": (now, sign("other", BODY, now)), "another body": (now, sign(SECRET, b"x", now)),
    }
    for name, (timestamp, signature) in refused.items():
        assert problem(timestamp, signature) is not None, name
    assert signature_problem(signing_secret=None, body=BODY, timestamp=now, signature=sign(SECRET, BODY, now))


def test_a_signed_body_that_is_not_utf8_is_checked_over_its_bytes() -> None:
    body = b"\xff\xfe garbage"
    now = str(int(time.time()))
    assert expected_signature(SECRET, now, body) == sign(SECRET, body, now)
    assert signature_problem(signing_secret=SECRET, body=body, timestamp=now, signature=sign(SECRET, body, now)) is None


def test_response_urls_must_point_at_slack() -> None:
    origins = answer_origins("http://127.0.0.1:8123/api/")
    assert foreign_response_url({"response_url": "https://hooks.slack.com/commands/T1/2/3"}, origins) is None
    assert foreign_response_url({"response_url": "http://127.0.0.1:8123/response/x"}, origins) is None
    assert foreign_response_url({"type": "event_callback"}, origins) is None
    for bad in ("http://hooks.slack.com/commands/T1/2/3", "https://hooks.slack.com.evil.example/x",
                "https://hooks.slack.com@evil.example/x", "https://hooks.slack.com:8443/x",
                "http://127.0.0.1:8124/response/x", "https://hooks.slack.com/a b", "https://hooks.slack.com/\n",
                "javascript:alert(1)", "", 42, None):
        assert foreign_response_url({"response_url": bad}, origins) is not None, bad
    submission = {"response_urls": [{"response_url": "https://hooks.slack.com/a"},
                                    {"response_url": "https://evil.example/b"}]}
    assert foreign_response_url(submission, origins) == "https://evil.example/b"


def test_log_excerpts_are_short_and_stay_on_one_line() -> None:
    shown = excerpt("line one\r\nFORGED line\x1b[31m\u202e".encode() + b"A" * 5000)
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    assert "\\r\\n" in shown and len(shown) < 400 and "characters)" in shown


def test_invisible_characters_go_from_names_and_direction_controls_from_all_text() -> None:
    assert without_invisible("SR-5 \u202egnp.exe\u202c pay\u200broll\ufeff") == "SR-5 gnp.exe payroll"
    assert without_invisible("a\u2066b\u2069 c\u200dd", zero_width=False) == "ab c\u200dd"
    assert without_invisible("plain ASCII") == "plain ASCII"


def test_a_lowered_risk_is_told_in_words() -> None:
    before = {"data_classification": "confidential", "sensitive_data": ["personal"], "exposure": "internet",
              "hosting": "saas", "third_parties": "Salesforce", "uses_ai": False, "changes_auth": True}
    after = {**before, "sensitive_data": [], "exposure": "internal", "changes_auth": False, "third_parties": ""}
    words = answer_changes(intake.DEFAULT_QUESTIONNAIRE, before, after)
    assert "Internet-facing → Internal only" in words and "Personal data → none" in words
    assert "Does it change authentication or access control? yes → no" in words and "“Salesforce” → none" in words
    unchanged = answer_changes(intake.DEFAULT_QUESTIONNAIRE, before, before)
    assert unchanged == "none of the risk questions (the scoring rules changed)"


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secreview.toml"
    path.write_text(text, encoding="utf-8")
    return path


class NoGroupMembers:
    """A Web API client whose user groups are empty."""

    def usergroups_users_list(self, usergroup: str) -> dict[str, list[str]]:
        return {"users": []}


class SlackDownThenBack:
    """A Web API client whose user-group lookup fails until `up` is set; it counts the lookups."""

    def __init__(self) -> None:
        self.up = False
        self.lookups = 0

    def usergroups_users_list(self, usergroup: str) -> dict[str, list[str]]:
        self.lookups += 1
        if not self.up:
            raise OSError("connection refused")
        return {"users": ["U0GRACE"]}


def test_a_failed_group_lookup_is_not_repeated_for_every_click_while_slack_is_down() -> None:
    settings = make_settings(secreview_reviewers=["S0SEC"])
    client, now = SlackDownThenBack(), [1000.0]
    roles = RoleResolver(settings, client_for=lambda _ws: client, clock=lambda: now[0])  # type: ignore[arg-type,return-value]
    assert not roles.actor("U0GRACE", workspace_id="T0A").is_reviewer  # Slack is down: no member is known
    assert not roles.actor("U0GRACE", workspace_id="T0A").is_reviewer
    assert client.lookups == 1  # the second click did not wait on Slack's retries again
    client.up = True
    now[0] += 5.1  # the pause after a failure is over
    assert roles.actor("U0GRACE", workspace_id="T0A").is_reviewer
    assert client.lookups == 2


def test_workspaces_have_reviewers_and_admins_of_their_own(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[workspaces.T0B]\nreviewers = ["U0DAVE", "S0SEC"]\nadmins = ["U0ERIN"]\n')
    settings = make_settings(secreview_config=path, secreview_reviewers=["U0BOB"], secreview_admins=["U0CAROL"])
    roles = RoleResolver(settings, client_for=lambda _ws: NoGroupMembers())  # type: ignore[arg-type,return-value]
    assert roles.actor("U0BOB", workspace_id="T0A").is_reviewer
    assert roles.actor("U0CAROL", workspace_id="T0A").is_admin
    assert not roles.actor("U0BOB", workspace_id="T0B").is_reviewer  # B's own list replaces the global one
    assert not roles.actor("U0CAROL", workspace_id="T0B").is_admin
    assert roles.actor("U0DAVE", workspace_id="T0B").is_reviewer
    assert not roles.actor("U0DAVE", workspace_id="T0A").is_reviewer
    assert roles.actor("U0ERIN", workspace_id="T0B").is_admin


@pytest.mark.parametrize(("text", "said"), [
    ("[workspaces.nope]\nreviewers = []\n", "workspaces.nope: 'nope' is not a Slack workspace ID"),
    ('[workspaces.T0B]\nreviewers = ["bob"]\n', "workspaces.T0B.reviewers[0]: 'bob' is not a Slack user ID"),
    ('[workspaces.T0B]\nadmins = ["S0SEC"]\n', "workspaces.T0B.admins[0]: 'S0SEC' is not a Slack user ID (U…)"),
    ('[workspaces.T0B]\nreviewer = ["U0BOB"]\n', "workspaces.T0B.reviewer: unknown setting"),
    ('workspaces = "T0B"\n', "workspaces: expected tables"),
])
def test_a_bad_workspaces_table_stops_start_up_with_one_line(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, secreview_config=config_file(tmp_path, text))
    assert str(raised.value).startswith("SECREVIEW_CONFIG: " + said)
