"""bot/intake.py: announcement detection, pre-fill, go-live dates, risk scoring, regulations, config."""

import time
import tomllib
from dataclasses import replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from bot.intake import (
    ANSWER_CHOICES,
    DEFAULT_RULES,
    REASON_CODES,
    TIERS,
    Detector,
    IntakeAnswers,
    RegulationRule,
    RiskReason,
    derive_regulations,
    extract_go_live,
    make_title,
    parse_answers,
    rules_from_config,
    score_risk,
)

TODAY = date(2026, 3, 11)  # a Wednesday
DETECTOR = Detector(DEFAULT_RULES)

# ---------------------------------------------------------------------------------------------------------
# Announcement detection
# ---------------------------------------------------------------------------------------------------------

ANNOUNCEMENTS = [
    # phrases from the defaults, in the forms people type them
    ("Kick-off for the new CRM project next Monday!", True),
    ("Kick off call for the warehouse scanners is on Thursday", True),
    ("KICKOFF tomorrow 10:00, room 4.12", True),
    ("We're kicking off the data retention clean-up next week", True),
    ("Hi all, we are launching a customer portal on Salesforce in Q3 :rocket:", True),
    ("We’re launching the new expense app for the finance team", True),
    ("Go-live of the HR onboarding flow is 2027-01-15", True),
    ("go live moved to June, sorry everyone", True),
    ("The golive checklist is in the wiki", True),
    ("Rollout of Okta SSO to all contractors starts next month", True),
    ("We will roll out the new VPN client to sales first", True),
    ("Rolling out Microsoft 365 Copilot to 50 pilot users", True),
    ("Starting a pilot with Databricks for the forecasting models", True),
    ("We are onboarding a new vendor for payroll (Deel)", True),
    ("Proof of concept: ChatGPT Enterprise for the support team", True),
    ("proof-of-concept with Snowflake starts Monday", True),
    ("PoC for the IoT sensors in the cold store, results by end of March", True),
    ("New project: replacing the intranet with SharePoint Online", True),
    ("*New project* alert: contract management on DocuSign CLM", True),
    ("<!here> kick-off for the <https://wiki.example.com/x|billing revamp> is on Friday", True),
    ("> Kick-off notes: scope, budget, go-live", True),
    ("the rollout of the new office chairs is delayed", True),  # the phrase matches, whatever the topic
    ("Please join the new project sync in <#C012AB|proj-crm>", True),
    ("Our partner portal goes into pilot on 2027-02-01", True),
    ("Heads-up: going live with the chatbot on the careers page tomorrow", True),
    # chatter and near misses
    ("who moved my stapler", False),
    ("our autopilot is broken again", False),
    ("I'm piloting the drone at the offsite", False),  # no stemming: "piloting" is not "pilot"
    ("The pilots are on strike, flights cancelled", False),
    ("Check the pocket guide before you travel", False),  # "poc" only as a whole word
    ("Let's go. Live demo of the dashboard at 3pm", False),  # "go live" across a sentence end
    ("Can someone review my PR for the billing service?", False),
    ("Reminder: the expense sync moved to Tuesday at 10:00", False),
    ("Lunch at 12? The place on 5th street has a 20% discount", False),
    ("Has anyone seen 502 errors on the payments API since Monday?", False),
    ("Thanks <@U02ABCDEF> for the help with the export yesterday", False),
    ("What's the project code for the London trip?", False),
    ("new laptop arrived, project screen still missing", False),  # "new" and "project" are not adjacent
    ("The launch party was great, thanks all", False),  # "launch" alone is not an announcement phrase
    ("Budget review is due Friday, numbers to Priya please", False),
    ("FYI the VPN will be down tonight between 22:00 and 23:00", False),
    ("see <https://wiki.example.com/pilot-plan> for last year's retro", False),  # URLs are not text
    ("posting in <#C0123|pilot-announcements> from now on", False),  # channel names are not text
    (":pilot: :airplane: off to Lisbon", False),  # emoji are not words
    ("kick\noff", False),  # a line break ends the phrase
    ("", False),
    ("   \n\t ", False),
    ("coffee machine on floor 3 is broken :coffee:", False),
]


