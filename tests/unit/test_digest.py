"""The digest: Block Kit within Slack's limits whatever the data, posted exactly once per period."""

from __future__ import annotations

import base64
import json
import random
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
from bot.figures import digest, periods, reports
from storage.models import Condition, Decision, DigestRun, OutboxMessage, Review, Workspace
from tests.unit.test_metrics import NOW, WS, add_workspace, build_data

UTC_TZ = ZoneInfo("UTC")


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


def last_week(session: Session, *, tz: ZoneInfo = UTC_TZ, now: datetime = NOW) -> reports.Report:
    """Last week's report."""
    period = periods.period_for("week", now=now, tz=tz)
    return reports.compute(session, workspace_id=WS, period=period, now=now, tz=tz, currency="EUR")


def all_text(message: dict[str, Any]) -> str:
    """Everything the blocks say, for assertions on wording."""
    return json.dumps(message["blocks"], ensure_ascii=False)


def count(session: Session, model: type) -> int:
    """Rows of a table."""
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_digest_shows_every_figure(session: Session) -> None:
    """Headline figures and their change, overdue, upcoming, trends, savings, regulations: valid Block Kit."""
    build_data(session)
    message = digest.render_digest(last_week(session), currency="EUR")
    validate_message(message)
    text = all_text(message)
    assert message["blocks"][0]["type"] == "header"
    assert "week of 9 Mar 2026" in message["blocks"][0]["text"]["text"]
    for expected in (
        "*Announced*\\n4 (↑ +2)",
        "3 (↑ +3)\\n1 approved · 1 with conditions · 1 rejected",
        "*Approval rate*\\n67%",
        "*SLA met*\\n67%",
        "median 18 h (↑ +15.0 h)",
        "90th percentile 4.4 d",
        "median 13 d before go-live",
        "50% of 2 live",
        "3 open (→ 0)",
        "2 overdue (↑ +1)",
        "1 opened · 1 closed",
        "EUR 1,500 (↑ +1,500 EUR)",
        "EUR 1,800 this year",
        "also USD 2,000",
        "*SR-7* Project 7: 14 days overdue",
        "*SR-4* Project 4: 7 days overdue",
        "*ai*: 3 (avg 0.2) ↑ rising",
        "PCI DSS: 2 reviews",
        "GDPR: 1 review",
    ):
        assert expected in text, expected
    # User text is escaped: no ping, no link, no broken JSON.
    assert "Chatbot &lt;!channel&gt; &amp; co" in text
    assert "<!channel>" not in text and "<!channel>" not in message["text"]
    assert "Announced: 4 (↑ +2)" in message["text"]


def test_plain_text_for_a_terminal_is_not_escaped(session: Session) -> None:
    """The CLI preview shows titles as typed."""
    build_data(session)
    plain = digest.render_plain(last_week(session), currency="EUR")
    assert "Chatbot <!channel> & co" in plain
    assert "Decided: 3 (↑ +3); 1 approved" in plain


def test_empty_period_says_so(session: Session) -> None:
    """No data: "No decisions this week", dashes for rates, no division by zero."""
    add_workspace(session)
    message = digest.render_digest(last_week(session), currency="EUR")
    validate_message(message)
    text = all_text(message)
    assert "No decisions this week" in text
    assert "*Approval rate*\\n—" in text
    assert "Nothing overdue" in text
    assert "No go-live dates in the next 4 weeks" in text


