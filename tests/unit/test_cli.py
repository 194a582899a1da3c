"""The `secreview` command line as a new user runs it: settings errors, db upgrade, demo data, export, audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from bot.cli import main
from bot.config import SettingsError, load_settings
from storage import db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A clean environment with only DATABASE_URL set, run from an empty directory (no .env)."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "SECREVIEW_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return {"DATABASE_URL": database_url}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_everywhere(env: dict[str, str]) -> None:
    for command in ([], ["db"], ["digest"], ["audit"], ["export"], ["serve"], ["work"], ["run"], ["manifest"],
                    ["demo-data"], ["sandbox"], ["check"]):
        code, out, _ = run(*command, "--help")
        assert code == 0 and "Usage:" in out


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SECREVIEW_TIMEZONE", "Mars/Olympus", "SECREVIEW_TIMEZONE: 'Mars/Olympus' is not an IANA time zone"),
        ("SECREVIEW_DIGEST_SCHEDULE", "every monday", "SECREVIEW_DIGEST_SCHEDULE: 'every monday' is not a cron"),
        ("SECREVIEW_SECURITY_CHANNEL", "#security", "SECREVIEW_SECURITY_CHANNEL: '#security' is not a Slack channel"),
        ("SECREVIEW_REVIEWERS", "alice,U123", "SECREVIEW_REVIEWERS: 'alice' is not a Slack user ID"),
        ("SECREVIEW_SLA_DAYS", "soon", "SECREVIEW_SLA_DAYS: 'soon' is not a number of business days (1 to 60)"),
        ("SECREVIEW_SLA_DAYS", "0", "SECREVIEW_SLA_DAYS"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN: a bot token starts with 'xoxb-'"),
        ("SECREVIEW_CURRENCY", "euro", "SECREVIEW_CURRENCY: 'euro' is not a three-letter currency code"),
        ("SECREVIEW_CONFIG", "/nonexistent/rules.toml", "SECREVIEW_CONFIG: file '/nonexistent/rules.toml' does not"),
        ("SECREVIEW_WORKER_CPUS", "the fast ones", "SECREVIEW_WORKER_CPUS: 'the fast ones' is not 'auto', 'all' or"),
        ("SECREVIEW_WORKER_CPUS", "3-1", "SECREVIEW_WORKER_CPUS: '3-1' is not 'auto', 'all' or a CPU list"),
        ("SECREVIEW_WORKER_PRIORITY", "realtime", "SECREVIEW_WORKER_PRIORITY: 'realtime' is not one of 'idle', 'low'"),
        ("SECREVIEW_HOLIDAYS", "XX", "SECREVIEW_HOLIDAYS: 'XX' is not a country the holidays package knows"),
        ("SECREVIEW_HOLIDAYS", "US-ZZ", "SECREVIEW_HOLIDAYS: 'ZZ' is not a subdivision of US (known: AK"),
        ("SECREVIEW_HOLIDAYS", "France", "SECREVIEW_HOLIDAYS: 'France' is not a country code like 'FR'"),
        ("SECREVIEW_LANGUAGES", "en,klingon", "SECREVIEW_LANGUAGES: 'klingon' is not a language secreview reads"),
        ("SECREVIEW_MIN_SAMPLE", "-1", "SECREVIEW_MIN_SAMPLE: '-1' is not a sample size"),
        ("SECREVIEW_LOCALE", "klingon", "SECREVIEW_LOCALE: 'klingon' is not a locale like 'en', 'en_GB' or 'de_DE'"),
    ],
)
def test_a_bad_setting_stops_with_one_line_naming_it(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                     variable: str, value: str, expected: str) -> None:
    monkeypatch.setenv(variable, value)
    code, out, err = run("export")
    assert code == 2 and out == ""
    assert err.startswith(f"secreview: {expected}")
    assert err.count("\n") == 1


def test_bad_config_file_names_the_key(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[risk.weights]\nsensitive_personal = "high"\n')
    monkeypatch.setenv("SECREVIEW_CONFIG", str(rules))
    with pytest.raises(SettingsError, match=r"SECREVIEW_CONFIG: .*risk\.weights\.sensitive_personal"):
        load_settings(_env_file=None)
    rules.write_text("not [valid toml")
    code, _, err = run("export")
    assert code == 2 and "is not valid TOML" in err
    rules.write_text('[calendar]\nclosed = [2026-12-24, "Christmas week"]\n')
    code, _, err = run("export")
    assert code == 2 and err.startswith("secreview: SECREVIEW_CONFIG: calendar.closed[1]: expected a date like")


def test_mode_requirements(env: dict[str, str]) -> None:
    code, _, err = run("run")
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in err
    os.environ["SLACK_BOT_TOKEN"] = "xoxb-1"
    try:
        assert "SLACK_APP_TOKEN is not set" in run("run")[2]
        assert "SLACK_SIGNING_SECRET is not set" in run("serve")[2]
    finally:
        del os.environ["SLACK_BOT_TOKEN"]


def test_upgrade_demo_export_and_audit(env: dict[str, str], engine: object) -> None:
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "revision" in out
    code, out, _ = run("demo-data")
    assert code == 0 and "created 72 reviews" in out
    code, out, _ = run("export", "--format", "json")
    assert code == 0
    reviews = json.loads(out)
    assert len(reviews) == 72
    states = {r["state"] for r in reviews}
    assert states >= {"announced", "in_review", "needs_info", "approved", "approved_with_conditions", "rejected",
                      "withdrawn", "not_applicable"}
    for review in reviews:
        assert {"key", "title", "state", "owner", "go_live", "risk_tier", "decision", "conditions", "events"} <= set(
            review)
        assert review["events"][0]["action"] == "announced"
        if review["decision"]:
            assert set(review["decision"]) >= {"outcome", "decided_by", "decided_at", "rationale"}
    code, out, _ = run("export", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("workspace,key,title,state")
    assert len(out.strip().splitlines()) == 73

    code, out, _ = run("audit", "verify")
    assert code == 0 and "audit log intact" in out
    with engine.begin() as connection:  # type: ignore[attr-defined]
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        connection.execute(text("UPDATE audit_events SET note = 'approved by the CISO' WHERE seq = 10"))
        if connection.dialect.name != "sqlite":
            # The schema outlives this test (later tests truncate its tables): the guard must be back for them.
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    code, _, err = run("audit", "verify")
    assert code == 1 and "NOT intact" in err and "seq 10" in err and "changed" in err


def test_digest_preview_on_demo_data_shows_every_figure(env: dict[str, str]) -> None:
    run("demo-data")
    code, out, _ = run("digest", "preview", "--period", "last-month")
    assert code == 0
    for words in ("Announced", "pproval", "first response", "decision", "SLA", "go-live", "Backlog", "Overdue",
                  "onditions", "rend", "avings", "egulations"):
        assert words.lower() in out.lower(), words
    code, out, _ = run("digest", "preview", "--json")
    assert code == 0 and len(json.loads(out)["blocks"]) <= 50


def test_digest_preview_exports_the_figures_and_shows_a_posted_period_as_posted(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run("demo-data")
    code, out, _ = run("digest", "preview", "--format", "csv")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("period_kind,period_start,period_end,figure,label,number")
    assert len(lines) == 21 and any(line.split(",")[3] == "sla_met_rate" for line in lines[1:])
    code, out, _ = run("digest", "preview", "--format", "json", "--period", "last-quarter")
    figures = json.loads(out)
    assert code == 0 and figures["period"]["kind"] == "quarter" and figures["posted_at"] is None
    assert {"figure", "text", "n", "change", "verdict", "note"} <= set(figures["table"][0])
    code, _, err = run("digest", "preview", "--period", "2026-W99")
    assert code == 2 and "--period" in err and "2026-W47" in err
    # Posted (queued: no token here), the week is shown from then on exactly as it was posted.
    monkeypatch.setenv("SECREVIEW_DIGEST_CHANNEL", "C0DIGEST1")
    code, out, _ = run("digest", "post")
    assert code == 0 and "queued" in out
    code, out, _ = run("digest", "preview", "--format", "json")
    assert code == 0 and json.loads(out)["posted_at"] is not None


def test_export_to_an_unwritable_path_is_one_line(env: dict[str, str]) -> None:
    run("demo-data", "--reviews", "3")
    code, _, err = run("export", "-o", "/nonexistent/dir/out.json")
    assert code == 1 and err.startswith("secreview: --output: cannot write")


def test_database_errors_are_one_line(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    code, _, err = run("export")
    assert code == 1 and err.startswith("secreview: DATABASE_URL: cannot use the database")


def test_postgres_must_be_upgraded_before_start(env: dict[str, str]) -> None:
    if not env["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite migrates itself")
    engine = db.make_engine(env["DATABASE_URL"])
    assert db.current_revision(engine) == db.head_revision()


def test_a_schema_behind_the_code_is_one_settings_line(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """As PostgreSQL not yet upgraded says it (storage/ raises; the CLI says it in the catalogue's words)."""

    def behind(engine: object) -> None:
        raise db.SchemaNotCurrent("behind")

    monkeypatch.setattr(db, "ensure_schema", behind)
    code, _, err = run("export")
    assert code == 2
    assert err == ("secreview: DATABASE_URL: the PostgreSQL schema is not current; run `secreview db upgrade` "
                   "before starting\n")


def test_manifest_yaml_and_json(env: dict[str, str]) -> None:
    code, out, _ = run("manifest")
    assert code == 0 and "socket_mode_enabled: true" in out
    code, out, _ = run("manifest", "--json", "--request-url", "https://x.example.com/slack/events")
    assert json.loads(out)["settings"]["event_subscriptions"]["request_url"] == "https://x.example.com/slack/events"
    assert run("manifest", "--request-url", "http://insecure")[0] == 1


def test_check_without_slack(env: dict[str, str]) -> None:
    code, out, err = run("check")
    assert code == 1 and "database: ok" in out and "SLACK_BOT_TOKEN is not set" in out
    assert "cannot start" in err


def test_the_installed_command_runs(env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and "secreview" in result.stdout