@pytest.mark.parametrize(("text", "expected"), ANNOUNCEMENTS)
def test_is_announcement(text: str, expected: bool) -> None:
    assert DETECTOR.is_announcement(text) is expected


def test_the_table_has_enough_real_messages_both_ways() -> None:
    assert sum(1 for _, yes in ANNOUNCEMENTS if yes) >= 20
    assert sum(1 for _, yes in ANNOUNCEMENTS if not yes) >= 20


def test_detection_is_case_insensitive_and_treats_hyphen_and_space_alike() -> None:
    for text in ("KICK-OFF", "Kick Off", "kick-off", "kick   off", "kick–off", "kick_off"):
        assert DETECTOR.is_announcement(text), text


def test_matched_phrases_explain_a_detection() -> None:
    text = "Kick-off today, pilot in May, then the rollout"
    assert DETECTOR.matched_phrases(text) == ["kick-off", "pilot", "rollout"]


def test_configured_phrases_replace_the_defaults() -> None:
    rules = rules_from_config({"announcements": {"phrases": ["pilots", "Neues Projekt"]}})
    detector = Detector(rules)
    assert detector.is_announcement("Two pilots this quarter")
    assert detector.is_announcement("neues projekt: Zeiterfassung")
    assert not detector.is_announcement("Kick-off tomorrow")


# ---------------------------------------------------------------------------------------------------------
# Go-live dates (today is Wednesday 2026-03-11)
# ---------------------------------------------------------------------------------------------------------

GO_LIVE = [
    ("Go-live 2027-01-15", date(2027, 1, 15)),
    ("go-live planned for 2026-04-30T09:00", date(2026, 4, 30)),
    ("launch on 15 Jan", date(2027, 1, 15)),  # no year: the next 15 January
    ("launch on 15 April", date(2026, 4, 15)),
    ("Go-live: 15th of January 2027", date(2027, 1, 15)),
    ("go live Jan 15th, 2027", date(2027, 1, 15)),
    ("go-live March 20", date(2026, 3, 20)),
    ("go-live 15/01/2027", date(2027, 1, 15)),  # day first
    ("go-live 03/04/2027", date(2027, 4, 3)),  # day first, even when both would do
    ("go-live 01/15/2027", date(2027, 1, 15)),  # cannot be day first, so it is unambiguous
    ("go-live 15.01.2027", date(2027, 1, 15)),
    ("go-live 15/01/27", date(2027, 1, 15)),
    ("rollout next month", date(2026, 4, 1)),
    ("launch next week", date(2026, 3, 16)),  # Monday of next week
    ("launch next Friday", date(2026, 3, 13)),  # the coming Friday
    ("go live on Wednesday", date(2026, 3, 11)),  # today is a Wednesday
    ("go-live in 3 weeks", date(2026, 4, 1)),
    ("go-live in 10 days", date(2026, 3, 21)),
    ("release in two months", date(2026, 5, 11)),
    ("launch in 10 business days", date(2026, 3, 25)),
    ("launch within the next couple of weeks", date(2026, 3, 25)),
    ("launch 3 weeks from now", date(2026, 4, 1)),
    ("go-live in Q2", date(2026, 4, 1)),  # the first day of the quarter
    ("go-live Q2 2027", date(2027, 4, 1)),
    ("go-live in Q1", TODAY),  # Q1 has begun: its earliest day still to come
    ("go-live in Q1 2027", date(2027, 1, 1)),
    ("rollout 2027 Q3", date(2027, 7, 1)),
    ("go-live H2", date(2026, 7, 1)),
    ("Planned go-live: end of March", date(2026, 3, 31)),
    ("go-live end of February", date(2027, 2, 28)),  # this February is over
    ("go-live by the end of the year", date(2026, 12, 31)),
    ("go live by year-end", date(2026, 12, 31)),
    ("go-live end of Q2", date(2026, 6, 30)),
    ("go-live end of next month", date(2026, 4, 30)),
    ("launching in May", date(2026, 5, 1)),
    ("launching in early May 2027", date(2027, 5, 1)),
    ("launch mid-April", date(2026, 4, 11)),
    ("launch in March", TODAY),  # March has begun
    ("launch March 2027", date(2027, 3, 1)),
    ("go-live tomorrow", date(2026, 3, 12)),
    ("the 29 Feb launch", date(2028, 2, 29)),  # the next 29 February
    # several dates: the one next to a go-live word wins
    ("Kick-off next Monday, go-live Q3 2026", date(2026, 7, 1)),
    ("Kick-off on 3 March. Launch planned for 1 June", date(2026, 6, 1)),
    ("Workshop on 2026-03-20, design review on 2026-04-02, go-live 2026-05-04", date(2026, 5, 4)),
    ("2026-09-01 go-live, training from 2026-08-15", date(2026, 9, 1)),
    # without a go-live word: the first date that is not a meeting's
    ("New CRM for sales, users from 2026-06-01", date(2026, 6, 1)),
    ("Kick-off for the new CRM project next Monday!", None),  # a meeting, not a go-live
    ("Meeting on Friday about the HR portal, then live from 1 July", date(2026, 7, 1)),
    # nothing usable
    ("go-live 2027-02-30", None),  # impossible date
    ("launch 29/02/2027", None),
    ("go-live 2025-12-01", None),  # past
    ("go-live 2026-03-10", None),  # yesterday
    ("go-live 2026-03-11", TODAY),
    ("Release 1.2.27 is out", None),  # a version, not a date
    ("we may launch something", None),  # "may" the verb
    ("standup at 10:30 in room 4", None),
    ("no dates here at all", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), GO_LIVE)
