"""`secreview sandbox`: the fake Slack, secreview's real HTTP app and a small Slack in a browser, on loopback.

Four servers on 127.0.0.1: FakeSlack (the Web API secreview calls through SLACK_API_URL), FakeJira (the Jira
Cloud that a decision's safeguards go to, its webhook signed back to secreview), secreview's own
WSGI app (POST /slack/events, served by waitress exactly as `secreview serve` does) and the web page
(sandbox.web). The page turns clicks into the payloads Slack would send, signed with the sandbox's signing
secret, so every request goes through the same code paths as in a real workspace.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import re
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy import delete, select
from waitress.server import create_server

from bot import demo
from bot.common import render
from bot.config import Settings, load_settings
from bot.review import messages
from bot.review.facts import facts_of
from bot.review.states import OPEN_STATES
from bot.run.assemble import build_services, start_background
from bot.run.http import make_wsgi
from bot.slack.services import Services
from handlers import LISTENERS
from sandbox.fake_jira import API_EMAIL, API_TOKEN, FakeJira
from sandbox.fake_slack import FakeSlack
from sandbox.payloads import parse_ts
from sandbox.slack_sender import SlackSender
from sandbox.web import Directory, Person, SandboxWeb
from storage import db
from storage.models import PostedMessage, Review

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never another interface: the sandbox has no authentication
BOT_TOKEN = "xoxb-sandbox"

# The demo data's people and channel, so every review `demo.generate` makes belongs to someone the page shows.
OWNER = demo.DEMO_OWNERS[0]
REVIEWER = demo.DEMO_REVIEWERS[0]
CISO = demo.DEMO_CISO
ANNOUNCE = demo.DEMO_CHANNEL
GENERAL = "C0GENERAL"
SECURITY = "C0SECURITY"
DIGEST = "C0DIGEST"
REVIEWERS_GROUP = "S0SECTEAM"

PEOPLE = (
    Person(OWNER, "Alice Adams", "alice", "Project owner", switchable=True),
    Person(REVIEWER, "Bob Brown", "bob", "Security reviewer", switchable=True),
    Person(CISO, "Carol Chen", "carol", "CISO (admin)", switchable=True),
    Person(demo.DEMO_REVIEWERS[1], "Hugo Hart", "hugo", "Security reviewer"),
    Person(demo.DEMO_OWNERS[1], "Dana Diaz", "dana", "Project owner"),
    Person(demo.DEMO_OWNERS[2], "Emil Eriksen", "emil", "Project owner"),
    Person(demo.DEMO_OWNERS[3], "Fatima Farah", "fatima", "Project owner"),
    Person(demo.DEMO_OWNERS[4], "Gus Gomez", "gus", "Project owner"),
)
SECURITY_TEAM = (REVIEWER, demo.DEMO_REVIEWERS[1], CISO)
DEMO_REVIEWS = 72  # a quarter's worth, as `secreview demo-data` makes
RESTORE_LIMIT = 40  # open reviews whose announcement, thread reply and card are put back on start


def populate(fake: FakeSlack) -> None:
    """The sandbox workspace: people, channels and the reviewers' user group."""
    for person in PEOPLE:
        fake.add_user(person.id, person.real_name, name=person.handle, display_name=person.handle,
                      email=f"{person.handle}@example.com", is_admin=person.id == CISO)
    fake.add_channel(GENERAL, "general", is_general=True, purpose="Company-wide announcements")
    fake.add_channel(ANNOUNCE, "projects", purpose="Announce new IT projects here: secreview is listening")
    fake.add_channel(SECURITY, "security-reviews", is_private=True, members=list(SECURITY_TEAM),
                     purpose="Review cards: take, decide, ask for info")
    fake.add_channel(DIGEST, "security-digest", purpose="The weekly security digest")
    fake.add_usergroup(REVIEWERS_GROUP, [REVIEWER, demo.DEMO_REVIEWERS[1]], handle="security-reviewers",
                       name="Security reviewers")


JIRA_ENGINEER = "5b10a2844c20165700ede21g"


def populate_jira(jira: FakeJira) -> None:
    """The sandbox's Jira: the same people (matched by email, as secreview assigns issues) and an engineer."""
    for person in PEOPLE:
        jira.add_user(f"5b10{person.handle}", person.real_name, f"{person.handle}@example.com")
    jira.add_user(JIRA_ENGINEER, "Erin Engineer", "erin@example.com")
    jira.site.page_person = JIRA_ENGINEER


