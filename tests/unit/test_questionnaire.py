"""The intake questionnaire as configuration: the shipped file, replacing and extending it, every mistake named at
start-up, scoring a very different (a bank's) questionnaire, versions, and long questionnaires in pages."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import intake
from bot.config import SettingsError, load_rules_file
from bot.intake import DEFAULT_QUESTIONNAIRE, questionnaire_from_config, questionnaire_from_dict
from bot.intake.rules import reason_codes
from bot.slack import intake_views, views
from storage.models import Review
from tests.unit.test_views import all_text, assert_no_live_markup, check_view, inputs

BANK_FILE = Path(__file__).parents[1] / "fixtures" / "questionnaire_bank.toml"
TODAY = date(2030, 1, 7)


def bank_rules() -> intake.IntakeRules:
    return intake.rules_from_config(tomllib.loads(BANK_FILE.read_text(encoding="utf-8")))


def question(qid: str, qtype: str = "text", **extra: Any) -> dict[str, Any]:
    return {"id": qid, "type": qtype, "label": qid.replace("_", " ").capitalize(), **extra}


CORE = [question("title", required=True), question("owner", "user", required=True)]


def test_the_shipped_questionnaire_is_todays_questions_in_order() -> None:
    ids = [q.id for q in DEFAULT_QUESTIONNAIRE.questions]
    assert ids == ["title", "summary", "owner", "go_live", "data_classification", "sensitive_data", "exposure",
                   "hosting", "third_parties", "uses_ai", "changes_auth", "links"]
    assert DEFAULT_QUESTIONNAIRE.version == "secreview-default-1"
    personal = DEFAULT_QUESTIONNAIRE.get("sensitive_data").choice("personal")  # type: ignore[union-attr]
    assert (personal.points, personal.regulations, personal.reason) == (3, ("GDPR",), "personal data")


def test_the_digest_follows_the_content_not_the_layout() -> None:
    stored = questionnaire_from_dict(DEFAULT_QUESTIONNAIRE.to_dict())
    assert stored == DEFAULT_QUESTIONNAIRE and stored.digest == DEFAULT_QUESTIONNAIRE.digest
    relabelled = questionnaire_from_config({"questions": [{**question("uses_ai", "yes_no"), "label": "AI?"}]},
                                           base=DEFAULT_QUESTIONNAIRE)
    assert relabelled.digest != DEFAULT_QUESTIONNAIRE.digest


def test_extending_adds_replaces_in_place_and_removes() -> None:
    extended = questionnaire_from_config(
        {
            "version": "acme-3",
            "remove": ["uses_ai"],
            "questions": [
                {**question("hosting", "single_choice", required=True),
                 "choices": [{"value": "mainframe", "label": "The mainframe", "points": 5}]},
                {**question("dpia_done", "yes_no"), "risk_when": "no", "code": "no_dpia", "points": 2},
            ],
        },
        base=DEFAULT_QUESTIONNAIRE,
    )
    ids = [q.id for q in extended.questions]
    assert "uses_ai" not in ids and ids[-1] == "dpia_done" and ids.index("hosting") == 7
    hosting = extended.get("hosting")
    assert hosting is not None and hosting.values == ("mainframe",)
    # Without a reason of its own, a choice reads "question: answer" on the card.
    assert hosting.choices[0].code == "hosting_mainframe" and hosting.choices[0].reason == "Hosting: The mainframe"
    assert extended.version == "acme-3"


def test_every_mistake_is_one_line_naming_the_question() -> None:
    with pytest.raises(intake.QuestionnaireError) as caught:
        questionnaire_from_config({
            "replace": True,
            "questions": [
                question("title"),  # not required
                {"id": "Bad Id", "type": "text", "label": "x"},
                question("critical", "yes_no", points=3),  # points without a code
                question("kind", "single_choice", style="radio", choices=[
                    {"value": f"v{i}", "label": f"V {i}"} for i in range(11)]),
                question("data", "multiple_choice", choices=[
                    {"value": "eu", "label": "EU", "points": "high"}, {"value": "eu", "label": "Again"},
                    {"value": "none", "label": "None", "exclusive": True, "regulations": ["GDPR"]}]),
                question("go_live", "text"),
                question("notes", colour="blue"),
                question("kind", "date"),
            ],
        })
    lines = caught.value.lines
    expected = [
        "questionnaire.questions[0] (title): required: the 'title' question is always required",
        "questionnaire.questions[1] (Bad Id): id: expected lower-case letters",
        "questionnaire.questions[2] (critical): code: a question that brings points needs a code",
        "questionnaire.questions[3] (kind): choices: at most 10 choices as radio buttons, got 11",
        "questionnaire.questions[4] (data): choices[0]: points: expected an integer from 0 to 1000, got 'high'",
        "questionnaire.questions[4] (data): choices: the value 'eu' is used twice",
        "questionnaire.questions[4] (data): choices[2]: exclusive: an exclusive choice means \"none\"",
        "questionnaire.questions[5] (go_live): type: the 'go_live' question fills the review's go_live and must "
        "be date",
        "questionnaire.questions[6] (notes): colour: unknown setting; expected one of id, type, label",
        "questionnaire.questions (kind): id: the id 'kind' is used twice",
        "questionnaire.questions: every questionnaire needs the 'owner' question",
    ]
    for line in expected:
        assert any(found.startswith(line) for found in lines), (line, lines)
    assert len(lines) == len(expected)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"remove": ["title"], "questions": []}, "remove: the 'title' question is in every questionnaire"),
        ({"remove": ["dora"], "questions": []}, "remove: 'dora' is not a shipped question"),
        ({"replace": True, "remove": ["uses_ai"], "questions": CORE}, "remove: only a questionnaire that extends"),
        ({"questions": {"id": "x"}}, "questions: expected a list of [[questionnaire.questions]] tables"),
        ({"question": []}, "questionnaire: question: unknown setting"),
        ({"replace": True, "questions": [*CORE, question("a", "yes_no", code="Bad Code")]},
         "questions[2] (a): code: expected a reason code"),
        ({"questions": [question("a", "yes_no", code="uses_ai", points=1)]},
         "questions (a): code: the code 'uses_ai' is also used by 'uses_ai'"),
        ({"replace": True, "questions": [*CORE, question("a", "single_choice", choices=[])]},
         "questions[2] (a): choices: expected a list of at least one"),
        ({"replace": True, "questions": [*CORE, question("a", "text", prefill="tags")]},
         "questions[2] (a): prefill: expected one of vendors, got 'tags'"),
    ],
)
def test_more_mistakes(table: dict[str, Any], message: str) -> None:
    with pytest.raises(intake.QuestionnaireError) as caught:
        questionnaire_from_config(table, base=DEFAULT_QUESTIONNAIRE)
    assert any(message in line for line in caught.value.lines), caught.value.lines


def test_a_broken_file_is_refused_at_start_up_with_the_file_on_every_line(tmp_path: Path) -> None:
    path = tmp_path / "secreview.toml"
    path.write_text('[questionnaire]\nreplace = true\n[[questionnaire.questions]]\nid = "title"\ntype = "date"\n'
                    'label = "When"\nrequired = true\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_rules_file(path)
    lines = str(caught.value).splitlines()
    assert lines == [
        f"SECREVIEW_CONFIG: {path}: questionnaire.questions[0] (title): type: the 'title' question fills the "
        "review's title and must be text",
        f"SECREVIEW_CONFIG: {path}: questionnaire.questions: every questionnaire needs the 'owner' question "
        "(type user, required = true)",
    ]


def test_a_banks_questionnaire_scores_by_its_own_rules() -> None:
    rules = bank_rules()
    assert [q.id for q in rules.questionnaire.scored] == ["critical_function", "outsourcing", "provider",
                                                           "customer_data", "exit_plan"]
    answers = intake.parse_questionnaire_answers(rules.questionnaire, {
        "critical_function": "yes", "outsourcing": "cloud", "provider": "Azure",
        "customer_data": ["accounts", "eu_residents"], "exit_plan": False,
    })
    assessment = intake.score_risk(answers, rules)
    assert [(r.code, r.points, r.label) for r in assessment.reasons] == [
        ("critical_function", 5, "supports a critical or important function"),
        ("outsourcing_cloud", 4, "cloud outsourcing"),
        ("customer_data_accounts", 3, "customer account data"),
        ("no_exit_plan", 3, "no tested exit plan"),
        ("customer_data_eu_residents", 2, "EU residents' data"),
        ("named_provider", 1, "third parties named"),
    ]
    assert (assessment.score, assessment.tier) == (18, "critical")
    assert intake.derive_regulations(answers, rules=rules) == (
        "Banking secrecy", "DORA", "EBA outsourcing guidelines", "GDPR")
    quiet = {"critical_function": False, "outsourcing": "in_house", "provider": "n/a", "customer_data": [],
             "exit_plan": True}
    assert intake.score_risk(quiet, rules).score == 0 and intake.derive_regulations(quiet, rules=rules) == ()


def test_weights_override_a_configured_questionnaires_points() -> None:
    data = tomllib.loads(BANK_FILE.read_text(encoding="utf-8"))
    rules = intake.rules_from_config({**data, "risk": {"weights": {"critical_function": 9}}})
    assert intake.score_risk({"critical_function": True}, rules).reasons[0].points == 9
    with pytest.raises(ValueError, match=r"risk\.weights\.uses_ai: unknown reason code; expected one of "
                                         r"outsourcing_in_house"):
        intake.rules_from_config({**data, "risk": {"weights": {"uses_ai": 1}}})
    with pytest.raises(ValueError, match=r"regulations\[0\].when_flags\[0\]: expected one of critical_function, "
                                         "exit_plan"):
        intake.rules_from_config({**data, "regulations": [{"regulation": "X", "when_flags": ["uses_ai"]}]})
    assert reason_codes(rules.questionnaire)[0] == "outsourcing_in_house"


def test_answers_are_checked_against_the_questions() -> None:
    bank = bank_rules().questionnaire
    with pytest.raises(ValueError, match=r"^outsourcing: expected one of in_house, intragroup"):
        intake.parse_questionnaire_answers(bank, {"outsourcing": "aws", "critical_function": True,
                                                  "customer_data": ["none"], "exit_plan": True})
    with pytest.raises(ValueError, match=r"^customer_data: required"):
        intake.parse_questionnaire_answers(bank, {"outsourcing": "cloud", "critical_function": True,
                                                  "exit_plan": True})
    parsed = intake.parse_questionnaire_answers(bank, {"outsourcing": "Cloud", "critical_function": "no",
                                                       "customer_data": ["none"], "exit_plan": "yes"})
    assert parsed == {"critical_function": False, "outsourcing": "cloud", "provider": "", "customer_data": [],
                      "exit_plan": True}
    go_live = next(q for q in bank.questions if q.id == "go_live")
    assert intake.parse_answer(go_live, "2031-02-03") == "2031-02-03"
    with pytest.raises(ValueError, match=r"^go_live: expected a date like 2027-01-15"):
        intake.parse_answer(go_live, "soon")


def _review(**fields: Any) -> Review:
    values: dict[str, Any] = {"number": 7, "title": "Core banking API", "summary": "", "owner_id": "U0OWNER1",
                              "announcement_text": "", "answers": None, "vendors": [], "links": "",
                              "go_live": date(2030, 3, 1), "state": "announced",
                              "announced_at": datetime(2030, 1, 6, tzinfo=UTC)}
    values.update(fields)
    return Review(**values)


def test_the_intake_modal_asks_a_banks_questions() -> None:
    bank = bank_rules().questionnaire
    answers = {"critical_function": True, "outsourcing": "cloud", "customer_data": [], "exit_plan": False,
               "provider": "Azure"}
    view = check_view(views.intake_modal(review=_review(answers=answers), private_metadata="{}", today=TODAY,
                                         questionnaire=bank), "modal")
    fields = inputs(view)
    assert list(fields) == [q.id for q in bank.questions]
    assert fields["critical_function"]["type"] == "radio_buttons"
    assert fields["critical_function"]["initial_option"]["value"] == "yes"
    assert fields["exit_plan"]["initial_option"]["value"] == "no"
    assert fields["outsourcing"]["initial_option"]["text"]["text"] == "A cloud service provider"
    assert [o["value"] for o in fields["customer_data"]["initial_options"]] == ["none"]
    assert fields["title"]["max_length"] == 150
    optional = {b["block_id"] for b in view["blocks"] if b.get("optional")}
    assert optional == {"summary", "provider", "links"}
    assert "DORA Art. 3(22)" in all_text(view)


def _long_questionnaire(count: int, label: str = "Question") -> intake.Questionnaire:
    choices = [{"value": f"c{i}", "label": f"{label} {i}"[:75], "points": i % 3} for i in range(100)]
    many = [
        {**question(f"q{i}", ("single_choice", "multiple_choice", "yes_no", "text", "date")[i % 5]),
         "label": f"{label} {i}"[:2000], "help": label[:2000], "placeholder": label[:150],
         **({"choices": choices} if i % 5 < 2 else {})}
        for i in range(count)
    ]
    for entry in many:
        if entry["type"] == "date":
            entry.pop("placeholder")
    return questionnaire_from_config({"replace": True, "questions": [*CORE, *many]})


def test_a_long_questionnaire_is_asked_in_pages_within_block_kits_limits() -> None:
    hostile = ("<!channel> <@U123> <http://evil|click> & " * 80)[:2000]
    long = _long_questionnaire(118, label=hostile)
    pages = intake_views.pages(long)
    assert [len(p) for p in pages] == [40, 40, 40]
    seen: list[str] = []
    for page in range(len(pages)):
        view = check_view(views.intake_modal(review=None, private_metadata="{}", today=TODAY, questionnaire=long,
                                             page=page), "modal")
        assert_no_live_markup(view)
        assert len(view["blocks"]) <= 100
        assert view["submit"]["text"] == ("Submit" if page == 2 else "Next")
        assert f"Page {page + 1} of 3" in all_text(view)
        seen += list(inputs(view))
    assert seen == [q.id for q in long.questions]
    multi = inputs(views.intake_modal(review=None, private_metadata="{}", today=TODAY, questionnaire=long,
                                      page=0))["q1"]
    assert multi["type"] == "multi_static_select" and len(multi["options"]) == 100


def test_answers_to_an_older_questionnaire_are_shown_in_its_words() -> None:
    bank = bank_rules().questionnaire
    review = _review(answers={"critical_function": True, "outsourcing": "cloud", "customer_data": ["cards"],
                              "exit_plan": True, "provider": "", "retired_question": "still here"})
    facts = {f["id"]: (f["question"], f["answer"]) for f in intake_views.answer_facts(review.answers or {}, bank)}
    assert facts["outsourcing"] == ("Who runs it?", "A cloud service provider")
    assert facts["customer_data"] == ("Customer data it touches", "Card data")
    assert facts["critical_function"] == ("Does it support a critical or important function?", "yes")
    assert facts["retired_question"] == ("retired question", "still here")
    rows = intake_views.questions_with_answers(review, bank)
    assert rows[0] == {"id": "title", "question": "Initiative", "answer": "Core banking API"}
    assert {"id": "go_live", "question": "Planned go-live", "answer": "2030-03-01"} in rows


def test_the_readmes_questionnaire_examples_are_valid() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```toml\n")[1:]]
    examples = [tomllib.loads(b) for b in blocks if "[questionnaire]" in b]
    assert len(examples) == 2
    extended, bank = (intake.rules_from_config(e).questionnaire for e in examples)
    assert extended.questions[-1].id == "dpia_done" and extended.get("uses_ai") is None
    assert bank.digest == bank_rules().questionnaire.digest  # the README shows the tested bank file