def test_extract_go_live(text: str, expected: date | None) -> None:
    assert extract_go_live(text, today=TODAY) == expected


def test_the_date_table_is_big_enough() -> None:
    assert len(GO_LIVE) >= 20


def test_a_date_without_year_is_the_next_occurrence_from_today() -> None:
    assert extract_go_live("go-live 11 March", today=TODAY) == TODAY
    assert extract_go_live("go-live 10 March", today=TODAY) == date(2027, 3, 10)


def test_dates_at_the_edge_of_the_calendar_never_raise() -> None:
    last = date(9999, 12, 20)
    texts = ("next month", "next year", "in 12 years", "Q4", "end of next year", "15 Jan", "in 9999 days")
    for text in texts:
        result = extract_go_live(f"go-live {text}", today=last)
        assert result is None or result >= last


def test_a_maximal_slack_message_stays_fast() -> None:
    # Slack allows 40,000 characters: dates and go-live words all over must not make the work quadratic.
    text = "go-live 2027-01-15, launch 15/02/2027 next Friday in Q3. Kick-off meeting on Monday. " * 470
    assert len(text) <= 40_000
    started = time.process_time()
    assert DETECTOR.is_announcement(text)
    assert DETECTOR.prefill(text, today=TODAY).go_live == date(2027, 1, 15)
    assert time.process_time() - started < 1.0


def test_slack_date_tokens_are_read_by_their_fallback_text() -> None:
    text = "go-live <!date^1799990000^{date_short}|Jan 15, 2027>"
    assert extract_go_live(text, today=TODAY) == date(2027, 1, 15)


# ---------------------------------------------------------------------------------------------------------
# Pre-fill: title, tags, vendors, regulation hints
# ---------------------------------------------------------------------------------------------------------

