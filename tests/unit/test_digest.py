"""The digest: what it says about the hand-computed week (tests/support/figures_data.py), within Slack's limits
whatever the data, posted exactly once per period, stored as posted, with its chart."""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import struct
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.common.render import LIMIT_FALLBACK_TEXT, MAX_MESSAGE_BLOCKS
from bot.config import Settings, SettingsError
from bot.figures import digest, export, periods, presentation, reports
from storage.models import Condition, Decision, DigestRun, OutboxMessage, Review, Workspace
from tests.support import figures_data
from tests.support.figures_data import NOW, WS, at
from tests.unit.test_metrics import add_workspace

UTC_TZ = ZoneInfo("UTC")
LOOSE = digest.Style(min_sample=2)  # compares samples of two: every change of the hand-computed week shows


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test, independent of any .env file."""
    values: dict[str, Any] = {
        "secreview_digest_channel": "C0DIGEST",
        "secreview_security_channel": "C0SECURITY",
        "secreview_timezone": "UTC",
        "secreview_currency": "EUR",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def validate_message(message: dict[str, Any]) -> list[Block]:
    """Every block parses with slack_sdk.models and passes its limits; the message stays within 50 blocks."""
    blocks = message["blocks"]
    assert 0 < len(blocks) <= MAX_MESSAGE_BLOCKS
    assert message["text"] and len(message["text"]) <= LIMIT_FALLBACK_TEXT
    parsed = []
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()  # raises on a header over 150, a section over 3000, more than 10 fields, …
        parsed.append(block)
    return parsed


def last_week(session: Session, *, workspace_id: str = WS, now: datetime = NOW) -> reports.Report:
    """Last week's report."""
    period = periods.period_for("week", now=now, tz=UTC_TZ)
    return reports.compute(session, workspace_id=workspace_id, period=period, now=now, tz=UTC_TZ, currency="EUR")


def texts(message: dict[str, Any]) -> list[str]:
    """Each text of the blocks, in order (sections, fields, contexts, the header)."""
    found = []
    for block in message["blocks"]:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", []) if "text" in e]
    return found


def count(session: Session, model: type) -> int:
    """Rows of a table."""
    return session.scalar(select(func.count()).select_from(model)) or 0


def digest_rows(session: Session, workspace_id: str = WS) -> list[OutboxMessage]:
    """The queued digest messages and charts (the data set's own notices left out)."""
    return list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.workspace_id == workspace_id, OutboxMessage.purpose.in_(["digest", "digest_chart"]))
        .order_by(OutboxMessage.id)))


@pytest.fixture
def story(session: Session) -> figures_data.Story:
    """The hand-computed data set."""
    return figures_data.build(session)


def test_the_digest_opens_with_three_lines_then_what_went_live_unreviewed(story: figures_data.Story) -> None:
    """Went well (what improved), needs attention (named first: live without a decision, despite a rejection,
    then overdue), savings; then the projects live unreviewed, by key."""
    message = digest.render_digest(last_week(story.session), style=LOOSE)
    validate_message(message)
    found = texts(message)
    assert found[0] == ":bar_chart: Security reviews, week of 9 Mar 2026"
    assert found[1] == "Mon 9 – Sun 15 Mar 2026 · UTC · changes against week of 2 Mar 2026"
    assert found[2] == (
        ":white_check_mark: *Went well:* median time to decision 2.0 d (↓ −0.5 d, better); median first response"
        " 18 h (↓ −30 h, better); safeguards closed 1 (↑ +1, better)\n"
        ":warning: *Needs attention:* live without a decision: SR-2; live despite a rejection: SR-5; 2 reviews"
        " overdue (oldest SR-2, 14 days); 1 safeguard overdue; 90th percentile of decisions 4.4 d (↑ +1.5 d, worse)\n"
        ":moneybag: *Savings:* €4,500 this week (↑ +€500, better) · €4,800 this year · also $2,000")
    assert found[3] == (":rotating_light: *Live without a decision* (1)\n• *SR-2* Cloud backup: live Tue 10 Mar, in"
                        " review then\n:no_entry: *Live despite a rejection* (1)\n"
                        "• *SR-5* Expense app: live Wed 11 Mar")


