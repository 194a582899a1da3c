"""Every review with its decisions, conditions and history, as JSON-able rows or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import intake
from bot.review.intake_facts import questions_with_answers
from storage.models import AuditEvent, QuestionnaireVersion, Review

CSV_COLUMNS = (
    "workspace", "key", "title", "state", "owner", "assignee", "announced_at", "go_live", "due_at", "risk_tier",
    "risk_score", "tags", "vendors", "regulations", "decision_outcome", "decided_by", "decided_at", "rationale",
    "cost_avoided", "currency", "conditions_open", "conditions_done", "conditions_waived", "events", "jira_issues",
    "questionnaire", "intake",
)


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def iter_reviews(session: Session, *, workspace_id: str, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Yields one dict per review of the workspace, oldest first, with decision, conditions and events."""
    last_id = 0
    while True:
        reviews = session.scalars(
            select(Review)
            .where(Review.workspace_id == workspace_id, Review.id > last_id)
            .order_by(Review.id)
            .limit(batch)
            .options(selectinload(Review.decisions), selectinload(Review.conditions))
        ).all()
        if not reviews:
            return
        events: dict[int, list[AuditEvent]] = {}
        for event in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.review_id.in_([r.id for r in reviews]))
            .order_by(AuditEvent.seq)
        ):
            events.setdefault(event.review_id or 0, []).append(event)
        digests = {r.questionnaire_digest for r in reviews if r.questionnaire_digest}
        questionnaires = {
            v.digest: intake.questionnaire_from_dict(v.definition)
            for v in session.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.digest.in_(digests)))
        } if digests else {}
        for review in reviews:
            asked = questionnaires.get(review.questionnaire_digest or "")
            yield _review_row(review, events.get(review.id, []), asked)
        last_id = reviews[-1].id
        session.expunge_all()


def _review_row(review: Review, events: list[AuditEvent], asked: intake.Questionnaire | None) -> dict[str, Any]:
    decision = review.latest_decision
    # The questions as the review was asked them (reviews answered before versions were kept: the shipped ones).
    questionnaire = asked or intake.DEFAULT_QUESTIONNAIRE
    return {
        "workspace": review.workspace_id,
        "key": review.key,
        "title": review.title,
        "summary": review.summary,
        "state": review.state,
        "owner": review.owner_id,
        "announcer": review.announcer_id,
        "assignee": review.assignee_id,
        "source": {"channel": review.source_channel, "ts": review.source_ts},
        "announced_at": _iso(review.announced_at),
        "first_response_due": _iso(review.first_response_due),
        "first_response_at": _iso(review.first_response_at),
        "due_at": _iso(review.due_at),
        "go_live": _iso(review.go_live),
        "risk_tier": review.risk_tier,
        "risk_score": review.risk_score,
        "risk_reasons": review.risk_reasons,
        "answers": review.answers,
        "questionnaire": {"digest": review.questionnaire_digest, "version": questionnaire.version}
        if review.answers is not None else None,
        "intake": questions_with_answers(review, questionnaire) if review.answers is not None else [],
        "tags": review.tags,
        "vendors": review.vendors,
        "regulations": review.regulations,
        "decision": None if decision is None else {
            "outcome": decision.outcome,
            "decided_by": decision.decided_by,
            "decided_at": _iso(decision.decided_at),
            "rationale": decision.rationale,
            "risk_tier": decision.risk_tier,
            "regulations": decision.regulations,
            "cost_avoided": _money(decision.cost_avoided),
            "currency": decision.currency,
            "fast_track": decision.fast_track,
        },
        "decisions": [
            {"outcome": d.outcome, "decided_by": d.decided_by, "decided_at": _iso(d.decided_at),
             "rationale": d.rationale, "cost_avoided": _money(d.cost_avoided), "currency": d.currency,
             "regulations": d.regulations}
            for d in review.decisions
        ],
        "conditions": [
            {"id": c.id, "text": c.text, "owner": c.owner_id, "due_date": _iso(c.due_date), "state": c.state,
             "created_at": _iso(c.created_at), "closed_at": _iso(c.closed_at), "closed_by": c.closed_by,
             "waive_reason": c.waive_reason, "jira_key": c.jira_key, "jira_url": c.jira_url}
            for c in review.conditions
        ],
        "events": [
            {"seq": e.seq, "at": _iso(e.at), "actor": e.actor, "action": e.action, "from": e.from_state,
             "to": e.to_state, "note": e.note, "data": e.data}
            for e in events
        ],
    }


def to_json(rows: Iterator[dict[str, Any]]) -> str:
    """A JSON list of review objects."""
    return json.dumps(list(rows), indent=2, ensure_ascii=False)


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheet programs: neutralise it (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: Iterator[dict[str, Any]]) -> str:
    """One CSV line per review: the figures a spreadsheet needs, lists joined with '; '."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        decision = row["decision"] or {}
        states = [c["state"] for c in row["conditions"]]
        values = [
            row["workspace"], row["key"], row["title"], row["state"], row["owner"], row["assignee"] or "",
            row["announced_at"], row["go_live"] or "", row["due_at"], row["risk_tier"] or "",
            "" if row["risk_score"] is None else row["risk_score"], "; ".join(row["tags"]),
            "; ".join(row["vendors"]), "; ".join(row["regulations"]), decision.get("outcome") or "",
            decision.get("decided_by") or "", decision.get("decided_at") or "", decision.get("rationale") or "",
            decision.get("cost_avoided") or "", decision.get("currency") or "", states.count("open"),
            states.count("done"), states.count("waived"), len(row["events"]),
            "; ".join(c["jira_key"] for c in row["conditions"] if c.get("jira_key")),
            (row["questionnaire"] or {}).get("version") or "",
            "; ".join(f"{q['question']}: {q['answer']}" for q in row["intake"]),
        ]
        writer.writerow([_csv_safe(v) if isinstance(v, str) else v for v in values])
    return buffer.getvalue()


FIGURE_COLUMNS = ("period_kind", "period_start", "period_end", "figure", "label", "number", "previous_number",
                  "change_number", "unit", "n", "text", "previous", "change", "trend", "verdict", "note")


_NUMERIC = frozenset({"number", "previous_number", "change_number", "n"})


def figures_json(record: dict[str, Any], *, period: dict[str, Any], posted_at: str | None) -> str:
    """A period's figures (digest.figures_record) as JSON: the shown table, then the report behind it."""
    return json.dumps({"period": period, "posted_at": posted_at, **record}, indent=2, ensure_ascii=False)


def figures_csv(record: dict[str, Any], *, period: dict[str, Any]) -> str:
    """A period's figures as CSV, one line per figure: the number shown, its unit, n, change and verdict."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIGURE_COLUMNS)
    for row in record["table"]:
        values = [period["kind"], period["start"], period["end"], *(row.get(c) for c in FIGURE_COLUMNS[3:])]
        # Numbers stay numbers (a spreadsheet sums them); only text could be taken for a formula.
        writer.writerow(["" if v is None else v if c in _NUMERIC else _csv_safe(str(v))
                         for c, v in zip(FIGURE_COLUMNS, values, strict=True)])
    return buffer.getvalue()
