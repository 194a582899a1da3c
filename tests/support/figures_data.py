"""The hand-computed data set of the figures tests: a few weeks of one workspace, made through the real lifecycle.

Every change goes through bot/review (open, intake, take, decide, reopen, withdraw, safeguards) at a fixed instant,
in time order, so the audit log is what the app writes. Times are UTC; the SLA is 5 business days (a review
announced Monday 09:00 is due the next Monday 09:00, a first response the Tuesday 09:00).

The week under test is Mon 9 – Sun 15 March 2026 ("last week" on Wed 18 March); the week before is Mon 2 – Sun
8 March. Each review's story, and what it gives, is written beside it; the expected figures are worked out from
these lines by hand in tests/unit/test_metrics.py.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from bot import intake
from bot.config import Settings
from bot.review import announcements, decisions, intake_answers, safeguards, transitions
from bot.review.lifecycle import Actor
from tests.support.builders import ANSWERS, OWNER, REVIEWER, make_settings

WS = "T0FIGURES"
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # Wednesday: last week is Mon 9 – Sun 15 March
CARD_ANSWERS = dataclasses.replace(ANSWERS, sensitive_data=frozenset({"payment_card"}), third_parties="Adyen")


def at(day: int, hour: int = 9, month: int = 3) -> datetime:
    """An instant of 2026 (UTC), in March unless told."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


class Story:
    """Plays the lifecycle for one workspace: each call names the review by its key number and gives the instant."""

    def __init__(self, session: Session, settings: Settings | None = None, workspace_id: str = WS) -> None:
        self.session = session
        self.settings = settings or make_settings()
        self.workspace_id = workspace_id
        self.rules = self.settings.intake_rules()
        self._ts = 0

    def announce(self, when: datetime, title: str, text: str = "New project") -> int:
        """Opens a review for an announcement; returns its number."""
        self._ts += 1
        opened = announcements.open_review(
            self.session, settings=self.settings, detector=intake.Detector(self.rules), workspace_id=self.workspace_id,
            actor=OWNER, text=text, source_channel="CANNOUNCE1", source_ts=f"1700000000.{self._ts:06d}", title=title,
            now=when,
        )
        return opened.review.number

    def intake(self, when: datetime, key: int, title: str, go_live: date | None,
               answers: intake.IntakeAnswers = ANSWERS) -> None:
        """The owner's intake answers."""
        form = intake_answers.IntakeForm(title=title, summary="", owner_id=OWNER.user_id, go_live=go_live,
                                         answers=answers)
        intake_answers.submit_intake(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                     actor=OWNER, key=key, form=form, rules=self.rules, now=when)

    def take(self, when: datetime, key: int) -> None:
        """A reviewer takes it: the first response."""
        transitions.take(self.session, settings=self.settings, workspace_id=self.workspace_id, actor=REVIEWER, key=key,
                         now=when)

    def decide(self, when: datetime, key: int, outcome: str, *, conditions: tuple[str, ...] = (),
               cost: str | None = None, currency: str = "EUR", condition_due: date | None = None) -> None:
        """A reviewer's decision (with safeguards, an estimated cost avoided, in a currency)."""
        settings = self.settings if currency == self.settings.secreview_currency else make_settings(
            secreview_currency=currency)
        form = decisions.DecisionForm(outcome=outcome, rationale="Reasons.", conditions=conditions,
                                      cost_avoided=Decimal(cost) if cost else None, condition_due=condition_due)
        decisions.decide(self.session, settings=settings, workspace_id=self.workspace_id, actor=REVIEWER, key=key,
                         form=form, now=when)

    def reopen(self, when: datetime, key: int) -> None:
        """A reviewer reopens a decided review: a fresh due date."""
        transitions.reopen(self.session, settings=self.settings, workspace_id=self.workspace_id, actor=REVIEWER,
                           key=key, reason="Scope changed", now=when)

    def withdraw(self, when: datetime, key: int) -> None:
        """The owner withdraws it."""
        transitions.withdraw(self.session, settings=self.settings, workspace_id=self.workspace_id, actor=OWNER,
                             key=key, reason="Postponed", now=when)

    def safeguard_done(self, when: datetime, key: int, index: int = 0) -> None:
        """The owner marks one of the review's safeguards done."""
        from bot.review.lifecycle import get_review

        review = get_review(self.session, workspace_id=self.workspace_id, key=key)
        safeguards.complete_condition(self.session, settings=self.settings, workspace_id=self.workspace_id,
                                      actor=Actor(OWNER.user_id), condition_id=review.conditions[index].id, now=when)