def test_every_figure_with_its_n_and_its_change_marked_better_or_worse(story: figures_data.Story) -> None:
    """Changes are the differences of the figures shown; samples under two are not compared (LOOSE)."""
    found = texts(digest.render_digest(last_week(story.session), style=LOOSE))
    for expected in (
        "*Announced*\n4 (→ no change)",
        "*Decided*\n4 (↑ +2)\n1 approved · 1 with conditions · 2 rejected\napproval rate 50% (→ no change)",
        # Before: one due date (SR-2), too few to compare; first responses 1 of 3 before (33%): +42 pts.
        "*SLA met (decided within 5 working days)*\n3 of 4 due · 75% (too few to compare)\n"
        "1 still undecided at period end\nfirst response: 3 of 4 on time · 75% (↑ +42 pts, better)",
        "*Time to decision (working days)*\nmedian 2.0 d (↓ −0.5 d, better)\n90th percentile 4.4 d (↑ +1.5 d, worse)\n"
        "n = 3 first decisions",
        # 22.8 h is shown as 23 and 67.2 h as 67: the change is 23 − 67.
        "*Time to first response (working hours)*\nmedian 18 h (↓ −30 h, better)\n"
        "90th percentile 23 h (↓ −44 h, better)\nn = 3 reviews",
        "*Reviewed before go-live*\n1 of 3 live approved before · 33% (too few to compare)\nwent live 3 (↑ +3)\n"
        "without a decision 1 (↑ +1, worse) · despite a rejection 1 (↑ +1, worse)",
        "*Early engagement*\nmedian 13 d before go-live (too few to compare)\nn = 2 announced with a go-live date",
        "*Backlog at period end*\n3 open (→ no change)\n2 overdue (↑ +1, worse)",
        "*Conditions*\n1 opened (↑ +1) · 1 closed (↑ +1, better)\n1 overdue (→ no change)",
        "*Savings (estimated cost avoided)*\n€4,500 (↑ +€500, better)\n€4,800 this year\nalso $2,000",
        "*Overdue reviews* (2)\n• *SR-2* Cloud backup: 14 days overdue\n• *SR-3* Staff rota tool: 7 days overdue",
        "*Trends* (technology tags this week against the average of the 2 previous weeks)\n• *ai*: 1 (avg 0.0) ↑ rising"
        "\n• *mobile*: 1 (avg 0.0) ↑ rising\n• *payments*: 1 (avg 0.0) ↑ rising\n• *saas*: 1 (avg 0.0) ↑ rising\n"
        "• *cloud*: 0 (avg 0.5) ↓ falling",
        "*Regulations touched*\n• GDPR: 1 review\n• PCI DSS: 1 review",
    ):
        assert expected in found, expected


def test_below_the_minimum_sample_no_change_is_shown(story: figures_data.Story) -> None:
    """At the default of five, every median, percentile and rate of this small week is "too few to compare";
    counts are still compared."""
    found = texts(digest.render_digest(last_week(story.session)))
    assert "*Time to decision (working days)*\nmedian 2.0 d (too few to compare)\n90th percentile 4.4 d (too few to" \
           " compare)\nn = 3 first decisions" in found
    assert "*Backlog at period end*\n3 open (→ no change)\n2 overdue (↑ +1, worse)" in found
    assert found[2].startswith(":white_check_mark: *Went well:* safeguards closed 1 (↑ +1, better)\n")


def test_changes_come_from_the_rounded_figures_shown() -> None:
    """84.6% and 85.2% are both shown as 85%: no change, never "+1 pts"."""
    spec = presentation.SPECS["sla_met_rate"]
    current = _figures(sla_met_rate=0.852, sla_due=27)
    previous = _figures(sla_met_rate=0.846, sla_due=26)
    shown = presentation.show(spec, current, previous, comparable=True, min_sample=5, locale="en", currency="EUR")
    assert (shown.text, shown.previous, shown.change, shown.trend, shown.verdict) == ("85%", "85%", "0 pts", "same",
                                                                                      None)
    days = presentation.show(presentation.SPECS["decision_median_days"], _figures(decision_median_days=9.96,
                             decision_n=9), _figures(decision_median_days=8.25, decision_n=9), comparable=True,
                             min_sample=5, locale="en", currency="EUR")
    # 9.96 rounds to 10.0, shown whole from 10 on; 8.25 rounds half up to 8.3: the change is 10 − 8.3.
    assert (days.text, days.previous, days.change, days.verdict) == ("10 d", "8.3 d", "+1.7 d", "worse")


def _figures(**values: Any) -> reports.Figures:
    fields = {f.name: (0 if f.type in ("int",) else None) for f in reports.Figures.__dataclass_fields__.values()}
    fields.update(decided_by_outcome={}, savings_period=0)
    fields.update(values)
    return reports.Figures(**fields)


