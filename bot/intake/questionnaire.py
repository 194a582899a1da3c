"""The intake questionnaire as configuration: Question, Choice, Questionnaire, and their validation.

A questionnaire is read from a TOML `[questionnaire]` table (templates/questionnaire.toml ships the default;
SECREVIEW_CONFIG may replace or extend it). Every mistake in it is reported, one line each, naming the question
and what is wrong, so a broken file is refused at start-up, never at the first intake. `digest` identifies what
a review was answered with: the same questions give the same digest, whatever the file's layout.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from bot.common.render import raw_message

QUESTION_TYPES = ("text", "date", "user", "single_choice", "multiple_choice", "yes_no")
# Answers that fill the review itself (its title, owner, ...), with the type each must have.
CORE_TYPES: dict[str, str] = {"title": "text", "summary": "text", "owner": "user", "go_live": "date", "links": "text"}
REQUIRED_CORE = ("title", "owner")
CHOICE_TYPES = ("single_choice", "multiple_choice")
# Block Kit: radio buttons and checkboxes take 10 options, selects 100.
MAX_INLINE_OPTIONS = 10
MAX_OPTIONS = 100
MAX_QUESTIONS = 200
MAX_POINTS = 1000
TEXT_MAX = 3000
LABEL_MAX = 2000
OPTION_LABEL_MAX = 75
PLACEHOLDER_MAX = 150
REASON_MAX = 100
REGULATION_MAX = 50
VERSION_MAX = 100

_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
_VALUE_RE = re.compile(r"[a-z0-9][a-z0-9_]{0,74}\Z")
_CODE_RE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}\Z")

_COMMON_KEYS = ("id", "type", "label", "required", "help", "placeholder")
_SCORED_KEYS = ("code", "points", "reason", "regulations")
_KEYS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "text": (*_COMMON_KEYS, *_SCORED_KEYS, "multiline", "max_length", "scan_for_regulations", "prefill"),
    "date": _COMMON_KEYS,
    "user": _COMMON_KEYS,
    "single_choice": (*_COMMON_KEYS, "choices", "style"),
    "multiple_choice": (*_COMMON_KEYS, "choices"),
    "yes_no": (*_COMMON_KEYS, *_SCORED_KEYS, "risk_when"),
}
_CHOICE_KEYS = ("value", "label", "code", "points", "reason", "regulations", "exclusive")
_CONFIG_KEYS = ("version", "replace", "remove", "questions")
PREFILLS = ("vendors",)


@dataclass(frozen=True)
class Choice:
    """One answer a choice question offers, with the points and regulations it brings."""

    value: str
    label: str
    points: int = 0
    code: str = ""
    reason: str = ""
    regulations: tuple[str, ...] = ()
    # "None of these": stored as no choice at all, and never together with another choice.
    exclusive: bool = False


@dataclass(frozen=True)
class Question:
    """One question of the intake; `points`/`code`/`reason`/`regulations` score a text or yes/no answer."""

    id: str
    type: str
    label: str
    required: bool = False
    help: str = ""
    placeholder: str = ""
    choices: tuple[Choice, ...] = ()
    style: str = "select"  # single_choice: "select" or "radio"
    multiline: bool = False
    max_length: int = TEXT_MAX
    code: str = ""
    points: int = 0
    reason: str = ""
    regulations: tuple[str, ...] = ()
    risk_when: str = "yes"  # yes_no: the answer that scores
    scan_for_regulations: bool = False  # text: read for regulation keywords
    prefill: str = ""  # text: "vendors" pre-fills the vendors found in the announcement

    @property
    def is_core(self) -> bool:
        """Whether the answer fills a field of the review itself (title, owner, ...) rather than its answers."""
        return self.id in CORE_TYPES

    @property
    def values(self) -> tuple[str, ...]:
        """The option values the modal offers (yes/no: "yes", "no")."""
        if self.type == "yes_no":
            return ("yes", "no")
        return tuple(c.value for c in self.choices)

    def choice(self, value: str) -> Choice | None:
        """The choice with this value, if any."""
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Questionnaire:
    """The questions in the order asked; `version` is the file's own label, `digest` the content's identity."""

    questions: tuple[Question, ...]
    version: str = ""
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", _digest(self))

    def get(self, question_id: str) -> Question | None:
        """The question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def scored(self) -> tuple[Question, ...]:
        """The questions whose answers are kept with the review (all but title, owner, ...)."""
        return tuple(q for q in self.questions if not q.is_core)

    @property
    def label(self) -> str:
        """How the version is shown: the file's label with the digest, or the digest alone."""
        return f"{self.version} ({self.digest[:8]})" if self.version else self.digest[:8]

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain data (JSON), as stored once per version."""
        return {"version": self.version, "questions": [_question_dict(q) for q in self.questions]}


class QuestionnaireError(ValueError):
    """A questionnaire with mistakes; `lines` has one line per mistake."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _question_dict(question: Question) -> dict[str, Any]:
    data = asdict(question)
    data["choices"] = [asdict(c) for c in question.choices]
    return data