TITLES = [
    ("Kick-off for the new CRM project next Monday!", "CRM"),
    (
        "Hi team, :rocket: we are *launching* the <https://x.io/p|new HR portal> on Workday. Go-live Q2",
        "HR portal on Workday",
    ),
    (":wave: Hello all!\nWe're launching the expense app. More soon.", "Expense app"),
    ("*Heads-up:* we're onboarding a new vendor (Stripe)", "Stripe"),
    ("Big news! We are launching the CRM pilot. Go-live Q3.", "CRM pilot"),
    ("> • Go-live 15 Jan. 2027 for the new portal. Thanks", "New portal"),
    ("Thanks <@U02ABCDEF>, the <#C01|proj-crm> pilot starts now", "#proj-crm pilot"),
    ("R&amp;D pilot with ~Azure~ AWS &lt;finally&gt;", "R&D pilot with Azure AWS <finally>"),
    ("Hi team,\n\n`iOS` app rollout next week", "iOS app"),
    ("Go-live for the HR portal on 15 Jan. Details in the doc", "HR portal"),
    ("We sign with Acme Inc. Go-live next week", "We sign with Acme Inc"),
    ("Tools such as e.g. Salesforce and Workday. More soon", "Tools such as e.g. Salesforce and Workday"),
    ("", ""),
    ("  \n :tada: \n", ""),
]
LABELLED = Path(__file__).parents[1] / "fixtures" / "titles.tsv"
# Of the labelled announcements, at least this many must come out exactly as a person titled them. The set is also
# what the rules were written against, so a fresh sentence does somewhat worse; the bar is there to catch a rule
# that breaks what worked (the owner corrects the rest in the intake, where the title is the first field).
LABELLED_REQUIRED = 0.95


def test_titles_of_the_labelled_announcements(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [line.split("\t") for line in LABELLED.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    assert len(rows) >= 100 and all(len(row) == 2 for row in rows)
    missed = [(text, want, make_title(text.replace("\\n", "\n"))) for text, want in rows
              if make_title(text.replace("\\n", "\n")) != want]
    right = len(rows) - len(missed)
    with capsys.disabled():
        print(f"\ntitles: {right} of {len(rows)} labelled announcements come out right ({right / len(rows):.0%})")
        for text, want, got in missed:
            print(f"  {text[:60]!r}: wanted {want!r}, got {got!r}")
    assert right >= LABELLED_REQUIRED * len(rows)
    assert all(len(make_title(text)) <= 60 for text, _ in rows)


@pytest.mark.parametrize(("text", "expected"), TITLES)
def test_title(text: str, expected: str) -> None:
    assert make_title(text) == expected


def test_a_long_title_is_cut_on_a_word_with_an_ellipsis() -> None:
    title = make_title("Rollout " + "of the extremely long named platform " * 10)
    assert len(title) <= 60
    assert title.endswith("…")
    assert not title[:-1].endswith(" ")
    assert make_title("x" * 400) == "X" + "x" * 58 + "…"


def test_prefill_collects_everything() -> None:
    text = (
        "Hi all, we are launching an LLM assistant for HR on Azure (OpenAI models) with SSO via Okta. "
        "It reads personal data from Workday. Go-live 2026-06-01, pilot with 50 users next week."
    )
    prefill = DETECTOR.prefill(text, today=TODAY)
    title = "LLM assistant for HR on Azure (OpenAI models) with SSO"
    assert prefill.title == title
    assert prefill.go_live == date(2026, 6, 1)
    assert prefill.tags == ("ai", "cloud", "identity", "saas")
    assert prefill.vendors == ("Azure", "OpenAI", "Okta", "Workday")
    assert prefill.regulations == ("GDPR",)


def test_prefill_of_chatter_is_empty_but_titled() -> None:
    prefill = DETECTOR.prefill("who moved my stapler", today=TODAY)
    assert (prefill.title, prefill.go_live, prefill.tags, prefill.vendors, prefill.regulations) == (
        "Who moved my stapler", None, (), (), (),
    )


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("ChatGPT for the support team", ["ai"]),
        ("Machine-learning model for churn, trained in Databricks", ["ai", "data-platform"]),
        ("Fine-tuning an LLM on our tickets", ["ai"]),
        ("AI-powered search", ["ai"]),
        ("The API gateway and two webhooks", ["api"]),
        ("Mobile app for iOS and Android", ["mobile"]),
        ("Card payments via Stripe at the checkout", ["payments"]),
        ("SSO with Okta, MFA for admins", ["identity"]),
        ("SCADA upgrade in the OT network", ["ot"]),
        ("Moving the data warehouse to Snowflake on AWS", ["cloud", "data-platform"]),
        ("Salesforce for the sales team", ["saas"]),
        ("IoT sensors in the cold store", ["iot"]),
        ("A crypto wallet for loyalty points", ["blockchain"]),
        ("The air conditioning is too cold", []),
        ("Said the villain: 'aid me'", []),
        (":cloud: weather is bad", []),  # an emoji, not a technology
    ],
)
def test_tags(text: str, tags: list[str]) -> None:
    assert DETECTOR.tags(text) == tags


