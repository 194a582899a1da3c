"""A company's own questionnaire through the whole flow: a bank's intake (DORA, outsourcing, critical function)
asked, scored, shown on the card and exported; the questionnaire changed afterwards without changing the old
review; and a questionnaire too long for one modal, answered page by page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from bot.common.ids import ActionId
from storage.models import QuestionnaireVersion
from tests.flows.test_review_flow import card_of, open_one
from tests.support.world import ANNOUNCE, OWNER, REVIEWER, World, flatten_text, running_world

BANK_FILE = Path(__file__).parents[1] / "fixtures" / "questionnaire_bank.toml"
BANK_ANNOUNCEMENT = "Kick-off: the payments API moves to Azure, go-live 2031-06-30."


def radio(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def bank_values(**overrides: Any) -> dict[str, dict[str, Any]]:
    values: dict[str, Any] = {
        "title": text("Payments API on Azure"),
        "owner": {"type": "users_select", "selected_user": OWNER},
        "summary": text("Card payments for the mobile app, run by a cloud provider"),
        "go_live": {"type": "datepicker", "selected_date": "2031-06-30"},
        "critical_function": radio("yes"),
        "outsourcing": radio("cloud"),
        "provider": text("Microsoft Azure, Accenture"),
        "customer_data": {"type": "checkboxes", "selected_options": [{"value": "accounts"}, {"value": "cards"}]},
        "exit_plan": radio("no"),
        "links": text("https://register.example.com/out-77"),
    }
    values.update(overrides)
    return {block: {block: state} for block, state in values.items()}


def fill_intake(world: World, values: dict[str, dict[str, Any]], *, key: str = "SR-1") -> None:
    world.click(ActionId.START_INTAKE, key, user=OWNER, channel=ANNOUNCE)
    modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
    response = world.submit(modal, values, user=OWNER)
    assert response.status == 200 and response.body in ("", "{}"), response.body
    world.fake.wait_for(lambda: world.review(1).risk_tier is not None)
    world.settle()


def export_json(world: World) -> list[dict[str, Any]]:
    assert "in your DMs" in world.ask("export json", user=REVIEWER)
    return json.loads(world.fake.files()[-1]["content"])


def test_a_banks_questionnaire_through_the_whole_flow(database_url: str, tmp_path: Path) -> None:
    with running_world(database_url, secreview_config=BANK_FILE) as world:
        _ts, review = open_one(world, BANK_ANNOUNCEMENT)
        world.click(ActionId.START_INTAKE, review.key, user=OWNER, channel=ANNOUNCE)
        modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
        asked = [b["block_id"] for b in modal["blocks"] if b["type"] == "input"]
        assert asked == ["title", "owner", "summary", "go_live", "critical_function", "outsourcing", "provider",
                         "customer_data", "exit_plan", "links"]
        assert "Does it support a critical or important function?" in flatten_text(modal)
        # A required answer left out is refused on its field; nothing is recorded.
        missing = world.submit(modal, bank_values(exit_plan={"type": "radio_buttons", "selected_option": None}),
                               user=OWNER).json()
        assert missing["response_action"] == "errors" and "exit_plan" in missing["errors"]
        fill_intake(world, bank_values())
        stored = world.review(1)
        assert stored.answers == {"critical_function": True, "outsourcing": "cloud",
                                  "provider": "Microsoft Azure, Accenture", "customer_data": ["accounts", "cards"],
                                  "exit_plan": False}
        assert (stored.risk_score, stored.risk_tier) == (20, "critical")
        assert {"DORA", "PCI DSS", "GDPR", "EBA outsourcing guidelines"} <= set(stored.regulations)
        card = flatten_text(card_of(world, stored))
        assert "+5 supports a critical or important function" in card and "+3 no tested exit plan" in card
        detail = world.ask("show SR-1", user=REVIEWER)
        assert "Who runs it? A cloud service provider" in detail
        [row] = export_json(world)
        assert row["questionnaire"]["version"] == "bank-2027.1"
        asked_rows = {r["id"]: (r["question"], r["answer"]) for r in row["intake"]}
        assert asked_rows["critical_function"] == ("Does it support a critical or important function?", "yes")
        assert asked_rows["customer_data"] == ("Customer data it touches", "Account and transaction data, Card data")
        assert asked_rows["title"] == ("Initiative", "Payments API on Azure")

    # The bank reworks its questionnaire: the old review keeps its answers, score, reasons and questions.
    changed = tmp_path / "bank-2028.toml"
    changed.write_text(BANK_FILE.read_text(encoding="utf-8")
                       .replace('version = "bank-2027.1"', 'version = "bank-2028.1"')
                       .replace("Does it support a critical or important function?", "Critical function?")
                       .replace("points = 5", "points = 1"), encoding="utf-8")
    with running_world(database_url, secreview_config=changed) as world:
        again = world.review(1)
        assert (again.answers, again.risk_score, again.risk_reasons) == (
            stored.answers, stored.risk_score, stored.risk_reasons)
        [row] = export_json(world)
        assert row["questionnaire"]["version"] == "bank-2027.1"
        assert {r["id"]: r["question"] for r in row["intake"]}["critical_function"] == (
            "Does it support a critical or important function?")
        assert "Does it support a critical or important function? yes" in world.ask("show SR-1", user=REVIEWER)
        with world.session() as session:
            assert len(session.scalars(select(QuestionnaireVersion)).all()) == 1  # the new one is not used yet


def _long_config(path: Path, count: int) -> Path:
    lines = ['[questionnaire]', 'version = "long-1"']
    for i in range(count):
        lines += ["[[questionnaire.questions]]", f'id = "check_{i}"', 'type = "yes_no"',
                  f'label = "Control {i} in place?"', "required = true", f'code = "control_{i}_missing"',
                  'risk_when = "no"', "points = 1"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_long_questionnaire_is_answered_page_by_page(database_url: str, tmp_path: Path) -> None:
    config = _long_config(tmp_path / "long.toml", 75)  # 12 shipped + 75 = 87 questions: three pages
    with running_world(database_url, secreview_config=config) as world:
        open_one(world)
        world.click(ActionId.START_INTAKE, "SR-1", user=OWNER, channel=ANNOUNCE)
        client = WebClient(base_url=world.fake.api_url, token="xoxb-the-slack-client")
        from tests.flows.test_review_flow import intake_values

        answers = intake_values()
        answers.update({f"check_{i}": {f"check_{i}": radio("no" if i < 3 else "yes")} for i in range(75)})
        pages = 0
        while True:
            modal = world.fake.wait_for(lambda: world.fake.views(user=OWNER))[-1]
            page_blocks = [b["block_id"] for b in modal["blocks"] if b["type"] == "input"]
            assert len(modal["blocks"]) <= 100 and page_blocks
            pages += 1
            response = world.submit(modal, {b: answers[b] for b in page_blocks}, user=OWNER)
            body = response.json() if response.body not in ("", "{}") else {}
            if body.get("response_action") != "update":
                assert not body, body
                break
            assert modal["submit"]["text"] == "Next"
            # What Slack does with response_action "update": the same modal shows the next page.
            client.views_update(view_id=modal["id"], view=body["view"])
        assert pages == 3
        world.fake.wait_for(lambda: world.review(1).risk_tier is not None)
        stored = world.review(1)
        assert len(stored.answers or {}) == 7 + 75 and stored.answers["check_0"] is False
        assert {r["code"] for r in stored.risk_reasons} >= {"control_0_missing", "control_2_missing"}
        assert "control_3_missing" not in {r["code"] for r in stored.risk_reasons}
