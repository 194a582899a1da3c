"""Intake rules from the configuration file: rules_from_config() and the validators of its values."""

import re
from collections.abc import Mapping
from itertools import pairwise

from bot.common.render import config_error
from bot.intake.answers import _show
from bot.intake.questionnaire import Questionnaire, questionnaire_from_config
from bot.intake.rules import (
    TIERS,
    IntakeRules,
    RegulationRule,
    default_points,
    reason_codes,
    rules_for_languages,
)
from bot.intake.text import _phrase_words

# "workspaces" (reviewers and admins per workspace) and "calendar" (the company's closing days) are read by
# bot/config/files.py; the intake only has to know they are allowed.
_TOP_KEYS = ("announcements", "tags", "vendors", "risk", "regulations", "questionnaire", "workspaces", "calendar")
_TAG_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_MAX_POINTS = 1000


def _table(value: object, key: str, allowed: tuple[str, ...]) -> Mapping[str, object]:
    """A TOML table with only the allowed keys (a typo must not be ignored silently)."""
    if not isinstance(value, Mapping):
        raise config_error("not_table", key=key, value=_show(value))
    for k in value:
        if allowed and k not in allowed:
            raise config_error("unknown_setting", key=f"{key}.{k}", allowed=", ".join(allowed))
    return value


def _phrase(value: object, key: str) -> str:
    """A configured phrase: a string with at least one word."""
    if not isinstance(value, str) or not _phrase_words(value):
        raise config_error("phrase", key=key, value=_show(value))
    return value.strip()


def _phrase_list(value: object, key: str) -> tuple[str, ...]:
    """A configured list of phrases."""
    if not isinstance(value, list | tuple):
        raise config_error("string_list", key=key, value=_show(value))
    return tuple(_phrase(item, f"{key}[{i}]") for i, item in enumerate(value))


def _points(value: object, key: str) -> int:
    """A configured number of points or a threshold."""
    # bool is an int in Python, but "true" points is a mistake in the file
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_POINTS:
        raise config_error("points", key=key, limit=_MAX_POINTS, value=_show(value))
    return value


def _subset(value: object, key: str, allowed: tuple[str, ...]) -> frozenset[str]:
    """A configured list of values from a fixed vocabulary."""
    if not isinstance(value, list | tuple):
        raise config_error("subset_list", key=key, allowed=", ".join(allowed), value=_show(value))
    for i, item in enumerate(value):
        if item not in allowed:
            raise config_error("subset_item", key=f"{key}[{i}]", allowed=", ".join(allowed), value=_show(item))
    return frozenset(str(v) for v in value)


def _regulation_rule(value: object, key: str, questionnaire: Questionnaire) -> RegulationRule:
    """One [[regulations]] table; when_sensitive and when_flags name the questionnaire's answers."""
    entry = _table(value, key, ("regulation", "when_sensitive", "keywords", "when_flags"))
    name = entry.get("regulation")
    question = questionnaire.get("sensitive_data")
    sensitive = tuple(c.value for c in question.choices if not c.exclusive) if question else ()
    flags = tuple(q.id for q in questionnaire.scored if q.type == "yes_no")
    if not isinstance(name, str) or not name.strip():
        raise config_error("regulation_name", key=f"{key}.regulation", value=_show(name))
    return RegulationRule(
        regulation=name.strip(),
        when_sensitive=_subset(entry.get("when_sensitive", []), f"{key}.when_sensitive", sensitive),
        keywords=_phrase_list(entry.get("keywords", []), f"{key}.keywords"),
        when_flags=_subset(entry.get("when_flags", []), f"{key}.when_flags", flags),
    )


