"""Intake: reading an announcement and scoring the answers (pure functions, no database, no Slack).

The room reads an announcement (is it one, and its title, go-live date, technology tags, vendors and regulation
hints), reads the intake questionnaire (configuration: templates/questionnaire.toml, replaced or extended by
SECREVIEW_CONFIG), scores the intake's answers (risk with its reasons, the regulations they bring) and builds the
rules behind all of it from the configuration.

May import: the standard library and its own modules, directly (from bot.intake.text import ..., never through
this package) and without cycles; nothing else of bot/, nor storage, nor Slack.

The public API is re-exported here, so `from bot import intake; intake.Detector` and `from bot.intake import
Detector` work; private names (_words and friends) are imported from their own module.

Modules, each importing only those above it:
- languages: each language's announcement phrases, go-live and meeting words, and its date words as the grammar's.
- questionnaire: Question, Choice, Questionnaire, their validation (every mistake, one line each), the shipped one.
- rules: answer choices, tiers, reason codes, limits; RegulationRule, IntakeRules, DEFAULT_RULES,
  rules_for_languages().
- text: Slack markup cleaned away, a message cut into words, the phrase matcher.
- date_words: the vocabulary of the date grammar.
- date_math: calendar arithmetic (months, business days, the days a period stands for).
- date_grammar: every date a message names.
- dates: DateReader and extract_go_live(), the go-live among those dates (the decisions behind dates are there).
- titles: make_title().
- detect: Detector and Prefill (announcements, tags, vendors, regulation hints).
- answers: parse_answer(), parse_questionnaire_answers(); IntakeAnswers and parse_answers() (the shipped questions).
- risk: RiskReason, RiskAssessment, score_risk(), derive_regulations(), scanned_text().
- rules_config: rules_from_config() and its validators.
"""

from bot.intake.answers import IntakeAnswers, parse_answer, parse_answers, parse_questionnaire_answers
from bot.intake.dates import DateReader, extract_go_live
from bot.intake.detect import Detector, Prefill
from bot.intake.languages import LANGUAGES, check_languages
from bot.intake.questionnaire import (
    CORE_TYPES,
    Choice,
    Question,
    Questionnaire,
    QuestionnaireError,
    questionnaire_from_config,
    questionnaire_from_dict,
)
from bot.intake.risk import RiskAssessment, RiskReason, derive_regulations, says_something, scanned_text, score_risk
from bot.intake.rules import (
    ANSWER_CHOICES,
    ANSWER_FLAGS,
    DEFAULT_QUESTIONNAIRE,
    DEFAULT_RULES,
    REASON_CODES,
    SENSITIVE_KINDS,
    THIRD_PARTIES_MAX,
    TIERS,
    TITLE_MAX,
    IntakeRules,
    RegulationRule,
    rules_for_languages,
)
from bot.intake.rules_config import rules_from_config
from bot.intake.titles import make_title

__all__ = [
    "ANSWER_CHOICES",
    "ANSWER_FLAGS",
    "CORE_TYPES",
    "DEFAULT_QUESTIONNAIRE",
    "DEFAULT_RULES",
    "LANGUAGES",
    "REASON_CODES",
    "SENSITIVE_KINDS",
    "THIRD_PARTIES_MAX",
    "TIERS",
    "TITLE_MAX",
    "Choice",
    "DateReader",
    "Detector",
    "IntakeAnswers",
    "IntakeRules",
    "Prefill",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "RegulationRule",
    "RiskAssessment",
    "RiskReason",
    "check_languages",
    "derive_regulations",
    "extract_go_live",
    "make_title",
    "parse_answer",
    "parse_answers",
    "parse_questionnaire_answers",
    "questionnaire_from_config",
    "questionnaire_from_dict",
    "rules_for_languages",
    "rules_from_config",
    "says_something",
    "scanned_text",
    "score_risk",
]