def test_vendors_are_canonical_in_order_of_first_appearance() -> None:
    text = "Amazon Web Services for hosting, Salesforce for CRM, AWS again, salesforce's API, and SFDC"
    assert DETECTOR.vendors(text) == ["AWS", "Salesforce"]
    assert DETECTOR.vendors("Google Cloud and Google Workspace, then Google") == [
        "Google Cloud", "Google Workspace", "Google",
    ]
    assert DETECTOR.vendors("ChatGPT Enterprise") == ["OpenAI"]
    assert DETECTOR.vendors("no vendor here, just a workday") == ["Workday"]  # names are not special
    assert DETECTOR.vendors("") == []


def test_regulation_hints_from_words() -> None:
    assert DETECTOR.regulation_hints("Replacing the general ledger and financial reporting") == ["SOX"]
    assert DETECTOR.regulation_hints("SCADA monitoring for the power grid") == ["NIS2"]
    assert DETECTOR.regulation_hints("New core banking platform; ICT third party is Temenos") == ["DORA"]
    hints = DETECTOR.regulation_hints("Facial recognition at the gates, personal data")
    assert hints == ["EU AI Act", "GDPR"]
    assert DETECTOR.regulation_hints("Cardholder data in the PCI scope") == ["PCI DSS"]
    assert DETECTOR.regulation_hints("Patient records via the EHR") == ["HIPAA"]
    assert DETECTOR.regulation_hints("Energy drinks in the kitchen, bank holiday Monday") == []


# ---------------------------------------------------------------------------------------------------------
# Answers, risk and regulations
# ---------------------------------------------------------------------------------------------------------

QUIET = IntakeAnswers(
    data_classification="internal", sensitive_data=frozenset(), exposure="internal", hosting="on_prem",
    third_parties="", uses_ai=False, changes_auth=False,
)


def test_a_quiet_internal_project_scores_nothing_and_is_low() -> None:
    assessment = score_risk(QUIET)
    assert (assessment.score, assessment.tier, assessment.reasons) == (0, "low", ())


def test_reasons_say_why_highest_first() -> None:
    answers = replace(
        QUIET, data_classification="confidential", sensitive_data=frozenset({"personal"}),
        exposure="internet", hosting="saas", third_parties="Salesforce",
    )
    assessment = score_risk(answers)
    assert assessment.reasons == (
        RiskReason("sensitive_personal", 3),
        RiskReason("classification_confidential", 2),
        RiskReason("exposure_internet", 2),
        RiskReason("hosting_saas", 2),
        RiskReason("third_parties", 1),
    )
    assert assessment.score == 10
    assert assessment.tier == "high"


