"""`secreview demo-data`: a plausible quarter of a security team's reviews, made through the real lifecycle.

Each review follows a plan of what its owner and a reviewer do and when (office hours, Monday to Friday); the
plans of all reviews are played in time order, so the audit log reads as it would have been written: nothing
is logged before what it follows. Every project of templates/demo_projects.toml appears once before any
appears again.
"""

from __future__ import annotations

import heapq
import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import intake
from bot.config import Settings
from bot.review import announcements, decisions, intake_answers, lifecycle, safeguards, transitions
from bot.review.states import DECIDED_STATES, OPEN_STATES, Outcome
from storage.models import Decision, OutboxMessage, Review, utcnow

DEMO_WORKSPACE = "TDEMO0001"
DEMO_REVIEWERS = ("USEC00001", "USEC00002")
DEMO_CISO = "UCISO0001"
DEMO_OWNERS = ("UOWN00001", "UOWN00002", "UOWN00003", "UOWN00004", "UOWN00005")
DEMO_CHANNEL = "CANNOUNCE1"
OFFICE_OPENS, OFFICE_CLOSES = 9, 18  # local hours people act in
SAVINGS = (5000, 8000, 12000, 15000, 20000, 25000, 40000, 60000)

Plan = Iterator[datetime]  # yields when it acts next; resumed at that moment, it acts


@dataclass(frozen=True)
class DemoSummary:
    """What demo-data created."""

    workspace_id: str
    reviews: int
    by_state: dict[str, int]