def _digest(questionnaire: Questionnaire) -> str:
    canonical = json.dumps(questionnaire.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mistake(where: str, key: str, what: str, /, **params: Any) -> str:
    """One line of a QuestionnaireError, `where: key: what is wrong`, in templates/messages_cli.toml
    [config.questionnaire] words (`what` is the entry; values arrive quoted)."""
    text = raw_message(f"config.questionnaire.{what}", **params)
    return f"{where}: {key}: {text}" if key else f"{where}: {text}"


# ---------------------------------------------------------------------------------------------------------
# Reading one question
# ---------------------------------------------------------------------------------------------------------


class _Reader:
    """Reads one table's values, noting a mistake (and a safe default) instead of stopping at the first."""

    def __init__(self, table: Mapping[str, Any], where: str, errors: list[str]) -> None:
        self.table = table
        self.where = where
        self.errors = errors

    def fail(self, key: str, what: str, /, **params: Any) -> None:
        self.errors.append(_mistake(self.where, key, what, **params))

    def text(self, key: str, limit: int, *, required: bool = False, default: str = "") -> str:
        value = self.table.get(key)
        if value is None:
            if required:
                self.fail(key, "required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(key, "text", value=_show(value))
            return default
        value = value.strip()
        if len(value) > limit:
            self.fail(key, "too_long", limit=limit, length=len(value))
            return value[:limit]
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, "flag", value=_show(value))
            return default
        return value

    def number(self, key: str, low: int, high: int, default: int) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, "integer", low=low, high=high, value=_show(value))
            return default
        return value

    def one_of(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        if key not in self.table:
            return default
        value = self.table[key]
        if value not in allowed:
            self.fail(key, "one_of", allowed=", ".join(allowed), value=_show(value))
            return default
        return str(value)

    def pattern(self, key: str, regex: re.Pattern[str], what: str, default: str = "") -> str:
        # `what` names the catalogue's words for a valid value ([config.questionnaire] value_pattern, ...).
        value = self.table.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not regex.match(value):
            self.fail(key, "pattern", what=raw_message(f"config.questionnaire.{what}"), value=_show(value))
            return default
        return value

    def regulations(self, key: str = "regulations") -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list):
            self.fail(key, "regulations", value=_show(value))
            return ()
        names: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip() or len(item.strip()) > REGULATION_MAX:
                self.fail(f"{key}[{i}]", "regulation", limit=REGULATION_MAX, value=_show(item))
            else:
                names.append(item.strip())
        return tuple(dict.fromkeys(names))

    def unknown_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                self.fail(str(key), "unknown_setting", allowed=", ".join(allowed))


def _choice(raw: object, where: str, qtype: str, errors: list[str]) -> Choice | None:
    if not isinstance(raw, Mapping):
        errors.append(_mistake(where, "", "choice_not_table", value=_show(raw)))
        return None
    r = _Reader(raw, where, errors)
    r.unknown_keys(_CHOICE_KEYS)
    value = r.pattern("value", _VALUE_RE, "value_pattern")
    if "value" not in raw:
        r.fail("value", "required")
    exclusive = r.flag("exclusive")
    if exclusive and qtype != "multiple_choice":
        r.fail("exclusive", "exclusive_not_multiple")
    choice = Choice(
        value=value, label=r.text("label", OPTION_LABEL_MAX, required=True),
        points=r.number("points", 0, MAX_POINTS, 0), code=r.pattern("code", _CODE_RE, "choice_code_pattern"),
        reason=r.text("reason", REASON_MAX), regulations=r.regulations(), exclusive=exclusive,
    )
    if exclusive and (choice.points or choice.regulations):
        r.fail("exclusive", "exclusive_scores")
    return choice if value else None


