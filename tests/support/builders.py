"""Helpers for tests: settings, actors and reviews made through the real lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import intake
from bot.config import Settings
from bot.review import announcements, intake_answers, lifecycle

WS = "T0TEST001"
OWNER = lifecycle.Actor("UOWNER001")
STRANGER = lifecycle.Actor("USTRANGE1")
REVIEWER = lifecycle.Actor("UREVIEW01", is_reviewer=True)
ADMIN = lifecycle.Actor("UADMIN001", is_admin=True)
SECURITY_CHANNEL = "CSECURITY1"
ANNOUNCE_CHANNEL = "CANNOUNCE1"
NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # a Monday

ANSWERS = intake.IntakeAnswers(
    data_classification="confidential", sensitive_data=frozenset({"personal"}), exposure="internet",
    hosting="saas", third_parties="Salesforce", uses_ai=False, changes_auth=True,
)
LOW_ANSWERS = intake.IntakeAnswers(
    data_classification="public", sensitive_data=frozenset(), exposure="internal", hosting="on_prem",
    third_parties="", uses_ai=False, changes_auth=False,
)


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests, never read from the developer's environment or .env."""
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test", "slack_signing_secret": "test-secret",
        "secreview_security_channel": SECURITY_CHANNEL, "secreview_digest_channel": "CDIGEST001",
        "secreview_reviewers": [REVIEWER.user_id], "secreview_admins": [ADMIN.user_id],
        "database_url": "sqlite://",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def open_review(session: Session, settings: Settings, *, text: str = "Kick-off: new CRM project, go-live 2027-04-15",
                ts: str = "1700000000.000100", actor: lifecycle.Actor = OWNER,
                now: datetime = NOW) -> announcements.Opened:
    """An announced review, as a message would open it."""
    detector = intake.Detector(settings.intake_rules(), calendar=settings.calendar)
    return announcements.open_review(session, settings=settings, detector=detector, workspace_id=WS, actor=actor,
                                     text=text, source_channel=ANNOUNCE_CHANNEL, source_ts=ts, now=now)


def intake_form(answers: intake.IntakeAnswers = ANSWERS, **overrides: Any) -> intake_answers.IntakeForm:
    """A filled intake form."""
    values: dict[str, Any] = {"title": "CRM migration", "summary": "Customer data moves to Salesforce",
                              "owner_id": OWNER.user_id, "go_live": NOW.date().replace(month=4, day=15),
                              "answers": answers, "links": "https://wiki.example.com/crm"}
    values.update(overrides)
    return intake_answers.IntakeForm(**values)
