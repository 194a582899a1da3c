"""The working-day calendar: public holidays (SECREVIEW_HOLIDAYS) and closing days (the config's [calendar]).

What a user sees of it: SLA and first-response due dates, reminders, the figures' working time, and the
intake's "in N business days".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.common.calendar import WorkCalendar, closing_days_from_config
from bot.config import Settings, SettingsError, load_settings
from bot.figures import digest, periods, reminders, reports
from bot.review import transitions
from storage.models import Decision, OutboxMessage, Review
from tests.support import builders
from tests.unit.test_digest import make_settings, validate_message
from tests.unit.test_metrics import WS, add_review, add_workspace

PARIS = ZoneInfo("Europe/Paris")
UTC_TZ = ZoneInfo("UTC")
FR = WorkCalendar(PARIS, holidays="FR")



def add_decision(session: Session, review: Review, outcome: str, decided_at: datetime) -> Decision:
    """A decision on a review (the review's decided_at and state follow)."""
    row = Decision(workspace_id=WS, review_id=review.id, outcome=outcome, decided_by="UREVIEWER",
                   decided_at=decided_at, regulations=list(review.regulations))
    session.add(row)
    review.state, review.decided_at = outcome, decided_at
    return row

def paris(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    """A local instant in Paris."""
    return datetime(year, month, day, hour, tzinfo=PARIS)


# ----------------------------------------------------------------------------------------- arithmetic


def test_working_seconds_skip_weekends() -> None:
    """Friday 16:00 to Monday 10:00 is 18 working hours; a weekend alone is none; DST changes nothing."""
    plain = WorkCalendar(UTC_TZ)
    utc = lambda d, h=9: datetime(2026, 3, d, h, tzinfo=UTC)  # noqa: E731
    assert plain.working_seconds(utc(6, 16), utc(9, 10)) == 18 * 3600
    assert plain.working_seconds(utc(7, 10), utc(8, 20)) == 0
    assert plain.working_seconds(utc(9), utc(6)) == 0
    # Across the spring change in Paris (Sunday 29 March): still exactly one working day Friday to Monday.
    assert WorkCalendar(PARIS).working_seconds(paris(3, 27, 9), paris(3, 30, 9)) == 24 * 3600


def test_working_seconds_leave_out_holidays_whole_and_in_part() -> None:
    """Tuesday 14 July is Bastille Day in France: Monday 10:00 to Wednesday 10:00 is one working day there."""
    assert WorkCalendar(PARIS).working_seconds(paris(7, 13), paris(7, 15)) == 48 * 3600
    assert FR.working_seconds(paris(7, 13), paris(7, 15)) == 24 * 3600
    # Starting on the holiday itself: the clock runs from Wednesday 00:00.
    assert FR.working_seconds(paris(7, 14, 12), paris(7, 15, 10)) == 10 * 3600
    assert FR.working_seconds(paris(7, 14, 8), paris(7, 14, 18)) == 0
    # Over a whole year: 261 weekdays in 2026, of which 9 French public holidays fall on a weekday.
    year = FR.working_seconds(datetime(2026, 1, 1, tzinfo=PARIS), datetime(2027, 1, 1, tzinfo=PARIS))
    assert year == pytest.approx((261 - 9) * 86400, abs=3600)  # the DST hour falls on a Sunday, as said


def test_due_dates_skip_christmas_in_france() -> None:
    """Wednesday 23 December + 5 business days: 24, 28, 29, 30, 31 (the 25th is a holiday) → Thursday 31st."""
    announced = paris(12, 23)
    assert FR.add_business_days(announced, 5) == paris(12, 31).astimezone(UTC)
    assert FR.add_business_days(announced, 1) == paris(12, 24).astimezone(UTC)
    # Without a holiday calendar the 25th counts: Wednesday 30th.
    assert WorkCalendar(PARIS).add_business_days(announced, 5) == paris(12, 30).astimezone(UTC)
    # Announced on Christmas Day: the clock starts Monday 28th at 09:00.
    assert FR.add_business_days(paris(12, 25, 15), 1) == paris(12, 29, 9).astimezone(UTC)


def test_closing_days_add_to_the_holidays() -> None:
    """The company closes on the 24th and from the 28th to the 31st; New Year's Day is a holiday: due 8 Jan."""
    closed = closing_days_from_config({"closed": [date(2026, 12, 24), "2026-12-28..2026-12-31"]})
    calendar = WorkCalendar(PARIS, holidays="FR", closing_days=closed)
    assert calendar.add_business_days(paris(12, 23), 1) == paris(1, 4, year=2027).astimezone(UTC)
    assert calendar.add_business_days(paris(12, 23), 5) == paris(1, 8, year=2027).astimezone(UTC)
    assert not calendar.is_working_day(date(2026, 12, 29)) and calendar.is_working_day(date(2027, 1, 4))
    assert calendar.add_working_days(date(2026, 12, 23), 2) == date(2027, 1, 5)


def test_subdivisions_have_their_own_holidays() -> None:
    """Epiphany (6 January) is a holiday in Bavaria, not in Berlin; observed days count in the US."""
    assert not WorkCalendar(UTC_TZ, holidays="DE-BY").is_working_day(date(2027, 1, 6))
    assert WorkCalendar(UTC_TZ, holidays="DE-BE").is_working_day(date(2027, 1, 6))
    # 4 July 2026 is a Saturday: the Friday before is the observed holiday.
    assert not WorkCalendar(UTC_TZ, holidays="US-CA").is_working_day(date(2026, 7, 3))


# ------------------------------------------------------------------------------------------ settings


def test_holidays_setting_is_checked_and_normalised() -> None:
    """Lower case is accepted; an unknown country or subdivision stops start-up naming the variable."""
    assert load_settings(_env_file=None, secreview_holidays="us-ca").calendar.holidays == "US-CA"
    assert load_settings(_env_file=None, secreview_holidays="").calendar.holidays is None
    with pytest.raises(SettingsError, match=r"^SECREVIEW_HOLIDAYS: 'XX' is not a country"):
        load_settings(_env_file=None, secreview_holidays="XX")
    with pytest.raises(SettingsError, match=r"^SECREVIEW_HOLIDAYS: 'ZZ' is not a subdivision of FR"):
        load_settings(_env_file=None, secreview_holidays="FR-ZZ")


def test_closing_days_come_from_the_config_file(tmp_path: Path) -> None:
    """[calendar] closed in SECREVIEW_CONFIG; the intake rules in the same file still load."""
    config = tmp_path / "secreview.toml"
    config.write_text('[announcements]\nphrases = ["new project"]\n\n'
                      '[calendar]\nclosed = [2026-12-24, "2026-12-28..2026-12-30", "2026-12-24"]\n')
    settings = load_settings(_env_file=None, secreview_config=config, secreview_holidays="FR")
    assert settings.calendar.closing_days == (date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29),
                                              date(2026, 12, 30))
    assert settings.intake_rules().phrases == ("new project",)
    assert settings.calendar is settings.calendar  # built once


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"closed": "2026-12-24"}, r"^calendar\.closed: expected a list of dates"),
        ({"closed": ["24/12/2026"]}, r"^calendar\.closed\[0\]: expected a date like 2026-12-24"),
        ({"closed": [datetime(2026, 12, 24, 9)]}, r"^calendar\.closed\[0\]: expected a date without a time"),
        ({"closed": ["2026-12-31..2026-12-24"]}, r"^calendar\.closed\[0\]: the range .* ends before it starts"),
        ({"closed": ["2026-01-01..2027-12-31"]}, r"^calendar\.closed\[0\]: the range .* is longer than a year"),
        ({"holidays": "FR"}, r"^calendar\.holidays: unknown setting; expected closed"),
        ("2026-12-24", r"^calendar: expected a table"),
    ],
)
def test_bad_closing_days_name_the_key(section: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        closing_days_from_config(section)


# ------------------------------------------------------------------- what users see of the calendar


def test_a_review_announced_before_christmas_in_france(session: Session) -> None:
    """The due dates stored and the date the thread reply states skip the 25th."""
    settings = builders.make_settings(secreview_holidays="FR", secreview_timezone="Europe/Paris")
    review = builders.open_review(session, settings, now=paris(12, 23)).review
    assert review.due_at.astimezone(PARIS) == paris(12, 31)
    assert review.first_response_due.astimezone(PARIS) == paris(12, 24)
    thread = session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "thread_opened")).first()
    assert thread is not None
    assert "A decision is due by *31 Dec 2026*" in str(thread.payload["blocks"])