def test_everything_at_once_is_critical() -> None:
    answers = IntakeAnswers(
        data_classification="restricted", sensitive_data=frozenset({"personal", "payment_card", "health",
                                                                    "credentials"}),
        exposure="internet", hosting="saas", third_parties="Adyen", uses_ai=True, changes_auth=True,
    )
    assessment = score_risk(answers)
    assert assessment.score == 4 + 3 + 4 + 4 + 3 + 2 + 2 + 2 + 3 + 1
    assert assessment.tier == "critical"
    assert {r.code for r in assessment.reasons} == {
        "classification_restricted", "sensitive_personal", "sensitive_payment_card", "sensitive_health",
        "sensitive_credentials", "exposure_internet", "hosting_saas", "uses_ai", "changes_auth",
        "third_parties",
    }
    points = [r.points for r in assessment.reasons]
    assert points == sorted(points, reverse=True)


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (0, "low"), (3, "low"), (4, "medium"), (7, "medium"), (8, "high"), (13, "high"), (14, "critical"),
        (40, "critical"),
    ],
)
def test_tier_boundaries(score: int, tier: str) -> None:
    # uses_ai is the only answer given, weighted to the score under test
    rules = replace(DEFAULT_RULES, risk_weights={**DEFAULT_RULES.risk_weights, "uses_ai": score})
    assessment = score_risk(replace(QUIET, uses_ai=True), rules)
    assert (assessment.score, assessment.tier) == (score, tier)


@pytest.mark.parametrize("none", ["", "none", "None.", "n/a", "N/A", "-", "no third parties", "  nobody "])
def test_third_parties_that_say_none_add_nothing(none: str) -> None:
    assert score_risk(replace(QUIET, third_parties=none)).score == 0


def test_weights_of_zero_drop_the_reason() -> None:
    rules = rules_from_config({"risk": {"weights": {"hosting_saas": 0}}})
    assessment = score_risk(replace(QUIET, hosting="saas"), rules)
    assert assessment.reasons == ()


def test_every_reason_code_has_a_label() -> None:
    text = resources.files("templates").joinpath("risk_reasons.toml").read_text(encoding="utf-8")
    labels = tomllib.loads(text)
    assert set(labels) == set(REASON_CODES)
    assert all(isinstance(v, str) and v and v == v.strip() for v in labels.values())
    assert set(DEFAULT_RULES.risk_weights) == set(REASON_CODES)


def test_derive_regulations_from_answers() -> None:
    answers = replace(QUIET, sensitive_data=frozenset({"personal", "payment_card", "health", "credentials"}))
    assert derive_regulations(answers) == ("GDPR", "HIPAA", "PCI DSS")
    assert derive_regulations(QUIET) == ()
    assert derive_regulations(replace(QUIET, uses_ai=True)) == ("EU AI Act",)


def test_derive_regulations_from_text_and_third_parties() -> None:
    text = "Replacing the general ledger; the trading platform feeds it"
    assert derive_regulations(QUIET, text=text) == ("DORA", "SOX")
    assert derive_regulations(replace(QUIET, third_parties="an ICT third party in the energy sector")) == (
        "DORA", "NIS2",
    )


def test_derive_regulations_with_configured_rules() -> None:
    rules = rules_from_config(
        {"regulations": [
            {"regulation": "gdpr", "when_sensitive": ["personal", "health"]},
            {"regulation": "LGPD", "keywords": ["brazil"]},
        ]}
    )
    assert derive_regulations(replace(QUIET, sensitive_data=frozenset({"health"})), rules=rules) == (
        "HIPAA", "gdpr",
    )
    assert derive_regulations(QUIET, text="Rollout in Brazil", rules=rules) == ("LGPD",)


