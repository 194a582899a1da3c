"""Block Kit views for the Slack handlers: modals, App Home, lists, roadmap, help; words in templates/."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from bot.common import render
from bot.common.ids import ActionId, BlockId, CallbackId
from bot.intake import Questionnaire
from bot.review import messages
from bot.review.states import DECIDED_STATES, OPEN_STATES, RISK_TIERS, ConditionState, Outcome
from bot.slack.intake_views import answer_facts, intake_initial, intake_modal
from storage.models import AuditEvent, Condition, Review

T = TypeVar("T")
# The intake modal lives in bot/slack/intake_views.py; views.intake_modal() and friends stay where callers look.
__all__ = ["answer_facts", "intake_initial", "intake_modal"]

# How many lines go into one section: every line is bounded (titles are cut), so ten lines stay far
# below Slack's 3000 characters per section, and long lists cost one block per ten rows, not per row.
LINES_PER_SECTION = 10
# Rows beyond these caps are counted ("and N more") instead of shown; each cap keeps its payload inside
# Slack's block limits (50 a message, 100 a view) whatever the caller hands in.
LIST_MAX_ROWS = 100
ROADMAP_MAX_SECTIONS = 40
DETAIL_MAX_CONDITIONS = 40
DETAIL_MAX_EVENTS = 20
HOME_MAX_QUEUE = 15
HOME_MAX_TAKEN = 15
HOME_MAX_PROJECTS = 10
HOME_MAX_CONDITIONS = 25
HOME_MAX_CHANGED = 5
MAX_SELECT_OPTIONS = 100
URGENT_DAYS = 7
# A safeguard or history line of the detail view carries up to two user texts (≈ 450 characters).
DETAIL_LINES = 6

# Slack user ids (U…, W… on Enterprise Grid); anything else is shown as text, never as a mention.
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{1,31}\Z")


# ---------------------------------------------------------------------------------------------------------
# Helpers shared by the views
# ---------------------------------------------------------------------------------------------------------


def _json_inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


class Mrkdwn:
    """Text already safe as mrkdwn: render.message() escapes only str parameters, so this passes as is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mrkdwn) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("mrkdwn", self.text))


def who(user_id: str | None) -> Mrkdwn:
    """`<@U…>` for a Slack user id, escaped text otherwise (the system actor, a malformed id)."""
    if user_id and _USER_ID_RE.match(user_id):
        return Mrkdwn(f"<@{user_id}>")
    return Mrkdwn(render.cut(render.escape_mrkdwn(user_id or "—"), 40))


def mention(user_id: str | None) -> str:
    """who(), JSON-string-encoded: for use inside a template's "…" literal."""
    return _json_inner(str(who(user_id)))


def _message(key: str, /, **params: Any) -> str:
    return render.message(key, **params)


def _ids() -> dict[str, Any]:
    return {"action": ActionId, "block": BlockId, "callback": CallbackId}


def _context(**extra: Any) -> dict[str, Any]:
    return {"ids": _ids(), "mention": mention, "who": who, "message": _message, **extra}


def _chunks(items: Sequence[T], size: int = LINES_PER_SECTION) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _reasons(review: Review) -> list[dict[str, Any]]:
    """Risk reasons with their labels; the code itself when templates/risk_reasons.toml has no label."""
    try:
        labels = render.risk_labels()
    except FileNotFoundError:
        labels = {}
    return [
        {
            "points": r.get("points", 0),
            # The words stored with the reason when it was scored; older rows have only the code.
            "label": r.get("label") or labels.get(str(r.get("code")), str(r.get("code", "")).replace("_", " ")),
        }
        for r in (review.risk_reasons or [])
        if isinstance(r, dict)
    ]


def overdue_days(review: Review, now: datetime) -> int | None:
    """Whole days an open review is past its due time (0: less than a day); None when not overdue."""
    if review.state not in OPEN_STATES or review.due_at is None or review.due_at >= now:
        return None
    return (now - review.due_at).days


def _condition_overdue(condition: Condition, today: date) -> bool:
    return (
        condition.state == ConditionState.OPEN
        and condition.due_date is not None
        and condition.due_date < today
    )


def _is_open(review: Review) -> bool:
    return review.state in OPEN_STATES


# ---------------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------------


def sentence(text: str) -> dict[str, Any]:
    """A one-sentence ephemeral answer; `text` is already rendered, escaped mrkdwn (errors, confirmations)."""
    return render.render_json("ephemeral", text=text)


