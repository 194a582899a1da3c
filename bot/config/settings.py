"""Settings: the one place that reads the environment (and `.env`, and the optional TOML file)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot import intake
from bot.common.calendar import WorkCalendar, parse_holidays_code
from bot.common.numbers import check_locale
from bot.config.files import (
    CHANNEL_ID,
    USER_ID,
    USERGROUP_ID,
    WorkspaceRoles,
    load_closing_days,
    load_rules_file,
    read_config,
    read_rules,
    workspace_roles_from_config,
)
from bot.config.jira import JiraSettings
from bot.config.wording import (
    SettingsError,
    describe_error,
    invalid,
    not_set_line,
    problem_line,
    safe_database_url,
)

# The drivers secreview ships and tests (psycopg 3 for PostgreSQL; SQLAlchemy's default postgresql:// is psycopg2).
DATABASE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql+psycopg"})
# What each way of reaching Slack needs before it can start: `run`, `serve` and `check --mode` read this one table.
MODE_SETTINGS: dict[str, tuple[str, ...]] = {
    "socket": ("slack_bot_token", "slack_app_token"),
    "http": ("slack_bot_token", "slack_signing_secret"),
}
def _split_list(value: Any) -> Any:
    # Lists arrive as "U1,U2 U3" in the environment; spaces, commas and semicolons all separate.
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    return value


IdList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class Settings(JiraSettings, BaseSettings):
    """Every setting of PRODUCT.md, typed, read once (the Jira settings come from JiraSettings)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///secreview.db"

    secreview_reviewers: IdList = Field(default_factory=list)
    secreview_admins: IdList = Field(default_factory=list)
    secreview_watch_channels: IdList = Field(default_factory=list)
    secreview_security_channel: str | None = None
    secreview_digest_channel: str | None = None
    secreview_digest_schedule: str = "0 9 * * mon"
    secreview_reminder_schedule: str = "0 9 * * mon-fri"
    secreview_timezone: str = "UTC"
    # Public holidays left out of business days: a country code of the `holidays` package, or country-subdivision.
    secreview_holidays: str | None = None
    # The languages announcements are written in: their announcement phrases are the defaults, their dates are read.
    secreview_languages: IdList = Field(default_factory=lambda: ["en"])
    secreview_sla_days: int = Field(default=5, ge=1, le=60)
    secreview_trigger_emoji: str = "lock"
    secreview_currency: str = "EUR"
    # How numbers and amounts are written (Babel locale: "en", "en_GB", "de_DE", …).
    secreview_locale: str = "en"
    # Below this many reviews a median, percentile or rate is shown with its n but never compared.
    secreview_min_sample: int = 5
    secreview_config: Path | None = None
    secreview_fast_track_auto: bool = False
    secreview_monthly_summary: bool = False
    secreview_digest_chart: bool = True
    secreview_digest_grace_hours: int = Field(default=72, ge=0, le=24 * 14)
    secreview_log_format: str = "text"
    secreview_listener_threads: int = Field(default=16, ge=1, le=256)
    # `secreview serve` does the work after each ack in a child process. "idle": its work takes only CPU time
    # nothing else wants, so it never delays an acknowledgement; work waiting over a minute is caught up at
    # "low" priority. "low": nice 10. "normal": the same priority as the process answering Slack.
    secreview_worker_priority: Literal["idle", "low", "normal"] = "idle"
    # The CPUs the worker process may use: "auto" keeps it off the lowest CPU when there are two or more (one
    # CPython process uses about one CPU anyway, and the process answering Slack keeps a CPU and its cache),
    # "all", or a list like "1-3,6".
    secreview_worker_cpus: str = "auto"
    # A bearer token GET /metrics then asks for (Authorization: Bearer <token>); unset, /metrics is open, as
    # Prometheus exporters usually are.
    secreview_metrics_token: str | None = None

    @field_validator("secreview_reviewers")
    @classmethod
    def _reviewer_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not (USER_ID.match(item) or USERGROUP_ID.match(item)):
                raise invalid("reviewer_id", value=item)
        return value

    @field_validator("secreview_admins")
    @classmethod
    def _admin_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not USER_ID.match(item):
                raise invalid("user_id", value=item)
        return value

    @field_validator("secreview_watch_channels")
    @classmethod
    def _channel_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not CHANNEL_ID.match(item):
                raise invalid("channel_id", value=item)
        return value

    @field_validator("secreview_security_channel", "secreview_digest_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not CHANNEL_ID.match(value):
            raise invalid("channel_id", value=value)
        return value

    @field_validator("secreview_digest_schedule", "secreview_reminder_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise invalid("cron", value=value, reason=exc) from None
        return value

    @field_validator("secreview_worker_cpus")
    @classmethod
    def _cpus(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("auto", "all"):
            parse_cpu_list(value)
        return value

    def worker_cpus(self, available: set[int]) -> set[int]:
        """The CPUs the worker process keeps to, out of those this process may use."""
        if self.secreview_worker_cpus == "all":
            return available
        if self.secreview_worker_cpus == "auto":
            return available - {min(available)} if len(available) > 1 else available
        return (parse_cpu_list(self.secreview_worker_cpus) & available) or available

    @field_validator("secreview_metrics_token")
    @classmethod
    def _metrics_token(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"[\x21-\x7e]{16,512}", value):
            raise invalid("metrics_token")
        return value

    @field_validator("secreview_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid("timezone", value=value) from None
        return value

    @field_validator("secreview_holidays")
    @classmethod
    def _holidays(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        country, subdiv = parse_holidays_code(value)
        return f"{country}-{subdiv}" if subdiv else country

    @field_validator("secreview_languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        return list(intake.check_languages(tuple(code.lower() for code in value)))

    @field_validator("secreview_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise invalid("currency", value=value)
        return value

    @field_validator("secreview_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        try:
            return check_locale(value.strip())
        except ValueError:
            raise invalid("locale", quoted=repr(value.strip())) from None

    @field_validator("secreview_min_sample", mode="before")
    @classmethod
    def _min_sample(cls, value: Any) -> int:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 10_000:
            raise invalid("min_sample", quoted=repr(text))
        return int(text)

    @field_validator("secreview_trigger_emoji")
    @classmethod
    def _emoji(cls, value: str) -> str:
        value = value.strip(":")
        if not re.fullmatch(r"[a-z0-9_+\-']+", value):
            raise invalid("emoji", value=value)
        return value

    @field_validator("secreview_log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise invalid("log_format", value=value)
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise invalid("api_url", value=value)
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xoxb-"):
            raise invalid("bot_token")
        return value or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise invalid("app_token")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise invalid("database_url", value=safe_database_url(value)) from None
        if url.drivername not in DATABASE_DRIVERS:
            raise invalid("database_driver", value=safe_database_url(value), driver=url.drivername)
        return value

    @field_validator("secreview_config")
    @classmethod
    def _rules_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            read_rules(value)  # fail at start-up (beside every other bad setting), not on the first announcement
        return value

    @property
    def timezone(self) -> ZoneInfo:
        """The configured time zone as a tzinfo."""
        return ZoneInfo(self.secreview_timezone)

    @cached_property
    def calendar(self) -> WorkCalendar:
        """The working days every business-day count uses (time zone, public holidays, closing days)."""
        closing = load_closing_days(self.secreview_config) if self.secreview_config is not None else ()
        return WorkCalendar(self.timezone, holidays=self.secreview_holidays, closing_days=closing)

    @property
    def reviewer_users(self) -> frozenset[str]:
        """Reviewers named directly by user ID."""
        return frozenset(i for i in self.secreview_reviewers if USER_ID.match(i))

    @property
    def reviewer_groups(self) -> frozenset[str]:
        """Reviewer user groups, resolved through the API."""
        return frozenset(i for i in self.secreview_reviewers if USERGROUP_ID.match(i))

    @property
    def oauth_enabled(self) -> bool:
        """Several workspaces install the app through OAuth (HTTP mode)."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    def missing(self, *names: str) -> list[str]:
        """One line for each of these settings that is unset, saying what it is for."""
        return [not_set_line(name) for name in names if not getattr(self, name)]

    def require(self, *names: str) -> None:
        """Stops with a SettingsError naming every one of these settings that is unset."""
        if problems := self.missing(*names):
            raise SettingsError(*problems)

    def workspace_roles(self) -> dict[str, WorkspaceRoles]:
        """Reviewers and admins per workspace from SECREVIEW_CONFIG (empty: the global lists apply everywhere)."""
        if self.secreview_config is None:
            return {}
        try:
            return workspace_roles_from_config(read_config(self.secreview_config))
        except ValueError as exc:
            raise SettingsError(problem_line("secreview_config", str(exc))) from None

    @property
    def languages(self) -> tuple[str, ...]:
        """The configured languages (SECREVIEW_LANGUAGES), in order."""
        return tuple(self.secreview_languages)

    def intake_rules(self) -> intake.IntakeRules:
        """The announcement phrases, tags, weights, regulation rules and the intake questionnaire, from
        SECREVIEW_CONFIG or the defaults."""
        if self.secreview_config is None:
            return intake.rules_for_languages(self.languages)
        return load_rules_file(self.secreview_config, languages=self.languages)


def parse_cpu_list(text: str) -> set[int]:
    """'1-3,6' → {1, 2, 3, 6} (the kernel's cpulist format); ValueError with a readable reason otherwise."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()) or (high and int(high) < int(low)):
            raise invalid("cpu_list", value=text)
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def load_settings(*, settings_class: type[Settings] = Settings, **overrides: Any) -> Settings:
    """Reads and validates the settings; every bad one is reported, one line each, in secreview's words."""
    try:
        return settings_class(**overrides)
    except ValidationError as exc:
        raise SettingsError(*(describe_error(settings_class, error) for error in exc.errors())) from None


