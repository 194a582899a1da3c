"""A small Slack world for flow tests: the fake Web API, secreview's real HTTP app, and people who click."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from waitress.server import create_server

from bot.config import Settings
from bot.run.assemble import build_services, verify_token
from bot.run.http import make_wsgi
from bot.slack.services import Services
from handlers import LISTENERS
from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import Response, SlackSender
from storage.models import OutboxMessage, Review

SIGNING_SECRET = "flow-test-signing-secret"
ANNOUNCE = "C0PROJECTS"
SECURITY = "C0SECURITY"
DIGEST = "C0DIGEST"
OWNER = "U0ALICE"
REVIEWER = "U0BOB"
CISO = "U0CAROL"
STRANGER = "U0DAVE"
GROUP_REVIEWER = "U0ERIN"


class World:
    """One workspace with people in it, secreview serving HTTP mode, and helpers to act as each person."""

    def __init__(self, fake: FakeSlack, services: Services, base_url: str) -> None:
        self.fake = fake
        self.services = services
        self.team = fake.team_id
        self.base_url = base_url
        self.sender = SlackSender(f"{base_url}/slack/events", SIGNING_SECRET)
        self.bolt_app: Any = None  # the in-process Bolt App, when there is one
        self.queue_worker: Any = None  # the split world's worker side (bot.run.workqueue.QueueWorker)
        self.work_queue: Any = None  # and the queue it takes from
        self.http_services: Any = None  # the split world's HTTP side (the one that stores and acks)
        self.queue_dispatch: Any = None  # how its worker side runs one stored request

    # --- acting as people --------------------------------------------------------------------------------

    def announce(self, text: str, *, user: str = OWNER, channel: str = ANNOUNCE, retries: int = 0,
                 **extra: Any) -> tuple[str, list[Response]]:
        """Posts a human message and delivers its event (and `retries` more times, as Slack retries)."""
        message = self.fake.add_message(channel, user, text)
        envelope = payloads.message_event(self.team, channel, user, text, ts=message["ts"], **extra)
        responses = [self.sender.send_event(envelope)]
        for attempt in range(1, retries + 1):
            responses.append(self.sender.send_event(envelope, retry_num=attempt, retry_reason="http_timeout"))
        return message["ts"], responses

    def command(self, text: str, *, user: str = OWNER, channel: str = ANNOUNCE) -> Response:
        """Runs `/secreview <text>` as `user`."""
        form = payloads.slash_command(self.team, channel, user, text,
                                      response_url=self.fake.response_url(channel, user),
                                      trigger_id=self.fake.trigger_id(user))
        return self.sender.send_command(form)

    def click(self, action_id: str, value: str, *, user: str, channel: str | None = SECURITY,
              message_ts: str | None = None, view: dict[str, Any] | None = None) -> Response:
        """Clicks a button as `user` (in a channel message, or in a view such as the home tab)."""
        payload = payloads.block_actions(
            self.team, user, action_id, value, channel=channel if view is None else None, message_ts=message_ts,
            view=view, trigger_id=self.fake.trigger_id(user),
            response_url=self.fake.response_url(channel, user, kind="actions") if view is None else None,
        )
        return self.sender.send_interaction(payload)

    def ask(self, text: str, *, user: str = OWNER, channel: str = ANNOUNCE) -> str:
        """Runs `/secreview <text>` and returns the text of the ephemeral answer it got."""
        before = self.answer_count(user)
        response = self.command(text, user=user, channel=channel)
        assert response.status == 200, response.body
        return self.wait_answer(user, before)

    def press(self, action_id: str, value: str, *, user: str, **kwargs: Any) -> str:
        """Clicks a button and returns the text of the ephemeral answer it got."""
        before = self.answer_count(user)
        response = self.click(action_id, value, user=user, **kwargs)
        assert response.status == 200, response.body
        return self.wait_answer(user, before)

    def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str) -> Response:
        """Submits a modal the fake holds, with `values` as Slack's view.state.values."""
        payload = payloads.view_submission(self.team, user, view["callback_id"], view.get("private_metadata", ""),
                                           values, view=view)
        return self.sender.send_interaction(payload)

    # --- looking at the results --------------------------------------------------------------------------

    def settle(self, timeout: float = 10.0) -> None:
        """Waits until every notice written so far was delivered (or refused for good)."""

        def pending() -> bool:
            with self.session() as session:
                return not session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.state == "pending").limit(1)).first()

        self.fake.wait_for(lambda: pending(), timeout=timeout)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session on secreview's database."""
        session = self.services.session_factory()
        try:
            yield session
        finally:
            session.close()

    def reviews(self) -> list[Review]:
        """Every review, in key order."""
        with self.session() as session:
            return list(session.scalars(select(Review).order_by(Review.number)))

    def review(self, number: int) -> Review:
        """One review by number."""
        with self.session() as session:
            found = session.scalars(select(Review).where(Review.number == number)).one()
            _ = (found.conditions, found.decisions)
            return found

    def last_response(self, user: str) -> dict[str, Any]:
        """The newest ephemeral answer `user` received (through response_url)."""
        def answers() -> list[dict[str, Any]]:
            found = [r["body"] for r in self.fake.responses() if r.get("user") == user]
            return found + [m for m in self.fake.ephemerals(user=user) if m not in found]

        return self.fake.wait_for(lambda: answers(), timeout=5.0)[-1]

    def answer_count(self, user: str) -> int:
        """How many ephemeral answers `user` got so far."""
        return len([r for r in self.fake.responses() if r.get("user") == user])

    def wait_answer(self, user: str, before: int) -> str:
        """Waits for an answer to `user` beyond the first `before` ones; returns its text."""
        found = self.fake.wait_for(
            lambda: [r["body"] for r in self.fake.responses() if r.get("user") == user][before:], timeout=5.0)
        return flatten_text(found[-1])

    def last_text(self, user: str) -> str:
        """All text of the newest answer to `user` (fallback text and every block), for assertions."""
        return flatten_text(self.last_response(user))

    def latest_modal(self, user: str) -> dict[str, Any]:
        """The newest modal opened for `user`."""
        opened = self.fake.views(user=user)
        assert opened, f"no modal was opened for {user}"
        return opened[-1]