def test_one_currency_format_from_babel(story: figures_data.Story) -> None:
    """The locale decides how amounts are written, in every line that shows one (a no-break space before €)."""
    message = digest.render_digest(last_week(story.session), style=digest.Style(locale="de_DE", min_sample=2))
    found = texts(message)
    assert "*Savings (estimated cost avoided)*\n4.500\u00a0€" in "\n".join(found)
    assert "4.800\u00a0€ this year" in found[2] and "(↑ +500\u00a0€, better)" in found[2]


def test_the_text_fallback_says_better_and_worse_in_words(story: figures_data.Story) -> None:
    """A notification shows the fallback text: the summary first, the verdicts as words, user text escaped."""
    text = digest.render_digest(last_week(story.session), style=LOOSE)["text"]
    assert text.startswith("Security reviews, week of 9 Mar 2026\nMon 9 – Sun 15 Mar 2026")
    assert "Went well: median time to decision 2.0 d (↓ −0.5 d, better)" in text
    assert "Time to decision (working days): median 2.0 d (↓ −0.5 d, better); 90th percentile 4.4 d (↑ +1.5 d," \
           " worse)" in text
    assert "Chatbot &lt;!channel&gt; &amp; co" in text and "<!channel>" not in text


def test_plain_text_for_a_terminal_is_not_escaped(story: figures_data.Story) -> None:
    """The CLI preview shows titles as typed."""
    plain = digest.render_plain(last_week(story.session))
    assert "SR-8 Chatbot <!channel> & co: Announced" in plain
    assert "Decided: 4 (↑ +2); 1 approved · 1 with conditions · 2 rejected" in plain


def test_the_footer_says_exactly_what_the_figures_are(story: figures_data.Story) -> None:
    """As of the period's end, from the audit log; which other surface shows the same window."""
    found = texts(digest.render_digest(last_week(story.session)))
    assert found[-1] == (
        "Figures as of Mon 16 Mar 2026 00:00 (UTC), rebuilt from the audit log: they never change afterwards. "
        "Durations count working time (Monday to Friday). Medians, percentiles and rates resting on fewer than 5 "
        "reviews are not compared. `/secreview metrics week` shows this same week; App Home shows the current week "
        "so far.")


def test_an_empty_first_period_says_so(session: Session) -> None:
    """A workspace installed during the week: nothing to compare with, dashes for rates, nothing divided by zero."""
    add_workspace(session, WS, created=at(10))
    message = digest.render_digest(last_week(session))
    validate_message(message)
    found = texts(message)
    assert found[1] == "Mon 9 – Sun 15 Mar 2026 · UTC · first period: nothing earlier to compare with"
    assert found[2].startswith(":white_check_mark: *Went well:* no decisions this week\n:warning: *Needs attention:*"
                               " nothing overdue, nothing live without a decision\n:moneybag: *Savings:* none recorded"
                               " this week · €0 this year")
    assert "*SLA met (decided within 5 working days)*\nnothing fell due\nfirst response: nothing fell due" in found
    assert "*Reviewed before go-live*\nnothing went live\nwent live 0\nwithout a decision 0 · despite a rejection 0" \
        in found
    assert "*Trends* (technology tags this week; the first week, so nothing to compare with yet)\nNo tagged " \
           "announcements this week." in found


def test_decided_reviews_that_changed_since_their_decision_need_attention(session: Session) -> None:
    """Counted and named by key in the needs-attention line, as they stand when the digest is made."""
    from tests.unit.test_metrics import add_review

    add_workspace(session, WS, created=at(10))
    flag = {"at": at(12).isoformat(), "by": "UOWNER", "regulations": ["HIPAA"]}
    for number in range(1, 8):
        add_review(session, number, workspace_id=WS, announced_at=at(11), state="approved", decided_at=at(11),
                   changed_since_decision=flag if number != 4 else None)
    add_review(session, 9, workspace_id=WS, announced_at=at(11), state="in_review", changed_since_decision=flag)
    report = last_week(session)
    assert report.changed_since_decision_total == 6
    message = digest.render_digest(report)
    validate_message(message)
    assert ("6 decided reviews changed since decision: SR-1, SR-2, SR-3, SR-5, SR-6 and 1 more"
            in texts(message)[2])


