"""The Jira settings: optional; without JIRA_URL nothing of the Jira side runs (bot/tracker reads these).

Part of Settings (bot/config/settings.py inherits this class), so the environment is still read in one place; kept in a
module of its own because it is one self-contained group.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode

from bot.config.wording import invalid

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")
LABEL = re.compile(r"^[^\s,]{1,255}$")
FIELD_ID = re.compile(r"^(?:customfield_\d+|[a-z][A-Za-z0-9_]{0,63})$")
# What secreview can put in a field of your choosing: the due date, the link back to the review, the review key.
FIELD_MAP_KEYS = ("due", "link", "review")
DEFAULT_FIELD_MAP = {"due": "duedate"}


def _split_words(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    return value


def _parse_field_map(value: Any) -> Any:
    # "due=duedate, link=customfield_10050": which Jira field receives which of secreview's values.
    if not isinstance(value, str):
        return value
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in re.split(r"[,;]", value)):
        if not part:
            continue
        name, sep, field = part.partition("=")
        if not sep:
            raise invalid("jira_field_pair", quoted=repr(part))
        mapping[name.strip()] = field.strip()
    return mapping


Words = Annotated[list[str], NoDecode, BeforeValidator(_split_words)]
FieldMap = Annotated[dict[str, str], NoDecode, BeforeValidator(_parse_field_map)]


class JiraSettings(BaseSettings):
    """JIRA_URL with Cloud (JIRA_USER + JIRA_API_TOKEN) or Data Center (JIRA_PAT) credentials, and how to sync."""

    jira_url: str | None = None
    jira_pat: str | None = None
    jira_user: str | None = None
    jira_api_token: str | None = Field(default=None, validate_default=True)
    secreview_jira_project: str | None = Field(default=None, validate_default=True)
    secreview_jira_issue_type: str = "Task"
    secreview_jira_labels: Words = Field(default_factory=list)
    secreview_jira_field_map: FieldMap = Field(default_factory=lambda: dict(DEFAULT_FIELD_MAP))
    secreview_jira_done_transition: str = "Done"
    secreview_jira_waive_transition: str = "Won't Do"
    secreview_jira_webhook_secret: str | None = None
    secreview_jira_webhook_token: str | None = None
    secreview_jira_poll_minutes: int = Field(default=5, ge=0, le=1440)

    @field_validator("jira_url")
    @classmethod
    def _jira_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$", value):
            raise invalid("jira_url", quoted=repr(value))
        return value.rstrip("/")

    @field_validator("jira_pat", "jira_user", "secreview_jira_webhook_secret", "secreview_jira_webhook_token")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("jira_api_token")
    @classmethod
    def _credentials(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value.strip() or None if value else None
        if not info.data.get("jira_url"):
            return value
        if info.data.get("jira_pat"):
            return value
        if not info.data.get("jira_user"):
            raise invalid("jira_credentials")
        if not value:
            raise invalid("jira_cloud_token")
        return value

    @field_validator("secreview_jira_project")
    @classmethod
    def _project(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            if info.data.get("jira_url"):
                raise invalid("jira_project_needed")
            return None
        if not PROJECT_KEY.match(value):
            raise invalid("jira_project_key", quoted=repr(value))
        if not info.data.get("jira_url"):
            raise invalid("jira_project_alone")
        return value

    @field_validator("secreview_jira_issue_type", "secreview_jira_done_transition", "secreview_jira_waive_transition")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise invalid("jira_name_empty")
        return value.strip()

    @field_validator("secreview_jira_labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        for label in value:
            if not LABEL.match(label):
                raise invalid("jira_label", quoted=repr(label))
        return value

    @field_validator("secreview_jira_field_map")
    @classmethod
    def _field_map(cls, value: dict[str, str]) -> dict[str, str]:
        for name, field in value.items():
            if name not in FIELD_MAP_KEYS:
                raise invalid("jira_field_name", quoted=repr(name), names=", ".join(FIELD_MAP_KEYS))
            if field and not FIELD_ID.match(field):
                raise invalid("jira_field_id", quoted=repr(field))
        return {**{k: v for k, v in DEFAULT_FIELD_MAP.items() if k not in value}, **value}

    @property
    def jira_enabled(self) -> bool:
        """Whether conditions become Jira issues (JIRA_URL is set; the validators made sure the rest is too)."""
        return bool(self.jira_url and self.secreview_jira_project)

    @property
    def jira_webhook_enabled(self) -> bool:
        """Whether POST /jira/webhook can authenticate anything (a shared secret or a token is set)."""
        return self.jira_enabled and bool(self.secreview_jira_webhook_secret or self.secreview_jira_webhook_token)