def review_detail(*, review: Review, events: Sequence[AuditEvent], now: datetime,
                  questionnaire: Questionnaire | None = None) -> dict[str, Any]:
    """`/secreview show SR-12`: the card's facts, the answers (to the questionnaire it was answered with), the
    decision, the safeguards, the history (newest last)."""
    today = now.date()
    ordered = sorted(events, key=lambda e: (e.at, e.seq or 0))
    shown_events = ordered[-DETAIL_MAX_EVENTS:]
    conditions = list(review.conditions)
    shown_conditions = conditions[:DETAIL_MAX_CONDITIONS]
    decision = review.latest_decision
    answers = review.answers or {}
    return render.render_json(
        "review_detail",
        **_context(
            review=review,
            state_label=render.message(f"state.{review.state}"),
            overdue=overdue_days(review, now),
            reasons=_reasons(review),
            answers=answer_facts(answers, questionnaire),
            decision=decision if decision is not None and review.state in DECIDED_STATES else None,
            earlier_decisions=max(0, len(review.decisions) - 1),
            open_count=sum(1 for c in conditions if c.state == ConditionState.OPEN),
            condition_chunks=_chunks(
                [{"c": c, "overdue": _condition_overdue(c, today)} for c in shown_conditions], DETAIL_LINES
            ),
            more_conditions=len(conditions) - len(shown_conditions),
            event_chunks=_chunks([_event_row(e) for e in shown_events], DETAIL_LINES),
            earlier_events=len(ordered) - len(shown_events),
        ),
    )


def _known(key: str) -> str | None:
    """`key` when the message catalog has it (an action or state this version does not know shows as is)."""
    try:
        render.message(key)
    except KeyError:
        return None
    return key


def _event_row(event: AuditEvent) -> dict[str, Any]:
    data = event.data or {}
    changed = event.to_state and event.to_state != event.from_state
    return {
        "event": event,
        "action_key": _known(f"history.action.{event.action}"),
        "state_key": _known(f"state.{event.to_state}") if changed else None,
        "assignee": data.get("assignee") if event.action == "assigned" else None,
        "subject": data.get("text") if str(event.action).startswith("condition_") else None,
    }


def review_list(
    *, reviews: Sequence[Review], filter_name: str, page: int, page_size: int, total: int, now: datetime
) -> dict[str, Any]:
    """`/secreview list`: one line per review of this page, newest first, with paging buttons."""
    page_size = max(1, page_size)
    pages = max(1, math.ceil(total / page_size))
    ordered = sorted(reviews, key=lambda r: (r.announced_at, r.number), reverse=True)
    shown = ordered[:LIST_MAX_ROWS]
    rows = [{"review": r, "overdue": overdue_days(r, now)} for r in shown]
    first = (page - 1) * page_size + 1
    out_of_range = not reviews and total > 0
    return render.render_json(
        "review_list",
        **_context(
            filter_key=filter_name
            if filter_name in ("open", "mine", "overdue", "decided", "all")
            else "other",
            filter_name=filter_name,
            page=page,
            pages=pages,
            total=total,
            first=first,
            last=first + len(reviews) - 1,
            chunks=_chunks(rows),
            hidden=len(ordered) - len(shown),
            out_of_range=out_of_range,
            # Past the end, "Previous" goes to the last page rather than to another empty one.
            prev_page=(min(page - 1, pages) if page > 1 else None),
            next_page=(page + 1 if page < pages and not out_of_range else None),
        ),
    )


def roadmap(*, reviews: Sequence[Review], weeks: int, now: datetime) -> dict[str, Any]:
    """Upcoming go-lives within `weeks` weeks, by week, with their review status; urgent undecided flagged."""
    today = now.date()
    end = today + timedelta(weeks=max(0, weeks))
    dated = sorted(
        (
            (r.go_live, r)
            for r in reviews
            if r.go_live is not None
            and today <= r.go_live < end
            and (_is_open(r) or r.state in DECIDED_STATES)
        ),
        key=lambda pair: (pair[0], pair[1].number),
    )
    upcoming = [r for _, r in dated]
    items: list[dict[str, Any]] = []
    week_start: date | None = None
    urgent = 0
    for go_live, r in dated:
        start = go_live - timedelta(days=go_live.weekday())
        if start != week_start:
            week_start = start
            items.append({"kind": "week", "start": start})
        days = (go_live - today).days
        is_urgent = _is_open(r) and days <= URGENT_DAYS
        urgent += is_urgent
        items.append(
            {
                "kind": "row",
                "review": r,
                "days": days,
                "urgent": is_urgent,
                "open_conditions": sum(1 for c in r.conditions if c.state == ConditionState.OPEN),
            }
        )
    chunks = _chunks(items)
    shown = chunks[:ROADMAP_MAX_SECTIONS]
    hidden = sum(1 for chunk in chunks[ROADMAP_MAX_SECTIONS:] for item in chunk if item["kind"] == "row")
    decided = sum(1 for r in upcoming if r.state in DECIDED_STATES)
    return render.render_json(
        "roadmap",
        **_context(
            weeks=weeks,
            chunks=shown,
            hidden=hidden,
            total=len(upcoming),
            decided=decided,
            undecided=len(upcoming) - decided,
            urgent=urgent,
        ),
    )