def flatten_text(node: Any) -> str:
    """Every string inside a message or view, joined: what a person could read."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        return " ".join(flatten_text(v) for k, v in node.items() if k not in ("action_id", "block_id", "type"))
    if isinstance(node, list):
        return " ".join(flatten_text(v) for v in node)
    return ""


def populate(fake: FakeSlack) -> None:
    """The people and channels every flow test has."""
    fake.add_user(OWNER, "Alice Adams", display_name="alice")
    fake.add_user(REVIEWER, "Bob Brown", display_name="bob")
    fake.add_user(CISO, "Carol Chen", display_name="carol")
    fake.add_user(STRANGER, "Dave Doe", display_name="dave")
    fake.add_user(GROUP_REVIEWER, "Erin Evans", display_name="erin")
    fake.add_channel(ANNOUNCE, "projects")
    fake.add_channel(SECURITY, "security-reviews")
    fake.add_channel(DIGEST, "security-digest")
    fake.add_usergroup("S0REVIEWERS", [GROUP_REVIEWER])


def world_settings(fake: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    """Settings pointing the real slack_sdk client at the fake."""
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-flow-test", "slack_signing_secret": SIGNING_SECRET, "slack_api_url": fake.api_url,
        "database_url": database_url, "secreview_security_channel": SECURITY, "secreview_digest_channel": DIGEST,
        "secreview_reviewers": [REVIEWER, "S0REVIEWERS"], "secreview_admins": [CISO],
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def home_workspace(settings: Settings) -> str | None:
    """As `secreview serve` finds it: one bot token serves the workspace auth.test names; OAuth serves many."""
    return None if settings.oauth_enabled else verify_token(settings)


def _serve_until_closed(server: Any) -> None:
    # waitress's loop raises EBADF when close() pulls the socket from under it: that is the normal stop.
    with suppress(OSError):
        server.run()


@contextmanager
def running_world(database_url: str, **overrides: Any) -> Iterator[World]:
    """Starts the fake Slack and secreview's HTTP app (waitress on loopback), and stops both after."""
    fake = FakeSlack().start()
    populate(fake)
    settings = world_settings(fake, database_url, **overrides)
    services = build_services(settings, instance="flow-test")
    services.home_workspace = home_workspace(settings)
    wsgi = make_wsgi(settings, services, listeners=LISTENERS)
    server = create_server(wsgi, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=_serve_until_closed, args=(server,), daemon=True)
    thread.start()
    assert services.outbox_worker is not None
    services.outbox_worker.start()
    try:
        world = World(fake, services, f"http://127.0.0.1:{server.effective_port}")
        world.bolt_app = wsgi.bolt_app
        yield world
    finally:
        services.outbox_worker.stop()
        server.close()
        thread.join(5)
        services.engine.dispose()
        fake.stop()


