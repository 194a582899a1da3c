"""An announcement acknowledged to Slack is never lost, even when its listener dies before committing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.review import announcements
from bot.run.inbox import MAX_REPLAYS, InboxReplayer
from bot.slack.app import replay_into
from sandbox import payloads
from storage.models import InboxEvent, ProcessedEvent, utcnow
from tests.support.world import ANNOUNCE, OWNER, World


def test_a_crashed_listener_is_replayed_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = announcements.open_review
    crashes = {"left": 1}

    def crash_once(*args: object, **kwargs: object) -> announcements.Opened:
        if crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("process died here")  # as if SIGKILL hit between the ack and the commit
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(announcements, "open_review", crash_once)
    ts, responses = world.announce("Kick-off: new payroll platform, go-live 2031-02-01")
    assert [r.status for r in responses] == [200]  # Slack saw it acknowledged and will not send it again
    world.fake.wait_for(lambda: crashes["left"] == 0)
    with world.session() as session:
        world.fake.wait_for(lambda: session.scalar(select(func.count()).select_from(InboxEvent)) == 1)
    assert world.reviews() == []

    replayer = InboxReplayer(session_factory=world.services.session_factory, dispatch=replay_into(world.bolt_app),
                             clock=lambda: utcnow() + timedelta(minutes=2))
    assert replayer.run_once() == 1
    world.fake.wait_for(lambda: len(world.reviews()) == 1)
    assert world.reviews()[0].source_ts == ts
    # Processed now: a later pass replays nothing.
    with world.session() as session:
        world.fake.wait_for(lambda: session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1)
    assert replayer.run_once() == 0


def test_chatter_is_not_kept_and_replays_are_bounded(world: World) -> None:
    message = world.fake.add_message(ANNOUNCE, OWNER, "lunch at noon?")
    world.sender.send_event(payloads.message_event(world.team, ANNOUNCE, OWNER, message["text"], ts=message["ts"]))
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(InboxEvent)) == 0
        session.add(InboxEvent(event_id="EvPOISON", workspace_id=world.team, body={"type": "event_callback"},
                               received_at=utcnow() - timedelta(minutes=5)))
        session.commit()
    calls: list[object] = []
    replayer = InboxReplayer(session_factory=world.services.session_factory, dispatch=calls.append)
    for _ in range(MAX_REPLAYS + 2):
        replayer.run_once()
    assert len(calls) == MAX_REPLAYS  # an event that never succeeds stops being replayed
