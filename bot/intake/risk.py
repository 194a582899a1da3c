"""Risk and regulations from the answers: score_risk() with the reasons for its score, derive_regulations()."""

from dataclasses import dataclass

from bot.intake.answers import IntakeAnswers
from bot.intake.detect import _detector_for
from bot.intake.rules import ANSWER_FLAGS, DEFAULT_RULES, REASON_CODES, SENSITIVE_KINDS, TIERS, IntakeRules


@dataclass(frozen=True)
class RiskReason:
    """One answer's contribution to the score, shown on the card as "+3 personal data"."""

    code: str
    points: int


@dataclass(frozen=True)
class RiskAssessment:
    """A score, its tier and the reasons that add up to it."""

    score: int
    tier: str
    reasons: tuple[RiskReason, ...]


# On equal points, reasons keep the order of REASON_CODES (classification, data, exposure, ...).
_REASON_ORDER = {code: i for i, code in enumerate(REASON_CODES)}
# An owner who writes "none" or "n/a" has not named a third party.
_NO_THIRD_PARTY = frozenset(
    {"", "none", "no", "n/a", "na", "nil", "nobody", "no one", "-", "no third parties", "not applicable"}
)


def _has_third_parties(text: str) -> bool:
    """Whether the third-parties answer names anyone."""
    return " ".join(text.lower().strip(" .!").split()) not in _NO_THIRD_PARTY


def score_risk(answers: IntakeAnswers, rules: IntakeRules = DEFAULT_RULES) -> RiskAssessment:
    """Adds up the points of each answer; the reasons say why, highest points first."""
    codes = [f"classification_{answers.data_classification}"]
    codes += [f"sensitive_{kind}" for kind in SENSITIVE_KINDS if kind in answers.sensitive_data]
    codes += [f"exposure_{answers.exposure}", f"hosting_{answers.hosting}"]
    codes += [flag for flag in ANSWER_FLAGS if getattr(answers, flag)]
    if _has_third_parties(answers.third_parties):
        codes.append("third_parties")
    reasons = [RiskReason(code, rules.risk_weights.get(code, 0)) for code in codes]
    reasons = [r for r in reasons if r.points > 0]
    reasons.sort(key=lambda r: (-r.points, _REASON_ORDER.get(r.code, len(_REASON_ORDER))))
    score = sum(r.points for r in reasons)
    tier = TIERS[0]
    for name in TIERS:
        if score >= rules.tier_thresholds.get(name, 0):
            tier = name
    return RiskAssessment(score=score, tier=tier, reasons=tuple(reasons))


def derive_regulations(
    answers: IntakeAnswers, *, text: str = "", rules: IntakeRules = DEFAULT_RULES
) -> tuple[str, ...]:
    """Regulations the project touches, from its answers and from keywords in its text; sorted."""
    flags = {flag for flag in ANSWER_FLAGS if getattr(answers, flag)}
    found = {
        rule.regulation
        for rule in rules.regulation_rules
        if rule.when_sensitive & answers.sensitive_data or rule.when_flags & flags
    }
    found.update(_detector_for(rules).regulation_hints(f"{text}\n{answers.third_parties}"))
    return tuple(sorted(found))