def _choices(raw: Mapping[str, Any], qtype: str, style: str, where: str, errors: list[str]) -> tuple[Choice, ...]:
    items = raw.get("choices")
    if not isinstance(items, list) or not items:
        errors.append(_mistake(where, "choices", "choices_not_list", value=_show(items)))
        return ()
    limit = MAX_INLINE_OPTIONS if qtype == "single_choice" and style == "radio" else MAX_OPTIONS
    if len(items) > limit:
        errors.append(_mistake(where, "choices", "too_many_radio" if limit < MAX_OPTIONS else "too_many_choices",
                               limit=limit, count=len(items)))
    choices = [c for i, item in enumerate(items) if (c := _choice(item, f"{where}: choices[{i}]", qtype, errors))]
    seen: set[str] = set()
    for choice in choices:
        if choice.value in seen:
            errors.append(_mistake(where, "choices", "value_twice", value=repr(choice.value)))
        seen.add(choice.value)
    if sum(c.exclusive for c in choices) > 1:
        errors.append(_mistake(where, "choices", "exclusive_twice"))
    return tuple(choices)


def _question(raw: object, index: int, errors: list[str], where: str) -> Question | None:
    label = f"{where}questions[{index}]"
    if not isinstance(raw, Mapping):
        errors.append(_mistake(label, "", "question_not_table", value=_show(raw)))
        return None
    qid = raw.get("id")
    shown = f"{label} ({qid})" if isinstance(qid, str) else label
    r = _Reader(raw, shown, errors)
    if not isinstance(qid, str) or not _ID_RE.match(qid):
        r.fail("id", "id", value=_show(qid))
        return None
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        r.fail("type", "one_of", allowed=", ".join(QUESTION_TYPES), value=_show(qtype))
        return None
    r.unknown_keys(_KEYS_BY_TYPE[qtype])
    if qid in CORE_TYPES and qtype != CORE_TYPES[qid]:
        r.fail("type", "core_type", question=repr(qid), field=qid, type=CORE_TYPES[qid])
    style = r.one_of("style", ("select", "radio"), "select") if qtype == "single_choice" else "select"
    limit = TEXT_MAX
    if qtype == "text":
        limit = r.number("max_length", 1, TEXT_MAX, TEXT_MAX)
    question = Question(
        id=qid, type=qtype, label=r.text("label", LABEL_MAX, required=True), required=r.flag("required"),
        help=r.text("help", LABEL_MAX), placeholder=r.text("placeholder", PLACEHOLDER_MAX),
        choices=_choices(raw, qtype, style, shown, errors) if qtype in CHOICE_TYPES else (),
        style=style, multiline=r.flag("multiline"), max_length=limit,
        code=r.pattern("code", _CODE_RE, "code_pattern"),
        points=r.number("points", 0, MAX_POINTS, 0), reason=r.text("reason", REASON_MAX),
        regulations=r.regulations() if qtype in ("text", "yes_no") else (),
        risk_when=r.one_of("risk_when", ("yes", "no"), "yes") if qtype == "yes_no" else "yes",
        scan_for_regulations=r.flag("scan_for_regulations"),
        prefill=r.one_of("prefill", PREFILLS, "") if qtype == "text" else "",
    )
    if qtype in ("text", "yes_no") and question.points and not question.code:
        r.fail("code", "points_need_code")
    if question.is_core and (question.points or question.regulations or question.scan_for_regulations):
        r.fail("points", "core_scores", question=repr(qid), field=qid)
    if qid in REQUIRED_CORE and not question.required:
        r.fail("required", "core_required", question=repr(qid))
    return question


def _check_whole(questions: list[Question], where: str, errors: list[str]) -> None:
    ids: set[str] = set()
    codes: dict[str, str] = {}
    for q in questions:
        if q.id in ids:
            errors.append(_mistake(f"{where}questions ({q.id})", "id", "id_twice", question=repr(q.id)))
        ids.add(q.id)
        for code in [c.code or f"{q.id}_{c.value}" for c in q.choices if not c.exclusive] + [q.code] * bool(q.code):
            if code in codes and codes[code] != q.id:
                errors.append(_mistake(f"{where}questions ({q.id})", "code", "code_twice", code=repr(code),
                                       question=repr(codes[code])))
            codes.setdefault(code, q.id)
    for core in REQUIRED_CORE:
        if core not in ids:
            errors.append(_mistake(f"{where}questions", "", "core_missing", question=repr(core), type=CORE_TYPES[core]))
    if len(questions) > MAX_QUESTIONS:
        errors.append(_mistake(f"{where}questions", "", "too_many_questions", limit=MAX_QUESTIONS,
                               count=len(questions)))