def test_parse_answers_accepts_form_and_json_values() -> None:
    answers = parse_answers(
        {
            "data_classification": "Confidential",
            "sensitive_data": ["personal", "payment_card"],
            "exposure": "internet",
            "hosting": "own-cloud",
            "third_parties": "  Salesforce ",
            "uses_ai": "yes",
            "changes_auth": False,
            "title": "ignored: other fields of the form",
        }
    )
    assert answers == IntakeAnswers(
        data_classification="confidential", sensitive_data=frozenset({"personal", "payment_card"}),
        exposure="internet", hosting="own_cloud", third_parties="Salesforce", uses_ai=True,
        changes_auth=False,
    )
    minimal = {
        "data_classification": "public", "exposure": "internal", "hosting": "saas", "uses_ai": "no",
        "changes_auth": "no",
    }
    assert parse_answers(minimal).sensitive_data == frozenset()
    assert parse_answers({**minimal, "sensitive_data": ["none"]}).sensitive_data == frozenset()
    assert parse_answers({**minimal, "sensitive_data": "health, credentials"}).sensitive_data == {
        "health", "credentials",
    }


GOOD: dict[str, Any] = {
    "data_classification": "internal", "sensitive_data": [], "exposure": "internal", "hosting": "on_prem",
    "third_parties": "", "uses_ai": False, "changes_auth": False,
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("data_classification", None, "data_classification: required"),
        ("data_classification", "secret", "data_classification: expected one of public, internal"),
        ("data_classification", 3, "data_classification: expected one of"),
        ("sensitive_data", ["personal", "dna"], "sensitive_data: expected values from"),
        ("sensitive_data", ["none", "health"], "sensitive_data: 'none' cannot be combined"),
        ("sensitive_data", {"personal": True}, "sensitive_data: expected a list"),
        ("exposure", "everyone", "exposure: expected one of internal, partners, internet; got 'everyone'"),
        ("hosting", "", "hosting: expected one of on_prem, own_cloud, saas"),
        ("third_parties", ["Salesforce"], "third_parties: expected text"),
        ("third_parties", "x" * 3001, "third_parties: at most 3000 characters"),
        ("uses_ai", "maybe", "uses_ai: expected yes or no, got 'maybe'"),
        ("uses_ai", None, "uses_ai: required"),
        ("changes_auth", 2, "changes_auth: expected yes or no"),
    ],
)
def test_parse_answers_names_the_bad_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_answers({**GOOD, field: value})


def test_answer_choices_cover_every_choice_field() -> None:
    assert ANSWER_CHOICES["data_classification"] == ("public", "internal", "confidential", "restricted")
    assert ANSWER_CHOICES["sensitive_data"] == ("personal", "payment_card", "health", "credentials", "none")
    assert ANSWER_CHOICES["exposure"] == ("internal", "partners", "internet")
    assert ANSWER_CHOICES["hosting"] == ("on_prem", "own_cloud", "saas")
    assert ANSWER_CHOICES["uses_ai"] == ANSWER_CHOICES["changes_auth"] == ("yes", "no")


# ---------------------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------------------


def test_an_empty_config_is_the_defaults() -> None:
    assert rules_from_config({}) == DEFAULT_RULES


