"""The intake's vocabulary and rules: answer choices, tiers, reason codes, limits, RegulationRule,
IntakeRules and DEFAULT_RULES (the lists and weights used when the configuration says nothing).
"""

from dataclasses import dataclass, field, replace
from functools import lru_cache

from bot.intake.languages import ANNOUNCEMENT_PHRASES, check_languages

# ---------------------------------------------------------------------------------------------------------
# Answer vocabulary and reason codes
# ---------------------------------------------------------------------------------------------------------

SENSITIVE_KINDS: tuple[str, ...] = ("personal", "payment_card", "health", "credentials")
ANSWER_FLAGS: tuple[str, ...] = ("uses_ai", "changes_auth")
TIERS: tuple[str, ...] = ("low", "medium", "high", "critical")

ANSWER_CHOICES: dict[str, tuple[str, ...]] = {
    "data_classification": ("public", "internal", "confidential", "restricted"),
    # "none" is an option in the modal so that an owner states it explicitly; it parses to an empty set.
    "sensitive_data": (*SENSITIVE_KINDS, "none"),
    "exposure": ("internal", "partners", "internet"),
    "hosting": ("on_prem", "own_cloud", "saas"),
    "uses_ai": ("yes", "no"),
    "changes_auth": ("yes", "no"),
}

# Every reason code score_risk() can emit; templates/risk_reasons.toml has one label per code.
# Codes with 0 default points exist so that a deployment can weight them without a code change.
REASON_CODES: tuple[str, ...] = (
    "classification_public",
    "classification_internal",
    "classification_confidential",
    "classification_restricted",
    "sensitive_personal",
    "sensitive_payment_card",
    "sensitive_health",
    "sensitive_credentials",
    "exposure_internal",
    "exposure_partners",
    "exposure_internet",
    "hosting_on_prem",
    "hosting_own_cloud",
    "hosting_saas",
    "uses_ai",
    "changes_auth",
    "third_parties",
)

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
    risk_weights={
        "classification_public": 0,
        "classification_internal": 0,
        "classification_confidential": 2,
        "classification_restricted": 4,
        "sensitive_personal": 3,
        "sensitive_payment_card": 4,
        "sensitive_health": 4,
        "sensitive_credentials": 3,
        "exposure_internal": 0,
        "exposure_partners": 1,
        "exposure_internet": 2,
        "hosting_on_prem": 0,
        "hosting_own_cloud": 1,
        "hosting_saas": 2,
        "uses_ai": 2,
        "changes_auth": 3,
        "third_parties": 1,
    },
    # With the weights above: an internal tool on our own infrastructure stays low (fast track); a SaaS
    # with personal data is high; cards or health data on the internet with an auth change are critical.
    tier_thresholds={"low": 0, "medium": 4, "high": 8, "critical": 14},
    regulation_rules=(
        RegulationRule(
            "GDPR",
            when_sensitive=frozenset({"personal"}),
            keywords=("gdpr", "personal data", "pii", "data subject", "data subjects", "dpia"),
        ),
        RegulationRule(
            "PCI DSS",
            when_sensitive=frozenset({"payment_card"}),
            keywords=("pci", "pci dss", "cardholder data", "credit card", "credit cards", "card data"),
        ),
        RegulationRule(
            "HIPAA",
            when_sensitive=frozenset({"health"}),
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
            # Every AI system has at least the Act's literacy and transparency duties; the keywords name
            # the high-risk uses that matter even when the owner has not answered the questionnaire yet.
            when_flags=frozenset({"uses_ai"}),
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
