"""Every view the handlers show, built from realistic and hostile reviews, validated with slack_sdk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.common.ids import ActionId, BlockId, CallbackId
from bot.intake import ANSWER_CHOICES
from bot.slack import answers, views
from storage.models import AuditEvent, Condition, Decision, Review

NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()
OWNER = "U0OWNER1"
REVIEWER = "U0REVIEW1"
HOSTILE = "<!channel> <@U123> <http://evil|click> & *bold* <!here> "
HOSTILE_TITLE = (HOSTILE * 100)[:5000]
LIVE_MARKUP = ("<!channel>", "<!here>", "<@U123>", "<http")


# ---------------------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------------------


def make_review(number: int = 12, **overrides: Any) -> Review:
    """A realistic review in memory (no database): in review, scored, with tags and a go-live date."""
    announced = NOW - timedelta(days=2)
    fields: dict[str, Any] = {
        "id": number,
        "workspace_id": "T0001",
        "number": number,
        "title": "Payroll SaaS pilot with Workday",
        "summary": "HR moves payroll to Workday; employees' bank details and salaries are processed.",
        "announcement_text": "New project: payroll pilot with Workday, go-live 2026-04-15",
        "owner_id": OWNER,
        "announcer_id": OWNER,
        "source_channel": "C0PROJECTS",
        "source_ts": f"1700000000.{number:06d}",
        "go_live": date(2026, 4, 15),
        "answers": None,
        "links": "https://wiki.example.com/payroll-design",
        "tags": ["saas", "payments"],
        "vendors": ["Workday"],
        "regulations": ["GDPR"],
        "risk_score": 9,
        "risk_tier": "high",
        "risk_reasons": [{"code": "sensitive_personal", "points": 3}, {"code": "hosting_saas", "points": 2}],
        "state": "in_review",
        "assignee_id": REVIEWER,
        "announced_at": announced,
        "first_response_due": announced + timedelta(days=1),
        "first_response_at": announced + timedelta(hours=3),
        "due_at": announced + timedelta(days=7),
        "decided_at": None,
        "deleted_in_slack": False,
    }
    fields.update(overrides)
    return Review(**fields)


def decide(
    review: Review,
    outcome: str = "approved_with_conditions",
    *,
    rationale: str = "Fine with SSO.",
    conditions: list[str] | None = None,
    owner: str = OWNER,
) -> Review:
    """Adds a decision (and its conditions) to an in-memory review."""
    decision = Decision(
        id=100 + len(review.decisions),
        workspace_id="T0001",
        review_id=review.id,
        outcome=outcome,
        rationale=rationale,
        decided_by=REVIEWER,
        decided_at=NOW - timedelta(days=1),
        risk_tier=review.risk_tier,
        regulations=list(review.regulations or []),
        cost_avoided=Decimal("25000"),
        currency="EUR",
        fast_track=False,
    )
    review.decisions.append(decision)
    for i, text in enumerate(conditions or []):
        review.conditions.append(
            Condition(
                id=1000 * review.number + len(review.conditions) + 1,
                workspace_id="T0001",
                review_id=review.id,
                decision_id=decision.id,
                text=text,
                owner_id=owner,
                due_date=TODAY + timedelta(days=i - 3),
                state="open",
                created_at=NOW - timedelta(days=1),
            )
        )
    review.state = outcome
    review.decided_at = decision.decided_at
    return review


def make_event(review: Review, seq: int, action: str = "intake_submitted", **overrides: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "id": seq,
        "workspace_id": "T0001",
        "seq": seq,
        "review_id": review.id,
        "review_key": review.key,
        "actor": OWNER,
        "at": NOW - timedelta(days=3) + timedelta(minutes=seq),
        "action": action,
        "from_state": None,
        "to_state": None,
        "note": "",
        "data": {},
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def hostile_review(number: int = 66) -> Review:
    """Every user-supplied string is an attack: mentions, broadcasts, spoofed links, 5,000 characters."""
    review = make_review(
        number,
        title=HOSTILE_TITLE,
        summary=HOSTILE_TITLE,
        announcement_text=HOSTILE_TITLE,
        links=HOSTILE_TITLE,
        tags=[HOSTILE],
        vendors=[HOSTILE_TITLE],
        regulations=["GDPR", HOSTILE],
        risk_reasons=[{"code": HOSTILE, "points": 3}],
        answers={
            "data_classification": "restricted",
            "sensitive_data": ["health", "personal"],
            "exposure": "internet",
            "hosting": "saas",
            "third_parties": HOSTILE_TITLE,
            "uses_ai": True,
            "changes_auth": True,
        },
    )
    decide(
        review,
        "approved_with_conditions",
        rationale=f"{HOSTILE} rationale <!here>",
        conditions=[f"{i} {HOSTILE_TITLE}" for i in range(60)],
    )
    review.conditions[5].state = "waived"
    review.conditions[5].waive_reason = HOSTILE_TITLE
    return review


# ---------------------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------------------


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a payload."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    """Texts Slack parses for mentions and links: mrkdwn objects and a message's fallback text."""
    texts = [o["text"] for o in walk(payload) if o.get("type") == "mrkdwn"]
    if isinstance(payload.get("text"), str):
        texts.append(payload["text"])
    return texts


