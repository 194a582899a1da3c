"""What `secreview check` looks at: could `secreview run` (or `serve`) start here with these settings?

It reads and asks, and never writes: a SQLite file that does not exist is not created, a schema is not migrated.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.common.render import raw_message
from bot.config import MODE_SETTINGS, Settings, safe_database_url, setting_hint
from bot.tracker.check import JiraCheckFailed
from bot.tracker.check import check_jira as jira_lines
from storage import db
from storage.db import SchemaState

# The command that starts each mode: SQLite is created and migrated by it, so "not there yet" is no problem.
MODE_COMMAND = {"socket": "run", "http": "serve"}


@dataclass(frozen=True)
class Finding:
    """One line of the report; `problem` when it stops the mode from starting."""

    line: str
    problem: bool = False


def check_database(settings: Settings, mode: str) -> Finding:
    """Where the database stands: SQLite the start migrates; PostgreSQL must be upgraded first."""
    url = safe_database_url(settings.database_url)
    command = MODE_COMMAND[mode]
    try:
        state, revision = db.inspect_schema(settings.database_url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Finding(raw_message("check.database_unusable", url=url, reason=reason), problem=True)
    migrates_itself = settings.is_sqlite
    if state is SchemaState.CURRENT:
        return Finding(raw_message("check.database_ok", url=url))
    if state is SchemaState.MEMORY:
        return Finding(raw_message("check.database_memory", url=url))
    if state is SchemaState.NO_FILE:
        path = make_url(settings.database_url).database
        return Finding(raw_message("check.database_no_file", path=path, command=command))
    if state is SchemaState.EMPTY:
        if migrates_itself:
            return Finding(raw_message("check.database_empty_created_on_start", command=command))
        return Finding(raw_message("check.database_empty", url=url), problem=True)
    if state is SchemaState.BEHIND:
        if migrates_itself:
            return Finding(raw_message("check.database_behind_upgraded_on_start", command=command))
        return Finding(raw_message("check.database_behind"), problem=True)
    return Finding(raw_message("check.database_ahead", revision=revision), problem=True)


def check_slack(settings: Settings, mode: str) -> list[Finding]:
    """The settings the mode needs, then the tokens tried as the mode uses them (auth.test, Socket Mode)."""
    missing = settings.missing(*MODE_SETTINGS[mode])
    findings = [Finding(raw_message("check.slack_missing", problem=line), problem=True) for line in missing]
    if not settings.slack_bot_token:
        return findings
    socket = mode == "socket" and bool(settings.slack_app_token)
    try:
        auth = _client(settings, settings.slack_bot_token).auth_test()
        if socket:
            # apps.connections.open hands out a WebSocket URL without connecting: it proves the app-level token.
            try:
                _client(settings, settings.slack_app_token).apps_connections_open(app_token=settings.slack_app_token)
            except SlackApiError as exc:
                findings.append(_refused("slack_app_token", exc))
                return findings
    except SlackApiError as exc:
        findings.append(_refused("slack_bot_token", exc))
        return findings
    except OSError as exc:
        findings.append(Finding(raw_message("check.slack_unreachable", url=settings.slack_api_url, reason=exc),
                                problem=True))
        return findings
    findings.append(Finding(raw_message("check.slack_ok", team=auth.get("team"), team_id=auth.get("team_id"),
                                        bot=auth.get("user"), socket=socket)))
    return findings


def notes(settings: Settings) -> list[Finding]:
    """What is unset but does not stop the start: the channels, the reviewers."""
    found = [Finding(raw_message("check.note_unset", name=name.upper(), hint=setting_hint(name)))
             for name in ("secreview_security_channel", "secreview_digest_channel") if not getattr(settings, name)]
    if not settings.secreview_reviewers:
        found.append(Finding(raw_message("check.note_no_reviewers")))
    return found


def verdict(mode: str, findings: list[Finding]) -> str:
    """The last line: whether the mode can start, and how many problems stand in its way."""
    name = raw_message(f"check.mode_{mode}")
    count = sum(f.problem for f in findings)
    return raw_message("check.cannot_start", mode=name, count=count) if count else raw_message(
        "check.can_start", mode=name)


def _client(settings: Settings, token: str | None) -> WebClient:
    # No retries: check answers at once, and says "unreachable" rather than waiting out a flaky Slack.
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=10)


def _refused(name: str, exc: SlackApiError) -> Finding:
    return Finding(raw_message("check.slack_refused", name=name.upper(), error=exc.response.get("error")),
                   problem=True)


def check_jira(settings: Settings) -> list[Finding]:
    """The Jira lines (bot/tracker/check.py): a Jira setting that does not work stops the check."""
    try:
        return [Finding(line) for line in jira_lines(settings)]
    except JiraCheckFailed as exc:
        return [Finding(str(exc), problem=True)]
