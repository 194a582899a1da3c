"""Every figure against values worked out by hand on the data set of tests/support/figures_data.py.

Each expected value is a literal, and the line above it says which reviews give it. The week under test is
Mon 9 – Sun 15 March 2026; "before" is Mon 2 – Sun 8 March (UTC, SLA 5 business days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from bot.figures import metrics, periods, presentation, reports
from bot.figures.periods import Period
from storage.models import Review, Workspace
from tests.support import figures_data
from tests.support.figures_data import Story, at

UTC_TZ = ZoneInfo("UTC")
# The direct-row helpers below serve tests that only need reviews to exist (tests/unit/test_scheduler.py).
WS = "T1"
NOW = figures_data.NOW


def add_workspace(session: Session, workspace_id: str = WS, created: datetime | None = None) -> None:
    """The workspace every row belongs to (installed on 1 January unless told)."""
    session.add(Workspace(id=workspace_id, name="Test", created_at=created or datetime(2026, 1, 1, tzinfo=UTC)))
    session.flush()


def add_review(session: Session, number: int, **values: Any) -> Review:
    """A review row with sensible defaults (no audit history); the test gives what matters to it."""
    announced = values.pop("announced_at")
    row = Review(
        workspace_id=values.pop("workspace_id", WS), number=number, title=values.pop("title", f"Project {number}"),
        owner_id=values.pop("owner_id", "UOWNER"), announcer_id="UOWNER", state=values.pop("state", "announced"),
        announced_at=announced, first_response_due=values.pop("first_response_due", announced + timedelta(days=1)),
        due_at=values.pop("due_at", announced + timedelta(days=7)), updated_at=announced, **values,
    )
    session.add(row)
    session.flush()
    return row


def week_of(session: Session, *, now: datetime = NOW, workspace_id: str = figures_data.WS) -> reports.Report:
    """Last week's report (as the digest posted on Monday would compute it, or later)."""
    period = periods.period_for("week", now=now, tz=UTC_TZ)
    return reports.compute(session, workspace_id=workspace_id, period=period, now=now, tz=UTC_TZ, currency="EUR")


@pytest.fixture
def story(session: Session) -> Story:
    """The hand-computed data set, in this test's database."""
    return figures_data.build(session)


def test_the_week_and_the_one_before(story: Story) -> None:
    """'Last week' on Wed 18 March: Mon 9 00:00 to Mon 16 00:00; compared with the week before."""
    rep = week_of(story.session)
    assert (rep.period.start, rep.period.end) == (at(9, 0), at(16, 0))
    assert (rep.previous_period.start, rep.previous_period.end) == (at(2, 0), at(9, 0))
    # The first event (SR-1, Mon 16 Feb 09:00) is before the previous week: it can be compared.
    assert rep.comparable is True and rep.tracking_since == at(16, month=2)


def test_announced_decided_approval(story: Story) -> None:
    """Announced SR-7..10; decided SR-7 approved, SR-6 with conditions, SR-9 and SR-4 (re-decided) rejected.

    Before: SR-3..6 announced; SR-4 approved, SR-5 rejected.
    """
    rep = week_of(story.session)
    assert (rep.announced, rep.previous.announced) == (4, 4)
    assert rep.decided_by_outcome == {"approved": 1, "approved_with_conditions": 1, "rejected": 2}
    assert (rep.decided, rep.approval_rate) == (4, 0.5)
    assert rep.previous.decided_by_outcome == {"approved": 1, "approved_with_conditions": 0, "rejected": 1}
    assert rep.previous.approval_rate == 0.5


def test_time_to_first_response(story: Story) -> None:
    """SR-7 4 h, SR-6 18 h (Fri 16:00 → Mon 10:00), SR-9 24 h: median 18, p90 18 + 0.8 × 6; before 3, 48, 72 h."""
    rep = week_of(story.session)
    assert (rep.first_response_median_hours, rep.first_response_p90_hours, rep.first_response_n) == (
        18.0, pytest.approx(22.8), 3)
    previous = rep.previous
    assert (previous.first_response_median_hours, previous.first_response_p90_hours, previous.first_response_n) == (
        48.0, pytest.approx(67.2), 3)


