"""Every digest figure against values worked out by hand on a small fixed data set (UTC, week of 9 March)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from bot.figures import metrics, periods, reports
from bot.figures.periods import Period
from storage.models import AuditEvent, Condition, Decision, Review, Workspace

UTC_TZ = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
WS = "T1"
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday: "last week" is Mon 9 – Sun 15 March


def at(day: int, hour: int = 9, month: int = 3) -> datetime:
    """An instant in March 2026 (UTC)."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def add_workspace(session: Session) -> None:
    """The workspace every row belongs to."""
    session.add(Workspace(id=WS, name="Test"))
    session.flush()


def add_review(session: Session, number: int, **values: Any) -> Review:
    """A review row with sensible defaults; the test gives what matters to it."""
    announced = values.pop("announced_at")
    row = Review(
        workspace_id=WS,
        number=number,
        title=values.pop("title", f"Project {number}"),
        owner_id=values.pop("owner_id", "UOWNER"),
        announcer_id="UOWNER",
        state=values.pop("state", "announced"),
        announced_at=announced,
        first_response_due=values.pop("first_response_due", announced + timedelta(days=1)),
        due_at=values.pop("due_at", announced + timedelta(days=7)),
        updated_at=announced,
        **values,
    )
    session.add(row)
    session.flush()
    return row


def add_decision(
    session: Session, review: Review, outcome: str, decided_at: datetime, **values: Any
) -> Decision:
    """A decision on a review (the review's decided_at and state follow)."""
    row = Decision(
        workspace_id=WS,
        review_id=review.id,
        outcome=outcome,
        decided_by="UREVIEWER",
        decided_at=decided_at,
        regulations=values.pop("regulations", list(review.regulations)),
        **values,
    )
    session.add(row)
    review.state = outcome
    review.decided_at = decided_at
    session.flush()
    return row


@pytest.fixture
def data(session: Session) -> dict[str, Review]:
    """The fixed data set, in this test's database."""
    return build_data(session)


