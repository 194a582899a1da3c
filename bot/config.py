"""Settings: the one place that reads the environment (and `.env`, and the optional TOML file)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import intake
from bot.common.numbers import check_locale

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and what is expected."""


def _split_list(value: Any) -> Any:
    # Lists arrive as "U1,U2 U3" in the environment; spaces, commas and semicolons all separate.
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    return value


IdList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class Settings(BaseSettings):
    """Every setting of PRODUCT.md, typed, read once."""

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

    @field_validator("secreview_reviewers")
    @classmethod
    def _reviewer_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not (USER_ID.match(item) or USERGROUP_ID.match(item)):
                raise ValueError(f"{item!r} is not a Slack user ID (U…) or user-group ID (S…)")
        return value

    @field_validator("secreview_admins")
    @classmethod
    def _admin_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not USER_ID.match(item):
                raise ValueError(f"{item!r} is not a Slack user ID (U…)")
        return value

    @field_validator("secreview_watch_channels")
    @classmethod
    def _channel_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not CHANNEL_ID.match(item):
                raise ValueError(f"{item!r} is not a Slack channel ID (C… or G…)")
        return value

    @field_validator("secreview_security_channel", "secreview_digest_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not CHANNEL_ID.match(value):
            raise ValueError(f"{value!r} is not a Slack channel ID (C… or G…)")
        return value

    @field_validator("secreview_digest_schedule", "secreview_reminder_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a cron expression like '0 9 * * mon' ({exc})") from None
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

    @field_validator("secreview_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone like 'Europe/Paris'") from None
        return value

    @field_validator("secreview_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"{value!r} is not a three-letter currency code like 'EUR'")
        return value

    @field_validator("secreview_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return check_locale(value.strip())

    @field_validator("secreview_min_sample", mode="before")
    @classmethod
    def _min_sample(cls, value: Any) -> int:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 10_000:
            raise ValueError(f"{text!r} is not a sample size (a whole number from 1 to 10000)")
        return int(text)

    @field_validator("secreview_trigger_emoji")
    @classmethod
    def _emoji(cls, value: str) -> str:
        value = value.strip(":")
        if not re.fullmatch(r"[a-z0-9_+\-']+", value):
            raise ValueError(f"{value!r} is not an emoji name like 'lock'")
        return value

    @field_validator("secreview_log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError(f"{value!r} is not 'text' or 'json'")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xoxb-"):
            raise ValueError("a bot token starts with 'xoxb-'")
        return value or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError("an app-level token starts with 'xapp-'")
        return value or None

    @property
    def timezone(self) -> ZoneInfo:
        """The configured time zone as a tzinfo."""
        return ZoneInfo(self.secreview_timezone)

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

    def require(self, *names: str) -> None:
        """Stops with a SettingsError naming the first of these settings that is unset."""
        for name in names:
            if not getattr(self, name):
                raise SettingsError(f"{name.upper()} is not set: {_REQUIRED_HINTS.get(name, 'required here')}")

    def intake_rules(self) -> intake.IntakeRules:
        """The announcement phrases, tags, weights and regulation rules, from SECREVIEW_CONFIG or defaults."""
        if self.secreview_config is None:
            return intake.DEFAULT_RULES
        return load_rules_file(self.secreview_config)


_REQUIRED_HINTS = {
    "slack_bot_token": "the bot token xoxb-… from the app's OAuth & Permissions page",
    "slack_app_token": "an app-level token xapp-… with connections:write, for Socket Mode",
    "slack_signing_secret": "the signing secret from the app's Basic Information page, for HTTP mode",
    "secreview_security_channel": "the channel ID where review cards are posted",
    "secreview_digest_channel": "the channel ID where the weekly digest is posted",
}


def parse_cpu_list(text: str) -> set[int]:
    """'1-3,6' → {1, 2, 3, 6} (the kernel's cpulist format); ValueError with a readable reason otherwise."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()) or (high and int(high) < int(low)):
            raise ValueError(f"{text!r} is not 'auto', 'all' or a CPU list like '1-3,6'")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def load_rules_file(path: Path) -> intake.IntakeRules:
    """Reads the TOML file of lists and weights; errors name SECREVIEW_CONFIG and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"SECREVIEW_CONFIG: file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"SECREVIEW_CONFIG: cannot read {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"SECREVIEW_CONFIG: {str(path)!r} is not valid TOML: {exc}") from None
    try:
        return intake.rules_from_config(data)
    except ValueError as exc:
        raise SettingsError(f"SECREVIEW_CONFIG: {exc}") from None


def load_settings(**overrides: Any) -> Settings:
    """Reads and validates the settings, turning pydantic's report into one line naming the variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
    if settings.secreview_config is not None:
        settings.intake_rules()  # fail at start-up, not on the first announcement
    return settings
