"""The first hour at the command line: a fresh folder, no settings, and what each command says there."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_settings
from sandbox.fake_slack import FakeSlack
from storage import db
from tests.conftest import is_postgres

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-first-hour"
APP_TOKEN = "xapp-1-first-hour"


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory (no .env) and an environment with no secreview or Slack settings."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "SECREVIEW_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "fresh"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API that knows one bot token and one app-level token."""
    with FakeSlack(tokens=[BOT_TOKEN, APP_TOKEN]) as fake:
        yield fake


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- export and digest preview on an empty database ----------------------------------------------------------------

def test_export_of_an_empty_database_is_an_empty_list(fresh: Path) -> None:
    code, out, err = run("export", "--format", "json")
    assert (code, json.loads(out), err) == (0, [], "")


def test_csv_export_of_an_empty_database_is_the_header(fresh: Path) -> None:
    code, out, err = run("export", "--format", "csv")
    assert code == 0 and err == ""
    assert out.splitlines() == [out.splitlines()[0]] and out.startswith("workspace,key,title,state")


def test_digest_preview_of_an_empty_database_says_no_reviews_yet(fresh: Path) -> None:
    code, out, err = run("digest", "preview")
    assert code == 0 and err == ""
    assert "no reviews yet" in out.lower()
    code, out, _ = run("digest", "preview", "--json")
    assert code == 0 and "no reviews yet" in json.loads(out)["text"].lower()