def test_time_to_decision_times_first_decisions_only(story: Story) -> None:
    """SR-9 1 d, SR-7 2 d, SR-6 5 d (SR-4's re-decision is not timed again); before SR-4 2 d, SR-5 3 d."""
    rep = week_of(story.session)
    assert (rep.decision_median_days, rep.decision_p90_days, rep.decision_n) == (2.0, pytest.approx(4.4), 3)
    assert (rep.previous.decision_median_days, rep.previous.decision_p90_days, rep.previous.decision_n) == (
        2.5, pytest.approx(2.9), 2)


def test_sla_counts_every_due_date_and_undecided_is_a_miss(story: Story) -> None:
    """Due in the week: SR-3 Mon 09:00 (undecided: missed), SR-4's first due Mon 09:00 (approved, then reopened
    after it: met), SR-5 Mon 10:00 (rejected before: met), SR-6 Fri 16:00 (decided at 16:00: met). 3 of 4.

    Before: SR-2 due Mon 2 March 09:00, never decided: 0 of 1, and it is still undecided.
    """
    rep = week_of(story.session)
    assert (rep.sla_met, rep.sla_due, rep.sla_undecided, rep.sla_met_rate) == (3, 4, 1, 0.75)
    assert (rep.previous.sla_met, rep.previous.sla_due, rep.previous.sla_undecided) == (0, 1, 1)


def test_first_response_sla(story: Story) -> None:
    """Due in the week: SR-6 Mon 16:00 (answered 10:00), SR-7 Tue 09:00, SR-8 Wed 10:00 (never), SR-9 Thu 09:00
    (decided at 09:00); SR-10 withdrawn before its due date: left out. 3 of 4. Before: SR-3 met; SR-4, SR-5 late."""
    rep = week_of(story.session)
    assert (rep.first_response_met, rep.first_response_due, rep.first_response_met_rate) == (3, 4, 0.75)
    assert (rep.previous.first_response_met, rep.previous.first_response_due) == (1, 3)


def test_early_engagement(story: Story) -> None:
    """Announced in the week with a go-live: SR-7 4 days, SR-8 22 days (SR-10 withdrawn): median 13; before SR-5 9."""
    rep = week_of(story.session)
    assert (rep.early_engagement_median_days, rep.early_engagement_n) == (13.0, 2)
    assert (rep.previous.early_engagement_median_days, rep.previous.early_engagement_n) == (9.0, 1)


def test_went_live_reviewed_without_a_decision_and_despite_a_rejection(story: Story) -> None:
    """Live in the week: SR-7 approved before (Fri 13), SR-2 still in review (Tue 10), SR-5 rejected (Wed 11);
    SR-10 withdrawn: left out. A rejection is not "reviewed before go-live": 1 of 3."""
    rep = week_of(story.session)
    assert (rep.went_live, rep.reviewed_before_go_live, rep.reviewed_before_go_live_rate) == (3, 1, 1 / 3)
    assert [(g.key, g.title, g.go_live, g.state) for g in rep.live_without_decision_named] == [
        ("SR-2", "Cloud backup", date(2026, 3, 10), "in_review")]
    assert [(g.key, g.go_live) for g in rep.live_despite_rejection_named] == [("SR-5", date(2026, 3, 11))]
    assert (rep.live_without_decision, rep.live_despite_rejection) == (1, 1)
    assert (rep.previous.went_live, rep.previous.reviewed_before_go_live_rate) == (0, None)


def test_a_project_announced_on_its_go_live_day_went_live_without_a_decision(session: Session) -> None:
    """Announced Wed 11 March 09:00 about a launch that day: nobody decided anything by the day's end."""
    s = Story(session, workspace_id="T0LATE")
    s.announce(at(11), "Expense app", "We are launching an expense app, go-live 2026-03-11")
    rep = week_of(session, workspace_id="T0LATE")
    assert [(g.key, g.state) for g in rep.live_without_decision_named] == [("SR-1", "announced")]
    assert (rep.went_live, rep.reviewed_before_go_live_rate, rep.early_engagement_median_days) == (1, 0.0, 0.0)


def test_backlog_and_overdue_at_the_end(story: Story) -> None:
    """Open at Mon 16 00:00: SR-2, SR-3, SR-8; overdue SR-2 (due 2 March: 14 days), SR-3 (due 9 March: 7 days).

    At the week before's end: SR-2, SR-3 and SR-6 (announced Friday) open; SR-2 overdue.
    """
    rep = week_of(story.session)
    assert (rep.backlog_end, rep.overdue_count) == (3, 2)
    assert rep.overdue_oldest == [("SR-2", "Cloud backup", 14), ("SR-3", "Staff rota tool", 7)]
    assert (rep.previous.backlog_end, rep.previous.overdue_count) == (3, 1)