def all_text(payload: dict[str, Any]) -> str:
    return "\n".join(str(o["text"]) for o in walk(payload) if isinstance(o.get("text"), str))


def check_limits(blocks: list[dict[str, Any]]) -> None:
    """Slack's documented limits, including those slack_sdk does not check."""
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000, block["text"]["text"][:200]
            for field in block.get("fields", []):
                assert 0 < len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        elif kind == "header":
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            for element in block["elements"]:
                assert 0 < len(element["text"]) <= 2000
        elif kind == "actions":
            action_ids = [e["action_id"] for e in block["elements"]]
            assert len(action_ids) == len(set(action_ids)), "action_id must be unique within a block"
    for obj in walk(blocks):
        if obj.get("type") == "button":
            assert len(obj["text"]["text"]) <= 75
            assert len(obj.get("value", "")) <= 2000
        if obj.get("type") == "plain_text_input" and "initial_value" in obj:
            assert len(obj["initial_value"]) <= obj.get("max_length", 3000) <= 3000
        if "placeholder" in obj:
            assert len(obj["placeholder"]["text"]) <= 150
        for option in obj.get("options", []):
            assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_id must be unique"


def check_message(payload: dict[str, Any]) -> dict[str, Any]:
    """A message (text + blocks) Slack accepts: parsed and validated with slack_sdk, ≤ 50 blocks."""
    assert set(payload) == {"text", "blocks"}
    assert payload["text"].strip()
    assert 1 <= len(payload["blocks"]) <= 50
    for raw in payload["blocks"]:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()
        block.to_dict()  # validates every nested element too
    check_limits(payload["blocks"])
    return payload


def check_view(payload: dict[str, Any], kind: str) -> dict[str, Any]:
    """A modal or home view Slack accepts: slack_sdk View validation, ≤ 100 blocks."""
    assert payload["type"] == kind
    view = View(**payload)
    view.validate_json()
    view.to_dict()  # validates the blocks and their elements
    assert 1 <= len(payload["blocks"]) <= 100
    check_limits(payload["blocks"])
    if kind == "modal":
        assert len(payload["title"]["text"]) <= 24
        for block in payload["blocks"]:
            if block["type"] == "input":
                assert block["block_id"] == block["element"]["action_id"]
    return payload