def test_metrics_answer_is_the_same_figures_for_one_person(story: figures_data.Story) -> None:
    """/secreview metrics: the window labelled exactly, the summary, the same fields as the digest."""
    message = digest.render_metrics_ephemeral(last_week(story.session), style=LOOSE)
    validate_message(message)
    found = texts(message)
    assert found[0] == ("*Security reviews, week of 9 Mar 2026*\nMon 9 – Sun 15 Mar 2026 · UTC · changes against "
                        "week of 2 Mar 2026")
    assert "*Decided*\n4 (↑ +2)\n1 approved · 1 with conditions · 2 rejected\napproval rate 50% (→ no change)" in found
    assert message["text"] == "Security reviews, week of 9 Mar 2026 (Mon 9 – Sun 15 Mar 2026): 4 announced, 4 " \
                              "decided, 3 open"


def test_app_home_shows_the_week_so_far_labelled_exactly(story: figures_data.Story) -> None:
    """Wed 11 March noon: Mon 9 – now; SR-7 and SR-8 (and SR-9 at 09:00) announced; SR-7 approved."""
    figures = presentation.home_figures(story.session, workspace_id=WS, now=at(11, 12), tz=UTC_TZ)
    assert figures["window"] == "Mon 9 Mar – now"
    assert figures["rows"] == [
        {"label": "Announced", "value": "3"},
        {"label": "Decided", "value": "1"},
        {"label": "Approval rate", "value": "100%"},
        # Due so far: SR-3 (missed), SR-4's first (met), SR-5 (met).
        {"label": "SLA met", "value": "2 of 3 due"},
        {"label": "Time to decision, median", "value": "2.0 d (n = 1)"},
        {"label": "Overdue at period end", "value": "2"},
        # Open: SR-2, SR-3, SR-4 (reopened the day before), SR-6, SR-8, SR-9.
        {"label": "Backlog at period end", "value": "6"},
    ]


