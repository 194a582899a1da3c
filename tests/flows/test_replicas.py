"""Three real `secreview serve` replicas on one database behind a round-robin sender.

Retried deliveries land on different replicas and still open one review; every replica runs the scheduler
and the digest still goes out once.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.review import lifecycle
from sandbox import payloads
from sandbox.fake_slack import FakeSlack
from sandbox.slack_sender import SlackSender
from storage import db
from storage.models import DigestRun, Review
from tests.support.processes import serve_process
from tests.support.world import ANNOUNCE, DIGEST, OWNER, SECURITY, SIGNING_SECRET, populate, world_settings

ANNOUNCEMENTS = 18


@pytest.mark.slow
def test_three_replicas_one_review_per_announcement_one_digest(database_url: str, tmp_path: Path) -> None:
    fake = FakeSlack().start()
    populate(fake)
    # Every minute: the last fire time is always within the grace period, so each replica's start-up
    # catch-up and its scheduler both try to post the same period's digest.
    settings = world_settings(fake, database_url, secreview_digest_schedule="* * * * *")
    engine = db.make_engine(database_url)
    db.upgrade(engine)  # as `secreview db upgrade` before a rolling start
    factory = db.make_session_factory(engine)
    with db.session_scope(factory, write=True) as session:
        # A workspace that is already in use: all three replicas' start-up catch-ups race for its digest.
        lifecycle.ensure_workspace(session, fake.team_id)
    try:
        with ExitStack() as stack, ThreadPoolExecutor(max_workers=3) as pool:
            starting = [pool.submit(stack.enter_context, serve_process(settings, log_path=tmp_path / f"r{i}.log"))
                        for i in range(3)]
            replicas = [f.result()["url"] for f in starting]
            senders = [SlackSender(f"{url}/slack/events", SIGNING_SECRET) for url in replicas]
            round_robin = itertools.cycle(range(3))

            def deliver(index: int) -> list[int]:
                message = fake.add_message(ANNOUNCE, OWNER, f"New project {index}: vendor onboarding pilot")
                envelope = payloads.message_event(fake.team_id, ANNOUNCE, OWNER, message["text"], ts=message["ts"])
                first = next(round_robin)
                statuses = [senders[first].send_event(envelope).status]
                # Slack retries: the same event to the two other replicas, at once.
                for attempt, other in enumerate(((first + 1) % 3, (first + 2) % 3), start=1):
                    statuses.append(senders[other].send_event(envelope, retry_num=attempt).status)
                return statuses

            with ThreadPoolExecutor(max_workers=6) as load:
                statuses = [s for result in load.map(deliver, range(ANNOUNCEMENTS)) for s in result]
            assert statuses == [200] * (ANNOUNCEMENTS * 3)

            fake.wait_for(lambda f: len(f.messages(SECURITY)) >= ANNOUNCEMENTS, timeout=60)
            fake.wait_for(lambda f: len(f.messages(DIGEST)) == 2, timeout=60)  # the digest and its chart
            with factory() as session:
                fake.wait_for(lambda: session.scalar(select(func.count()).select_from(Review)) == ANNOUNCEMENTS,
                              timeout=30)
                assert session.scalar(select(func.count()).select_from(DigestRun)) == 1
        # All replicas stopped (SIGTERM): nothing more can arrive.
        threads = [fake.thread(ANNOUNCE, m["ts"]) for m in fake.messages(ANNOUNCE)]
        assert [len(t) - 1 for t in threads] == [1] * ANNOUNCEMENTS  # one reply per announcement
        assert len(fake.messages(SECURITY)) == ANNOUNCEMENTS
        assert [bool(m.get("files")) for m in fake.messages(DIGEST)] == [False, True]  # one digest, one chart
    finally:
        engine.dispose()
        fake.stop()
