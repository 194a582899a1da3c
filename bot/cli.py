"""The `secreview` command: run, serve, db, digest, export, audit, manifest, check, demo-data, sandbox."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.common.render import raw_message
from bot.config import MODE_SETTINGS, Settings, SettingsError, load_settings, problem_line
from bot.review.errors import DomainError
from storage import db
from storage.models import Workspace

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """One clear line on stderr and a non-zero exit code."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        # Several settings can be wrong at once, and a broken questionnaire has one line per mistake: each
        # problem is a line of its own, each marked as ours.
        for line in self.format_message().splitlines() or [""]:
            click.echo(raw_message("cli.failure_line", line=line), err=True)


class ConfigFailure(Failure):
    exit_code = 2


def friendly_errors(func: F) -> F:
    """Turns settings, database and domain errors into one line; tracebacks are for bugs only."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            raise ConfigFailure(str(exc)) from None
        except db.SchemaNotCurrent:
            # storage/ cannot reach the catalogue (it imports nothing of bot/): the words are put here.
            problem = raw_message("settings.start.schema_not_current")
            raise ConfigFailure(problem_line("database_url", problem)) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise Failure(raw_message("cli.database_unusable", reason=reason)) from None
        except SQLAlchemyError as exc:
            raise Failure(raw_message("cli.database_error", reason=str(exc).splitlines()[0])) from None
        except DomainError as exc:
            raise Failure(exc.plain_message) from None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return load_settings()


def open_database(settings: Settings, *, migrate_sqlite: bool = True) -> tuple[Any, Any]:
    """The engine and session factory; SQLite is migrated on the spot, PostgreSQL must be current."""
    engine = db.make_engine(settings.database_url)
    if migrate_sqlite:
        db.ensure_schema(engine)
    return engine, db.make_session_factory(engine)


def _pick_workspace(session: Any, requested: str | None) -> str | None:
    # None: the database holds no workspace yet (secreview has seen nothing): an empty answer, not an error.
    if requested:
        return requested
    ids = session.scalars(select(Workspace.id).order_by(Workspace.id)).all()
    if len(ids) == 1:
        return ids[0]
    if not ids:
        return None
    raise Failure(raw_message("cli.several_workspaces", ids=", ".join(ids)))


class WholeHelpGroup(click.Group):
    """A command group whose list of commands shows each one's first sentence whole, wrapped, never cut."""

    group_class = type  # its subgroups (db, digest, audit) list their commands the same way

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands" section: name and first sentence of every visible command."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                # click shortens this to the terminal's width with "..."; a long limit keeps the sentence.
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=WholeHelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """secreview: security reviews for new IT projects, run from Slack."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not verbose:
        # Migration chatter is noise on every start; `-v` shows it.
        logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@click.option("--no-scheduler", is_flag=True, help="Do not run the digest and reminder jobs in this process.")
@friendly_errors
def run(no_scheduler: bool) -> None:
    """Connect to Slack in Socket Mode (no public URL needed)."""
    from bot.run.socket import run_socket_mode
    from handlers import LISTENERS

    settings = _settings()
    settings.require(*MODE_SETTINGS["socket"])
    run_socket_mode(settings, listeners=LISTENERS, scheduler=not no_scheduler)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 512), help="Server threads.")
@click.option("--no-scheduler", is_flag=True, help="Do not run the digest and reminder jobs in this replica.")
@click.option("--inline-work", is_flag=True,
              help="Do the work after each ack in this process instead of a worker child process.")
@friendly_errors
def serve(host: str, port: int, threads: int, no_scheduler: bool, inline_work: bool) -> None:
    """Serve HTTP mode: POST /slack/events, GET /healthz, /readyz and /metrics.

    This process answers Slack; a `secreview work` child process (started and restarted by it) does the work.
    """
    from bot.run.http import serve_http
    from handlers import LISTENERS

    settings = _settings()
    settings.require(*MODE_SETTINGS["http"])
    serve_http(settings, listeners=LISTENERS, host=host, port=port, threads=threads, scheduler=not no_scheduler,
               worker_process=not inline_work)


@main.command()
@click.option("--no-scheduler", is_flag=True, help="Do not run the digest and reminder jobs in this process.")
@click.option("--parent-pid", type=click.IntRange(1), hidden=True, help="Stop when this process is gone.")
@click.option("--busy-file", type=click.Path(dir_okay=False, path_type=Path), hidden=True,
              help="The serving process's count of requests in hand: work waits while it answers.")
@friendly_errors
def work(no_scheduler: bool, parent_pid: int | None, busy_file: Path | None) -> None:
    """Run the work `secreview serve` queued (serve starts this itself; run it alone for more workers)."""
    from bot.run.worker import run_worker
    from handlers import LISTENERS

    settings = _settings()
    settings.require("slack_bot_token")
    run_worker(settings, listeners=LISTENERS, scheduler=not no_scheduler, parent_pid=parent_pid, busy_file=busy_file)


@main.group(name="db")
def db_group() -> None:
    """Database schema."""


@db_group.command()
@friendly_errors
def upgrade() -> None:
    """Migrate the database to the newest schema (run before a rolling restart on PostgreSQL)."""
    settings = _settings()
    engine = db.make_engine(settings.database_url)
    before = db.current_revision(engine)
    db.upgrade(engine)
    after = db.current_revision(engine)
    click.echo(raw_message("cli.db_upgraded", before=before, after=after))


@db_group.command()
@friendly_errors
def current() -> None:
    """Print the schema revision of the database and of the code."""
    settings = _settings()
    engine = db.make_engine(settings.database_url)
    click.echo(raw_message("cli.db_current", database=db.current_revision(engine), code=db.head_revision()))


@main.group()
def digest() -> None:
    """The weekly digest."""


@digest.command()
@click.option("--period", default="last-week", show_default=True, metavar="PERIOD",
              help="last-week, this-week, last-month, this-month, last-quarter, this-quarter, or one named period: "
                   "2026-W47, 2026-11, 2026-Q3. A posted period shows what was posted.")
@click.option("--format", "fmt", type=click.Choice(["text", "blocks", "json", "csv"]), default="text",
              show_default=True,
              help="text: the digest as read; blocks: its Block Kit JSON; json, csv: the figures themselves.")
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --format blocks.")
@click.option("--workspace", help="Workspace (team) ID, when the database serves several.")
@friendly_errors
def preview(period: str, fmt: str, as_json: bool, workspace: str | None) -> None:
    """Print the digest (or its figures) without posting it."""
    from bot.figures import digest as digest_module
    from bot.figures import export as export_module

    settings = _settings()
    _, factory = open_database(settings)
    with db.session_scope(factory) as session:
        workspace_id = _pick_workspace(session, workspace)
        try:
            rendered = None if workspace_id is None else digest_module.preview(
                session, settings=settings, workspace_id=workspace_id, period_name=period)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--period") from None
    fmt = "blocks" if as_json else fmt
    if rendered is None:
        nothing = raw_message("cli.no_reviews")
        click.echo(json.dumps({"text": nothing, "blocks": []}, indent=2) if fmt == "blocks" else nothing)
    elif fmt == "blocks":
        click.echo(json.dumps({"text": rendered["text"], "blocks": rendered["blocks"]}, indent=2, ensure_ascii=False))
    elif fmt == "json":
        click.echo(export_module.figures_json(rendered["figures"], period=rendered["period"],
                                              posted_at=rendered["posted_at"]))
    elif fmt == "csv":
        click.echo(export_module.figures_csv(rendered["figures"], period=rendered["period"]), nl=False)
    else:
        click.echo(rendered["plain_text"])


@digest.command()
@click.option("--workspace", help="Workspace (team) ID, when the database serves several.")
@friendly_errors
def post(workspace: str | None) -> None:
    """Post last week's digest now (once per period: a second post for the same week does nothing)."""
    import socket

    from bot.figures import digest as digest_module

    settings = _settings()
    settings.require("secreview_digest_channel")
    _, factory = open_database(settings)
    with db.session_scope(factory, write=True) as session:
        workspace_id = _pick_workspace(session, workspace)
        if workspace_id is None:
            click.echo(raw_message("cli.no_reviews_to_post"))
            return
        run_row = digest_module.post_digest(session, settings=settings, workspace_id=workspace_id,
                                            trigger="manual", claimed_by=f"cli@{socket.gethostname()}")
    if run_row is None:
        click.echo(raw_message("cli.digest_already_posted"))
        return
    click.echo(raw_message("cli.digest_queued", start=run_row.period_start, end=run_row.period_end))
    if settings.slack_bot_token:
        from bot.run.assemble import drain_outbox

        drain_outbox(settings, factory)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout).")