def test_metrics_answer_is_valid_block_kit(session: Session) -> None:
    """The ephemeral /secreview metrics answer carries the same figures."""
    build_data(session)
    report = last_week(session)
    message = digest.render_metrics_ephemeral(report)
    validate_message(message)
    assert "*Approval rate*\\n67%" in all_text(message)
    month = reports.compute(
        session,
        workspace_id=WS,
        period=periods.period_for("month", now=NOW, tz=UTC_TZ, which="this"),
        now=NOW,
        tz=UTC_TZ,
    )
    validate_message(digest.render_metrics_ephemeral(month))


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
        reviews.append(
            {
                "workspace_id": WS,
                "number": number,
                "title": f"<!channel> {'Very long project & title ' * 20}{number}",
                "owner_id": "UOWNER",
                "announcer_id": "UOWNER",
                "state": rng.choice(["announced", "in_review"]),
                "announced_at": announced,
                "first_response_due": announced + timedelta(days=1),
                "first_response_at": announced + timedelta(hours=rng.randrange(1, 48)),
                "due_at": announced - timedelta(days=rng.randrange(0, 3)),
                "updated_at": announced,
                "go_live": date(2026, 3, 18) + timedelta(days=rng.randrange(0, 40)),
                "tags": rng.sample(tags, 3),
                "regulations": rng.sample(regulations, 2),
            }
        )
    session.execute(insert(Review), reviews)
    ids = session.scalars(select(Review.id).order_by(Review.id)).all()
    decided = ids[: n // 2]
    session.execute(
        insert(Decision),
        [
            {
                "workspace_id": WS,
                "review_id": rid,
                "outcome": rng.choice(["approved", "approved_with_conditions", "rejected"]),
                "decided_by": "UREVIEWER",
                "decided_at": start + timedelta(days=6, seconds=i),
                "regulations": rng.sample(regulations, 1),
                "cost_avoided": 10,
                "currency": "EUR",
            }
            for i, rid in enumerate(decided)
        ],
    )
    decision_ids = session.scalars(select(Decision.id).order_by(Decision.id)).all()
    session.execute(
        insert(Condition),
        [
            {
                "workspace_id": WS,
                "review_id": rid,
                "decision_id": did,
                "text": "x",
                "owner_id": "UOWNER",
                "due_date": date(2026, 3, 10),
                "state": "open",
                "created_at": start + timedelta(days=6),
            }
            for rid, did in zip(decided, decision_ids, strict=True)
        ],
    )


def test_ten_thousand_reviews_stay_within_limits(session: Session) -> None:
    """With 10,000 reviews in the period the digest still fits: top-N lists with "and N more"."""
    bulk_period(session)
    report = last_week(session)
    assert report.announced == 10_000
    assert report.upcoming_total > 1000
    message = digest.render_digest(report, currency="EUR")
    blocks = validate_message(message)
    assert len(blocks) <= 15
    text = all_text(message)
    assert "more (`/secreview roadmap`)" in text
    assert "more tag" in text
    assert "<!channel>" not in text
    validate_message(digest.render_metrics_ephemeral(report))


def test_post_digest_claims_the_period_once(session: Session) -> None:
    """The first post claims the week and queues one message; a second (any trigger) does nothing."""
    build_data(session)
    settings = make_settings()
    run = digest.post_digest(session, settings=settings, workspace_id=WS, now=NOW, claimed_by="a")
    assert run is not None
    assert (run.kind, run.period_start, run.period_end, run.trigger) == (
        "weekly",
        date(2026, 3, 9),
        date(2026, 3, 15),
        "schedule",
    )
    again = digest.post_digest(
        session,
        settings=settings,
        workspace_id=WS,
        now=NOW + timedelta(hours=3),
        trigger="manual",
        claimed_by="b",
    )
    assert again is None
    # The session is still usable after the refused claim, and holds exactly one of each.
    rows = session.scalars(select(OutboxMessage)).all()
    assert count(session, DigestRun) == 1
    assert len(rows) == 1
    payload = rows[0].payload
    assert (rows[0].method, rows[0].purpose, payload["channel"]) == ("chat.postMessage", "digest", "C0DIGEST")
    validate_message(payload)


def test_claim_and_message_commit_together(session_factory: sessionmaker[Session]) -> None:
    """Rolled back after the claim: neither the claim nor the message remains (no early commit on SQLite)."""
    with session_factory() as setup:
        add_workspace(setup)
        setup.commit()
    with session_factory() as session:
        assert (
            digest.post_digest(session, settings=make_settings(), workspace_id=WS, now=NOW, claimed_by="a")
            is not None
        )
        session.rollback()
    with session_factory() as check:
        assert count(check, DigestRun) == 0
        assert count(check, OutboxMessage) == 0


def test_two_processes_at_once_post_one_digest(session_factory: sessionmaker[Session]) -> None:
    """Two threads claim the same week at the same moment: one DigestRun, one message."""
    with session_factory() as setup:
        build_data(setup)
        setup.commit()
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def worker(name: str) -> None:
        with session_factory() as session:
            barrier.wait()
            try:
                run = digest.post_digest(
                    session, settings=make_settings(), workspace_id=WS, now=NOW, claimed_by=name
                )
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
        assert count(check, OutboxMessage) == 1


def test_chart_follows_the_digest(session: Session) -> None:
    """With the chart enabled, a PNG is queued after the digest, on the same ordering key."""
    build_data(session)
    run = digest.post_digest(
        session, settings=make_settings(secreview_digest_chart=True), workspace_id=WS, now=NOW, claimed_by="a"
    )
    assert run is not None
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.method for r in rows] == ["chat.postMessage", "files_upload_v2"]
    assert rows[0].ordering_key == rows[1].ordering_key
    upload = rows[1].payload
    assert upload["channel"] == "C0DIGEST" and upload["filename"].endswith(".png")
    assert base64.b64decode(upload["content_b64"]).startswith(b"\x89PNG")