@contextmanager
def running_process_world(database_url: str, log_dir: Any = None, **overrides: Any) -> Iterator[World]:
    """Like running_world, but secreview is a real `secreview serve` process (waitress, its own outbox worker)."""
    from types import SimpleNamespace

    from storage import db
    from tests.support.processes import serve_process

    fake = FakeSlack().start()
    populate(fake)
    settings = world_settings(fake, database_url, **overrides)
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    reader = SimpleNamespace(session_factory=db.make_session_factory(engine), settings=settings)
    log_path = (log_dir / "serve.log") if log_dir is not None else None
    try:
        with serve_process(settings, extra_args=("--no-scheduler",), log_path=log_path) as process:
            yield World(fake, reader, process["url"])  # type: ignore[arg-type]
    finally:
        engine.dispose()
        fake.stop()


@contextmanager
def running_split_world(database_url: str, *, start_worker: bool = True, **overrides: Any) -> Iterator[World]:
    """secreview split as `secreview serve` splits it, in this process: an HTTP side that stores and acks, and a
    worker side (its own services, app and outbox) that runs what was stored. `world.queue_worker` runs a batch
    by hand when `start_worker` is False. Needs a database file (the two sides share it, as two processes do)."""
    from bot.run.workqueue import QueueWorker, WorkQueue
    from bot.slack.app import build_app, run_queued_into

    fake = FakeSlack().start()
    populate(fake)
    settings = world_settings(fake, database_url, **overrides)
    http_services = build_services(settings, instance="flow-http", with_worker=False)
    http_services.home_workspace = home_workspace(settings)
    http_queue = WorkQueue.open(database_url, http_services.engine)
    assert http_queue is not None, "the split needs a database two processes can share"
    http_services.work_queue = http_queue
    http_services.replays = http_queue.replay_record()  # as serve_http does
    wsgi = make_wsgi(settings, http_services, listeners=LISTENERS, worker_alive=lambda: True)
    server = create_server(wsgi, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=_serve_until_closed, args=(server,), daemon=True)
    thread.start()
    worker_services = build_services(settings, instance="flow-worker")
    worker_queue = WorkQueue.open(database_url, worker_services.engine)
    assert worker_queue is not None and worker_services.outbox_worker is not None
    worker_app = build_app(settings, worker_services, listeners=LISTENERS, token_verification=False, run_queued=True)
    dispatch = run_queued_into(worker_app)
    queue_worker = QueueWorker(queue=worker_queue, dispatch=dispatch, instance_id="flow-worker", poll_seconds=0.01)
    worker_services.outbox_worker.start()
    if start_worker:
        queue_worker.start()
    try:
        world = World(fake, worker_services, f"http://127.0.0.1:{server.effective_port}")
        world.bolt_app = wsgi.bolt_app
        world.queue_worker = queue_worker
        world.work_queue = worker_queue
        world.http_services = http_services
        world.queue_dispatch = dispatch
        yield world
    finally:
        queue_worker.stop()
        worker_services.outbox_worker.stop()
        server.close()
        thread.join(5)
        for services in (http_services, worker_services):
            if services.work_queue is not None:
                services.work_queue.dispose()
            services.engine.dispose()
        worker_queue.dispose()
        fake.stop()