def test_conditions(story: Story) -> None:
    """Opened SR-6's MFA; closed SR-1's pen test; overdue at the end: MFA (due 14 March). Before: pen test overdue."""
    rep = week_of(story.session)
    assert (rep.conditions_opened, rep.conditions_closed, rep.conditions_overdue) == (1, 1, 1)
    assert (rep.previous.conditions_opened, rep.previous.conditions_closed, rep.previous.conditions_overdue) == (
        0, 0, 1)


def test_savings_count_decisions_in_force(story: Story) -> None:
    """Week: SR-7 1000 + SR-6 500 + SR-4's re-decision 3000 (USD 2000 apart). Before: SR-4's approval 4000, in
    force at that week's end. Year to date: SR-1 300 + 4500; SR-4's first 4000 was reopened, so not counted twice."""
    rep = week_of(story.session)
    assert (rep.currency, rep.savings_period, rep.savings_ytd) == ("EUR", Decimal("4500.00"), Decimal("4800.00"))
    assert rep.savings_other == {"USD": Decimal("2000.00")}
    assert rep.previous.savings_period == Decimal("4000.00")


def test_trends_compare_only_weeks_the_workspace_existed_in(story: Story) -> None:
    """Tags this week: saas (SR-7), ai (SR-8), mobile and payments (SR-9). The workspace began Mon 16 Feb 09:00, so
    only the weeks of 2 March and 23 Feb are whole: cloud (SR-2) averages 1 / 2."""
    rep = week_of(story.session)
    assert rep.trend_periods == 2
    assert [(t.tag, t.count, t.average, t.change) for t in rep.trends] == [
        ("ai", 1, 0.0, 1.0), ("mobile", 1, 0.0, 1.0), ("payments", 1, 0.0, 1.0), ("saas", 1, 0.0, 1.0),
        ("cloud", 0, 0.5, -0.5),
    ]


def test_regulations_as_known_at_the_end(story: Story) -> None:
    """SR-7 (intake: personal data) GDPR; SR-9 (card data) PCI DSS; SR-8 has none yet."""
    assert week_of(story.session).regulations == [("GDPR", 1), ("PCI DSS", 1)]


def test_upcoming_go_lives_are_from_today(story: Story) -> None:
    """From Wed 18 March, four weeks: SR-8 on 1 April."""
    rep = week_of(story.session)
    assert rep.upcoming_total == 1
    assert [(g.key, g.go_live, g.state) for g in rep.upcoming_go_lives] == [("SR-8", date(2026, 4, 1), "announced")]


def _figures_of(rep: reports.Report) -> dict[str, Any]:
    data = rep.to_dict()
    for moving in ("generated_at", "upcoming_go_lives", "upcoming_total"):  # lists of today, not of the week
        data.pop(moving)
    return data


def test_a_closed_week_never_changes(story: Story) -> None:
    """Reopen and re-decide, decide the overdue, move a go-live, close a safeguard, withdraw: the week stays."""
    week = periods.period_for("week", now=NOW, tz=UTC_TZ)
    before = _figures_of(week_of(story.session))
    figures_data.change_everything_later(story)
    later = datetime(2026, 3, 25, 12, tzinfo=UTC)
    after = _figures_of(reports.compute(story.session, workspace_id=figures_data.WS, period=week, now=later,
                                        tz=UTC_TZ, currency="EUR"))
    assert after == before
    # Today's rows did change: a figure read from them would have moved.
    sr8 = story.session.query(Review).filter_by(workspace_id=figures_data.WS, number=8).one()
    assert (sr8.state, sr8.go_live, sr8.regulations) == ("withdrawn", date(2026, 4, 20), ["GDPR"])


