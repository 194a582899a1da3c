"""`secreview demo-data`: a realistic quarter of reviews in every state, made through the real lifecycle."""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot import intake
from bot.config import Settings
from bot.review import announcements, decisions, intake_answers, lifecycle, safeguards, transitions
from bot.review.states import OPEN_STATES, Outcome
from storage.models import OutboxMessage, utcnow

DEMO_WORKSPACE = "TDEMO0001"
DEMO_REVIEWERS = ("USEC00001", "USEC00002")
DEMO_CISO = "UCISO0001"
DEMO_OWNERS = ("UOWN00001", "UOWN00002", "UOWN00003", "UOWN00004", "UOWN00005")
DEMO_CHANNEL = "CANNOUNCE1"


@dataclass(frozen=True)
class DemoSummary:
    """What demo-data created."""

    workspace_id: str
    reviews: int
    by_state: dict[str, int]


def _catalog() -> dict[str, Any]:
    text = resources.files("templates").joinpath("demo_projects.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def generate(
    session: Session,
    *,
    settings: Settings,
    workspace_id: str = DEMO_WORKSPACE,
    count: int = 72,
    seed: int = 7,
    now: datetime | None = None,
    reviewers: tuple[str, ...] = DEMO_REVIEWERS,
) -> DemoSummary:
    """Creates `count` reviews over the last 13 weeks; their notices are marked skipped, never sent."""
    now = now or utcnow()
    rng = random.Random(seed)
    catalog = _catalog()
    projects, words = catalog["project"], catalog["rationale"][0]
    rules = settings.intake_rules()
    detector = intake.Detector(rules, calendar=settings.calendar)
    start = now - timedelta(weeks=13)
    moments = sorted(start + timedelta(seconds=rng.uniform(0, (now - start).total_seconds() - 3600))
                     for _ in range(count))
    by_state: dict[str, int] = {}
    first_outbox_id = session.query(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1).scalar() or 0
    reviewer_actors = [lifecycle.Actor(r, is_reviewer=True) for r in reviewers]
    for index, announced in enumerate(moments):
        project = projects[index % len(projects)]
        owner = lifecycle.Actor(DEMO_OWNERS[index % len(DEMO_OWNERS)])
        reviewer = rng.choice(reviewer_actors)
        go_live = (announced + timedelta(days=rng.randint(10, 75))).date()
        text = project["text"].format(golive=go_live.isoformat())
        opened = announcements.open_review(
            session, settings=settings, detector=detector, workspace_id=workspace_id, actor=owner, text=text,
            source_channel=DEMO_CHANNEL, source_ts=f"{announced.timestamp():.6f}", now=announced,
        )
        review = opened.review
        key = review.number
        clock = announced
        fate = rng.random()

        def step(hours: float) -> datetime | None:
            nonlocal clock
            clock = clock + timedelta(hours=hours)
            return clock if clock < now else None

        at = step(rng.uniform(1, 30))
        if at is None or fate < 0.05:
            by_state[review.state] = by_state.get(review.state, 0) + 1
            continue
        answers = intake.parse_answers(project["answers"])
        form = intake_answers.IntakeForm(title=project["title"], summary=text, owner_id=owner.user_id,
                                         go_live=go_live if go_live >= at.date() else None, answers=answers)
        intake_answers.submit_intake(session, settings=settings, workspace_id=workspace_id, actor=owner, key=key,
                                     form=form, rules=rules, now=at)
        if fate < 0.09:
            transitions.mark_not_applicable(session, settings=settings, workspace_id=workspace_id, actor=reviewer,
                                            key=key, reason=rng.choice(words["not_applicable"]), now=at)
        elif fate < 0.13:
            transitions.withdraw(session, settings=settings, workspace_id=workspace_id, actor=owner, key=key,
                                 reason="Project postponed to next year", now=at)
        elif (at := step(rng.uniform(2, 40))) is not None:
            transitions.take(session, settings=settings, workspace_id=workspace_id, actor=reviewer, key=key, now=at)
            if rng.random() < 0.3 and (at := step(rng.uniform(2, 30))) is not None:
                transitions.request_info(session, settings=settings, workspace_id=workspace_id, actor=reviewer,
                                         key=key, question=rng.choice(words["questions"]), now=at)
                if rng.random() < 0.75 and (at := step(rng.uniform(4, 60))) is not None:
                    intake_answers.submit_intake(session, settings=settings, workspace_id=workspace_id, actor=owner,
                                                 key=key, form=form, rules=rules, now=at)
            if review.state != "needs_info" and (at := step(rng.uniform(8, 120))) is not None:
                _decide(session, settings, workspace_id, reviewer, review, rng, words, at, now)
        by_state[review.state] = by_state.get(review.state, 0) + 1
    # Demo notices describe invented history: never deliver them to a real workspace.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id > first_outbox_id, OutboxMessage.state == "pending")
        .values(state="skipped", last_error="demo data")
    )
    session.flush()
    return DemoSummary(workspace_id, count, by_state)


def _decide(session: Session, settings: Settings, workspace_id: str, reviewer: lifecycle.Actor, review: Any,
            rng: random.Random, words: dict[str, Any], at: datetime, now: datetime) -> None:
    roll = rng.random()
    tier = review.risk_tier or "medium"
    if tier == "low" and roll < 0.7:
        decisions.fast_track(session, settings=settings, workspace_id=workspace_id, actor=reviewer,
                             key=review.number, now=at)
    else:
        outcome = (Outcome.REJECTED if roll < 0.12 else Outcome.APPROVED if roll < 0.35
                   else Outcome.APPROVED_WITH_CONDITIONS)
        conditions = tuple(rng.sample(words["conditions"], rng.randint(1, 3))) \
            if outcome == Outcome.APPROVED_WITH_CONDITIONS else ()
        cost = Decimal(rng.choice([0, 0, 5000, 12000, 25000, 40000, 80000])) if rng.random() < 0.6 else None
        decisions.decide(
            session, settings=settings, workspace_id=workspace_id, actor=reviewer, key=review.number,
            form=decisions.DecisionForm(outcome=outcome, rationale=rng.choice(words[str(outcome)]),
                                        conditions=conditions, cost_avoided=cost or None),
            now=at,
        )
    # Some safeguards get done or waived later; a few reviews are reopened.
    for condition in list(review.conditions):
        later = at + timedelta(days=rng.uniform(1, 25))
        if later < now and condition.state == "open":
            if rng.random() < 0.6:
                safeguards.complete_condition(session, settings=settings, workspace_id=workspace_id,
                                              actor=lifecycle.Actor(condition.owner_id), condition_id=condition.id,
                                              now=later)
            elif rng.random() < 0.15:
                safeguards.waive_condition(session, settings=settings, workspace_id=workspace_id, actor=reviewer,
                                           condition_id=condition.id, reason="Compensating control in place",
                                           now=later)
    if review.state not in OPEN_STATES and rng.random() < 0.04:
        later = at + timedelta(days=2)
        if later < now:
            transitions.reopen(session, settings=settings, workspace_id=workspace_id, actor=reviewer, key=review.number,
                               reason="Scope changed: the vendor now also processes payroll data", now=later)
