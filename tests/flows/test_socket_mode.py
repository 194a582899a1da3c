"""Socket Mode: the real Bolt App over a WebSocket speaking Slack's envelope format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.run.assemble import build_services
from bot.slack.app import build_app
from bot.slack.client import make_client
from handlers import LISTENERS
from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from tests.support.socket_mode_server import SocketModeServer
from tests.support.world import ANNOUNCE, OWNER, SECURITY, World, populate, world_settings


@pytest.fixture
def socket_world(database_url: str) -> Iterator[tuple[World, SocketModeServer]]:
    """secreview connected over Socket Mode (no signing secret: Socket Mode needs none)."""
    fake = FakeSlack().start()
    populate(fake)
    server = SocketModeServer().start()
    fake.socket_mode_url = server.url
    settings = world_settings(fake, database_url, slack_signing_secret=None, slack_app_token="xapp-1-test")
    services = build_services(settings, instance="socket-test")
    app = build_app(settings, services, listeners=LISTENERS)
    assert services.outbox_worker is not None
    services.outbox_worker.start()
    handler = SocketModeHandler(app, app_token="xapp-1-test", web_client=make_client(settings, "xapp-1-test"))
    handler.connect()
    try:
        server.wait_connected()
        yield World(fake, services, "socket-mode"), server
    finally:
        handler.close()
        services.outbox_worker.stop()
        server.stop()
        services.engine.dispose()
        fake.stop()


def test_announcement_and_command_over_socket_mode(socket_world: tuple[World, SocketModeServer]) -> None:
    world, server = socket_world
    message = world.fake.add_message(ANNOUNCE, OWNER, "New project: Snowflake for finance, go-live 2031-05-01")
    event = payloads.message_event(world.team, ANNOUNCE, OWNER, message["text"], ts=message["ts"])
    envelope = payloads.socket_mode_envelope("events_api", event)
    server.send(envelope)
    server.wait_ack(envelope["envelope_id"])
    # Slack redelivers what it thinks was lost: the retry must not open a second review.
    retry = payloads.socket_mode_envelope("events_api", event, retry_attempt=1, retry_reason="timeout")
    server.send(retry)
    server.wait_ack(retry["envelope_id"])
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) == 1)
    world.settle()
    assert [r.key for r in world.reviews()] == ["SR-1"]

    form: dict[str, Any] = payloads.slash_command(world.team, ANNOUNCE, OWNER, "list",
                                                  response_url=world.fake.response_url(ANNOUNCE, OWNER),
                                                  api_app_id="A0SECREV")
    command = payloads.socket_mode_envelope("slash_commands", form)
    server.send(command)
    ack = server.wait_ack(command["envelope_id"])
    assert ack["envelope_id"] == command["envelope_id"]
    answer = world.fake.wait_for(lambda f: f.responses())
    assert "SR-1" in str(answer[-1]["body"])
