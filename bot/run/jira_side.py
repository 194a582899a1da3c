"""Putting the Jira side together (only with JIRA_URL): the deliverer with its Slack lookups, and the poll job."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.tracker.client import JiraClient, TrackerUnavailable, connect
from bot.tracker.delivery import JiraDelivery, Owner
from bot.tracker.poll import PollResult, run_poll
from storage.models import utcnow

log = logging.getLogger(__name__)


def _slack_trouble(exc: SlackApiError) -> bool:
    status = exc.response.status_code
    return status == 429 or status >= 500


def slack_owner_lookup(client_for: Callable[[str], WebClient]) -> Callable[[str, str], Owner]:
    """users.info → the owner's name and email (the email needs the users:read.email scope)."""

    def owner_of(workspace_id: str, user_id: str) -> Owner:
        try:
            user = client_for(workspace_id).users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            if _slack_trouble(exc):
                raise TrackerUnavailable(f"Slack users.info: HTTP {exc.response.status_code}") from None
            return Owner(name=user_id, email=None, found=False)
        except OSError as exc:
            raise TrackerUnavailable(f"Slack users.info: {exc}") from None
        profile = user.get("profile") or {}
        name = str(profile.get("real_name") or user.get("real_name") or user.get("name") or user_id)
        return Owner(name=name, email=str(profile["email"]) if profile.get("email") else None)

    return owner_of


def slack_permalinks(client_for: Callable[[str], WebClient]) -> Callable[[str, str, str], str | None]:
    """chat.getPermalink of the announcement (or the card): the link back from Jira to the review."""

    def permalink_of(workspace_id: str, channel: str, ts: str) -> str | None:
        try:
            return str(client_for(workspace_id).chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except SlackApiError as exc:
            if _slack_trouble(exc):
                raise TrackerUnavailable(f"Slack chat.getPermalink: HTTP {exc.response.status_code}") from None
            return None  # the message is gone or unreadable: the issue says where to find the review instead
        except OSError as exc:
            raise TrackerUnavailable(f"Slack chat.getPermalink: {exc}") from None

    return permalink_of


def jira_delivery(settings: Settings, session_factory: sessionmaker[Session],
                  client_for: Callable[[str], WebClient]) -> JiraDelivery | None:
    """The outbox's Jira deliverer, or None without Jira settings."""
    if not settings.jira_enabled:
        return None
    return JiraDelivery(settings=settings, session_factory=session_factory, owner_of=slack_owner_lookup(client_for),
                        permalink_of=slack_permalinks(client_for))


def poll_job(*, settings: Settings, session_factory: sessionmaker[Session], instance_id: str,
             client: Callable[[], JiraClient], now: datetime | None = None) -> PollResult | None:
    """The scheduler's Jira poll (claims its period first; one replica polls)."""
    try:
        return run_poll(settings=settings, session_factory=session_factory, instance_id=instance_id, client=client,
                        now=now or utcnow())
    except Exception:  # a database hiccup: the next period's poll covers this one
        log.exception("jira poll failed")
        return None


def shared_client(settings: Settings) -> Callable[[], JiraClient]:
    """A Jira client made on first use and kept (a failed connect is tried again on the next call)."""
    held: list[JiraClient] = []
    lock = threading.Lock()

    def client() -> JiraClient:
        with lock:
            if not held:
                held.append(connect(settings))
            return held[0]

    return client