def build_data(session: Session) -> dict[str, Review]:
    """The fixed data set; each figure's expected value below is worked out from these rows by hand."""
    add_workspace(session)
    r = {}
    # R1: announced Mon 9 09:00, answered 13:00 (4 h), approved Wed 11 09:00 (2 working days), live Fri 13.
    r["R1"] = add_review(
        session,
        1,
        announced_at=at(9),
        first_response_at=at(9, 13),
        due_at=at(16),
        go_live=date(2026, 3, 13),
        tags=["ai", "saas"],
        regulations=["GDPR"],
    )
    add_decision(session, r["R1"], "approved", at(11), cost_avoided=Decimal("1000"), currency="EUR")
    # R2: announced Fri 6 16:00, answered Mon 9 10:00 (8 + 10 = 18 working hours), decided with conditions
    # Fri 13 16:00 = exactly its due date (5 working days).
    r["R2"] = add_review(
        session,
        2,
        announced_at=at(6, 16),
        first_response_at=at(9, 10),
        due_at=at(13, 16),
        tags=["cloud"],
        regulations=["PCI DSS"],
    )
    d2 = add_decision(
        session, r["R2"], "approved_with_conditions", at(13, 16), cost_avoided=Decimal("500"), currency="EUR"
    )
    session.add(
        Condition(
            workspace_id=WS,
            review_id=r["R2"].id,
            decision_id=d2.id,
            text="MFA",
            owner_id="UOWNER",
            due_date=date(2026, 3, 14),
            state="open",
            created_at=at(13, 16),
        )
    )
    # R3: announced Tue 10 10:00, untouched, goes live 1 April (22 days later: upcoming).
    r["R3"] = add_review(
        session,
        3,
        announced_at=at(10, 10),
        due_at=at(17, 10),
        go_live=date(2026, 4, 1),
        tags=["ai"],
        title="Chatbot <!channel> & co",
    )
    # R4: announced Mon 2 09:00 (previous week), answered 12:00 (3 h), due Mon 9 09:00: overdue by 7 days.
    r["R4"] = add_review(
        session,
        4,
        announced_at=at(2),
        first_response_at=at(2, 12),
        due_at=at(9),
        state="in_review",
        assignee_id="UREVIEWER",
        tags=["ai"],
    )
    # R5: announced Wed 11 09:00, rejected Thu 12 09:00 (24 h, 1 working day), after its due date (08:00).
    r["R5"] = add_review(
        session,
        5,
        announced_at=at(11),
        first_response_at=at(12),
        due_at=at(12, 8),
        tags=["payments"],
        regulations=["PCI DSS"],
    )
    add_decision(session, r["R5"], "rejected", at(12), cost_avoided=Decimal("2000"), currency="USD")
    # R6: announced Thu 12, withdrawn; its go-live (Thu 12) does not count.
    r["R6"] = add_review(
        session, 6, announced_at=at(12), state="withdrawn", go_live=date(2026, 3, 12), tags=["ai"]
    )
    # R7: announced Mon 23 Feb, in review, went live Tue 10 March undecided; due 2 March: 14 days overdue.
    r["R7"] = add_review(
        session,
        7,
        announced_at=datetime(2026, 2, 23, 9, tzinfo=UTC),
        first_response_at=datetime(2026, 2, 23, 10, tzinfo=UTC),
        due_at=at(2),
        state="in_review",
        go_live=date(2026, 3, 10),
        tags=["cloud"],
    )
    # R8: decided in February with a condition (due 1 March) done on Tue 10 March; 300 EUR saved.
    r["R8"] = add_review(session, 8, announced_at=datetime(2026, 2, 2, 9, tzinfo=UTC), tags=["saas"])
    d8 = add_decision(
        session,
        r["R8"],
        "approved_with_conditions",
        datetime(2026, 2, 20, 9, tzinfo=UTC),
        cost_avoided=Decimal("300"),
        currency="EUR",
    )
    session.add(
        Condition(
            workspace_id=WS,
            review_id=r["R8"].id,
            decision_id=d8.id,
            text="Pen test",
            owner_id="UOWNER",
            due_date=date(2026, 3, 1),
            state="done",
            created_at=datetime(2026, 2, 20, 9, tzinfo=UTC),
            closed_at=at(10),
        )
    )
    session.flush()
    return r


def report(session: Session) -> reports.Report:
    """Last week's report for the fixed data set."""
    period = periods.period_for("week", now=NOW, tz=UTC_TZ)
    return reports.compute(session, workspace_id=WS, period=period, now=NOW, tz=UTC_TZ, currency="EUR")


def test_period_is_the_last_complete_week(data: dict[str, Review], session: Session) -> None:
    """ "Last week" runs Monday 00:00 to Monday 00:00; the previous period is the week before."""
    rep = report(session)
    assert (rep.period.start, rep.period.end) == (at(9, 0), at(16, 0))
    assert (rep.previous_period.start, rep.previous_period.end) == (at(2, 0), at(9, 0))


def test_counts_and_rates(data: dict[str, Review], session: Session) -> None:
    """Announced R1 R3 R5 R6; decided R1 R2 R5 (2 of 3 approved); before: R2 R4 announced, nothing decided."""
    rep = report(session)
    assert rep.announced == 4
    assert rep.decided == 3
    assert rep.decided_by_outcome == {"approved": 1, "approved_with_conditions": 1, "rejected": 1}
    assert rep.approval_rate == pytest.approx(2 / 3)
    assert rep.previous.announced == 2
    assert rep.previous.decided == 0
    assert rep.previous.approval_rate is None
    assert rep.deltas["announced"] == 2
    assert rep.deltas["approval_rate"] is None