def test_monthly_executive_summary(session: Session) -> None:
    """The monthly kind claims last month and says it is the executive summary."""
    build_data(session)
    now = datetime(2026, 4, 6, 9, tzinfo=UTC)
    run = digest.post_digest(
        session, settings=make_settings(), workspace_id=WS, kind="monthly", now=now, claimed_by="a"
    )
    assert run is not None and (run.period_start, run.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    payload = session.scalars(select(OutboxMessage)).one().payload
    validate_message(payload)
    assert "executive summary, March 2026" in payload["blocks"][0]["text"]["text"]
    assert "*Announced*\\n6" in all_text(payload)


def test_preview_writes_nothing(session_factory: sessionmaker[Session]) -> None:
    """Preview renders the digest (and its plain text) and leaves the database as it was."""
    with session_factory() as setup:
        build_data(setup)
        setup.commit()
    with session_factory() as session:
        rendered = digest.preview(
            session, settings=make_settings(), workspace_id=WS, period_name="last-week", now=NOW
        )
        assert not session.new and not session.dirty
        session.commit()
    validate_message(rendered)
    assert rendered["plain_text"].startswith("Security reviews, week of 9 Mar 2026")
    assert rendered["period"]["kind"] == "week"
    with session_factory() as check:
        assert count(check, DigestRun) == 0 and count(check, OutboxMessage) == 0
    with session_factory() as session:
        month = digest.preview(
            session,
            settings=make_settings(),
            workspace_id=WS,
            period_name="last-month",
            now=datetime(2026, 4, 2, tzinfo=UTC),
        )
    validate_message(month)


def test_no_digest_channel_is_a_clear_error(session: Session) -> None:
    """Without SECREVIEW_DIGEST_CHANNEL nothing is claimed and the error names the variable."""
    add_workspace(session)
    with pytest.raises(SettingsError, match="SECREVIEW_DIGEST_CHANNEL"):
        digest.post_digest(
            session,
            settings=make_settings(secreview_digest_channel=None),
            workspace_id=WS,
            now=NOW,
            claimed_by="a",
        )
    assert count(session, DigestRun) == 0


def test_workspaces_are_independent(session: Session) -> None:
    """A claim in one workspace does not stop another's digest."""
    add_workspace(session)
    session.add(Workspace(id="T2", name="Other"))
    session.flush()
    settings = make_settings()
    assert digest.post_digest(session, settings=settings, workspace_id=WS, now=NOW, claimed_by="a")
    assert digest.post_digest(session, settings=settings, workspace_id="T2", now=NOW, claimed_by="a")
    assert count(session, OutboxMessage) == 2