def sandbox_settings(fake: FakeSlack, database_url: str, signing_secret: str,
                     jira: FakeJira | None = None, jira_secret: str | None = None) -> Settings:
    """secreview's settings for the sandbox: the fakes' URLs, loopback only, no .env file."""
    jira_values = {} if jira is None else {
        "jira_url": jira.url, "jira_user": API_EMAIL, "jira_api_token": API_TOKEN, "secreview_jira_project": "SEC",
        "secreview_jira_webhook_secret": jira_secret}
    # A .env in the working directory may hold a real workspace's tokens: the sandbox never reads it.
    return load_settings(
        _env_file=None, slack_bot_token=BOT_TOKEN, slack_signing_secret=signing_secret, slack_app_token=None,
        slack_api_url=fake.api_url, database_url=database_url, secreview_security_channel=SECURITY,
        secreview_digest_channel=DIGEST, secreview_reviewers=[REVIEWERS_GROUP], secreview_admins=[CISO],
        secreview_watch_channels=[ANNOUNCE, GENERAL], secreview_digest_chart=True, **jira_values,
    )


def restore_open_reviews(fake: FakeSlack, services: Services, limit: int = RESTORE_LIMIT) -> int:
    """Puts the Slack side of open reviews back into the fresh fake: announcement, thread reply, card.

    The fake keeps no history between runs and demo data never sends its notices, so without this the
    reviewers' queue would have no cards and decisions on older reviews would thread under nothing.
    """
    settings = services.settings
    restored = 0
    with db.session_scope(services.session_factory, write=True) as session:
        # The fake starts empty: no message recorded by an earlier run exists any more.
        session.execute(delete(PostedMessage).where(PostedMessage.workspace_id == fake.team_id))
        reviews = session.scalars(
            select(Review).where(Review.workspace_id == fake.team_id, Review.state.in_(list(OPEN_STATES)))
            .order_by(Review.announced_at.desc()).limit(limit)
        ).all()
        for review in sorted(reviews, key=lambda r: r.announced_at):
            at = review.announced_at.timestamp()
            review_facts = facts_of(session, review)
            if review.source_channel == ANNOUNCE and review.source_ts and not fake.message(ANNOUNCE,
                                                                                        review.source_ts):
                fake.add_message(ANNOUNCE, review.announcer_id, _as_slack_text(review.announcement_text),
                                 ts=review.source_ts)
                reply = messages.thread_opened(review, review_facts)
                added = fake.add_message(ANNOUNCE, fake.bot_user_id, reply["text"], blocks=reply["blocks"],
                                         bot_id=fake.bot_id, thread_ts=review.source_ts,
                                         ts=_ts_after(review.source_ts, 2.0))
                session.add(PostedMessage(workspace_id=fake.team_id, review_id=review.id, kind="thread",
                                          channel=ANNOUNCE, ts=added["ts"], data={"where": "thread"}))
            card = messages.review_card(review, settings, review_facts)
            card_ts = _ts_after(f"{at:.6f}", 3.0)
            while fake.message(SECURITY, card_ts):
                card_ts = _ts_after(card_ts, 0.000001)
            fake.add_message(SECURITY, fake.bot_user_id, card["text"], blocks=card["blocks"],
                             bot_id=fake.bot_id, ts=card_ts)
            review.card_channel, review.card_ts = SECURITY, card_ts
            session.add(PostedMessage(workspace_id=fake.team_id, review_id=review.id, kind="card", channel=SECURITY,
                                      ts=card_ts, data={}))
            restored += 1
    return restored


def _as_slack_text(text: str) -> str:
    # Announcements that came through Slack are stored as Slack sent them (escaped); demo data's are raw.
    return text if re.search(r"&(amp|lt|gt);", text) else render.escape_mrkdwn(text)


def _ts_after(ts: str, seconds: float) -> str:
    micro = parse_ts(ts) + int(seconds * 1_000_000)
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def _has_reviews(services: Services, workspace_id: str) -> bool:
    with db.session_scope(services.session_factory) as session:
        found = session.scalars(select(Review.id).where(Review.workspace_id == workspace_id).limit(1)).first()
        return found is not None


@dataclass
class _Running:
    fake: FakeSlack
    jira: FakeJira
    services: Services
    app_server: Any
    app_thread: threading.Thread
    stop_background: Callable[[], None]
    web: SandboxWeb