def test_time_to_first_response(data: dict[str, Review], session: Session) -> None:
    """[4, 18, 24] working hours: median 18, p90 18 + 0.8 × 6 = 22.8; before: R4's 3 h."""
    rep = report(session)
    assert rep.first_response_median_hours == pytest.approx(18)
    assert rep.first_response_p90_hours == pytest.approx(22.8)
    assert rep.previous.first_response_median_hours == pytest.approx(3)
    assert rep.deltas["first_response_median_hours"] == pytest.approx(15)


def test_time_to_decision_and_sla(data: dict[str, Review], session: Session) -> None:
    """[1, 2, 5] working days: median 2, p90 2 + 0.8 × 3 = 4.4; SLA met by R1 and R2 (just), not R5."""
    rep = report(session)
    assert rep.decision_median_days == pytest.approx(2)
    assert rep.decision_p90_days == pytest.approx(4.4)
    assert rep.sla_met_rate == pytest.approx(2 / 3)
    assert rep.previous.decision_median_days is None
    assert rep.previous.sla_met_rate is None


def test_early_engagement_and_reviewed_before_go_live(data: dict[str, Review], session: Session) -> None:
    """Announced with go-live: R1 4 d, R3 22 d (R6 withdrawn): median 13. Live: R1 decided, R7 not: 50 %."""
    rep = report(session)
    assert rep.early_engagement_median_days == pytest.approx(13)
    assert rep.reviewed_before_go_live_rate == pytest.approx(0.5)
    assert rep.went_live == 2
    assert rep.previous.reviewed_before_go_live_rate is None
    assert rep.previous.early_engagement_median_days is None


def test_backlog_and_overdue(data: dict[str, Review], session: Session) -> None:
    """End: R3, R4, R7 open; R7 (14 d), R4 (7 d) overdue. Week before: R2 (decided later), R4, R7; R7 late."""
    rep = report(session)
    assert rep.backlog_end == 3
    assert rep.overdue_count == 2
    assert rep.overdue_oldest == [("SR-7", "Project 7", 14), ("SR-4", "Project 4", 7)]
    assert rep.previous.backlog_end == 3
    assert rep.previous.overdue_count == 1


def test_conditions(data: dict[str, Review], session: Session) -> None:
    """Opened: R2's; closed: R8's; overdue at the end: R2's (due 14 March); a week before: R8's (1 March)."""
    rep = report(session)
    assert (rep.conditions_opened, rep.conditions_closed, rep.conditions_overdue) == (1, 1, 1)
    previous = rep.previous
    assert (previous.conditions_opened, previous.conditions_closed, previous.conditions_overdue) == (0, 0, 1)


def test_savings(data: dict[str, Review], session: Session) -> None:
    """EUR 1,000 + 500 this week, + 300 in February year to date; USD kept apart, never summed in."""
    rep = report(session)
    assert rep.currency == "EUR"
    assert rep.savings_period == Decimal("1500.00")
    assert rep.savings_ytd == Decimal("1800.00")
    assert rep.savings_other == {"USD": Decimal("2000.00")}
    assert rep.previous.savings_period == Decimal("0.00")


def test_trends_rising_first(data: dict[str, Review], session: Session) -> None:
    """ai 3 against (1+0+0+0)/4; saas and payments 1 against 0; cloud 0 against 2/4: falling, last."""
    rep = report(session)
    assert [(t.tag, t.count, t.avg_prev4, t.change) for t in rep.trends] == [
        ("ai", 3, 0.25, 2.75),
        ("payments", 1, 0.0, 1.0),
        ("saas", 1, 0.0, 1.0),
        ("cloud", 0, 0.5, -0.5),
    ]


def test_regulations_and_upcoming(data: dict[str, Review], session: Session) -> None:
    """PCI DSS: R2 (decided) and R5; GDPR: R1. Upcoming in 4 weeks from 18 March: R3 on 1 April."""
    rep = report(session)
    assert rep.regulations == [("PCI DSS", 2), ("GDPR", 1)]
    assert rep.upcoming_total == 1
    upcoming = [(g.key, g.go_live, g.state) for g in rep.upcoming_go_lives]
    assert upcoming == [("SR-3", date(2026, 4, 1), "announced")]