def bulk_period(session: Session, n: int = 10_000) -> None:
    """n reviews announced last week: long hostile titles, many tags, go-lives, decisions, conditions."""
    add_workspace(session)
    rng = random.Random(4)
    start = datetime(2026, 3, 9, tzinfo=UTC)
    tags = [f"tag-{i}" for i in range(40)]
    regulations = [f"REG <{i}> & co" for i in range(25)]
    reviews = []
    for number in range(1, n + 1):
        announced = start + timedelta(seconds=rng.randrange(7 * 86400))
        reviews.append({
            "workspace_id": "T1", "number": number, "title": f"<!channel> {'Very long project & title ' * 20}{number}",
            "owner_id": "UOWNER", "announcer_id": "UOWNER", "state": rng.choice(["announced", "in_review"]),
            "announced_at": announced, "first_response_due": announced + timedelta(days=1),
            "first_response_at": announced + timedelta(hours=rng.randrange(1, 48)),
            "due_at": announced - timedelta(days=rng.randrange(0, 3)), "updated_at": announced,
            "go_live": date(2026, 3, 9) + timedelta(days=rng.randrange(0, 40)), "tags": rng.sample(tags, 3),
            "regulations": rng.sample(regulations, 2),
        })
    session.execute(insert(Review), reviews)
    ids = session.scalars(select(Review.id).order_by(Review.id)).all()
    decided = ids[: n // 2]
    session.execute(insert(Decision), [
        {"workspace_id": "T1", "review_id": rid, "outcome": rng.choice(["approved", "approved_with_conditions",
                                                                        "rejected"]),
         "decided_by": "UREVIEWER", "decided_at": start + timedelta(days=6, seconds=i),
         "regulations": rng.sample(regulations, 1), "cost_avoided": 10, "currency": "EUR"}
        for i, rid in enumerate(decided)
    ])
    decision_ids = session.scalars(select(Decision.id).order_by(Decision.id)).all()
    session.execute(insert(Condition), [
        {"workspace_id": "T1", "review_id": rid, "decision_id": did, "text": "x", "owner_id": "UOWNER",
         "due_date": date(2026, 3, 10), "state": "open", "created_at": start + timedelta(days=6)}
        for rid, did in zip(decided, decision_ids, strict=True)
    ])


def test_ten_thousand_reviews_stay_within_limits(session: Session) -> None:
    """With 10,000 reviews in the period the digest still fits: top-N lists with "and N more"."""
    bulk_period(session)
    report = last_week(session, workspace_id="T1")
    assert report.announced == 10_000 and report.live_without_decision > 1000
    message = digest.render_digest(report)
    blocks = validate_message(message)
    assert len(blocks) <= 16
    text = json.dumps(message["blocks"], ensure_ascii=False)
    assert "more (`/secreview roadmap`)" in text and "more tag" in text and "<!channel>" not in text
    validate_message(digest.render_metrics_ephemeral(report))
    validate_message(digest.render_digest(report, executive=True))


def test_post_digest_claims_the_period_once_and_keeps_what_it_posted(story: figures_data.Story) -> None:
    """The first post claims the week, stores its figures and message and queues it (and its chart); a second
    post, by any trigger, does nothing."""
    session = story.session
    settings = make_settings()
    run = digest.post_digest(session, settings=settings, workspace_id=WS, now=NOW, claimed_by="a")
    assert run is not None
    assert (run.kind, run.period_start, run.period_end, run.trigger) == ("weekly", date(2026, 3, 9),
                                                                         date(2026, 3, 15), "schedule")
    assert run.figures is not None and run.message is not None and run.plain_text is not None
    table = {row["figure"]: row for row in run.figures["table"]}
    assert (table["sla_met_rate"]["text"], table["sla_met_rate"]["n"]) == ("75%", 4)
    assert run.figures["report"]["live_without_decision_named"][0][0] == "SR-2"
    again = digest.post_digest(session, settings=settings, workspace_id=WS, now=NOW + timedelta(hours=3),
                               trigger="manual", claimed_by="b")
    assert again is None
    rows = digest_rows(session)
    assert count(session, DigestRun) == 1
    assert [(r.method, r.purpose) for r in rows] == [("chat.postMessage", "digest"),
                                                     ("files_upload_v2", "digest_chart")]
    assert rows[0].payload["blocks"] == run.message["blocks"]
    validate_message(rows[0].payload)


def test_a_posted_period_is_shown_as_posted_whatever_changed_since(story: figures_data.Story) -> None:
    """Posted on Monday; a preview of that week on the 25th, after later changes, shows the message posted."""
    session = story.session
    settings = make_settings()
    run = digest.post_digest(session, settings=settings, workspace_id=WS, now=at(16, 9), claimed_by="a")
    assert run is not None
    figures_data.change_everything_later(story)
    shown = digest.preview(session, settings=settings, workspace_id=WS, period_name="2026-W11",
                           now=datetime(2026, 3, 25, tzinfo=UTC))
    assert (shown["blocks"], shown["plain_text"]) == (run.message["blocks"], run.plain_text)
    assert shown["posted_at"] == "2026-03-16T09:00:00+00:00"
    # A period never posted is computed: the week after, as of the 25th.
    other = digest.preview(session, settings=settings, workspace_id=WS, period_name="2026-W12",
                           now=datetime(2026, 3, 25, tzinfo=UTC))
    assert other["posted_at"] is None and "week of 16 Mar 2026" in other["plain_text"]


def test_the_figures_export_as_csv_and_json(story: figures_data.Story) -> None:
    """`digest preview --format csv|json`: one row per figure with the number shown, its n, change and verdict."""
    shown = digest.preview(story.session, settings=make_settings(secreview_min_sample=2), workspace_id=WS, now=NOW)
    rows = list(csv.DictReader(io.StringIO(export.figures_csv(shown["figures"], period=shown["period"]))))
    by_figure = {row["figure"]: row for row in rows}
    assert len(rows) == len(presentation.SPECS)
    assert by_figure["decision_median_days"] | {} == {
        "period_kind": "week", "period_start": "2026-03-09T00:00:00+00:00", "period_end": "2026-03-16T00:00:00+00:00",
        "figure": "decision_median_days", "label": "Time to decision, median", "number": "2.0",
        "previous_number": "2.5", "change_number": "-0.5", "unit": "days", "n": "3", "text": "2.0 d",
        "previous": "2.5 d", "change": "−0.5 d", "trend": "down", "verdict": "better", "note": ""}
    assert (by_figure["sla_met_rate"]["number"], by_figure["sla_met_rate"]["note"]) == ("75", "too_few")
    assert by_figure["savings_period"]["number"] == "4500"
    data = json.loads(export.figures_json(shown["figures"], period=shown["period"], posted_at=None))
    assert data["period"]["kind"] == "week" and data["report"]["sla_due"] == 4
    assert {row["figure"] for row in data["table"]} == set(presentation.SPECS)


def test_claim_and_message_commit_together(session_factory: sessionmaker[Session]) -> None:
    """Rolled back after the claim: neither the claim nor the message remains (no early commit on SQLite)."""
    with session_factory() as setup:
        add_workspace(setup, WS)
        setup.commit()
    with session_factory() as session:
        assert digest.post_digest(session, settings=make_settings(), workspace_id=WS, now=NOW, claimed_by="a")
        session.rollback()
    with session_factory() as check:
        assert count(check, DigestRun) == 0
        assert count(check, OutboxMessage) == 0


def test_two_processes_at_once_post_one_digest(session_factory: sessionmaker[Session]) -> None:
    """Two threads claim the same week at the same moment: one DigestRun, one message (and its chart)."""
    with session_factory() as setup:
        figures_data.build(setup)
        setup.commit()
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def worker(name: str) -> None:
        with session_factory() as session:
            barrier.wait()
            try:
                run = digest.post_digest(session, settings=make_settings(), workspace_id=WS, now=NOW,
                                         claimed_by=name)
                session.commit()
                results[name] = run is not None
            except Exception as exc:  # reported below, so a failure names its cause
                results[name] = exc

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values(), key=str) == [False, True], results
    with session_factory() as check:
        assert count(check, DigestRun) == 1
        assert len(digest_rows(check)) == 2


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def test_the_chart_is_a_readable_twelve_week_trend(story: figures_data.Story) -> None:
    """1200 × 600 pixels; the series are the digest's own figures week by week."""
    from bot.figures import series

    weeks = series.weekly_series(story.session, WS, end=at(16, 0), tz=UTC_TZ)
    assert len(weeks) == 12 and weeks[-1].start == date(2026, 3, 9)
    assert weeks[-1] == series.Week(date(2026, 3, 9), 4, 4, 3, 3, 4)
    assert weeks[-2] == series.Week(date(2026, 3, 2), 4, 2, 3, 0, 1)
    png, labels = digest.chart_png(story.session, workspace_id=WS, period=periods.period_for("week", now=NOW,
                                                                                                tz=UTC_TZ),
                                   tz=UTC_TZ)
    assert _png_size(png) == (1200, 600)
    assert labels["title"] == "Security reviews per week, the 12 weeks to 15 Mar 2026"