def _catalog() -> dict[str, Any]:
    text = resources.files("templates").joinpath("demo_projects.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


class _Demo:
    """The demo's people, words and clock, and the plan each review follows."""

    def __init__(self, session: Session, settings: Settings, workspace_id: str, rng: random.Random,
                 reviewers: tuple[str, ...], now: datetime) -> None:
        catalog = _catalog()
        self.session, self.settings, self.workspace_id, self.rng, self.now = session, settings, workspace_id, rng, now
        self.projects, self.words = catalog["project"], catalog["rationale"][0]
        self.rules = settings.intake_rules()
        self.detector = intake.Detector(self.rules, calendar=settings.calendar)
        self.reviewers = [lifecycle.Actor(r, is_reviewer=True) for r in reviewers]
        self.tz = settings.timezone

    def office(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of office time (weekdays, 09:00 to 18:00 local) after `start`."""
        local = start.astimezone(self.tz).replace(tzinfo=None)
        remaining = timedelta(hours=hours)
        while True:
            opens = local.replace(hour=OFFICE_OPENS, minute=0, second=0, microsecond=0)
            closes = local.replace(hour=OFFICE_CLOSES, minute=0, second=0, microsecond=0)
            if local.weekday() >= 5 or local >= closes:
                local = opens + timedelta(days=1)
                continue
            local = max(local, opens)
            if local + remaining <= closes:
                return (local + remaining).replace(tzinfo=self.tz).astimezone(start.tzinfo)
            remaining -= closes - local
            local = opens + timedelta(days=1)

    def announcement_moments(self, count: int, weeks: int = 13) -> list[datetime]:
        """`count` moments in office hours over the last `weeks` weeks, oldest first."""
        start = self.now - timedelta(weeks=weeks)
        span_hours = (self.now - start).total_seconds() / 3600 * (5 / 7) * (OFFICE_CLOSES - OFFICE_OPENS) / 24
        moments = sorted(self.office(start, self.rng.uniform(0, span_hours)) for _ in range(count))
        return [m for m in moments if m < self.now - timedelta(hours=1)]

    def plan(self, index: int, announced: datetime, *, hold: str = "") -> Plan:
        """One review's story, from its announcement to its last safeguard.

        `hold` keeps the newest reviews in the work of the day: "announced" (nobody took it yet), "in_review" (a
        reviewer is on it) or "needs_info" (the owner has not answered yet).
        """
        rng, words = self.rng, self.words
        project = self.projects[index % len(self.projects)]
        phase = index // len(self.projects)
        owner = lifecycle.Actor(DEMO_OWNERS[index % len(DEMO_OWNERS)])
        reviewer = rng.choice(self.reviewers)
        late = rng.random() < 0.08  # security hears of it a few days before launch
        go_live = (announced + timedelta(days=rng.randint(3, 8) if late else rng.randint(18, 80))).date()
        go_live += timedelta(days=max(0, 7 - go_live.weekday()) if go_live.weekday() >= 5 else 0)  # a weekday
        title = project["title"] + (f" (phase {phase + 1})" if phase else "")
        text = project["text"].format(golive=go_live.isoformat())
        yield announced
        review = announcements.open_review(
            self.session, settings=self.settings, detector=self.detector, workspace_id=self.workspace_id,
            actor=owner, text=text, source_channel=DEMO_CHANNEL, source_ts=f"{announced.timestamp():.6f}",
            now=announced,
        ).review
        key = review.number
        fate = rng.random()
        if fate < 0.04 and not hold:  # not a project: closed by a reviewer the same day
            yield (at := self.office(announced, rng.uniform(0.5, 5)))
            transitions.mark_not_applicable(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                            actor=reviewer, key=key, reason=rng.choice(words["not_applicable"]),
                                            now=at)
            return
        answers = intake.parse_answers(project["answers"])

        def form(at: datetime) -> intake_answers.IntakeForm:
            on_record = go_live if go_live >= at.astimezone(self.tz).date() else None
            return intake_answers.IntakeForm(title=title, summary=text, owner_id=owner.user_id, go_live=on_record,
                                             answers=answers)

        def submit(at: datetime) -> None:
            intake_answers.submit_intake(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                         actor=owner, key=key, form=form(at), rules=self.rules, now=at)

        has_intake = rng.random() < 0.93 or hold == "announced"
        # The newest one's owner answered at once (it was announced at least an hour ago): its intake is in.
        at = announced + timedelta(minutes=5) if hold == "announced" else self.office(announced, rng.uniform(0.3, 6))
        if has_intake:
            yield at
            submit(at)
        if hold == "announced":
            return
        yield (at := self.office(at, rng.uniform(0.3, 5) if rng.random() < 0.85 else rng.uniform(6, 16)))
        transitions.take(self.session, settings=self.settings, workspace_id=self.workspace_id, actor=reviewer,
                         key=key, now=at)
        if hold == "in_review":
            return
        if fate < 0.06 and not hold:  # the owner withdraws it
            yield (at := self.office(at, rng.uniform(3, 20)))
            transitions.withdraw(self.session, settings=self.settings, workspace_id=self.workspace_id, actor=owner,
                                 key=key, reason=rng.choice(words["withdrawn"]), now=at)
            return
        if not has_intake or hold or rng.random() < 0.18:
            yield (at := self.office(at, rng.uniform(1, 8)))
            transitions.request_info(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                     actor=reviewer, key=key, question=rng.choice(words["questions"]), now=at)
            if hold:
                return
            if rng.random() < 0.08:  # never answered: withdrawn after a reminder or two
                yield (at := self.office(at, rng.uniform(25, 45)))
                transitions.withdraw(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                     actor=owner, key=key, reason=rng.choice(words["withdrawn"]), now=at)
                return
            yield (at := self.office(at, rng.uniform(2, 24)))
            submit(at)
        yield (at := self.office(at, rng.uniform(3, 26) if rng.random() < 0.86 else rng.uniform(30, 70)))
        decision = self.decide(review, reviewer, at)
        yield from self.aftermath(review, reviewer, decision, at)

    def decide(self, review: Review, reviewer: lifecycle.Actor, at: datetime,
               outcome: str | None = None) -> Decision:
        """A decision as a reviewer makes it: the fast track for most low-risk work, else a considered one."""
        rng, words = self.rng, self.words
        if outcome is None and review.risk_tier == "low" and rng.random() < 0.7:
            return decisions.fast_track(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                        actor=reviewer, key=review.number, now=at)
        roll = rng.random()
        outcome = outcome or (Outcome.REJECTED if roll < 0.12 else Outcome.APPROVED if roll < 0.32
                              else Outcome.APPROVED_WITH_CONDITIONS)
        conditions = (tuple(rng.sample(words["conditions"], rng.randint(1, 3)))
                      if outcome == Outcome.APPROVED_WITH_CONDITIONS else ())
        cost = Decimal(rng.choice(SAVINGS)) if outcome != Outcome.APPROVED and rng.random() < 0.55 else None
        return decisions.decide(
            self.session, settings=self.settings, workspace_id=self.workspace_id, actor=reviewer, key=review.number,
            form=decisions.DecisionForm(outcome=outcome, rationale=rng.choice(words[str(outcome)]),
                                        conditions=conditions, cost_avoided=cost),
            now=at,
        )

    def aftermath(self, review: Review, reviewer: lifecycle.Actor, decision: Decision,
                  decided: datetime) -> Plan:
        """Safeguards done or waived over the following weeks, and now and then a reopen and a new decision."""
        rng = self.rng
        steps: list[tuple[datetime, str, Any]] = []
        for condition in [c for c in review.conditions if c.decision_id == decision.id]:
            # Most safeguards are done before their due date (the go-live); some a little after, a few waived.
            due = condition.due_date or (decided + timedelta(days=30)).date()
            office_days = max(1.0, (due - decided.astimezone(self.tz).date()).days * 5 / 7)
            roll = rng.random()
            if roll < 0.86:
                hours = rng.uniform(0.1, 0.95 if roll < 0.76 else 1.3) * office_days * (OFFICE_CLOSES - OFFICE_OPENS)
                steps.append((self.office(decided, hours), "done", condition.id))
            elif roll < 0.93:
                steps.append((self.office(decided, rng.uniform(8, 60)), "waive", condition.id))
        if (decision.outcome == Outcome.REJECTED and rng.random() < 0.4) or rng.random() < 0.03:
            steps.append((self.office(decided, rng.uniform(8, 50)), "reopen", None))
        for at, step, condition_id in sorted(steps, key=lambda s: s[0]):
            yield at
            if step == "done":
                safeguards.complete_condition(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                              actor=lifecycle.Actor(review.owner_id), condition_id=condition_id,
                                              now=at)
            elif step == "waive":
                safeguards.waive_condition(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                           actor=reviewer, condition_id=condition_id,
                                           reason="Compensating control in place", now=at)
            elif review.state in DECIDED_STATES:
                transitions.reopen(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                   actor=reviewer, key=review.number, reason=rng.choice(self.words["reopened"]),
                                   now=at)
                yield (again := self.office(at, rng.uniform(4, 24)))
                if review.state in OPEN_STATES:
                    self.decide(review, reviewer, again, outcome=Outcome.APPROVED_WITH_CONDITIONS)


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
    """Creates up to `count` reviews announced over the last 13 weeks; their notices are marked skipped, never sent."""
    now = now or utcnow()
    rng = random.Random(seed)
    demo = _Demo(session, settings, workspace_id, rng, reviewers, now)
    rng.shuffle(demo.projects)
    first_outbox_id = session.scalar(select(func.max(OutboxMessage.id))) or 0
    queue: list[tuple[datetime, int, Plan]] = []

    def resume(order: int, plan: Plan) -> None:
        # Runs the plan's step due now and schedules its next one, unless that lies in the future.
        at = next(plan, None)
        if at is not None and at < now:
            heapq.heappush(queue, (at, order, plan))

    moments = demo.announcement_moments(count)
    # The newest three are this week's work: one nobody has taken yet, one in review, one waiting for an answer.
    holds = {len(moments) - 1: "announced", len(moments) - 2: "in_review", len(moments) - 3: "needs_info"}
    for index, announced in enumerate(moments):
        resume(index, demo.plan(index, announced, hold=holds.get(index, "")))
    while queue:
        _, order, plan = heapq.heappop(queue)
        resume(order, plan)
    # Demo notices describe invented history: never deliver them to a real workspace.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id > first_outbox_id, OutboxMessage.state == "pending")
        .values(state="skipped", last_error="demo data")
    )
    session.flush()
    by_state = dict(session.execute(
        select(Review.state, func.count()).where(Review.workspace_id == workspace_id).group_by(Review.state)
    ).all())
    return DemoSummary(workspace_id, len(moments), {str(k): int(v) for k, v in by_state.items()})