def test_to_dict_is_json(data: dict[str, Review], session: Session) -> None:
    """The report serialises to JSON (Decimals as strings, dates in ISO 8601)."""
    import json

    rep = report(session).to_dict()
    text = json.dumps(rep)
    assert rep["savings_ytd"] == "1800.00"
    assert rep["period"]["start"] == "2026-03-09T00:00:00+00:00"
    assert rep["previous"]["announced"] == 2
    assert "Chatbot" in text


def test_empty_periods_divide_by_nothing(session: Session) -> None:
    """No data at all: counts are 0, rates and medians None, nothing raises."""
    add_workspace(session)
    rep = report(session)
    assert rep.announced == rep.decided == rep.backlog_end == rep.overdue_count == 0
    assert rep.approval_rate is None and rep.sla_met_rate is None
    assert rep.first_response_median_hours is None and rep.decision_p90_days is None
    assert rep.early_engagement_median_days is None and rep.reviewed_before_go_live_rate is None
    assert rep.trends == [] and rep.regulations == [] and rep.upcoming_go_lives == []
    assert rep.deltas["announced"] == 0 and rep.deltas["approval_rate"] is None


def _audit(
    session: Session, seq: int, review: Review, when: datetime, from_state: str | None, to_state: str
) -> None:
    session.add(
        AuditEvent(
            workspace_id=WS,
            seq=seq,
            review_id=review.id,
            review_key=review.key,
            actor="U1",
            at=when,
            action="x",
            from_state=from_state,
            to_state=to_state,
            prev_hash="0" * 64,
            hash="0" * 64,
        )
    )


def test_backlog_of_a_past_period_is_rebuilt_from_the_audit_log(session: Session) -> None:
    """Decided before the end and reopened since: not in that backlog; open then, withdrawn since: in it."""
    add_workspace(session)
    reopened = add_review(session, 1, announced_at=at(2), state="in_review", due_at=at(20))
    _audit(session, 1, reopened, at(2), None, "announced")
    _audit(session, 2, reopened, at(4), "announced", "approved")
    _audit(session, 3, reopened, at(17), "approved", "in_review")
    withdrawn = add_review(session, 2, announced_at=at(3), state="withdrawn", due_at=at(10))
    _audit(session, 4, withdrawn, at(3), None, "announced")
    _audit(session, 5, withdrawn, at(17), "announced", "withdrawn")
    # Opened after the end: never in that backlog, even though its later changes are in the log.
    later = add_review(session, 3, announced_at=at(16, 10), state="in_review")
    _audit(session, 6, later, at(16, 10), None, "announced")
    _audit(session, 7, later, at(17), "announced", "in_review")
    session.flush()
    backlog = metrics.open_at(session, WS, at(16, 0))
    assert [r.key for r in backlog] == ["SR-2"]
    assert [r.key for r in metrics.overdue(backlog, at(16, 0))] == ["SR-2"]


def test_a_reopened_and_redecided_review(session: Session) -> None:
    """Both decisions count as decided; time to decision times the first one; SLA judges the one in force."""
    add_workspace(session)
    review = add_review(session, 1, announced_at=at(9), due_at=at(10))
    add_decision(session, review, "approved", at(10, 12))  # one working day and 3 h: after its first due date
    review.due_at = at(17)  # the reopen sets a fresh due date
    add_decision(session, review, "rejected", at(12))
    session.flush()
    rep = report(session)
    assert rep.decided == 2
    assert rep.decision_median_days == pytest.approx(1.125)
    assert rep.sla_met_rate == 1.0