# ---------------------------------------------------------------------------------------------------------
# Reading a questionnaire
# ---------------------------------------------------------------------------------------------------------


def questionnaire_from_config(data: object, *, base: Questionnaire | None = None,
                              where: str = "questionnaire.") -> Questionnaire:
    """The [questionnaire] table: `replace = true` (or no base) stands alone, else it extends `base`.

    Extending keeps the base's questions, drops those named in `remove`, replaces a question of the same id
    where it stood and adds new ones at the end. QuestionnaireError lists every mistake, one per line.
    """
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise QuestionnaireError([_mistake(where.rstrip("."), "", "not_table", value=_show(data))])
    top = _Reader(data, where.rstrip("."), errors)
    top.unknown_keys(_CONFIG_KEYS)
    replacing = top.flag("replace", default=base is None)
    version = top.text("version", VERSION_MAX)
    raw_questions = data.get("questions", [])
    if not isinstance(raw_questions, list):
        errors.append(_mistake(f"{where}questions", "", "questions_not_list", value=_show(raw_questions)))
        raw_questions = []
    given = [q for i, raw in enumerate(raw_questions) if (q := _question(raw, i, errors, where))]
    questions: list[Question]
    if replacing or base is None:
        questions = given
        if data.get("remove"):
            errors.append(_mistake(f"{where}remove", "", "remove_without_base"))
    else:
        questions = _extended(base, given, data.get("remove", []), where, errors)
    _check_whole(questions, where, errors)
    if errors:
        raise QuestionnaireError(errors)
    return Questionnaire(questions=tuple(resolve_reasons(questions)), version=version)


def _extended(base: Questionnaire, given: list[Question], remove: object, where: str,
              errors: list[str]) -> list[Question]:
    if not isinstance(remove, list) or not all(isinstance(r, str) for r in remove):
        errors.append(_mistake(f"{where}remove", "", "remove_not_list", value=_show(remove)))
        remove = []
    for name in remove:
        if base.get(name) is None:
            errors.append(_mistake(f"{where}remove", "", "remove_unknown", question=repr(name)))
        elif name in REQUIRED_CORE:
            errors.append(_mistake(f"{where}remove", "", "remove_core", question=repr(name)))
    by_id = {q.id: q for q in given}
    kept = [by_id.pop(q.id, q) for q in base.questions if q.id not in remove]
    return kept + [q for q in given if q.id in by_id]


def resolve_reasons(questions: list[Question] | tuple[Question, ...]) -> list[Question]:
    """Gives every scoring choice its code and its words on the card: its own, risk_reasons.toml's, or
    "question: answer"."""
    labels = reason_labels()
    resolved: list[Question] = []
    for q in questions:
        choices = tuple(
            c if c.exclusive else replace(
                c, code=c.code or f"{q.id}_{c.value}",
                reason=c.reason or labels.get(c.code or f"{q.id}_{c.value}", "")
                or f"{q.label.rstrip('?:')}: {c.label}"[:REASON_MAX])
            for c in q.choices
        )
        reason = q.reason
        if q.code and not reason:
            reason = labels.get(q.code, "") or q.label.rstrip("?:")[:REASON_MAX]
        resolved.append(replace(q, choices=choices, reason=reason))
    return resolved


def questionnaire_from_dict(data: Mapping[str, Any]) -> Questionnaire:
    """A stored definition (Questionnaire.to_dict()) back as a Questionnaire."""
    questions = []
    for q in data.get("questions", []):
        fields = dict(q)
        fields["choices"] = tuple(
            Choice(**{**c, "regulations": tuple(c.get("regulations", ()))}) for c in fields.get("choices", ())
        )
        fields["regulations"] = tuple(fields.get("regulations", ()))
        questions.append(Question(**fields))
    return Questionnaire(questions=tuple(questions), version=str(data.get("version") or ""))


@lru_cache(maxsize=1)
def reason_labels() -> dict[str, str]:
    """The card's words for the shipped reason codes ("personal data"), from templates/risk_reasons.toml."""
    text = resources.files("templates").joinpath("risk_reasons.toml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in tomllib.loads(text).items()}


@lru_cache(maxsize=1)
def shipped_questionnaire() -> Questionnaire:
    """The default questionnaire, from templates/questionnaire.toml (a mistake in it is a bug: it raises)."""
    text = resources.files("templates").joinpath("questionnaire.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return questionnaire_from_config(data.get("questionnaire"), where="templates/questionnaire.toml: ")
