"""The intake questionnaire's answers: IntakeAnswers, and parse_answers() to validate raw form or JSON values."""

from collections.abc import Mapping
from dataclasses import dataclass

from bot.intake.rules import ANSWER_CHOICES, THIRD_PARTIES_MAX


@dataclass(frozen=True)
class IntakeAnswers:
    """The intake questionnaire's answers that decide risk and regulations."""

    data_classification: str
    sensitive_data: frozenset[str]
    exposure: str
    hosting: str
    third_parties: str
    uses_ai: bool
    changes_auth: bool


def _show(value: object) -> str:
    """A value for an error message, short enough for one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _choice_value(value: object) -> object:
    """Tolerates "Internet", " on-prem " and friends from JSON or a hand-written form."""
    if isinstance(value, str):
        return value.strip().lower().replace("-", "_").replace(" ", "_")
    return value


def _parse_choice(raw: Mapping[str, object], name: str) -> str:
    """One of ANSWER_CHOICES[name]."""
    choices = ANSWER_CHOICES[name]
    if raw.get(name) is None:
        raise ValueError(f"{name}: required, one of {', '.join(choices)}")
    value = _choice_value(raw[name])
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}; got {_show(raw[name])}")
    return str(value)


def _parse_sensitive(raw: Mapping[str, object]) -> frozenset[str]:
    """The kinds of sensitive data, from a list or a comma-separated string; "none" is the empty set."""
    value = raw.get("sensitive_data")
    if value is None:
        return frozenset()
    if isinstance(value, str):
        items: list[object] = [v for v in value.split(",") if v.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise ValueError(f"sensitive_data: expected a list of values, got {_show(value)}")
    choices = ANSWER_CHOICES["sensitive_data"]
    kinds: set[str] = set()
    for item in items:
        normal = _choice_value(item)
        if normal not in choices:
            raise ValueError(f"sensitive_data: expected values from {', '.join(choices)}; got {_show(item)}")
        kinds.add(str(normal))
    if "none" in kinds and len(kinds) > 1:
        raise ValueError("sensitive_data: 'none' cannot be combined with other kinds of data")
    return frozenset(kinds - {"none"})


_TRUE = frozenset({"yes", "true", "y", "1", "on"})
_FALSE = frozenset({"no", "false", "n", "0", "off"})


def _parse_flag(raw: Mapping[str, object], name: str) -> bool:
    """A yes/no answer, from a bool, 0/1 or a word."""
    value = raw.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    if value is None:
        raise ValueError(f"{name}: required, yes or no")
    raise ValueError(f"{name}: expected yes or no, got {_show(value)}")


def parse_answers(raw: Mapping[str, object]) -> IntakeAnswers:
    """Validates raw form or JSON values; a ValueError names the field; keys of other fields are ignored."""
    third = raw.get("third_parties")
    if third is None:
        third = ""
    if not isinstance(third, str):
        raise ValueError(f"third_parties: expected text, got {_show(third)}")
    third = third.strip()
    if len(third) > THIRD_PARTIES_MAX:
        raise ValueError(f"third_parties: at most {THIRD_PARTIES_MAX} characters, got {len(third)}")
    return IntakeAnswers(
        data_classification=_parse_choice(raw, "data_classification"),
        sensitive_data=_parse_sensitive(raw),
        exposure=_parse_choice(raw, "exposure"),
        hosting=_parse_choice(raw, "hosting"),
        third_parties=third,
        uses_ai=_parse_flag(raw, "uses_ai"),
        changes_auth=_parse_flag(raw, "changes_auth"),
    )