def test_percentile_interpolates_like_percentile_cont() -> None:
    """Linear interpolation between ranks, as PostgreSQL's percentile_cont."""
    assert metrics.percentile([], 0.5) is None
    assert metrics.percentile([7.0], 0.9) == 7.0
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert metrics.percentile([10.0, 0.0, 5.0], 0.9) == pytest.approx(9.0)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        # After the spring change: the week of 23 March starts at 00:00 CET and ends at 00:00 CEST (167 h).
        (
            datetime(2026, 4, 1, 10, tzinfo=UTC),
            datetime(2026, 3, 22, 23, tzinfo=UTC),
            datetime(2026, 3, 29, 22, tzinfo=UTC),
        ),
        # After the autumn change (Sunday 25 October): 169 hours.
        (
            datetime(2026, 10, 28, 10, tzinfo=UTC),
            datetime(2026, 10, 18, 22, tzinfo=UTC),
            datetime(2026, 10, 25, 23, tzinfo=UTC),
        ),
        # Sunday 23:30 in Paris (CEST, just after the change) still belongs to the week of 23 March.
        (
            datetime(2026, 3, 29, 21, 30, tzinfo=UTC),
            datetime(2026, 3, 15, 23, tzinfo=UTC),
            datetime(2026, 3, 22, 23, tzinfo=UTC),
        ),
        # Monday 00:30 in Paris is the new week while UTC is still Sunday.
        (
            datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
            datetime(2026, 3, 22, 23, tzinfo=UTC),
            datetime(2026, 3, 29, 22, tzinfo=UTC),
        ),
    ],
)
def test_weeks_start_monday_midnight_local(now: datetime, start: datetime, end: datetime) -> None:
    """Periods are cut at local midnight, whatever the offset that week."""
    period = periods.period_for("week", now=now, tz=PARIS)
    assert (period.start, period.end) == (start, end)
    assert period.local_start(PARIS).weekday() == 0


def test_months_quarters_and_periods_to_date() -> None:
    """Last month, this quarter to date, and the same span of the period before."""
    now = datetime(2026, 5, 13, 12, tzinfo=UTC)
    last_month = periods.period_for("month", now=now, tz=UTC_TZ)
    assert last_month.start == datetime(2026, 4, 1, tzinfo=UTC)
    assert last_month.end == datetime(2026, 5, 1, tzinfo=UTC)
    assert periods.shifted(last_month, -1, UTC_TZ).start == datetime(2026, 3, 1, tzinfo=UTC)
    quarter = periods.period_for("quarter", now=now, tz=UTC_TZ, which="this")
    assert (quarter.start, quarter.end) == (datetime(2026, 4, 1, tzinfo=UTC), now)
    assert not quarter.is_complete(UTC_TZ)
    before = periods.shifted(quarter, -1, UTC_TZ)
    assert before.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert before.end == datetime(2026, 2, 12, 12, tzinfo=UTC)
    # 31 March to date maps onto February, capped at its end.
    march = periods.period_for("month", now=datetime(2026, 3, 31, 18, tzinfo=UTC), tz=UTC_TZ, which="this")
    assert periods.shifted(march, -1, UTC_TZ).end == datetime(2026, 3, 1, tzinfo=UTC)
    assert periods.period_from_name("this-week", now=now, tz=UTC_TZ) == Period(
        datetime(2026, 5, 11, tzinfo=UTC), now, "week"
    )
    with pytest.raises(ValueError, match="last-week"):
        periods.period_from_name("yesterday", now=now, tz=UTC_TZ)


def test_every_figure_has_a_definition() -> None:
    """The definitions the README quotes exist and say what is counted."""
    definitions = metrics.definitions()
    assert len(definitions) >= 15
    assert all(text and ":" in text.splitlines()[0] for text in definitions.values())


def test_home_figures_are_this_week_so_far(data: dict[str, Review], session: Session) -> None:
    """App Home on Wednesday 18 March: the week of 16 March to date, by the same definitions."""
    figures = reports.home_figures(session, workspace_id=WS, now=NOW, tz=UTC_TZ)
    # Nothing announced or decided since Monday; R3 (due Tuesday), R4 and R7 are open and overdue.
    assert figures == {
        "announced": 0,
        "decided": 0,
        "approval_rate": None,
        "median_decision_days": None,
        "overdue": 3,
        "backlog": 3,
    }
