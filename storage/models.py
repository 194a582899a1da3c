"""SQLAlchemy 2 typed models: workspaces, reviews, decisions, conditions, the audit log and plumbing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints let Alembic's batch mode rebuild SQLite tables and drop constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back aware datetimes, on SQLite (no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # Slack team id
    name: Mapped[str] = mapped_column(String(200), default="")
    # Keys SR-n come from this counter so they are never reused, even after a review is withdrawn.
    last_review_number: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every change: its row lock serialises writers of one workspace (audit chain order).
    write_version: Mapped[int] = mapped_column(BigInteger, default=0)
    # The newest audit row, so deleting the tail of the log is detected too.
    audit_head_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        # One Slack message opens at most one review, whoever delivers it and however often.
        UniqueConstraint("workspace_id", "source_channel", "source_ts"),
        Index("ix_reviews_ws_announced", "workspace_id", "announced_at"),
        Index("ix_reviews_ws_decided", "workspace_id", "decided_at"),
        Index("ix_reviews_ws_state", "workspace_id", "state", "due_at"),
        Index("ix_reviews_ws_golive", "workspace_id", "go_live"),
        Index("ix_reviews_ws_first_response", "workspace_id", "first_response_at"),
        # The SLA figures: the reviews whose (first-response) due date fell in a period.
        Index("ix_reviews_ws_due", "workspace_id", "due_at"),
        Index("ix_reviews_ws_first_response_due", "workspace_id", "first_response_due"),
        Index("ix_reviews_ws_owner", "workspace_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    announcement_text: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[str] = mapped_column(String(32))
    announcer_id: Mapped[str] = mapped_column(String(32))
    source_channel: Mapped[str | None] = mapped_column(String(32))
    source_ts: Mapped[str | None] = mapped_column(String(32))
    # The thread a source message is a reply in (a message shortcut on a reply): replies go there, not under it.
    source_thread_ts: Mapped[str | None] = mapped_column(String(32))
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    go_live: Mapped[date | None] = mapped_column(Date)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The questionnaire the answers were given to (QuestionnaireVersion.digest); None before version 0008.
    questionnaire_digest: Mapped[str | None] = mapped_column(String(32))
    links: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    vendors: Mapped[list[str]] = mapped_column(JSON, default=list)
    regulations: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk_score: Mapped[int | None] = mapped_column(Integer)
    risk_tier: Mapped[str | None] = mapped_column(String(16))
    risk_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    announced_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_due: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    info_requested_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_in_slack: Mapped[bool] = mapped_column(default=False)
    # A material change to a decided review's announcement (an earlier go-live, a new regulation or vendor):
    # {"at": ISO instant, "by": user, "go_live": [before, after], "regulations": [...], "vendors": [...]}, merged
    # over edits; None once reopened (or never). A column, not a read of the audit log, so the card, App Home
    # and the digest list these reviews with a filter on reviews alone; the log keeps every edit's before/after.
    changed_since_decision: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    decisions: Mapped[list[Decision]] = relationship(
        back_populates="review", order_by="Decision.id", cascade="all, delete-orphan"
    )
    conditions: Mapped[list[Condition]] = relationship(
        back_populates="review", order_by="Condition.id", cascade="all, delete-orphan"
    )

    @property
    def key(self) -> str:
        """The human key, SR-n."""
        return f"SR-{self.number}"

    @property
    def latest_decision(self) -> Decision | None:
        """The decision in force (after a reopen, the newest one)."""
        return self.decisions[-1] if self.decisions else None


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_ws_decided", "workspace_id", "decided_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    risk_tier: Mapped[str | None] = mapped_column(String(16))
    regulations: Mapped[list[str]] = mapped_column(JSON, default=list)
    cost_avoided: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    fast_track: Mapped[bool] = mapped_column(default=False)

    review: Mapped[Review] = relationship(back_populates="decisions")


class Condition(Base):
    __tablename__ = "conditions"
    __table_args__ = (
        Index("ix_conditions_ws_created", "workspace_id", "created_at"),
        Index("ix_conditions_ws_closed", "workspace_id", "closed_at"),
        Index("ix_conditions_ws_state_due", "workspace_id", "state", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    waive_reason: Mapped[str | None] = mapped_column(Text)
    # With Jira configured: the issue that tracks this safeguard (a Jira key is unique on its site).
    jira_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    jira_url: Mapped[str | None] = mapped_column(String(500))
    # When a create request last went to Jira: from then on its outcome may be unknown, so the next attempt
    # searches for the issue first (by its label) instead of creating a second one.
    jira_sent_at: Mapped[datetime | None]
    # The issue's `updated` time of the last Jira state applied here, so an older webhook never undoes a newer one.
    jira_updated_at: Mapped[datetime | None]

    review: Mapped[Review] = relationship(back_populates="conditions")


class AuditEvent(Base):
    """One row per transition or edit. Append-only: never updated, never deleted; hash-chained per workspace."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "seq"),
        Index("ix_audit_ws_at", "workspace_id", "at"),
        Index("ix_audit_review", "review_id", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    seq: Mapped[int] = mapped_column(Integer)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    review_key: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class QuestionnaireVersion(Base):
    """A questionnaire as reviews were answered with it, stored once per content digest and never changed.

    A review keeps its digest, so changing the questionnaire file never changes what an old review was asked.
    """

    __tablename__ = "questionnaires"

    digest: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[str] = mapped_column(String(100), default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_used_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeDraft(Base):
    """The pages of a long intake answered so far, until its last page is submitted (one row per open modal)."""

    __tablename__ = "intake_drafts"
    __table_args__ = (UniqueConstraint("workspace_id", "view_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    view_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    questionnaire_digest: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProcessedEvent(Base):
    """Slack deliveries already handled, so a retry (to any replica) does nothing twice."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class QueuedRequest(Base):
    """A Slack request acknowledged by the HTTP process and waiting for the worker process to act on it.

    `secreview serve` answers Slack as soon as a request is verified and stored here; its worker process (niced,
    so it never takes the CPU from the acks) claims rows, interactive ones first, runs the listeners and deletes
    them. An event whose listener failed is released for another attempt; a command or a click is run once.
    """

    __tablename__ = "queued_requests"
    __table_args__ = (Index("ix_queued_due", "priority", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The event_id, or "trigger:<trigger_id>": a delivery Slack retries while the first is queued is stored once.
    dedupe_key: Mapped[str] = mapped_column(String(100), unique=True)
    priority: Mapped[int] = mapped_column(Integer)  # 0: a person is waiting (command, click); 1: an event
    workspace_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class RequestReplay(Base):
    """A signed command, click or modal submission accepted in the last few minutes, by its signature.

    Slack signs the timestamp with the body and secreview refuses a timestamp more than 5 minutes away, so a
    captured request can be sent again only within that window: while its row is here (until the timestamp plus
    the window plus a margin for clocks), the same signed bytes are acknowledged and dropped. On PostgreSQL the
    table is shared by the replicas; with `secreview serve` on SQLite it lives in the queue file beside the
    database, which the acknowledgement already writes to.
    """

    __tablename__ = "request_replays"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # "sig:" + the v0 signature's hex
    expires_at: Mapped[datetime] = mapped_column(index=True)


class InboxEvent(Base):
    """An event kept before Slack is told it arrived, so a crash before its change commits loses nothing.

    Slack does not redeliver an event it saw acknowledged; the replay job hands any kept event without a
    ProcessedEvent row back to the app after a grace period.
    """

    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_received", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    replays: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """A Slack call decided by a state change, written in its transaction and delivered after it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    # What the message is for: "card" stores its ts on the review, "card_update" needs it.
    purpose: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Deliveries to one channel keep their order; the worker never overtakes an earlier pending row.
    ordering_key: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result_channel: Mapped[str | None] = mapped_column(String(32))
    result_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class PostedMessage(Base):
    """A message secreview posted about a review that shows its state, so each change can re-render it in place.

    Written when Slack accepted the post (the outbox row it came from is `outbox_id`); `kind` names what it shows
    (the thread reply, the card, the owner's DM, an info request, a decision) and `data` what it was rendered
    with beyond the review itself (the question asked, the decision told, whether it sits in a thread or a DM).
    """

    __tablename__ = "posted_messages"
    __table_args__ = (Index("ix_posted_review", "review_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    outbox_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)


class HomeTab(Base):
    """Who opened secreview's App Home and when: a reviewer looking at it recently gets the queue kept current."""

    __tablename__ = "home_tabs"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    is_reviewer: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class DigestRun(Base):
    """A claimed digest period: the unique row is what makes a digest go out exactly once.

    It keeps what was posted: the figures (reports.Report.to_dict() and the table of shown figures), the
    message and its plain text, so a posted period is shown later exactly as it was posted.
    """

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    plain_text: Mapped[str | None] = mapped_column(Text)


class ReminderLog(Base):
    """One row per reminder sent: the unique key is what limits reminders to one per item per day."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("workspace_id", "item_kind", "item_id", "reminder", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    reminder: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class JiraPollRun(Base):
    """A claimed Jira poll period: the unique row is what makes one replica, and only one, poll each period."""

    __tablename__ = "jira_poll_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[datetime] = mapped_column(unique=True)
    claimed_by: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    issues_seen: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