def test_config_overrides_merge_with_the_defaults() -> None:
    rules = rules_from_config(
        {
            "announcements": {"phrases": ["new initiative"]},
            "tags": {"ai": ["ai", "genai"], "quantum": ["qubit", "quantum computing"], "iot": []},
            "vendors": {"names": ["Acme Cloud"], "aliases": {"acme": "Acme Cloud"}},
            "risk": {"weights": {"uses_ai": 5}, "tiers": {"medium": 5, "high": 9, "critical": 15}},
            "regulations": [{"regulation": "Cyber Resilience Act", "keywords": ["firmware"]}],
        }
    )
    assert rules.phrases == ("new initiative",)
    assert rules.tags["ai"] == ("ai", "genai")
    assert rules.tags["quantum"] == ("qubit", "quantum computing")
    assert "iot" not in rules.tags  # an empty list removes a default tag
    assert rules.tags["cloud"] == DEFAULT_RULES.tags["cloud"]
    assert rules.vendors == ("Acme Cloud",)
    assert rules.vendor_aliases["acme"] == "Acme Cloud"
    assert rules.risk_weights["uses_ai"] == 5
    assert rules.risk_weights["hosting_saas"] == DEFAULT_RULES.risk_weights["hosting_saas"]
    assert rules.tier_thresholds == {"low": 0, "medium": 5, "high": 9, "critical": 15}
    assert rules.regulation_rules[-1] == RegulationRule("Cyber Resilience Act", keywords=("firmware",))
    assert {r.regulation for r in rules.regulation_rules} >= {"GDPR", "SOX", "NIS2", "DORA"}
    detector = Detector(rules)
    assert detector.tags("Quantum computing pilot with Acme") == ["quantum"]
    assert detector.vendors("Quantum computing pilot with Acme") == ["Acme Cloud"]
    assert detector.regulation_hints("new firmware for the sensors") == ["Cyber Resilience Act"]
    assert DEFAULT_RULES.tags["iot"]  # the defaults are untouched


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"announcement": {}}, "announcement: unknown setting; expected one of announcements, tags"),
        ({"announcements": ["kick-off"]}, "announcements: expected a table"),
        ({"announcements": {"phrase": ["x"]}}, "announcements.phrase: unknown setting; expected one of phr"),
        ({"announcements": {"phrases": "kick-off"}}, "announcements.phrases: expected a list of strings"),
        ({"announcements": {"phrases": ["ok", 5]}}, r"announcements.phrases\[1\]: expected a phrase"),
        ({"announcements": {"phrases": ["ok", "--"]}}, r"announcements.phrases\[1\]: expected a phrase"),
        ({"tags": {"AI Tools": ["x"]}}, "tags.AI Tools: tag names are lower-case"),
        ({"tags": {"ai": "llm"}}, "tags.ai: expected a list of strings"),
        ({"vendors": {"names": [""]}}, r"vendors.names\[0\]: expected a phrase"),
        ({"vendors": {"aliases": {"aws": 3}}}, "vendors.aliases.aws: expected a phrase"),
        (
            {"risk": {"weights": {"uses_ai": "high"}}},
            "risk.weights.uses_ai: expected an integer from 0 to 1000, got 'high'",
        ),
        ({"risk": {"weights": {"uses_ai": -1}}}, "risk.weights.uses_ai: expected an integer"),
        ({"risk": {"weights": {"uses_ai": True}}}, "risk.weights.uses_ai: expected an integer"),
        ({"risk": {"weights": {"internet_facing": 2}}}, "risk.weights.internet_facing: unknown reason code"),
        ({"risk": {"tiers": {"severe": 20}}}, "risk.tiers.severe: unknown setting; expected one of low"),
        ({"risk": {"tiers": {"low": 1}}}, "risk.tiers.low: expected 0"),
        ({"risk": {"tiers": {"high": 3}}}, "risk.tiers: thresholds must increase from low to critical"),
        ({"regulations": {"regulation": "GDPR"}}, "regulations: expected a list"),
        ({"regulations": [{"keywords": ["x"]}]}, r"regulations\[0\].regulation: expected the regulation"),
        ({"regulations": [{"regulation": "X", "when_sensitive": ["dna"]}]},
         r"regulations\[0\].when_sensitive\[0\]: expected one of personal, payment_card, health"),
        ({"regulations": [{"regulation": "X", "when_flags": ["uses_ml"]}]},
         r"regulations\[0\].when_flags\[0\]: expected one of uses_ai, changes_auth"),
        ({"regulations": [{"regulation": "X", "keyword": ["x"]}]}, r"regulations\[0\].keyword: unknown"),
        (
            {"regulations": [{"regulation": "X"}, {"regulation": "x"}]},
            r"regulations\[1\].regulation: 'x' is defined twice",
        ),
    ],
)
def test_config_errors_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message):
        rules_from_config(data)


def test_tiers_constant_is_in_order() -> None:
    assert TIERS == ("low", "medium", "high", "critical")
    thresholds = [DEFAULT_RULES.tier_thresholds[t] for t in TIERS]
    assert thresholds == sorted(thresholds)