def test_posting_the_digest_of_an_empty_database_posts_nothing_and_says_why(fresh: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECREVIEW_DIGEST_CHANNEL", "C0DIGEST")
    code, out, err = run("digest", "post")
    assert (code, err) == (0, "") and "no reviews yet" in out and "no digest to post" in out


def test_no_command_suggests_demo_data_for_a_database_that_may_be_real(fresh: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECREVIEW_DIGEST_CHANNEL", "C0DIGEST")
    for command in (["export"], ["export", "--format", "csv"], ["digest", "preview"], ["digest", "post"]):
        _, out, err = run(*command)
        assert "demo" not in (out + err).lower(), command


# --- check ---------------------------------------------------------------------------------------------------------

def test_check_in_a_fresh_folder_fails_saying_what_socket_mode_misses(fresh: Path) -> None:
    code, out, err = run("check")
    assert code != 0
    report = out + err
    assert "SLACK_BOT_TOKEN is not set" in report and "SLACK_APP_TOKEN is not set" in report
    assert "SLACK_SIGNING_SECRET" not in report  # Socket Mode needs none


def test_check_does_not_create_the_database(fresh: Path) -> None:
    run("check")
    run("check", "--mode", "http")
    assert list(fresh.iterdir()) == []


def test_check_of_a_fresh_folder_says_in_plain_words_that_run_creates_the_database(fresh: Path) -> None:
    _, out, _ = run("check")
    database = next(line for line in lines(out) if line.startswith("database:"))
    assert "secreview run" in database and "creates" in database
    assert not re.search(r"\b000\d\b|schema empty|code ", out)


def test_check_http_mode_needs_the_signing_secret_not_the_app_token(fresh: Path, slack: FakeSlack,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    code, out, err = run("check", "--mode", "http")
    assert code != 0 and "SLACK_SIGNING_SECRET is not set" in out + err and "SLACK_APP_TOKEN" not in out + err
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-signing-secret")
    code, out, err = run("check", "--mode", "http")
    assert code == 0, out + err
    assert "slack: ok" in out


def test_check_passes_when_socket_mode_can_start(fresh: Path, slack: FakeSlack, database_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    code, out, err = run("check")
    assert code == 0, out + err
    assert "database: ok" in out and "slack: ok" in out
    # The app-level token was tried as Socket Mode uses it.
    assert slack.calls("apps.connections.open")


def test_check_fails_when_slack_refuses_the_app_token(fresh: Path, slack: FakeSlack,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-revoked")
    code, out, err = run("check")
    assert code != 0 and "SLACK_APP_TOKEN" in out + err and "invalid_auth" in out + err


def test_check_of_an_old_sqlite_schema_says_run_upgrades_it(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = db.make_engine("sqlite:///old.db")
    db.upgrade(engine, "0001")
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", "sqlite:///old.db")
    _, out, _ = run("check")
    database = next(line for line in lines(out) if line.startswith("database:"))
    assert "older than this version" in database and "secreview run" in database
    assert db.current_revision(db.make_engine("sqlite:///old.db")) == "0001"  # check changed nothing


def test_check_of_an_empty_postgres_schema_says_to_upgrade(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not is_postgres():
        pytest.skip("PostgreSQL only: an empty SQLite file is migrated by `secreview run`")
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import TEST_DATABASE_URL

    schema = f"t_check_{os.getpid()}"
    admin = db.make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
        code, out, _ = run("check")
        assert code != 0
        database = next(line for line in lines(out) if line.startswith("database:"))
        assert "no secreview tables yet" in database and "secreview db upgrade" in database
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- settings errors -----------------------------------------------------------------------------------------------

def test_a_garbage_database_url_is_a_settings_error_naming_it(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "garbage")
    for command in (["check"], ["export"]):
        code, out, err = run(*command)
        assert code == 2 and out == "", command
        assert lines(err) == [err.strip()]
        assert err.startswith("secreview: DATABASE_URL: 'garbage' is not a database URL")
        assert "sqlite:///" in err and "postgresql+psycopg://" in err


@pytest.mark.parametrize("url", ["mysql://u@localhost/secreview", "postgresql://u:hunter2@db.internal/secreview"])
def test_a_database_url_with_a_driver_secreview_does_not_use_is_a_settings_error(
        fresh: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    code, _, err = run("export")
    assert code == 2 and err.startswith("secreview: DATABASE_URL: ") and "postgresql+psycopg://" in err
    assert "hunter2" not in err  # a password never reaches the terminal or the logs


def test_several_bad_settings_are_all_reported_one_line_each(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECREVIEW_SLA_DAYS", "-3")
    monkeypatch.setenv("SECREVIEW_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("DATABASE_URL", "garbage")
    monkeypatch.setenv("SECREVIEW_ADMINS", "alice")
    code, out, err = run("export")
    assert code == 2 and out == ""
    reported = lines(err)
    assert len(reported) == 4, err
    assert all(line.startswith("secreview: ") for line in reported)
    assert sorted(line.split(":")[1].strip() for line in reported) == [
        "DATABASE_URL", "SECREVIEW_ADMINS", "SECREVIEW_SLA_DAYS", "SECREVIEW_TIMEZONE"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SECREVIEW_SLA_DAYS", "-3", "SECREVIEW_SLA_DAYS: -3 is not a number of business days (1 or more)"),
        ("SECREVIEW_SLA_DAYS", "90", "SECREVIEW_SLA_DAYS: 90 is not a number of business days (60 at most)"),
        ("SECREVIEW_SLA_DAYS", "soon", "SECREVIEW_SLA_DAYS: 'soon' is not a number of business days (1 to 60)"),
        ("SECREVIEW_LISTENER_THREADS", "0", "SECREVIEW_LISTENER_THREADS: 0 is not a number of listener threads"),
        ("SECREVIEW_DIGEST_GRACE_HOURS", "-1", "SECREVIEW_DIGEST_GRACE_HOURS: -1 is not a number of hours (0 or"),
        ("SECREVIEW_FAST_TRACK_AUTO", "perhaps", "SECREVIEW_FAST_TRACK_AUTO: 'perhaps' is not true or false"),
        ("SECREVIEW_WORKER_PRIORITY", "realtime",
         "SECREVIEW_WORKER_PRIORITY: 'realtime' is not one of 'idle', 'low' or 'normal'"),
    ],
)
def test_settings_errors_are_in_secreviews_words_with_the_value_given(
        fresh: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str) -> None:
    monkeypatch.setenv(variable, value)
    code, _, err = run("export")
    assert code == 2
    assert err.startswith(f"secreview: {expected}"), err
    assert "Input should" not in err and "pydantic" not in err.lower()


def test_a_field_added_later_gets_the_same_words(fresh: Path) -> None:
    # Fields other changes add get secreview's wording without code of their own: a plain int with bounds.
    from pydantic import Field

    from bot.config import Settings, SettingsError

    class Later(Settings):
        secreview_new_limit: int = Field(default=3, ge=2)

    with pytest.raises(SettingsError) as raised:
        load_settings(settings_class=Later, _env_file=None, secreview_new_limit="1")
    assert str(raised.value) == "SECREVIEW_NEW_LIMIT: 1 is not a whole number (2 or more)"


# --- starting the app ----------------------------------------------------------------------------------------------

def test_building_the_app_logs_no_warning_about_an_unused_token(database_url: str, slack: FakeSlack,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from bot.run.assemble import build_services
    from bot.slack.app import build_app
    from handlers import LISTENERS
    from tests.support.world import world_settings

    # As in production: the token is in the environment, which Bolt reads by itself.
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    settings = world_settings(slack, database_url, slack_bot_token=BOT_TOKEN)
    services = build_services(settings, with_worker=False, instance="first-hour")
    try:
        with caplog.at_level(logging.DEBUG):
            app = build_app(settings, services, listeners=LISTENERS, token_verification=False)
        assert app.client.token == BOT_TOKEN
        unused = [r.getMessage() for r in caplog.records if "unused" in r.getMessage()]
        assert unused == []
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    finally:
        services.engine.dispose()


# --- help ----------------------------------------------------------------------------------------------------------

def _first_sentence(command: click.Command) -> str:
    text = " ".join((command.help or "").partition("\n\n")[0].split())
    match = re.match(r"(.+?\.)(\s+[^a-z]|$)", text)
    return match.group(1) if match else text


@pytest.mark.parametrize("group", [(), ("db",), ("digest",), ("audit",)])
def test_help_shows_every_command_description_whole(fresh: Path, group: tuple[str, ...]) -> None:
    code, out, _ = run(*group, "--help")
    listing = " ".join(out.partition("Commands:")[2].split())
    assert code == 0 and listing and "..." not in listing and "…" not in listing
    command = main
    for name in group:
        command = command.commands[name]  # type: ignore[attr-defined]
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        if not sub.hidden:
            assert f"{name} {_first_sentence(sub)}" in listing, name


# --- installing ----------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_building_the_wheel_warns_about_nothing(tmp_path: Path) -> None:
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.fail(f"setuptools {setuptools.__version__} in this venv: run `make install` (the test extra pins 77+)")
    source = tmp_path / "src"
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        path = ROOT / name
        if path.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(path.read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "deprecated" not in output.lower(), output
    assert "absent from the `packages` configuration" not in output and "would be ignored" not in output.lower()
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("secreview-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"sandbox/static/index.html", "sandbox/static/app.js", "templates/messages.toml",
            "storage/migrations/env.py"} <= names
    assert any(n.endswith("licenses/LICENSE") for n in names)