def test_a_period_of_one_review_is_its_first_period(session: Session) -> None:
    """One review: announced Mon 9 09:00, taken 10:00, approved Tue 10 09:00; nothing before it to compare with."""
    s = Story(session, workspace_id="T0ONE")
    s.announce(at(9), "Only project")
    s.take(at(9, 10), 1)
    s.decide(at(10), 1, "approved")
    rep = week_of(session, workspace_id="T0ONE")
    assert (rep.announced, rep.decided, rep.approval_rate) == (1, 1, 1.0)
    assert (rep.first_response_median_hours, rep.first_response_p90_hours, rep.first_response_n) == (1.0, 1.0, 1)
    assert (rep.decision_median_days, rep.decision_n) == (1.0, 1)
    assert (rep.first_response_met, rep.first_response_due) == (1, 1)
    assert (rep.sla_due, rep.sla_met_rate) == (0, None)  # due Mon 16 March: next week
    assert (rep.backlog_end, rep.overdue_count, rep.comparable, rep.trend_periods) == (0, 0, False, 0)
    shown = presentation.present(rep, min_sample=1).figures
    assert {s.note for s in shown.values() if s.value is not None} == {"first_period"}


def test_an_empty_period(session: Session) -> None:
    """A workspace installed on 1 January with nothing in it: zeros, no rates, no medians, nothing raises."""
    add_workspace(session, "T0EMPTY")
    rep = week_of(session, workspace_id="T0EMPTY")
    assert (rep.announced, rep.decided, rep.backlog_end, rep.overdue_count, rep.went_live, rep.sla_due) == (
        0, 0, 0, 0, 0, 0)
    assert (rep.approval_rate, rep.sla_met_rate, rep.first_response_median_hours, rep.decision_p90_days) == (
        None, None, None, None)
    assert (rep.early_engagement_median_days, rep.reviewed_before_go_live_rate) == (None, None)
    assert rep.trends == [] and rep.regulations == [] and rep.upcoming_go_lives == []
    assert rep.comparable is True and rep.trend_periods == 4
    shown = presentation.present(rep).figures
    assert (shown["announced"].text, shown["announced"].trend, shown["announced"].verdict) == ("0", "same", None)
    assert (shown["approval_rate"].text, shown["approval_rate"].change) == (None, None)


def test_a_week_to_date_compares_the_same_span() -> None:
    """Wednesday noon: this week runs Mon 00:00 – now, compared with Mon 00:00 – Wed noon of the week before."""
    period = periods.period_for("week", now=NOW, tz=UTC_TZ, which="this")
    assert (period.start, period.end) == (at(16, 0), NOW)
    assert periods.shifted(period, -1, UTC_TZ) == Period(at(9, 0), at(11, 12), "week")


def test_named_periods_parse() -> None:
    """--period takes the names and one named week, month or quarter; a future or malformed one is refused."""
    tz = ZoneInfo("Europe/Paris")
    assert periods.period_from_name("2026-W11", now=NOW, tz=tz).start == datetime(2026, 3, 8, 23, tzinfo=UTC)
    assert periods.period_from_name("2026-02", now=NOW, tz=tz).kind == "month"
    q1 = periods.period_from_name("2026-Q1", now=NOW, tz=tz)
    assert (q1.kind, q1.end) == ("quarter", NOW)  # still running: to date
    for bad in ("2026-W60", "2026-13", "2027-Q1", "next-week"):
        with pytest.raises(ValueError):
            periods.period_from_name(bad, now=NOW, tz=tz)


def test_percentile_interpolates_like_percentile_cont() -> None:
    """PostgreSQL's percentile_cont(0.9) over 1..10 is 9.1; one value is its own median; none is None."""
    from bot.figures.window import percentile

    assert percentile([float(v) for v in range(1, 11)], 0.9) == pytest.approx(9.1)
    assert percentile([7.0], 0.5) == 7.0
    assert percentile([], 0.5) is None


def test_every_definition_is_documented_with_its_exclusions() -> None:
    """The README's definitions come from these docstrings: each names what it leaves out."""
    definitions = {name: " ".join(text.split()) for name, text in metrics.definitions().items()}
    assert "withdrawn or closed as not a project" in definitions["early_engagement"]
    assert "still undecided" in definitions["sla_met"] and "reopen" in definitions["sla_met"]
    assert "reopened before" in definitions["reviewed_before_go_live"]
    assert "reopened before" in definitions["savings"]
    assert all(definitions.values())


def test_the_readme_says_what_each_definition_says() -> None:
    """Each definition's first clause and every exclusion it names ("Left out: …", "Only …") are in the README."""
    import re
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8").split())
    for name, text in metrics.definitions().items():
        flat = " ".join(text.split())
        first = re.split(r"[;.]", flat.split(": ", 1)[1])[0]
        assert first in readme, (name, first)
        for exclusion in re.findall(r"(?:Left out|Only)[^.]*\.", flat):
            assert exclusion in readme, (name, exclusion)
