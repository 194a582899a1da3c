"""A French team's announcement through the real Bolt App: French phrases and dates, and a French holiday calendar.

Time is fixed to Wednesday 23 December 2026, 10:00 in Paris, so the due date the thread reply states can be
checked: five working days in France are the 24th, 28th, 29th, 30th and 31st (Christmas Day is a holiday).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.support.world import ANNOUNCE, SECURITY, World, flatten_text, running_world

PARIS = ZoneInfo("Europe/Paris")
ANNOUNCED = datetime(2026, 12, 23, 10, 0, tzinfo=PARIS)


@pytest.fixture
def french_world(database_url: str) -> Iterator[World]:
    """secreview configured for a team in France that writes French and English."""
    with time_machine.travel(ANNOUNCED, tick=True), running_world(
        database_url, secreview_timezone="Europe/Paris", secreview_holidays="FR", secreview_languages=["fr", "en"],
    ) as world:
        yield world


def test_a_french_announcement_before_christmas(french_world: World) -> None:
    """'Mise en production le 15 mars' opens a review with that go-live; the decision is due on the 31st."""
    world = french_world
    ts, responses = world.announce("Nouveau portail client : mise en production le 15 mars, données personnelles.")
    assert [r.status for r in responses] == [200]
    world.fake.wait_for(lambda f: len(f.messages(SECURITY)) >= 1)
    world.settle()
    [review] = world.reviews()
    assert review.go_live == date(2027, 3, 15)
    # The clock ticks from 10:00: due on the 31st at the time of the announcement, the next day for a response.
    assert review.announced_at.astimezone(PARIS).date() == date(2026, 12, 23)
    assert review.due_at - review.announced_at == timedelta(days=8)
    assert review.first_response_due - review.announced_at == timedelta(days=1)
    [reply] = world.fake.thread(ANNOUNCE, ts)[1:]
    text = flatten_text(reply)
    assert "A decision is due by *31 Dec 2026*" in text and "go-live on *15 Mar 2027*" in text


def test_french_chatter_opens_nothing(french_world: World) -> None:
    """Ordinary French chatter matches no phrase: no review, no reply."""
    world = french_world
    ts, responses = world.announce("Quelqu'un a vu que le build casse sur main depuis lundi ?")
    assert [r.status for r in responses] == [200]
    world.settle()
    assert world.reviews() == []
    assert world.fake.thread(ANNOUNCE, ts)[1:] == []