@click.option("--workspace", help="Workspace (team) ID, when the database serves several.")
@friendly_errors
def export(fmt: str, output: Path | None, workspace: str | None) -> None:
    """All reviews with decisions, conditions and history, as CSV or JSON."""
    from bot.figures import export as export_module

    settings = _settings()
    _, factory = open_database(settings)
    with db.session_scope(factory) as session:
        workspace_id = _pick_workspace(session, workspace)
        # No workspace yet: nothing to export, which is `[]` (or the CSV header), not an error.
        rows = iter(()) if workspace_id is None else export_module.iter_reviews(session, workspace_id=workspace_id)
        text = export_module.to_json(rows) if fmt == "json" else export_module.to_csv(rows)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise Failure(raw_message("cli.output_unwritable", path=repr(str(output)), reason=exc.strerror)) from None
        click.echo(raw_message("cli.wrote", path=output))


@main.group()
def audit() -> None:
    """The append-only audit log."""


@audit.command()
@friendly_errors
def verify() -> None:
    """Recompute the hash chain; exit 1 naming the first row that was edited, inserted or deleted."""
    from bot.review import audit as audit_module

    settings = _settings()
    _, factory = open_database(settings)
    with db.session_scope(factory) as session:
        result = audit_module.verify(session)
    if result.problem is not None:
        p = result.problem
        raise Failure(raw_message("cli.audit_broken", workspace=p.workspace_id, seq=p.seq, event_id=p.event_id,
                                  reason=p.reason))
    click.echo(raw_message("cli.audit_intact", checked=result.checked, workspaces=result.workspaces))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