def rules_from_config(data: Mapping[str, object], *, languages: tuple[str, ...] = ("en",)) -> IntakeRules:
    """Builds rules from the parsed TOML; missing keys keep the defaults (those of the languages, for phrases);
    a ValueError names the key.

    A broken [questionnaire] raises a QuestionnaireError (a ValueError) with one line per mistake.
    """
    base = rules_for_languages(languages)
    if not isinstance(data, Mapping):
        raise config_error("not_table", key="config", value=_show(data))
    for k in data:
        if k not in _TOP_KEYS:
            raise config_error("unknown_setting", key=k, allowed=", ".join(_TOP_KEYS))

    questionnaire = base.questionnaire
    if "questionnaire" in data:
        questionnaire = questionnaire_from_config(data["questionnaire"], base=base.questionnaire)

    phrases = base.phrases
    if "announcements" in data:
        section = _table(data["announcements"], "announcements", ("phrases",))
        if "phrases" in section:
            phrases = _phrase_list(section["phrases"], "announcements.phrases")

    # Tags merge with the defaults one by one; an empty list removes a default tag.
    tags = dict(base.tags)
    if "tags" in data:
        for tag, keywords in _table(data["tags"], "tags", ()).items():
            if not isinstance(tag, str) or not _TAG_NAME_RE.match(tag):
                raise config_error("tag_name", key=f"tags.{tag}")
            parsed = _phrase_list(keywords, f"tags.{tag}")
            if parsed:
                tags[tag] = parsed
            else:
                tags.pop(tag, None)

    vendors, aliases = base.vendors, dict(base.vendor_aliases)
    if "vendors" in data:
        section = _table(data["vendors"], "vendors", ("names", "aliases"))
        if "names" in section:
            vendors = _phrase_list(section["names"], "vendors.names")
        if "aliases" in section:
            for alias, canonical in _table(section["aliases"], "vendors.aliases", ()).items():
                _phrase(alias, f"vendors.aliases.{alias}")
                aliases[alias] = _phrase(canonical, f"vendors.aliases.{alias}")

    # The questionnaire's points; [risk.weights] overrides them by reason code.
    weights = dict(base.risk_weights) if questionnaire is base.questionnaire else default_points(questionnaire)
    tiers = dict(base.tier_thresholds)
    codes = reason_codes(questionnaire)
    if "risk" in data:
        section = _table(data["risk"], "risk", ("weights", "tiers"))
        for code, points in _table(section.get("weights", {}), "risk.weights", ()).items():
            if code not in codes:
                raise config_error("reason_code", key=f"risk.weights.{code}", known=", ".join(codes))
            weights[code] = _points(points, f"risk.weights.{code}")
        for tier, points in _table(section.get("tiers", {}), "risk.tiers", TIERS).items():
            tiers[tier] = _points(points, f"risk.tiers.{tier}")
        if tiers["low"] != 0:
            raise config_error("low_tier", key="risk.tiers.low", value=tiers["low"])
        values = [tiers[t] for t in TIERS]
        if any(a >= b for a, b in pairwise(values)):
            shown = ", ".join(f"{t}={tiers[t]}" for t in TIERS)
            raise config_error("tiers_order", key="risk.tiers", value=shown)

    # A [[regulations]] entry replaces the default rule of the same name (any case) or adds a new one.
    rules_by_name = {rule.regulation.casefold(): rule for rule in base.regulation_rules}
    if "regulations" in data:
        entries = data["regulations"]
        if not isinstance(entries, list | tuple):
            raise config_error("regulations_list", key="regulations", value=_show(entries))
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            rule = _regulation_rule(entry, f"regulations[{i}]", questionnaire)
            name = rule.regulation.casefold()
            if name in seen:
                raise config_error("regulation_twice", key=f"regulations[{i}].regulation", value=repr(rule.regulation))
            seen.add(name)
            rules_by_name[name] = rule

    return IntakeRules(
        phrases=phrases,
        tags=tags,
        vendors=vendors,
        risk_weights=weights,
        tier_thresholds=tiers,
        regulation_rules=tuple(rules_by_name.values()),
        vendor_aliases=aliases,
        languages=base.languages,
        questionnaire=questionnaire,
    )
