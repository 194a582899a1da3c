"""The intake's vocabulary and rules: answer choices, tiers, reason codes, limits, RegulationRule,
IntakeRules and DEFAULT_RULES (the lists and weights used when the configuration says nothing).

The answer vocabulary (choices, reason codes and their default points) is that of the shipped questionnaire,
templates/questionnaire.toml; a configured questionnaire brings its own (IntakeRules.questionnaire).
"""

from dataclasses import dataclass, field, replace
from functools import lru_cache

from bot.intake.languages import ANNOUNCEMENT_PHRASES, check_languages
from bot.intake.questionnaire import Questionnaire, shipped_questionnaire

# ---------------------------------------------------------------------------------------------------------
# Answer vocabulary and reason codes (of the shipped questionnaire)
# ---------------------------------------------------------------------------------------------------------

DEFAULT_QUESTIONNAIRE: Questionnaire = shipped_questionnaire()
TIERS: tuple[str, ...] = ("low", "medium", "high", "critical")


def _sensitive_kinds(questionnaire: Questionnaire) -> tuple[str, ...]:
    question = questionnaire.get("sensitive_data")
    return tuple(c.value for c in question.choices if not c.exclusive) if question else ()


def reason_codes(questionnaire: Questionnaire) -> tuple[str, ...]:
    """Every reason code the questionnaire's answers can bring: choices first, then yes/no, then text answers
    (the order of equal points on the card)."""
    rank = {"single_choice": 0, "multiple_choice": 0, "yes_no": 1, "text": 2}
    ordered = sorted((q for q in questionnaire.scored if q.type in rank), key=lambda q: rank[q.type])
    codes: list[str] = []
    for q in ordered:
        codes += [c.code for c in q.choices if not c.exclusive]
        if q.code:
            codes.append(q.code)
    return tuple(dict.fromkeys(codes))


def default_points(questionnaire: Questionnaire) -> dict[str, int]:
    """The points each reason code brings, as the questionnaire says."""
    points: dict[str, int] = {}
    for q in questionnaire.scored:
        for c in q.choices:
            if not c.exclusive:
                points[c.code] = c.points
        if q.code:
            points[q.code] = q.points
    return points


SENSITIVE_KINDS: tuple[str, ...] = _sensitive_kinds(DEFAULT_QUESTIONNAIRE)
ANSWER_FLAGS: tuple[str, ...] = tuple(q.id for q in DEFAULT_QUESTIONNAIRE.scored if q.type == "yes_no")

# The option values of every choice and yes/no question; "none" is an option of sensitive_data so that an
# owner states it explicitly; it parses to an empty set.
ANSWER_CHOICES: dict[str, tuple[str, ...]] = {
    q.id: q.values for q in DEFAULT_QUESTIONNAIRE.scored if q.type in ("single_choice", "multiple_choice", "yes_no")
}

# Every reason code score_risk() can emit with the shipped questionnaire; templates/risk_reasons.toml has one
# label per code. Codes with 0 default points exist so that a deployment can weight them without a code change.
REASON_CODES: tuple[str, ...] = reason_codes(DEFAULT_QUESTIONNAIRE)

TITLE_MAX = 150
THIRD_PARTIES_MAX = 3000  # Slack's limit for a plain_text_input, so a longer value cannot come from the modal


# ---------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegulationRule:
    """A regulation and the answers or words that bring a project under it (any one condition suffices)."""

    regulation: str
    when_sensitive: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    # Yes/no answers ("uses_ai", "changes_auth") that bring a project under the regulation on their own.
    when_flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IntakeRules:
    """The configurable lists and weights behind detection, tagging and scoring."""

    phrases: tuple[str, ...]
    tags: dict[str, tuple[str, ...]]
    vendors: tuple[str, ...]
    risk_weights: dict[str, int]
    tier_thresholds: dict[str, int]
    regulation_rules: tuple[RegulationRule, ...]
    # Other spellings of a vendor ("amazon web services" -> "AWS"), so a vendor is counted once by one name.
    vendor_aliases: dict[str, str] = field(default_factory=dict)
    # The languages announcements are written in (SECREVIEW_LANGUAGES): their dates are read, and their
    # announcement phrases are the default phrases.
    languages: tuple[str, ...] = ("en",)
    # The intake's questions; risk_weights holds the points of its reason codes.
    questionnaire: Questionnaire = DEFAULT_QUESTIONNAIRE


