"""The messages about a review that secreview posts: thread reply, review card, notices, the decision."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from bot.common.ids import ActionId, BlockId, CallbackId
from bot.common.render import message, render_json, risk_labels


def _review_context(review: Any, settings: Any = None) -> dict[str, Any]:
    labels = risk_labels()
    # The words stored with the reason (what the questionnaire said when it was scored), else the shipped ones.
    reasons = [
        {"points": r["points"], "label": r.get("label") or labels.get(r["code"], r["code"].replace("_", " "))}
        for r in (review.risk_reasons or [])
    ]
    return {
        "review": review,
        "reasons": reasons,
        "ids": _ids(),
        "state_label": message(f"state.{review.state}"),
        "currency": getattr(settings, "secreview_currency", "EUR"),
        "open_conditions": [c for c in review.conditions if c.state == "open"],
    }


def _ids() -> dict[str, Any]:
    return {"action": ActionId, "block": BlockId, "callback": CallbackId}


def thread_opened(review: Any) -> dict[str, Any]:
    """The reply in the announcement's thread: the key, what happens next, the intake button."""
    return render_json("thread_opened", **_review_context(review))


def review_card(review: Any, settings: Any) -> dict[str, Any]:
    """The review card in the security channel, with the actions its state allows."""
    return render_json("review_card", **_review_context(review, settings))


def notice(kind: str, *, review: Any, **context: Any) -> dict[str, Any]:
    """A short notice about a review (assigned, info requested, withdrawn, reopened, …)."""
    return render_json("notice", kind=kind, **_review_context(review), **context)


def decision_notice(review: Any, decision: Any, settings: Any) -> dict[str, Any]:
    """The decision as told in the thread and to the owner."""
    return render_json("decision_notice", decision=decision, **_review_context(review, settings))


def review_alert(kind: str, **params: Any) -> dict[str, Any]:
    """A one-sentence notice (owner_named, risk_lowered) from templates/messages_security.toml."""
    return render_json("review_alert", text=message(f"alert.{kind}", **params))


@lru_cache(maxsize=1)
def standard_conditions() -> tuple[str, ...]:
    """The safeguards a fast-tracked approval carries, from templates/standard_conditions.toml."""
    text = resources.files("templates").joinpath("standard_conditions.toml").read_text(encoding="utf-8")
    return tuple(str(c) for c in tomllib.loads(text).get("conditions", []))