def build(session: Session) -> Story:
    """The data set, in time order (keys SR-1 … SR-10 in the order of announcement)."""
    s = Story(session)
    # SR-1: decided with a safeguard (due 1 March) in February, 300 EUR; the safeguard is done Tue 10 March.
    s.announce(at(16, month=2), "Vendor risk register")
    s.decide(at(20, month=2), 1, "approved_with_conditions", conditions=("Pen test",), cost="300",
             condition_due=date(2026, 3, 1))
    # SR-2: announced Mon 23 Feb, taken at once, goes live Tue 10 March still in review: live without a decision.
    # Due Mon 2 March 09:00, never decided: overdue 14 days at the week's end.
    s.announce(at(23, month=2), "Cloud backup", "Kick-off: cloud backup of the file servers")
    s.take(at(23, 10, month=2), 2)
    s.intake(at(23, 11, month=2), 2, "Cloud backup", date(2026, 3, 10))
    # SR-3: announced Mon 2 March, taken after 3 h, never decided: due Mon 9 March 09:00 (in the week), missed.
    s.announce(at(2), "Staff rota tool")
    # SR-4: announced Mon 2 March, approved Wed 4 09:00 (48 h, 2 working days, 4000 EUR), reopened Tue 10 March
    # (a fresh due date, Tue 17), rejected Thu 12 (3000 EUR). Its first due date, Mon 9 09:00, was met.
    s.announce(at(2), "Partner newsletter tool")
    # SR-5: announced Mon 2 March 10:00 with a go-live on Wed 11 March, rejected Thu 5 10:00 (72 h, 3 working
    # days): live despite a rejection.
    s.announce(at(2, 10), "Expense app", "We are launching an expense app, go-live 2026-03-11")
    s.take(at(2, 12), 3)
    s.decide(at(4), 4, "approved", cost="4000")
    s.decide(at(5, 10), 5, "rejected")
    # SR-6: announced Fri 6 March 16:00; first response Mon 9 10:00 (8 + 10 = 18 working hours, due Mon 16:00);
    # approved with a safeguard due Sat 14 March exactly at its due date, Fri 13 16:00 (5 working days), 500 EUR.
    s.announce(at(6, 16), "Data warehouse")
    # SR-7: announced Mon 9 March with a go-live Fri 13; intake 10:00; taken 13:00 (4 h); approved Wed 11 09:00
    # (2 working days, 1000 EUR): reviewed before go-live.
    s.announce(at(9), "CRM migration", "Kick-off: new CRM project with Salesforce, go-live 2026-03-13")
    s.take(at(9, 10), 6)
    s.intake(at(9, 10), 7, "CRM migration", date(2026, 3, 13))
    s.take(at(9, 13), 7)
    s.safeguard_done(at(10), 1)
    s.reopen(at(10), 4)
    # SR-8: announced Tue 10 March 10:00, go-live 1 April (22 days later), never touched: its first response
    # (due Wed 11 10:00) is missed.
    s.announce(at(10, 10), "Chatbot <!channel> & co",
               "New project: Chatbot <!channel> & co on OpenAI, go-live 2026-04-01")
    s.decide(at(11), 7, "approved", cost="1000")
    # SR-9: announced Wed 11 March, intake with card data (PCI DSS), rejected Thu 12 09:00 (24 h, 1 working day),
    # 2000 USD (another currency: never summed in).
    s.announce(at(11), "Card payments in the app", "New project: card payments in the mobile app")
    s.intake(at(11, 11), 9, "Card payments in the app", None, CARD_ANSWERS)
    s.decide(at(12), 9, "rejected", cost="2000", currency="USD")
    s.decide(at(12), 4, "rejected", cost="3000")
    # SR-10: announced Thu 12 March with a go-live that day, withdrawn at 15:00: left out of everything judged.
    s.announce(at(12), "Canteen posters", "Kick-off: a poster campaign for the canteen, go-live 2026-03-12")
    s.withdraw(at(12, 15), 10)
    s.decide(at(13, 16), 6, "approved_with_conditions", conditions=("MFA",), cost="500",
             condition_due=date(2026, 3, 14))
    session.flush()
    return s


def change_everything_later(s: Story) -> None:
    """After the week, in time order: what would move its figures if they were read from today's rows."""
    s.reopen(at(19), 7)  # SR-7's approval (last week) reopened: not in force any more today
    s.decide(at(19), 3, "approved")  # SR-3, undecided at its due date and overdue at the week's end, decided since
    s.decide(at(19, 10), 2, "approved")  # SR-2, live without a decision then, decided since
    s.reopen(at(19, 11), 6)  # SR-6 reopened: a fresh due date; its savings no longer in force today
    s.safeguard_done(at(19, 12), 6)  # SR-6's MFA, overdue at the week's end, done since
    s.intake(at(19, 13), 8, "Chatbot", date(2026, 4, 20))  # SR-8's go-live moves (22 → 41 days' notice), GDPR
    s.decide(at(20), 7, "rejected", cost="9000")  # SR-7 decided again, the other way
    s.withdraw(at(20, 10), 8)  # SR-8 withdrawn (it was open, and counted, at the week's end)
    s.session.flush()