def test_a_reopen_sets_its_due_date_by_the_calendar(session: Session) -> None:
    """Reopened on 23 December: five working days in France are 24, 28, 29, 30, 31 December."""
    settings = builders.make_settings(secreview_holidays="FR", secreview_timezone="Europe/Paris")
    review = builders.open_review(session, settings, now=paris(12, 1)).review
    review.state = "approved"
    review.decided_at = paris(12, 2)
    session.flush()
    transitions.reopen(session, settings=settings, workspace_id=builders.WS, actor=builders.REVIEWER,
                       key=review.number, reason="scope grew", now=paris(12, 23))
    assert review.due_at.astimezone(PARIS) == paris(12, 31)


def test_needs_info_reminder_waits_out_a_holiday(session: Session) -> None:
    """Asked Friday 10 July 10:00: three working days are up on Wednesday 15th 10:00 without holidays, on
    Thursday 16th with Bastille Day (Tuesday 14th) left out."""
    add_workspace(session)
    add_review(session, 1, announced_at=paris(7, 8), first_response_at=paris(7, 10),
               info_requested_at=paris(7, 10), due_at=paris(7, 20), state="needs_info", owner_id="UOWNER")
    plain = make_settings(secreview_timezone="Europe/Paris")
    french = make_settings(secreview_timezone="Europe/Paris", secreview_holidays="FR")

    def needs_info(settings: Settings, now: datetime) -> list[str]:
        due = reminders.due_reminders(session, settings=settings, workspace_id=WS, now=now)
        return [d.reminder for d in due if d.reminder == reminders.NEEDS_INFO]

    assert needs_info(plain, paris(7, 15, 11)) == [reminders.NEEDS_INFO]
    assert needs_info(french, paris(7, 15, 11)) == []
    assert needs_info(french, paris(7, 16, 11)) == [reminders.NEEDS_INFO]


