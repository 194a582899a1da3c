"""The messages about a review that secreview posts: thread reply, review card, notices, the decision.

The thread reply, the card, an info request and a decision notice are views of the review: rendered from its
current state (and its Facts), they are rendered again on every change and updated in place. `where` says
whether a message sits in the announcement's thread ("thread") or in a person's DM with secreview ("dm").
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from bot.common.ids import ActionId, BlockId, CallbackId
from bot.common.render import message, render_json, render_text, risk_labels
from bot.review.facts import NONE, Facts

# Stands for the link to the announcement's thread in a DM; delivery swaps in its permalink (chat.getPermalink).
THREAD_LINK = "secreview:thread-link"


def _review_context(review: Any, settings: Any = None, facts: Facts = NONE, where: str = "thread") -> dict[str, Any]:
    labels = risk_labels()
    # The words stored with the reason (what the questionnaire said when it was scored), else the shipped ones.
    reasons = [
        {"points": r["points"], "label": r.get("label") or labels.get(r["code"], r["code"].replace("_", " "))}
        for r in (review.risk_reasons or [])
    ]
    return {
        "review": review,
        "facts": facts,
        "where": where,
        "thread_link": THREAD_LINK if where == "dm" and review.source_channel and review.source_ts else None,
        "reasons": reasons,
        "ids": _ids(),
        "state_label": message(f"state.{review.state}"),
        "currency": getattr(settings, "secreview_currency", "EUR"),
        "open_conditions": [c for c in review.conditions if c.state == "open"],
        "changed": changed_summary(getattr(review, "changed_since_decision", None)),
    }


def changed_summary(flag: dict[str, Any] | None) -> str | None:
    """What changed since the decision, in words ("go-live 15 Apr 2031 → 1 Feb 2031; new regulations GDPR");
    None when nothing did. Plain text: escape it where it is shown."""
    if not flag:
        return None
    go_live = flag.get("go_live")
    moved = [date.fromisoformat(d) if d else None for d in go_live] if isinstance(go_live, list) else None
    c = {"go_live": moved, "regulations": list(flag.get("regulations") or []),
         "vendors": list(flag.get("vendors") or [])}
    return render_text("changed_since_decision", c=c) or None


def _ids() -> dict[str, Any]:
    return {"action": ActionId, "block": BlockId, "callback": CallbackId}


def thread_opened(review: Any, facts: Facts = NONE, *, where: str = "thread") -> dict[str, Any]:
    """The reply in the announcement's thread (or the owner's DM): the key, where it stands, what happens next."""
    return render_json("thread_opened", **_review_context(review, facts=facts, where=where))


def review_card(review: Any, settings: Any, facts: Facts = NONE) -> dict[str, Any]:
    """The review card in the security channel: what happened, who has it, what is asked, the actions that apply."""
    return render_json("review_card", **_review_context(review, settings, facts))


def notice(kind: str, *, review: Any, where: str = "dm", **context: Any) -> dict[str, Any]:
    """A short notice about a review (assigned, withdrawn, reopened, the intake is in, …): an event, told once."""
    return render_json("notice", kind=kind, **_review_context(review, where=where), **context)


def info_request(review: Any, *, question: str, asked_by: str, asked_at: Any, where: str) -> dict[str, Any]:
    """A reviewer's question to the owner; its button lasts only while the review waits for that answer."""
    waiting = review.state == "needs_info" and _same_moment(review.info_requested_at, asked_at)
    return render_json("info_request", question=question, asked_by=asked_by, waiting=waiting,
                       **_review_context(review, where=where))


def decision_notice(review: Any, decision: Any, settings: Any, facts: Facts = NONE, *,
                    where: str = "thread") -> dict[str, Any]:
    """The decision as told in the thread and to the owner, with its safeguards as they stand now."""
    latest = review.latest_decision
    in_force = latest is not None and latest.id == decision.id and review.state == decision.outcome
    return render_json("decision_notice", decision=decision, in_force=in_force,
                       **_review_context(review, settings, facts, where))


def _same_moment(a: datetime | None, b: datetime | str | None) -> bool:
    if a is None or b is None:
        return False
    other = datetime.fromisoformat(b) if isinstance(b, str) else b
    return abs((a - other).total_seconds()) < 0.001


def announcement_change(kind: str, *, review: Any, **context: Any) -> dict[str, Any]:
    """What an edited or deleted announcement changed, told in the card's thread ("changed", "deleted") or to the
    owner whose intake it disagrees with ("intake_differs", with the intake's button)."""
    where = "dm" if kind == "intake_differs" else "thread"
    context.setdefault("settled", "")  # the owner's question, still open unless re-rendered as settled
    return render_json("announcement_change", kind=kind, **_review_context(review, where=where), **context)


def review_alert(kind: str, **params: Any) -> dict[str, Any]:
    """A one-sentence notice (owner_named, risk_lowered) from templates/messages_security.toml."""
    return render_json("review_alert", text=message(f"alert.{kind}", **params))


@lru_cache(maxsize=1)
def standard_conditions() -> tuple[str, ...]:
    """The safeguards a fast-tracked approval carries, from templates/standard_conditions.toml."""
    text = resources.files("templates").joinpath("standard_conditions.toml").read_text(encoding="utf-8")
    return tuple(str(c) for c in tomllib.loads(text).get("conditions", []))