def test_the_chart_follows_the_digest_unless_turned_off(story: figures_data.Story) -> None:
    """Attached by default (after the digest, on the same ordering key); SECREVIEW_DIGEST_CHART=false: none."""
    session = story.session
    assert digest.post_digest(session, settings=make_settings(), workspace_id=WS, now=NOW, claimed_by="a")
    rows = digest_rows(session)
    assert rows[0].ordering_key == rows[1].ordering_key
    upload = rows[1].payload
    assert upload["channel"] == "C0DIGEST" and upload["filename"] == "secreview-trend-2026-03-09.png"
    assert _png_size(base64.b64decode(upload["content_b64"])) == (1200, 600)
    add_workspace(session, "T2")
    digest.post_digest(session, settings=make_settings(secreview_digest_chart=False), workspace_id="T2", now=NOW,
                       claimed_by="a")
    assert [r.method for r in digest_rows(session, "T2")] == ["chat.postMessage"]


def test_no_digest_channel_is_a_clear_error(session: Session) -> None:
    """Without SECREVIEW_DIGEST_CHANNEL nothing is claimed and the error names the variable."""
    add_workspace(session, WS)
    with pytest.raises(SettingsError, match="SECREVIEW_DIGEST_CHANNEL"):
        digest.post_digest(session, settings=make_settings(secreview_digest_channel=None), workspace_id=WS, now=NOW,
                           claimed_by="a")
    assert count(session, DigestRun) == 0


def test_workspaces_are_independent(session: Session) -> None:
    """A claim in one workspace does not stop another's digest."""
    add_workspace(session, WS)
    session.add(Workspace(id="T2", name="Other"))
    session.flush()
    settings = make_settings(secreview_digest_chart=False)
    assert digest.post_digest(session, settings=settings, workspace_id=WS, now=NOW, claimed_by="a")
    assert digest.post_digest(session, settings=settings, workspace_id="T2", now=NOW, claimed_by="a")
    assert count(session, OutboxMessage) == 2


def test_bad_settings_for_the_figures_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """SECREVIEW_MIN_SAMPLE and SECREVIEW_LOCALE: a clear line naming the variable."""
    from bot.config import load_settings

    for name, value, words in (("SECREVIEW_MIN_SAMPLE", "0", "is not a sample size"),
                               ("SECREVIEW_MIN_SAMPLE", "five", "is not a sample size"),
                               ("SECREVIEW_LOCALE", "xx_XX", "is not a locale")):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=f"^{name}: '{value}' {words}"):
            load_settings(_env_file=None)
        monkeypatch.delenv(name)
