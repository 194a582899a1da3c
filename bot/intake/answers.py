"""The intake's answers: parse_answer()/parse_questionnaire_answers() validate raw form or JSON values against
a questionnaire, keyed by question id; IntakeAnswers and parse_answers() are the shipped questionnaire's answers
as one typed value (what the demo data and older callers use).

Answers as stored: text → str, date → "YYYY-MM-DD", user → user id, single choice → its value, multiple choice →
the sorted list of values ("none of these" is the empty list), yes/no → bool; an unanswered optional question is
None ("" for text, [] for a multiple choice).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.common.render import raw_message
from bot.intake.questionnaire import Question, Questionnaire
from bot.intake.rules import DEFAULT_QUESTIONNAIRE

_TRUE = frozenset({"yes", "true", "y", "1", "on"})
_FALSE = frozenset({"no", "false", "n", "0", "off"})
_USER_PREFIXES = ("U", "W")


@dataclass(frozen=True)
class IntakeAnswers:
    """The shipped questionnaire's answers that decide risk and regulations."""

    data_classification: str
    sensitive_data: frozenset[str]
    exposure: str
    hosting: str
    third_parties: str
    uses_ai: bool
    changes_auth: bool

    def as_answers(self) -> dict[str, Any]:
        """The answers keyed by question id, as a review stores them."""
        return {
            "data_classification": self.data_classification,
            "sensitive_data": sorted(self.sensitive_data),
            "exposure": self.exposure,
            "hosting": self.hosting,
            "third_parties": self.third_parties,
            "uses_ai": self.uses_ai,
            "changes_auth": self.changes_auth,
        }


def _show(value: object) -> str:
    """A value for an error message, short enough for one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _wrong(key: str, question: Question, /, **params: object) -> ValueError:
    """An answer that does not fit: templates/messages.toml [answer.invalid] `key`, naming the question first."""
    return ValueError(raw_message(f"answer.invalid.{key}", question=question.id, **params))


def _choice_value(value: object) -> object:
    """Tolerates "Internet", " on-prem " and friends from JSON or a hand-written form."""
    if isinstance(value, str):
        return value.strip().lower().replace("-", "_").replace(" ", "_")
    return value


def _single(question: Question, value: object) -> str | None:
    choices = question.values
    if value is None or (value == "" and not question.required):
        if question.required:
            raise _wrong("required_one_of", question, choices=", ".join(choices))
        return None
    normal = _choice_value(value)
    if normal not in choices:
        raise _wrong("one_of", question, choices=", ".join(choices), value=_show(value))
    return str(normal)


def _multiple(question: Question, value: object) -> list[str]:
    if value is None:
        items: list[object] = []
    elif isinstance(value, str):
        items = [v for v in value.split(",") if v.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise _wrong("list", question, value=_show(value))
    chosen: set[str] = set()
    for item in items:
        normal = _choice_value(item)
        if normal not in question.values:
            raise _wrong("values_from", question, choices=", ".join(question.values), value=_show(item))
        chosen.add(str(normal))
    exclusive = {c.value for c in question.choices if c.exclusive}
    if chosen & exclusive and len(chosen) > 1:
        raise _wrong("exclusive", question, value=repr(sorted(chosen & exclusive)[0]))
    if question.required and not chosen:
        raise _wrong("required_some_of", question, choices=", ".join(question.values))
    return sorted(chosen - exclusive)


def _flag(question: Question, value: object) -> bool | None:
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
    if value is None or value == "":
        if question.required:
            raise _wrong("required_yes_no", question)
        return None
    raise _wrong("yes_no", question, value=_show(value))


def _text(question: Question, value: object) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _wrong("text", question, value=_show(value))
    value = value.strip()
    if len(value) > question.max_length:
        raise _wrong("too_long", question, limit=question.max_length, length=len(value))
    if question.required and not value:
        raise _wrong("required", question)
    return value


def _date(question: Question, value: object) -> str | None:
    if isinstance(value, date):
        return value.isoformat()
    if value is None or value == "":
        if question.required:
            raise _wrong("required_date", question)
        return None
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise _wrong("date", question, value=_show(value)) from None


def _user(question: Question, value: object) -> str | None:
    if value is None or value == "":
        if question.required:
            raise _wrong("required_user", question)
        return None
    text = str(value).strip()
    if not isinstance(value, str) or not text.startswith(_USER_PREFIXES) or not text[1:].isalnum() or len(text) > 32:
        raise _wrong("user", question, value=_show(value))
    return text


_PARSERS: dict[str, Any] = {"text": _text, "date": _date, "user": _user, "single_choice": _single,
                            "multiple_choice": _multiple, "yes_no": _flag}


def parse_answer(question: Question, value: object) -> Any:
    """One answer, validated and normalised; a ValueError starts with the question's id."""
    return _PARSERS[question.type](question, value)


def parse_questionnaire_answers(questionnaire: Questionnaire, raw: Mapping[str, object]) -> dict[str, Any]:
    """The answers kept with a review (every question but title, owner, ...), validated; keys of other fields
    are ignored."""
    return {q.id: parse_answer(q, raw.get(q.id)) for q in questionnaire.scored}


def parse_answers(raw: Mapping[str, object]) -> IntakeAnswers:
    """The shipped questionnaire's answers from raw form or JSON values; a ValueError names the field."""
    answers = parse_questionnaire_answers(DEFAULT_QUESTIONNAIRE, raw)
    return IntakeAnswers(
        data_classification=answers["data_classification"],
        sensitive_data=frozenset(answers["sensitive_data"]),
        exposure=answers["exposure"],
        hosting=answers["hosting"],
        third_parties=answers["third_parties"],
        uses_ai=answers["uses_ai"],
        changes_auth=answers["changes_auth"],
    )