def assert_no_live_markup(payload: dict[str, Any]) -> None:
    for text in mrkdwn_texts(payload):
        for markup in LIVE_MARKUP:
            assert markup not in text, f"{markup!r} is live in {text[:200]!r}"


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The input elements of a modal by block_id."""
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def buttons(payload: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [o for o in walk(payload) if o.get("type") == "button" and o.get("action_id") == action_id]


# ---------------------------------------------------------------------------------------------------------
# help and sentence
# ---------------------------------------------------------------------------------------------------------


def test_help_lists_every_subcommand_with_examples() -> None:
    payload = check_message(answers.help_message())
    text = all_text(payload)
    for sub in (
        "help",
        "new",
        "list",
        "show",
        "take",
        "assign",
        "info",
        "decide",
        "withdraw",
        "reopen",
        "roadmap",
        "metrics",
        "digest",
        "export",
    ):
        assert f"`/secreview {sub}" in text, sub
    assert "open|mine|overdue|decided|all" in text
    assert "Example:" in text
    assert_no_live_markup(payload)


def test_sentence_keeps_already_escaped_mrkdwn() -> None:
    payload = check_message(
        views.sentence("There is no review SR-99. `/secreview list all` shows every review.")
    )
    assert payload["blocks"][0]["text"]["text"].startswith("There is no review SR-99.")
    long = check_message(views.sentence("x" * 5000))
    assert len(long["blocks"][0]["text"]["text"]) <= 3000


# ---------------------------------------------------------------------------------------------------------
# intake modal
# ---------------------------------------------------------------------------------------------------------


def test_intake_modal_fields_ids_and_option_values() -> None:
    view = check_view(
        views.intake_modal(review=make_review(), private_metadata="SR-12", today=TODAY), "modal"
    )
    assert view["callback_id"] == CallbackId.INTAKE
    assert view["private_metadata"] == "SR-12"
    assert view["title"]["text"] == "Security intake"
    fields = inputs(view)
    assert list(fields) == [
        BlockId.TITLE,
        BlockId.SUMMARY,
        BlockId.OWNER,
        BlockId.GO_LIVE,
        BlockId.CLASSIFICATION,
        BlockId.SENSITIVE,
        BlockId.EXPOSURE,
        BlockId.HOSTING,
        BlockId.THIRD_PARTIES,
        BlockId.USES_AI,
        BlockId.CHANGES_AUTH,
        BlockId.LINKS,
    ]
    kinds = {k: v["type"] for k, v in fields.items()}
    assert kinds == {
        "title": "plain_text_input",
        "summary": "plain_text_input",
        "owner": "users_select",
        "go_live": "datepicker",
        "data_classification": "static_select",
        "sensitive_data": "checkboxes",
        "exposure": "radio_buttons",
        "hosting": "static_select",
        "third_parties": "plain_text_input",
        "uses_ai": "radio_buttons",
        "changes_auth": "radio_buttons",
        "links": "plain_text_input",
    }
    for name, choices in ANSWER_CHOICES.items():
        assert [o["value"] for o in fields[name]["options"]] == list(choices)
    optional = {b["block_id"] for b in view["blocks"] if b.get("optional")}
    assert optional == {"summary", "go_live", "sensitive_data", "third_parties", "links"}
    assert fields["title"]["max_length"] == 200
    assert fields["summary"]["multiline"] is True


def test_intake_modal_prefills_from_the_announcement_before_the_intake() -> None:
    review = make_review(answers=None, summary="", vendors=["Workday", "ADP"])
    fields = inputs(check_view(views.intake_modal(review=review, private_metadata="x", today=TODAY), "modal"))
    assert fields["title"]["initial_value"] == review.title
    assert fields["summary"]["initial_value"] == review.announcement_text
    assert fields["owner"]["initial_user"] == OWNER
    assert fields["go_live"]["initial_date"] == "2026-04-15"
    assert fields["third_parties"]["initial_value"] == "Workday, ADP"
    assert fields["links"]["initial_value"] == review.links
    for name in ("data_classification", "exposure", "hosting", "uses_ai", "changes_auth"):
        assert "initial_option" not in fields[name]
    assert "initial_options" not in fields["sensitive_data"]


def test_intake_modal_prefills_every_answer_on_record_when_edited() -> None:
    answers = {
        "data_classification": "confidential",
        "sensitive_data": ["payment_card", "personal"],
        "exposure": "partners",
        "hosting": "own_cloud",
        "third_parties": "Adyen",
        "uses_ai": True,
        "changes_auth": False,
    }
    review = make_review(answers=answers, vendors=["Workday"])
    fields = inputs(check_view(views.intake_modal(review=review, private_metadata="x", today=TODAY), "modal"))
    assert fields["data_classification"]["initial_option"]["value"] == "confidential"
    assert [o["value"] for o in fields["sensitive_data"]["initial_options"]] == ["personal", "payment_card"]
    assert fields["exposure"]["initial_option"]["value"] == "partners"
    assert fields["hosting"]["initial_option"]["value"] == "own_cloud"
    assert fields["third_parties"]["initial_value"] == "Adyen"  # the answer, not the detected vendors
    assert fields["uses_ai"]["initial_option"]["value"] == "yes"
    assert fields["changes_auth"]["initial_option"]["value"] == "no"
    # Slack requires an initial option to equal one of the options, label included.
    for name in ("data_classification", "exposure", "hosting", "uses_ai", "changes_auth"):
        assert fields[name]["initial_option"] in fields[name]["options"]
    assert all(o in fields["sensitive_data"]["options"] for o in fields["sensitive_data"]["initial_options"])


def test_intake_modal_answered_none_ticks_none_and_ignores_unknown_values() -> None:
    answers = {
        "data_classification": "top-secret",
        "sensitive_data": [],
        "exposure": "internal",
        "hosting": "mainframe",
        "third_parties": "",
        "uses_ai": False,
        "changes_auth": "maybe",
    }
    review = make_review(answers=answers)
    fields = inputs(check_view(views.intake_modal(review=review, private_metadata="x", today=TODAY), "modal"))
    assert [o["value"] for o in fields["sensitive_data"]["initial_options"]] == ["none"]
    assert "initial_option" not in fields["data_classification"]
    assert "initial_option" not in fields["hosting"]
    assert "initial_option" not in fields["changes_auth"]
    assert "initial_value" not in fields["third_parties"]


def test_intake_modal_asks_again_for_a_go_live_that_has_passed() -> None:
    review = make_review(go_live=TODAY - timedelta(days=1))
    view = check_view(views.intake_modal(review=review, private_metadata="x", today=TODAY), "modal")
    go_live = next(b for b in view["blocks"] if b.get("block_id") == "go_live")
    assert "initial_date" not in go_live["element"]
    assert "10 Mar 2026" in go_live["hint"]["text"]


def test_intake_modal_for_a_new_review() -> None:
    view = check_view(views.intake_modal(review=None, private_metadata="{}", today=TODAY), "modal")
    fields = inputs(view)
    assert "initial_value" not in fields["title"] and "initial_user" not in fields["owner"]
    unsaved = Review(
        title="Data lake",
        owner_id=OWNER,
        answers=None,
        vendors=[],
        links="",
        summary="",
        announcement_text="",
    )
    fields = inputs(
        check_view(views.intake_modal(review=unsaved, private_metadata="{}", today=TODAY), "modal")
    )
    assert fields["title"]["initial_value"] == "Data lake"
    draft = make_review(0, title="Data lake", answers=None)  # what the handler builds for `/secreview new`
    view = check_view(views.intake_modal(review=draft, private_metadata="{}", today=TODAY), "modal")
    assert "SR-0" not in all_text(view)


def test_intake_modal_with_hostile_input() -> None:
    review = hostile_review()
    view = check_view(views.intake_modal(review=review, private_metadata="SR-66", today=TODAY), "modal")
    assert_no_live_markup(view)
    fields = inputs(view)
    assert len(fields["title"]["initial_value"]) == 200
    assert len(fields["summary"]["initial_value"]) <= 3000


# ---------------------------------------------------------------------------------------------------------
# decision and ask-info modals
# ---------------------------------------------------------------------------------------------------------


def test_decision_modal() -> None:
    review = make_review(regulations=["GDPR", "PCI DSS"])
    view = check_view(
        views.decision_modal(
            review=review,
            private_metadata="SR-12",
            currency="CHF",
            regulations_known=["HIPAA", "GDPR", "DORA"],
        ),
        "modal",
    )
    assert view["callback_id"] == CallbackId.DECISION
    context = view["blocks"][0]
    assert context["type"] == "context"
    shown = " ".join(e["text"] for e in context["elements"])
    assert "SR-12" in shown and review.title in shown and "High" in shown
    assert "+3 " in shown and "+2 " in shown
    fields = inputs(view)
    assert list(fields) == [
        "outcome",
        "rationale",
        "conditions",
        "condition_due",
        "risk_tier",
        "regulations",
        "cost_avoided",
    ]
    assert BlockId.CONDITION_DUE == "condition_due"
    assert [o["value"] for o in fields["outcome"]["options"]] == [
        "approved",
        "approved_with_conditions",
        "rejected",
    ]
    assert fields["rationale"]["multiline"] and fields["conditions"]["multiline"]
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert all(blocks[k].get("optional") for k in blocks if k != "outcome")
    assert "One per line" in blocks["conditions"]["hint"]["text"]
    assert fields["condition_due"]["initial_date"] == "2026-04-15"
    assert fields["risk_tier"]["initial_option"]["value"] == "high"
    assert [o["value"] for o in fields["risk_tier"]["options"]] == ["low", "medium", "high", "critical"]
    assert [o["value"] for o in fields["regulations"]["options"]] == ["DORA", "GDPR", "HIPAA", "PCI DSS"]
    assert [o["value"] for o in fields["regulations"]["initial_options"]] == ["GDPR", "PCI DSS"]
    assert "CHF" in blocks["cost_avoided"]["label"]["text"]
    assert "25000" in blocks["cost_avoided"]["hint"]["text"]


def test_decision_modal_unscored_and_without_regulations() -> None:
    review = make_review(risk_tier=None, risk_score=None, risk_reasons=[], regulations=[], go_live=None)
    view = check_view(
        views.decision_modal(review=review, private_metadata="SR-12", currency="EUR", regulations_known=[]),
        "modal",
    )
    fields = inputs(view)
    assert "initial_option" not in fields["risk_tier"]
    assert "initial_date" not in fields["condition_due"]
    # Slack refuses a select without options: the block is left out, the handler reads "unchanged".
    assert "regulations" not in fields


def test_decision_modal_caps_regulation_options_and_keeps_the_reviews_own() -> None:
    known = [f"REG-{i:03d}" for i in range(150)]
    review = make_review(regulations=["ZZ-Local"])
    view = check_view(
        views.decision_modal(
            review=review, private_metadata="SR-12", currency="EUR", regulations_known=known
        ),
        "modal",
    )
    options = [o["value"] for o in inputs(view)["regulations"]["options"]]
    assert len(options) == 100 and "ZZ-Local" in options


def test_decision_modal_with_hostile_input() -> None:
    view = check_view(
        views.decision_modal(
            review=hostile_review(),
            private_metadata="SR-66",
            currency="EUR",
            regulations_known=[HOSTILE_TITLE],
        ),
        "modal",
    )
    assert_no_live_markup(view)


def test_ask_info_modal() -> None:
    review = make_review()
    view = check_view(views.ask_info_modal(review=review, private_metadata="SR-12"), "modal")
    assert view["callback_id"] == CallbackId.ASK_INFO
    fields = inputs(view)
    assert list(fields) == ["question"]
    assert fields["question"]["multiline"] is True
    assert f"<@{OWNER}>" in all_text(view)
    hostile = check_view(views.ask_info_modal(review=hostile_review(), private_metadata="SR-66"), "modal")
    assert_no_live_markup(hostile)


# ---------------------------------------------------------------------------------------------------------
# review detail
# ---------------------------------------------------------------------------------------------------------


def test_review_detail_shows_facts_decision_safeguards_and_history() -> None:
    review = decide(make_review(), conditions=["Enable SSO with MFA", "Sign the DPA"])
    review.conditions[1].state = "done"
    review.conditions[0].jira_key, review.conditions[0].jira_url = "SEC-7", "https://jira.example.com/browse/SEC-7"
    events = [
        make_event(review, 1, "announced", to_state="announced"),
        make_event(review, 2, "taken", actor=REVIEWER, from_state="announced", to_state="in_review"),
        make_event(
            review,
            3,
            "decided",
            actor=REVIEWER,
            from_state="in_review",
            to_state="approved_with_conditions",
            note="Fine with SSO.",
        ),
        make_event(review, 4, "condition_done", data={"condition_id": 2, "text": "Sign the DPA"}),
    ]
    payload = check_message(views.review_detail(review=review, events=list(reversed(events)), now=NOW))
    text = all_text(payload)
    assert payload["blocks"][0]["type"] == "header"
    assert "SR-12 · Payroll SaaS pilot with Workday" in text
    assert "Approved with conditions" in text and f"<@{REVIEWER}>" in text
    assert "Fine with SSO." in text and "€25,000" in text
    assert "Enable SSO with MFA" in text and "(1 open of 2)" in text
    assert ":white_check_mark: Sign the DPA" in text
    assert "<https://jira.example.com/browse/SEC-7|SEC-7>" in text  # the safeguard's issue, as on the card
    history = text[text.index("*History*") :]
    # newest last, whatever order the caller gave
    assert history.index("opened the review") < history.index("took the review") < history.index("marked a")
    assert "In review" in history


def test_review_detail_open_overdue_with_answers() -> None:
    review = make_review(
        due_at=NOW - timedelta(days=3, hours=1),
        answers={
            "data_classification": "internal",
            "sensitive_data": [],
            "exposure": "internet",
            "hosting": "saas",
            "third_parties": "",
            "uses_ai": True,
            "changes_auth": False,
        },
    )
    payload = check_message(views.review_detail(review=review, events=[], now=NOW))
    text = all_text(payload)
    assert "overdue 3 days" in text
    # The questionnaire's own words, answers by their labels.
    assert "Who can reach it? Internet-facing" in text and "Does it use AI or machine learning? yes" in text
    assert "Data classification: Internal" in text and "Sensitive data: none" in text
    assert "No events recorded yet." in text
    assert "*Decision:*" not in text


def test_review_detail_hostile_with_60_conditions_and_500_events() -> None:
    review = hostile_review()
    events = [
        make_event(
            review,
            i,
            "assigned" if i % 2 else "info_requested",
            actor=REVIEWER,
            note=HOSTILE_TITLE,
            data={"assignee": "U123> <!channel"},
        )
        for i in range(1, 501)
    ]
    events.append(make_event(review, 501, "mystery_action", actor="secreview", to_state="weird_state"))
    payload = check_message(views.review_detail(review=review, events=events, now=NOW))
    assert_no_live_markup(payload)
    text = all_text(payload)
    assert "and 481 earlier events" in text
    assert "and 20 more safeguards." in text
    assert "mystery action" in text and "secreview" in text


def test_review_detail_worst_case_lines_stay_within_a_section() -> None:
    """Every line at its longest: two user texts per line, hostile actors and owners, every marker."""
    review = hostile_review()
    for c in review.conditions:
        c.state, c.waive_reason, c.owner_id, c.due_date = "waived", HOSTILE_TITLE, HOSTILE_TITLE, TODAY
    review.conditions[0].state = "open"
    review.conditions[0].due_date = TODAY - timedelta(days=1)
    events = [
        make_event(
            review,
            i,
            "condition_waived",
            actor=HOSTILE_TITLE,
            note=HOSTILE_TITLE,
            from_state="in_review",
            to_state="approved_with_conditions",
            data={"text": HOSTILE_TITLE},
        )
        for i in range(1, 60)
    ]
    payload = check_message(views.review_detail(review=review, events=events, now=NOW))
    assert_no_live_markup(payload)


# ---------------------------------------------------------------------------------------------------------
# list
# ---------------------------------------------------------------------------------------------------------


def test_list_marks_overdue_and_orders_newest_first() -> None:
    older = make_review(3, announced_at=NOW - timedelta(days=20), due_at=NOW - timedelta(days=5))
    newer = make_review(4, announced_at=NOW - timedelta(days=1), due_at=NOW + timedelta(days=4))
    decided = decide(make_review(2, announced_at=NOW - timedelta(days=30), due_at=NOW - timedelta(days=22)))
    payload = check_message(
        views.review_list(
            reviews=[older, decided, newer], filter_name="all", page=1, page_size=20, total=3, now=NOW
        )
    )
    lines = payload["blocks"][1]["text"]["text"].split("\n")
    assert [line.split(" · ")[0] for line in lines] == ["*SR-4*", "*SR-3*", "*SR-2*"]
    assert lines[1].endswith(":warning: overdue 5 days")
    assert "overdue" not in lines[0] and "overdue" not in lines[2]  # decided reviews are never overdue
    assert f"<@{OWNER}>" in lines[0] and "go-live 15 Apr 2026" in lines[0]
    assert not buttons(payload, ActionId.LIST_PAGE)


def test_list_paging_buttons_only_when_there_are_more_pages() -> None:
    page = [make_review(i) for i in range(40, 20, -1)]
    first = check_message(
        views.review_list(reviews=page, filter_name="open", page=1, page_size=20, total=45, now=NOW)
    )
    assert [b["value"] for b in buttons(first, ActionId.LIST_PAGE)] == ["open:2"]
    middle = check_message(
        views.review_list(reviews=page, filter_name="open", page=2, page_size=20, total=45, now=NOW)
    )
    assert [b["value"] for b in buttons(middle, ActionId.LIST_PAGE)] == ["open:1", "open:3"]
    last = check_message(
        views.review_list(reviews=page[:5], filter_name="open", page=3, page_size=20, total=45, now=NOW)
    )
    assert [b["value"] for b in buttons(last, ActionId.LIST_PAGE)] == ["open:2"]
    assert "Page 3 of 3 · 41–45 of 45" in all_text(last)
    beyond = check_message(
        views.review_list(reviews=[], filter_name="open", page=9, page_size=20, total=45, now=NOW)
    )
    assert [b["value"] for b in buttons(beyond, ActionId.LIST_PAGE)] == ["open:3"]
    assert "There is no page 9" in all_text(beyond)


@pytest.mark.parametrize(
    ("filter_name", "expected"),
    [
        ("open", "No open reviews. :tada:"),
        ("overdue", "Nothing is overdue. :tada:"),
        ("mine", "/secreview new"),
        ("decided", "No review has been decided yet."),
        ("weird", "/secreview list all"),
    ],
)
def test_list_empty_says_so(filter_name: str, expected: str) -> None:
    payload = check_message(
        views.review_list(reviews=[], filter_name=filter_name, page=1, page_size=20, total=0, now=NOW)
    )
    assert expected in all_text(payload)
    assert not buttons(payload, ActionId.LIST_PAGE)


@pytest.mark.parametrize(("page_size", "paging"), [(200, ["all:2"]), (1000, [])])
def test_list_of_200_hostile_reviews_stays_within_limits(page_size: int, paging: list[str]) -> None:
    reviews = [make_review(i, title=HOSTILE_TITLE, owner_id="U123> <!channel") for i in range(1, 201)]
    payload = check_message(
        views.review_list(reviews=reviews, filter_name="all", page=1, page_size=page_size, total=450, now=NOW)
    )
    assert_no_live_markup(payload)
    assert "100 more on this page are not shown" in all_text(payload)
    assert [b["value"] for b in buttons(payload, ActionId.LIST_PAGE)] == paging


# ---------------------------------------------------------------------------------------------------------
# roadmap
# ---------------------------------------------------------------------------------------------------------


def test_roadmap_groups_by_week_and_flags_undecided_go_lives_within_a_week() -> None:
    soon = make_review(1, title="Chatbot", go_live=TODAY + timedelta(days=2))
    decided_soon = decide(make_review(2, title="VPN", go_live=TODAY + timedelta(days=3)), conditions=["MFA"])
    later = make_review(3, title="Data lake", go_live=TODAY + timedelta(days=20))
    too_late = make_review(4, title="Next year", go_live=TODAY + timedelta(weeks=9))
    past = make_review(5, title="Gone", go_live=TODAY - timedelta(days=1))
    withdrawn = make_review(6, title="Cancelled", go_live=TODAY + timedelta(days=4), state="withdrawn")
    no_date = make_review(7, title="Unknown", go_live=None)
    payload = check_message(
        views.roadmap(
            reviews=[later, too_late, soon, past, decided_soon, withdrawn, no_date], weeks=8, now=NOW
        )
    )
    text = all_text(payload)
    assert "Roadmap: the next 8 weeks" in text
    assert "3 go-lives · 1 decided · 2 undecided" in text
    assert "*Week of 09 Mar 2026*" in text and "*Week of 30 Mar 2026*" in text
    chatbot = next(line for line in text.split("\n") if "Chatbot" in line)
    assert ":warning: undecided, goes live in 2 days" in chatbot
    vpn = next(line for line in text.split("\n") if "VPN" in line)
    assert "decided: Approved with conditions" in vpn and "1 open safeguard" in vpn and "warning" not in vpn
    lake = next(line for line in text.split("\n") if "Data lake" in line)
    assert "warning" not in lake and "undecided (in review)" in lake
    for absent in ("Next year", "Gone", "Cancelled", "Unknown"):
        assert absent not in text
    assert text.index("Chatbot") < text.index("VPN") < text.index("Data lake")


def test_roadmap_empty_and_huge() -> None:
    empty = check_message(views.roadmap(reviews=[], weeks=4, now=NOW))
    assert "No go-lives in the next 4 weeks." in all_text(empty)
    many = [
        make_review(i, title=HOSTILE_TITLE, owner_id=HOSTILE, go_live=TODAY + timedelta(days=i % 360))
        for i in range(1, 601)
    ]
    many[0].go_live = TODAY + timedelta(days=1)  # the longest status: urgent
    decide(many[1], conditions=["MFA"] * 30)  # the other long one: decided with open safeguards
    payload = check_message(views.roadmap(reviews=many, weeks=52, now=NOW))
    assert_no_live_markup(payload)
    assert "more go-lives; try fewer weeks." in all_text(payload)


# ---------------------------------------------------------------------------------------------------------
# App Home
# ---------------------------------------------------------------------------------------------------------


def home_for(*, is_reviewer: bool, **overrides: Any) -> dict[str, Any]:
    queue = [
        make_review(1, due_at=NOW + timedelta(days=2)),
        make_review(2, due_at=NOW - timedelta(days=4)),
        make_review(3, due_at=NOW + timedelta(days=1)),
    ]
    mine = [
        decide(make_review(9, title="Payroll"), conditions=["Enable SSO", "Sign the DPA"]),
        make_review(10, title="Chatbot", owner_id=OWNER),
    ]
    mine[0].conditions[1].owner_id = "U0SOMEONE"
    args: dict[str, Any] = {
        "user_id": OWNER,
        "is_reviewer": is_reviewer,
        "queue": queue,
        "taken": queue[:1],
        "mine": mine,
        "figures": {
            "window": "Mon 30 Nov – now",
            "rows": [
                {"label": "Announced", "value": "5"},
                {"label": "Approval rate", "value": "67%"},
                {"label": "Time to decision, median", "value": "2.5 d (n = 3)"},
                {"label": "Overdue at period end", "value": "—"},
            ],
        },
        "now": NOW,
    }
    args.update(overrides)
    return check_view(views.home(**args), "home")


def test_home_for_a_reviewer_has_the_queue_overdue_first_and_figures() -> None:
    view = home_for(is_reviewer=True)
    decide_buttons = buttons(view, ActionId.DECIDE)
    assert [b["value"] for b in decide_buttons] == ["SR-2", "SR-3", "SR-1"]
    text = all_text(view)
    assert "Review queue (3)" in text and "Taken by you (1)" in text and "This week so far: Mon 30 Nov – now" in text
    assert ":warning: overdue 4 days" in text
    assert "*Approval rate*\n67%" in text and "*Time to decision, median*\n2.5 d (n = 3)" in text
    assert "*Overdue at period end*\n—" in text and "*Announced*\n5" in text
    assert len(buttons(view, ActionId.NEW_REVIEW)) == 1


def test_home_shows_decide_buttons_only_to_reviewers() -> None:
    view = home_for(is_reviewer=False)
    assert not buttons(view, ActionId.DECIDE)
    text = all_text(view)
    assert "Review queue" not in text and "This week" not in text
    assert "Your projects (2)" in text
    assert len(buttons(view, ActionId.NEW_REVIEW)) == 1


def test_home_mark_done_only_for_the_users_own_open_conditions() -> None:
    view = home_for(is_reviewer=False)
    done = buttons(view, ActionId.CONDITION_DONE)
    assert [b["value"] for b in done] == ["9001"]
    text = all_text(view)
    assert "Sign the DPA" in text and "owner <@U0SOMEONE>" in text
    assert "2 open safeguards" in text


def test_home_empty_states_and_missing_figures() -> None:
    view = home_for(is_reviewer=True, queue=[], taken=[], mine=[], figures=None)
    text = all_text(view)
    assert "Nothing is waiting for a reviewer." in text
    assert "You have not taken any review." in text
    assert "No figures yet." in text
    assert "You have no projects yet." in text


def test_home_with_long_hostile_lists_stays_within_100_blocks() -> None:
    queue = [
        make_review(i, title=HOSTILE_TITLE, owner_id=HOSTILE, due_at=NOW - timedelta(days=i % 5))
        for i in range(1, 201)
    ]
    mine = [hostile_review(300 + i) for i in range(30)]
    figures = {"window": "Mon 30 Nov – now", "rows": [{"label": f"Figure {i}", "value": str(i)} for i in range(30)]}
    view = home_for(is_reviewer=True, queue=queue, taken=queue, mine=mine, figures=figures)
    assert_no_live_markup(view)
    text = all_text(view)
    assert "and 185 more in the queue" in text
    assert "and 185 more: `/secreview list all`" in text
    assert "and 20 more projects" in text
    assert "more open safeguards" in text
    assert len(buttons(view, ActionId.DECIDE)) == 15


def test_every_payload_is_plain_json() -> None:
    review = make_review()
    for payload in (
        answers.help_message(),
        views.review_detail(review=review, events=[], now=NOW),
        views.intake_modal(review=review, private_metadata="x", today=TODAY),
    ):
        assert json.loads(json.dumps(payload)) == payload
