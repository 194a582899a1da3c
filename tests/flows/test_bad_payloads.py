"""Payloads with missing or wrong-typed fields, unknown ids and oversized text: answered, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.common.ids import ActionId
from sandbox import payloads
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, World


def mangled(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `payload` with one field replaced (or removed when value is ...)."""
    copy = json.loads(json.dumps(payload))
    node = copy
    for key in path[:-1]:
        node = node[key] if isinstance(node, dict) else node[int(key)]
    if value is ...:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return copy


EVENT_MANGLES = [(("event", "channel"), ...), (("event", "channel"), 42), (("event", "text"), None),
                 (("event", "text"), {"a": 1}), (("event", "user"), ...), (("event", "ts"), 1.5),
                 (("event",), "not an object"), (("event_id",), 12345), (("event", "text"), "new project " * 2000)]
ACTION_MANGLES = [(("actions",), []), (("actions",), "x"), (("actions", "0", "value"), None),
                  (("actions", "0", "value"), "SR-" + "9" * 50), (("user",), ...), (("actions", "0", "action_id"),
                                                                                    "made-up-action")]


@pytest.mark.parametrize(("path", "value"), EVENT_MANGLES)
def test_mangled_events_are_acknowledged(world: World, path: tuple[str, ...], value: Any) -> None:
    message = world.fake.add_message(ANNOUNCE, OWNER, "new project: vendor portal")
    envelope = payloads.message_event(world.team, ANNOUNCE, OWNER, message["text"], ts=message["ts"])
    response = world.sender.send_event(mangled(envelope, path, value))
    assert response.status < 500


@pytest.mark.parametrize(("path", "value"), ACTION_MANGLES)
def test_mangled_clicks_are_acknowledged(world: World, path: tuple[str, ...], value: Any) -> None:
    payload = payloads.block_actions(world.team, REVIEWER, ActionId.TAKE, "SR-1", channel=ANNOUNCE,
                                     trigger_id=world.fake.trigger_id(REVIEWER),
                                     response_url=world.fake.response_url(ANNOUNCE, REVIEWER, kind="actions"))
    assert world.sender.send_interaction(mangled(payload, path, value)).status < 500


@pytest.mark.parametrize("state_values", [
    {}, {"outcome": "approved"}, {"outcome": {"outcome": {"type": "radio_buttons", "selected_option": None}}},
    {"outcome": {"outcome": {"type": "radio_buttons", "selected_option": {"value": ["x"]}}}},
    {"outcome": {"outcome": {"type": "radio_buttons", "selected_option": {"value": "approved"}}},
     "cost_avoided": {"cost_avoided": {"type": "plain_text_input", "value": "1e400"}}},
])
def test_mangled_decision_submissions_get_field_errors(world: World, state_values: dict[str, Any]) -> None:
    world.announce("New project: vendor portal")
    world.fake.wait_for(lambda: world.reviews())
    for metadata in (json.dumps({"key": 1}), "not json", json.dumps([1, 2]), json.dumps({"key": "SR-1"})):
        payload = payloads.view_submission(world.team, REVIEWER, "decision-modal", metadata, {})
        payload["view"]["state"]["values"] = state_values
        response = world.sender.send_interaction(payload)
        assert response.status == 200
        if response.body:
            assert response.json()["response_action"] == "errors"
    assert world.review(1).state == "announced"


def test_commands_with_odd_text_are_answered(world: World) -> None:
    for text in ("\u0000", "show SR-\u0661\u0662", "list " + "x" * 10_000, "take\tSR-1", "   ", "🔒"):
        form = payloads.slash_command(world.team, ANNOUNCE, OWNER, text,
                                      response_url=world.fake.response_url(ANNOUNCE, OWNER))
        assert world.sender.send_command(form).status == 200
    world.fake.wait_for(lambda: len(world.fake.responses()) >= 6)