# ---------------------------------------------------------------------------------------------------------
# Views (modals and App Home)
# ---------------------------------------------------------------------------------------------------------


def decision_modal(
    *, review: Review, private_metadata: str, currency: str, regulations_known: Iterable[str]
) -> dict[str, Any]:
    """The decision form (callback DECISION): outcome, rationale, conditions, tier, regulations, savings."""
    current = [r for r in dict.fromkeys(review.regulations or []) if r]
    others = sorted(set(regulations_known) - set(current))
    # Slack allows 100 options; the review's own regulations must be among them to be pre-selected.
    options = sorted(current + others[: max(0, MAX_SELECT_OPTIONS - len(current))])
    return render.render_json(
        "decision_modal",
        **_context(
            review=review,
            private_metadata=private_metadata,
            currency=currency,
            reasons=_reasons(review),
            outcomes=[o.value for o in Outcome],
            tiers=RISK_TIERS,
            regulations=options,
            initial_regulations=current[:MAX_SELECT_OPTIONS],
        ),
    )


def ask_info_modal(*, review: Review, private_metadata: str) -> dict[str, Any]:
    """The question to the owner (callback ASK_INFO): one multiline input."""
    return render.render_json("ask_info_modal", **_context(review=review, private_metadata=private_metadata))


def home(
    *,
    user_id: str,
    is_reviewer: bool,
    queue: Sequence[Review],
    taken: Sequence[Review],
    mine: Sequence[Review],
    figures: dict[str, Any] | None,
    now: datetime,
    changed: Sequence[Review] = (),
) -> dict[str, Any]:
    """App Home: the reviewer's queue, the decided reviews that changed since their decision, what they took and
    this week's figures so far; everyone's own projects."""
    ordered_queue = sorted(queue, key=lambda r: (overdue_days(r, now) is None, r.due_at or now, r.number))
    queue_rows = [{"review": r, "overdue": overdue_days(r, now)} for r in ordered_queue[:HOME_MAX_QUEUE]]
    taken_rows = [{"review": r, "overdue": overdue_days(r, now)} for r in taken[:HOME_MAX_TAKEN]]

    projects: list[dict[str, Any]] = []
    budget = HOME_MAX_CONDITIONS
    hidden_conditions = 0
    for r in mine[:HOME_MAX_PROJECTS]:
        open_conditions = [c for c in r.conditions if c.state == ConditionState.OPEN]
        shown = open_conditions[:budget]
        budget -= len(shown)
        hidden_conditions += len(open_conditions) - len(shown)
        projects.append(
            {
                "review": r,
                "overdue": overdue_days(r, now),
                "open_count": len(open_conditions),
                "conditions": [{"c": c, "overdue": _condition_overdue(c, now.date())} for c in shown],
            }
        )

    # The figures arrive labelled and formatted (bot.figures.presentation.home_figures), with their window.
    figure_rows: list[dict[str, Any]] = list(figures["rows"]) if figures is not None else []
    figures_window = figures["window"] if figures is not None else ""

    return render.render_json(
        "home",
        **_context(
            user_id=user_id,
            is_reviewer=is_reviewer,
            queue_rows=queue_rows,
            queue_total=len(queue),
            changed_rows=[{"review": r, "what": messages.changed_summary(r.changed_since_decision) or ""}
                          for r in changed[:HOME_MAX_CHANGED]],
            changed_total=len(changed),
            taken_chunks=_chunks(taken_rows),
            taken_total=len(taken),
            projects=projects,
            projects_total=len(mine),
            hidden_conditions=hidden_conditions,
            figure_chunks=_chunks(figure_rows),
            figures_window=figures_window,
        ),
    )
