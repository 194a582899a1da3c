"""Risk and regulations from the answers: score_risk() with the reasons for its score, derive_regulations().

Both follow the questionnaire in the rules (IntakeRules.questionnaire): every chosen choice brings its points
and regulations, a yes/no answer its own when it is the scoring answer, a text answer its own when it names
something (not "none" or "n/a"). [risk.weights] in the configuration overrides the points of a reason code.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.intake.answers import IntakeAnswers
from bot.intake.detect import _detector_for
from bot.intake.questionnaire import Question, Questionnaire
from bot.intake.rules import DEFAULT_RULES, TIERS, IntakeRules, reason_codes


@dataclass(frozen=True)
class RiskReason:
    """One answer's contribution to the score, shown on the card as "+3 personal data"."""

    code: str
    points: int
    # The card's words for it, as the questionnaire said when the review was scored.
    label: str = field(default="", compare=False)


@dataclass(frozen=True)
class RiskAssessment:
    """A score, its tier and the reasons that add up to it."""

    score: int
    tier: str
    reasons: tuple[RiskReason, ...]


# An owner who writes "none" or "n/a" has not named a third party.
_NOTHING = frozenset(
    {"", "none", "no", "n/a", "na", "nil", "nobody", "no one", "-", "no third parties", "not applicable"}
)
Answers = IntakeAnswers | Mapping[str, Any]


def says_something(text: str) -> bool:
    """Whether a text answer names anything (rather than "none", "n/a", ...)."""
    return " ".join(text.lower().strip(" .!").split()) not in _NOTHING


def _as_mapping(answers: Answers) -> Mapping[str, Any]:
    return answers.as_answers() if isinstance(answers, IntakeAnswers) else answers


def _chosen(question: Question, value: object) -> list[tuple[str, int, str, tuple[str, ...]]]:
    """(code, points, words, regulations) of what this answer brings."""
    if question.type in ("single_choice", "multiple_choice"):
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        picked = [c for c in question.choices if c.value in {str(v) for v in values if v is not None}]
        return [(c.code, c.points, c.reason, c.regulations) for c in picked if not c.exclusive]
    if question.type == "yes_no":
        fires = value is True if question.risk_when == "yes" else value is False
        return [(question.code, question.points, question.reason, question.regulations)] if fires else []
    text_scores = question.type == "text" and (question.code or question.regulations)
    if text_scores and isinstance(value, str) and says_something(value):
        return [(question.code, question.points, question.reason, question.regulations)]
    return []


def _contributions(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> list[tuple[str, int, str,
                                                                                           tuple[str, ...]]]:
    found = []
    for question in questionnaire.scored:
        found += _chosen(question, answers.get(question.id))
    return found


def score_risk(answers: Answers, rules: IntakeRules = DEFAULT_RULES) -> RiskAssessment:
    """Adds up the points of each answer; the reasons say why, highest points first."""
    questionnaire = rules.questionnaire
    order = {code: i for i, code in enumerate(reason_codes(questionnaire))}
    reasons = [
        RiskReason(code, rules.risk_weights.get(code, points), label)
        for code, points, label, _ in _contributions(questionnaire, _as_mapping(answers))
        if code
    ]
    reasons = [r for r in reasons if r.points > 0]
    # On equal points, reasons keep the questionnaire's order (choices, then yes/no, then text answers).
    reasons.sort(key=lambda r: (-r.points, order.get(r.code, len(order))))
    score = sum(r.points for r in reasons)
    tier = TIERS[0]
    for name in TIERS:
        if score >= rules.tier_thresholds.get(name, 0):
            tier = name
    return RiskAssessment(score=score, tier=tier, reasons=tuple(reasons))


def scanned_text(answers: Answers, rules: IntakeRules = DEFAULT_RULES) -> str:
    """The text answers the questionnaire asks to read for regulation keywords (third parties, ...)."""
    mapping = _as_mapping(answers)
    return "\n".join(str(mapping.get(q.id) or "") for q in rules.questionnaire.scored
                     if q.type == "text" and q.scan_for_regulations)


def derive_regulations(
    answers: Answers, *, text: str = "", rules: IntakeRules = DEFAULT_RULES
) -> tuple[str, ...]:
    """Regulations the project touches, from its answers and from keywords in its text; sorted."""
    mapping = _as_mapping(answers)
    found = {name for *_, regulations in _contributions(rules.questionnaire, mapping) for name in regulations}
    sensitive = mapping.get("sensitive_data")
    kinds = {str(v) for v in sensitive} if isinstance(sensitive, list | tuple | set | frozenset) else set()
    flags = {q.id for q in rules.questionnaire.scored if q.type == "yes_no" and mapping.get(q.id) is True}
    found.update(
        rule.regulation
        for rule in rules.regulation_rules
        if rule.when_sensitive & kinds or rule.when_flags & flags
    )
    found.update(_detector_for(rules).regulation_hints(f"{text}\n{scanned_text(mapping, rules)}"))
    return tuple(sorted(found))