class Sandbox:
    """The whole sandbox in this process; `start()` returns at once, `stop()` shuts everything down."""

    def __init__(self, *, port: int = 3000, db_file: Path | None = None, demo_data: bool = True,
                 demo_reviews: int = DEMO_REVIEWS) -> None:
        self.port = port
        self.db_file = db_file
        self.demo_data = demo_data
        self.demo_reviews = demo_reviews
        self.signing_secret = secrets.token_hex(16)  # per run: nothing outside this process can sign requests
        self._tempdir: str | None = None
        self._running: _Running | None = None

    @property
    def url(self) -> str:
        """The web page's address."""
        assert self._running is not None, "start() the sandbox first"
        return self._running.web.url

    @property
    def fake(self) -> FakeSlack:
        """The fake Slack workspace (for tests)."""
        assert self._running is not None, "start() the sandbox first"
        return self._running.fake

    @property
    def jira(self) -> FakeJira:
        """The fake Jira site (for tests)."""
        assert self._running is not None, "start() the sandbox first"
        return self._running.jira

    @property
    def services(self) -> Services:
        """secreview's services (for tests)."""
        assert self._running is not None, "start() the sandbox first"
        return self._running.services

    @property
    def database_path(self) -> Path:
        """The SQLite file in use."""
        if self.db_file is not None:
            return self.db_file
        assert self._tempdir is not None
        return Path(self._tempdir) / "secreview.db"

    def start(self) -> Sandbox:
        """Starts the fake Slack, secreview over HTTP and the web page; fills demo data on first use."""
        # Bind the page's port first: a port in use should fail before anything else is built.
        web = SandboxWeb(host=HOST, port=self.port)
        try:
            web.bind()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {self.port} is already in use: try `secreview sandbox --port {self.port + 1}`"
                ) from None
            raise
        fake = jira = services = app_server = None
        try:
            if self.db_file is None:
                self._tempdir = tempfile.mkdtemp(prefix="secreview-sandbox-")
            else:
                self.db_file.parent.mkdir(parents=True, exist_ok=True)
            fake = FakeSlack(HOST, 0, tokens=[BOT_TOKEN]).start()
            populate(fake)
            jira = FakeJira(HOST, 0).start()
            populate_jira(jira)
            jira_secret = secrets.token_hex(16)
            settings = sandbox_settings(fake, f"sqlite:///{self.database_path}", self.signing_secret, jira,
                                        jira_secret)
            services = build_services(settings, instance="sandbox")
            if self.demo_data and not _has_reviews(services, fake.team_id):
                with db.session_scope(services.session_factory, write=True) as session:
                    demo.generate(session, settings=settings, workspace_id=fake.team_id,
                                  count=self.demo_reviews, reviewers=demo.DEMO_REVIEWERS)
            restore_open_reviews(fake, services)
            app_server = create_server(make_wsgi(settings, services, listeners=LISTENERS), host=HOST, port=0, threads=8,
                                       ident="secreview-sandbox")
            app_thread = threading.Thread(target=_serve, args=(app_server,), name="secreview-app",
                                          daemon=True)
            app_thread.start()
            stop_background = start_background(services, scheduler=False, instance="sandbox")
            app_url = f"http://{HOST}:{app_server.effective_port}/slack/events"
            jira.add_webhook(f"http://{HOST}:{app_server.effective_port}/jira/webhook", jira_secret)
            web.attach(fake=fake, sender=SlackSender(app_url, self.signing_secret),
                       directory=Directory(people=PEOPLE, announce=ANNOUNCE, security=SECURITY, digest=DIGEST,
                                           general=GENERAL, jira_url=jira.url))
            web.start()
        except BaseException:
            web.stop()
            if app_server is not None:
                app_server.close()
            if services is not None:
                services.engine.dispose()
            if fake is not None:
                fake.stop()
            if jira is not None:
                jira.stop()
            self._remove_tempdir()
            raise
        self._running = _Running(fake, jira, services, app_server, app_thread, stop_background, web)
        return self

    def stop(self) -> None:
        """Stops the page, secreview (deliveries under way finish) and the fake; drops a temporary DB."""
        running, self._running = self._running, None
        if running is not None:
            running.web.stop()
            running.app_server.close()
            running.app_thread.join(5)
            running.stop_background()  # stops the outbox worker and disposes of the engine
            running.fake.stop()
            running.jira.stop()
        self._remove_tempdir()

    def _remove_tempdir(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _serve(server: Any) -> None:
    # waitress raises EBADF when close() pulls the socket away under it: that is our way out.
    with contextlib.suppress(OSError):
        server.run()


def run_sandbox(*, port: int = 3000, db_file: Path | None = None, demo_data: bool = True) -> None:
    """Runs the sandbox until Ctrl-C (or SIGTERM), printing the page's URL."""
    # The sandbox's terminal is for the person trying it: warnings only (waitress and the outbox are chatty).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    click.echo("Starting the secreview sandbox (a pretend Slack on this machine; nothing leaves it)...")
    # Ctrl-C while starting interrupts start(), which cleans up after itself; after that it stops cleanly.
    sandbox = Sandbox(port=port, db_file=db_file, demo_data=demo_data).start()
    stopped = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopped.set())
    try:
        temporary = "a temporary file, deleted on exit (--db FILE keeps one)"
        where = str(sandbox.database_path) if db_file else temporary
        click.echo(f"\n  secreview sandbox is running: open {sandbox.url}\n")
        click.echo(f"  Database: {where}")
        click.echo("  Press Ctrl-C to stop.\n")
        while not stopped.wait(0.5):
            pass
    finally:
        click.echo("Stopping the sandbox...")
        sandbox.stop()