@click.option("--request-url", help="HTTP mode: the public https URL of POST /slack/events (Socket Mode is off).")
@click.option("--name", default="secreview", show_default=True, help="App name shown in Slack.")
@click.option("--jira", is_flag=True, help="Add users:read.email, so Jira issues are assigned to owners by email.")
@friendly_errors
def manifest(as_json: bool, request_url: str | None, name: str, jira: bool) -> None:
    """Print the Slack app manifest to paste into api.slack.com/apps → Create New App."""
    from bot.slack.manifest import build_manifest, to_yaml

    if request_url is not None and not request_url.startswith("https://"):
        raise Failure(raw_message("cli.request_url_not_https"))
    data = build_manifest(name=name, request_url=request_url, jira=jira)
    click.echo(json.dumps(data, indent=2) if as_json else to_yaml(data))


@main.command()
@click.option("--mode", type=click.Choice(["socket", "http"]), default="socket", show_default=True,
              help="The way to reach Slack to check for: socket (`secreview run`) or http (`secreview serve`).")
@friendly_errors
def check(mode: str) -> None:
    """Check that the settings, the database and Slack let this mode start; exit 1 saying what stands in the way.

    Nothing is written: a SQLite file that does not exist yet is not created, a schema is not upgraded.
    """
    from bot import preflight

    settings = _settings()
    findings = [preflight.Finding(raw_message("check.settings_ok")), preflight.check_database(settings, mode),
                *preflight.check_slack(settings, mode), *preflight.notes(settings),
                *preflight.check_jira(settings)]
    for finding in findings:
        click.echo(finding.line)
    if any(finding.problem for finding in findings):
        raise Failure(preflight.verdict(mode, findings))
    click.echo(preflight.verdict(mode, findings))


@main.group(name="jira")
def jira_group() -> None:
    """The Jira side (with JIRA_URL set)."""


@jira_group.command(name="retry")
@friendly_errors
def jira_retry() -> None:
    """Queue the Jira calls Jira refused (after fixing what it refused) again; the running secreview sends them."""
    from sqlalchemy import update

    from storage.models import OutboxMessage, utcnow

    settings = _settings()
    if not settings.jira_enabled:
        raise ConfigFailure(raw_message("cli.jira_not_set"))
    _, factory = open_database(settings)
    with db.session_scope(factory, write=True) as session:
        queued = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == "failed", OutboxMessage.method.like("jira.%"))
            # created_at anew: a fresh 48 hours of retries from now.
            .values(state="pending", next_attempt_at=utcnow(), created_at=utcnow(), claimed_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    click.echo(raw_message("cli.jira_requeued", count=queued))


@main.command(name="demo-data")
@click.option("--workspace", default=None, help="Workspace (team) ID to fill (default: the only one, or TDEMO0001).")
@click.option("--reviews", default=72, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", default=7, show_default=True, type=int)
@friendly_errors
def demo_data(workspace: str | None, reviews: int, seed: int) -> None:
    """Fill the database with a realistic quarter of sample reviews (their notices are never sent)."""
    from bot import demo

    settings = _settings()
    _, factory = open_database(settings)
    with db.session_scope(factory, write=True) as session:
        existing = session.scalars(select(Workspace.id)).all()
        workspace_id = workspace or (existing[0] if len(existing) == 1 else demo.DEMO_WORKSPACE)
        reviewers = tuple(sorted(settings.reviewer_users)) or demo.DEMO_REVIEWERS
        summary = demo.generate(session, settings=settings, workspace_id=workspace_id, count=reviews, seed=seed,
                                reviewers=reviewers)
    click.echo(raw_message("cli.demo_created", reviews=summary.reviews, workspace=summary.workspace_id,
                           states=sorted(summary.by_state.items())))


@main.command()
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535), help="Port of the web page.")
@click.option("--db", "db_file", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file to keep (default: a temporary one).")
@click.option("--no-demo-data", is_flag=True, help="Start empty instead of with a quarter of sample reviews.")
@friendly_errors
def sandbox(port: int, db_file: Path | None, no_demo_data: bool) -> None:
    """Try secreview without a Slack workspace: a small Slack in your browser, on this machine only."""
    from sandbox.server import run_sandbox

    run_sandbox(port=port, db_file=db_file, demo_data=not no_demo_data)


if __name__ == "__main__":
    main()
