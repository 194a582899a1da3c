"""Every message secreview posts is valid Block Kit within Slack's limits, and user text can never ping or link."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.common import render
from bot.common.ids import FunctionId, ShortcutId
from bot.review import messages
from bot.review.facts import NONE, Facts
from bot.review.states import State
from bot.slack import answers
from bot.slack.manifest import build_manifest
from handlers import workflow
from storage.models import Condition, Decision, Review
from tests.support.builders import make_settings

SETTINGS = make_settings()
NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)
HOSTILE = "<!channel> <!here> <@U0BOSS> <http://evil.example|click me> & *bold* " * 80  # ~5,000 characters
LIVE = re.compile(r"<!(channel|here|everyone)|<@U0BOSS|<http")


def make_review(state: str, title: str = "CRM migration", *, conditions: int = 2, text: str = "") -> Review:
    review = Review(
        id=1, workspace_id="T1", number=12, title=title, summary=text or title, announcement_text=text or title,
        owner_id="U0OWNER", announcer_id="U0OWNER", assignee_id="U0REV", source_channel="C0PROJ",
        source_ts="1.2", go_live=date(2027, 4, 15), tags=["saas", text[:30]] if text else ["saas"],
        vendors=["Salesforce"], regulations=["GDPR"], risk_score=8, risk_tier="high",
        risk_reasons=[{"code": "sensitive_personal", "points": 3}, {"code": "exposure_internet", "points": 3}],
        state=state, announced_at=NOW, first_response_due=NOW + timedelta(days=1), due_at=NOW + timedelta(days=7),
        decided_at=None, updated_at=NOW, deleted_in_slack=False,
    )
    decision = Decision(id=5, workspace_id="T1", review_id=1, outcome=state if state in (
        "approved", "approved_with_conditions", "rejected") else "approved", rationale=text or "fine with MFA",
                        decided_by="U0REV", decided_at=NOW, regulations=["GDPR"], cost_avoided=Decimal("25000"),
                        currency="EUR", fast_track=False)
    review.decisions = [decision]
    review.conditions = [
        Condition(id=i + 1, workspace_id="T1", review_id=1, decision_id=5, text=(text or "MFA for admins")[:500],
                  owner_id="U0OWNER", due_date=date(2027, 4, 15), state=["open", "done", "waived"][i % 3],
                  created_at=NOW)
        for i in range(conditions)
    ]
    return review


def mrkdwn_texts(node: Any) -> list[str]:
    """Every string Slack parses as mrkdwn: text objects of type mrkdwn (plain_text is shown verbatim)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            found.extend(mrkdwn_texts(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(mrkdwn_texts(value))
    return found


def validate_message(message: dict[str, Any]) -> None:
    """Parses every block with slack_sdk.models and checks Slack's message limits."""
    assert isinstance(message["text"], str) and 0 < len(message["text"]) <= render.LIMIT_FALLBACK_TEXT
    blocks = message["blocks"]
    assert 0 < len(blocks) <= render.MAX_MESSAGE_BLOCKS
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()
        if raw["type"] == "header":
            assert len(raw["text"]["text"]) <= render.LIMIT_HEADER
        if raw["type"] == "section":
            assert len(raw.get("text", {}).get("text", "")) <= render.LIMIT_SECTION_TEXT
            for field in raw.get("fields", []):
                assert len(field["text"]) <= 2000
        for element in raw.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= render.LIMIT_BUTTON


FACTS = Facts(intake_at=NOW, intake_by="U0OWNER", assigned_at=NOW, question=HOSTILE[:900], question_by="U0REV",
              question_at=NOW, reopened_at=NOW)


def all_messages(review: Review) -> list[dict[str, Any]]:
    decision = review.latest_decision
    assert decision is not None
    rendered = []
    for facts in (NONE, FACTS):
        for where in ("thread", "dm"):
            rendered += [messages.thread_opened(review, facts, where=where),
                         messages.decision_notice(review, decision, SETTINGS, facts, where=where),
                         messages.info_request(review, question=review.title, asked_by="U0REV", asked_at=NOW,
                                               where=where)]
        rendered.append(messages.review_card(review, SETTINGS, facts))
    for kind in ("assigned", "reassigned", "info_answered", "intake_in", "intake_changed", "decision_recorded",
                 "withdrawn", "not_applicable", "reopened"):
        rendered.append(messages.notice(kind, review=review, actor="U0REV", reason=review.title, decision=decision))
    for assignee in (None, "U0HUGO"):
        rendered.append(answers.take_prompt(sentence=render.message("error.already_yours", key=review.key),
                                            key=review.key, assignee=assignee))
    rendered.append(messages.review_alert("owner_named", actor="U0REV", key=review.key, title=review.title[:300]))
    rendered.append(messages.review_alert("risk_lowered", key=review.key, title=review.title[:300], before="high",
                                          after="low", actor="U0REV", by_owner=True, changes=review.title))
    return rendered


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_message_in_every_state_is_valid_block_kit(state: State) -> None:
    for message in all_messages(make_review(state)):
        validate_message(message)


@pytest.mark.parametrize("state", [State.ANNOUNCED, State.APPROVED_WITH_CONDITIONS], ids=str)
def test_a_5000_character_hostile_title_is_cut_and_neutralised(state: State) -> None:
    review = make_review(state, title=HOSTILE, conditions=40, text=HOSTILE)
    for message in all_messages(review):
        validate_message(message)
        for text in [message["text"], *mrkdwn_texts(message["blocks"])]:
            assert not LIVE.search(text), f"user text became a live mention or link: {text[:200]}"
    card = messages.review_card(review, SETTINGS)
    assert card["blocks"][0]["text"]["text"].endswith("…")


def test_card_buttons_follow_the_state() -> None:
    def buttons(review: Review) -> list[str]:
        card = messages.review_card(review, SETTINGS)
        return [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]

    assert buttons(make_review(State.ANNOUNCED)) == ["review-take", "review-decide", "review-ask-info",
                                                     "review-not-a-project"]
    low = make_review(State.IN_REVIEW)
    low.risk_tier = "low"
    assert buttons(low)[-1] == "review-fast-track"
    for decided in (State.APPROVED, State.REJECTED, State.WITHDRAWN):
        assert buttons(make_review(decided)) == []


def test_card_explains_the_risk_in_words() -> None:
    text = json.dumps(messages.review_card(make_review(State.IN_REVIEW), SETTINGS))
    assert "+3 personal data" in text and "+3 internet-facing" in text and "High" in text


def test_user_values_in_sentences_are_escaped() -> None:
    sentence = render.message("error.not_found", key="<!channel>")
    assert "<!channel>" not in sentence and "&lt;!channel&gt;" in sentence


def test_manifest_is_valid_against_slacks_schema() -> None:
    schema = json.loads((Path(__file__).parents[1] / "fixtures" / "manifest.schema.json").read_text())
    for url in (None, "https://secreview.example.com/slack/events"):
        manifest = build_manifest(request_url=url)
        jsonschema.validate(manifest, schema)
        assert manifest["settings"]["socket_mode_enabled"] is (url is None)
        assert "/secreview" in json.dumps(manifest)
        assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) >= {
            "message.channels", "reaction_added", "app_home_opened", "function_executed"}
        shortcuts = {s["callback_id"]: (s["type"], s["name"]) for s in manifest["features"]["shortcuts"]}
        assert shortcuts == {ShortcutId.REQUEST_REVIEW: ("message", "Request security review"),
                             ShortcutId.NEW_REVIEW: ("global", "New security review")}
        step = manifest["functions"][FunctionId.OPEN_REVIEW]
        assert step["title"] == "Open a security review"
        assert list(step["input_parameters"]) == list(workflow.INPUTS)
        assert step["input_parameters"]["owner"]["type"] == "slack#/types/user_id"
        assert step["input_parameters"]["go_live_date"]["type"] == "slack#/types/date"
        assert list(step["output_parameters"]) == ["review_key", "review_link"]
        # Custom steps need an org-ready app whose functions it runs itself.
        assert manifest["settings"]["org_deploy_enabled"] is True
        assert manifest["settings"]["function_runtime"] == "remote"


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=2, max_value=3000))
def test_escaping_never_leaves_a_live_mention_or_link(text: str, limit: int) -> None:
    escaped = render.escape_mrkdwn(text)
    assert "<" not in escaped and ">" not in escaped
    cut = render.cut(escaped, limit)
    assert len(cut) <= limit
    # What a mrkdwn field really receives:
    encoded = json.loads('"' + render._md(text, limit) + '"')
    assert not re.search(r"<[!@#]|<https?:", encoded)
    assert len(encoded) <= limit


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_any_title_renders_a_valid_card(title: str) -> None:
    review = make_review(State.IN_REVIEW, title=title)
    message = messages.review_card(review, SETTINGS)
    validate_message(message)
    for text in [message["text"], *mrkdwn_texts(message["blocks"])]:
        assert not re.search(r"<[!]|<https?:", text.replace("<!date^", ""))