DEFAULT_RULES = IntakeRules(
    phrases=ANNOUNCEMENT_PHRASES["en"],
    tags={
        "ai": (
            "ai", "artificial intelligence", "machine learning", "ml model", "ml models", "llm", "llms",
            "large language model", "large language models", "genai", "gen ai", "generative ai", "chatgpt",
            "gpt", "copilot", "openai", "chatbot", "chatbots", "neural network", "computer vision", "nlp",
        ),
        "api": ("api", "apis", "rest api", "graphql", "webhook", "webhooks", "api gateway", "open banking"),
        "blockchain": (
            "blockchain", "web3", "cryptocurrency", "crypto wallet", "stablecoin", "smart contract",
            "smart contracts", "nft", "nfts", "bitcoin", "ethereum", "dlt",
        ),
        "cloud": (
            "cloud", "aws", "amazon web services", "azure", "gcp", "google cloud", "kubernetes", "k8s",
            "serverless", "s3", "ec2", "terraform", "iaas", "paas", "multi-cloud",
        ),
        "data-platform": (
            "data lake", "data warehouse", "lakehouse", "snowflake", "databricks", "bigquery", "redshift",
            "etl", "data platform", "data pipeline", "data pipelines", "power bi", "tableau", "dbt",
        ),
        "identity": (
            "sso", "single sign-on", "mfa", "2fa", "multi-factor", "okta", "entra id", "azure ad",
            "active directory", "iam", "identity provider", "idp", "saml", "oauth", "oidc", "openid connect",
            "passwordless", "privileged access", "pam", "scim",
        ),
        "iot": (
            "iot", "internet of things", "sensor", "sensors", "smart device", "smart devices",
            "connected devices", "edge devices", "firmware", "wearable", "wearables",
        ),
        "mobile": (
            "mobile", "mobile app", "mobile apps", "ios", "android", "iphone", "ipad", "app store",
            "play store", "smartphone", "smartphones", "tablet", "tablets",
        ),
        "ot": (
            "operational technology", "ot network", "ot security", "scada", "plc", "plcs", "ics",
            "industrial control", "hmi",
        ),
        "payments": (
            "payment", "payments", "checkout", "credit card", "credit cards", "card payments", "stripe",
            "adyen", "paypal", "point of sale", "pos terminal", "apple pay", "google pay", "klarna", "sepa",
            "billing",
        ),
        "saas": (
            "saas", "software as a service", "salesforce", "workday", "servicenow", "hubspot", "zendesk",
            "microsoft 365", "office 365", "m365", "google workspace", "docusign", "dropbox", "miro",
        ),
    },
    vendors=(
        "Salesforce", "Workday", "ServiceNow", "SAP", "Oracle", "Microsoft", "Microsoft 365", "OpenAI",
        "Anthropic", "Google", "Google Cloud", "Google Workspace", "AWS", "Azure", "Snowflake", "Databricks",
        "Okta", "Atlassian", "GitHub", "GitLab", "Zoom", "Stripe", "Adyen", "PayPal", "HubSpot", "Zendesk",
        "Twilio", "Datadog", "Splunk", "CrowdStrike", "Cloudflare", "Dropbox", "DocuSign", "Adobe", "Miro",
    ),
    vendor_aliases={
        "amazon web services": "AWS",
        "microsoft azure": "Azure",
        "gcp": "Google Cloud",
        "office 365": "Microsoft 365",
        "o365": "Microsoft 365",
        "m365": "Microsoft 365",
        "chatgpt": "OpenAI",
        "sfdc": "Salesforce",
    },
    risk_weights=default_points(DEFAULT_QUESTIONNAIRE),
    # With the weights above: an internal tool on our own infrastructure stays low (fast track); a SaaS
    # with personal data is high; cards or health data on the internet with an auth change are critical.
    tier_thresholds={"low": 0, "medium": 4, "high": 8, "critical": 14},
    regulation_rules=(
        # Personal, card and health data bring GDPR, PCI DSS and HIPAA through the questionnaire's choices
        # (templates/questionnaire.toml); these rules add what the announcement's words say.
        RegulationRule(
            "GDPR",
            keywords=("gdpr", "personal data", "pii", "data subject", "data subjects", "dpia"),
        ),
        RegulationRule(
            "PCI DSS",
            keywords=("pci", "pci dss", "cardholder data", "credit card", "credit cards", "card data"),
        ),
        RegulationRule(
            "HIPAA",
            keywords=(
                "hipaa", "phi", "protected health information", "patient data", "patient records",
                "medical records", "ehr", "electronic health records",
            ),
        ),
        RegulationRule(
            "SOX",
            keywords=(
                "sox", "sarbanes-oxley", "financial reporting", "general ledger", "financial close",
                "revenue recognition", "icfr",
            ),
        ),
        RegulationRule(
            "NIS2",
            # Not bare "energy": "energy drinks" and "energy efficiency" are not critical infrastructure.
            keywords=(
                "nis2", "nis 2", "critical infrastructure", "operational technology", "ot network", "scada",
                "industrial control", "energy sector", "energy supply", "power grid", "smart grid",
                "water supply", "essential entity",
            ),
        ),
        RegulationRule(
            "DORA",
            # Not bare "bank" ("bank holiday") nor "dora" (a first name).
            keywords=(
                "digital operational resilience", "banking", "core banking", "trading platform",
                "trading system", "payment service", "payment services", "ict third party", "ict risk",
                "credit institution", "investment firm",
            ),
        ),
        RegulationRule(
            "EU AI Act",
            # Every AI system has at least the Act's literacy and transparency duties (the questionnaire's
            # uses_ai brings it); the keywords name the high-risk uses that matter even when the owner has not
            # answered the questionnaire yet.
            keywords=(
                "ai act", "facial recognition", "biometric identification", "emotion recognition",
                "credit scoring", "cv screening",
            ),
        ),
    ),
)


def default_phrases(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The announcement phrases of the languages, in order, each once."""
    return tuple(dict.fromkeys(p for language in check_languages(languages) for p in ANNOUNCEMENT_PHRASES[language]))


@lru_cache(maxsize=16)
def rules_for_languages(languages: tuple[str, ...]) -> IntakeRules:
    """DEFAULT_RULES for announcements in these languages (DEFAULT_RULES itself for English alone)."""
    languages = check_languages(languages)
    if languages == DEFAULT_RULES.languages:
        return DEFAULT_RULES
    return replace(DEFAULT_RULES, phrases=default_phrases(languages), languages=languages)