def test_no_reminders_on_a_holiday_they_wait_for_the_next_working_day(session: Session) -> None:
    """An overdue review: reminded on an ordinary Tuesday; in France not on Bastille Day, but on Wednesday."""
    add_workspace(session)
    add_review(session, 1, announced_at=paris(7, 1), first_response_at=paris(7, 2), due_at=paris(7, 8),
               state="in_review", assignee_id="UASSIGNEE")
    french = make_settings(secreview_timezone="Europe/Paris", secreview_holidays="FR")
    assert reminders.run_reminders(session, settings=french, workspace_id=WS, now=paris(7, 14, 9)) == []
    assert session.scalars(select(OutboxMessage)).all() == []
    sent = reminders.run_reminders(session, settings=french, workspace_id=WS, now=paris(7, 15, 9))
    assert [(r.reminder, r.day) for r in sent] == [(reminders.OVERDUE, date(2026, 7, 15))]
    [message] = session.scalars(select(OutboxMessage)).all()
    assert message.payload["channel"] == "UASSIGNEE"
    validate_message(message.payload)
    plain = make_settings(secreview_timezone="Europe/Paris")
    assert [r.day for r in reminders.run_reminders(session, settings=plain, workspace_id=WS,
                                                   now=paris(7, 14, 9) + timedelta(days=7))] == [date(2026, 7, 21)]


def test_figures_count_working_time_without_the_holiday(session: Session) -> None:
    """Announced Monday 13 July 10:00, decided Wednesday 15th 10:00: two working days, one in France;
    the digest says what its durations leave out."""
    add_workspace(session)
    review = add_review(session, 1, announced_at=paris(7, 13), first_response_at=paris(7, 15),
                        due_at=paris(7, 20))
    add_decision(session, review, "approved", paris(7, 15))
    session.flush()
    now = paris(7, 22)
    period = periods.period_for("week", now=now, tz=PARIS)
    plain = reports.compute(session, workspace_id=WS, period=period, now=now, tz=PARIS, currency="EUR")
    assert plain.decision_median_days == pytest.approx(2.0)
    assert plain.first_response_median_hours == pytest.approx(48.0)
    settings = make_settings(secreview_timezone="Europe/Paris", secreview_holidays="FR")
    shown = digest.preview(session, settings=settings, workspace_id=WS, now=now)
    validate_message(shown)
    assert "Durations count working time (Monday to Friday, less public holidays (FR))" in str(shown["blocks"])
    assert "Durations count working time (Monday to Friday)." in str(
        digest.render_digest(plain)["blocks"])
    french = reports.compute(session, workspace_id=WS, period=period, now=now, tz=PARIS, currency="EUR",
                             calendar=settings.calendar)
    assert french.decision_median_days == pytest.approx(1.0)
    assert french.first_response_median_hours == pytest.approx(24.0)
    assert (french.holidays, french.closing_days) == ("FR", False)


def test_announced_on_a_sunday_before_a_holiday_week(session: Session) -> None:
    """Sunday 8 November: the clock starts Monday 09:00; Armistice Day (Wednesday 11th) is not a working day."""
    settings = builders.make_settings(secreview_holidays="FR", secreview_timezone="Europe/Paris")
    review = builders.open_review(session, settings, now=paris(11, 8, 15)).review
    assert review.first_response_due.astimezone(PARIS) == paris(11, 10, 9)
    assert review.due_at.astimezone(PARIS) == paris(11, 17, 9)
