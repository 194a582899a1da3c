"""The flow-test world with Jira: the fake Jira Cloud beside the fake Slack, its webhook pointed at secreview."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from sandbox.fake_jira import API_EMAIL, API_TOKEN, FakeJira
from storage.models import Condition
from tests.support.world import OWNER, World, running_split_world, running_world

WEBHOOK_SECRET = "jira-webhook-secret-for-tests"
ALICE_ACCOUNT = "712020:alice-adams-account"
ERIN_ACCOUNT = "712020:erin-engineer-account"
ALICE_EMAIL = "alice@example.com"


def jira_settings(jira: FakeJira, **overrides: Any) -> dict[str, Any]:
    """Settings pointing the real jira package at the fake (Cloud: email + API token)."""
    values: dict[str, Any] = {"jira_url": jira.url, "jira_user": API_EMAIL, "jira_api_token": API_TOKEN,
                              "secreview_jira_project": "SEC", "secreview_jira_webhook_secret": WEBHOOK_SECRET}
    values.update(overrides)
    return values


@contextmanager
def running_jira_world(database_url: str, *, webhook: bool = True, split: bool = False,
                       **overrides: Any) -> Iterator[World]:
    """running_world (or, `split`, running_split_world: an HTTP side and a worker side as `secreview serve` has)
    with Jira configured; `world.jira` is the fake. Alice has an email in Slack and in Jira."""
    jira = FakeJira().start()
    jira.add_user(ALICE_ACCOUNT, "Alice Adams", ALICE_EMAIL)
    jira.add_user(ERIN_ACCOUNT, "Erin Engineer", "erin@example.com")
    try:
        running = running_split_world if split else running_world
        with running(database_url, **jira_settings(jira, **overrides)) as world:
            world.fake.add_user(OWNER, "Alice Adams", display_name="alice", email=ALICE_EMAIL)
            if webhook:
                jira.add_webhook(f"{world.base_url}/jira/webhook", WEBHOOK_SECRET)
            world.jira = jira  # type: ignore[attr-defined]
            yield world
    finally:
        jira.stop()


def conditions(world: World) -> list[Condition]:
    """Every condition, in id order."""
    with world.session() as session:
        return list(session.scalars(select(Condition).order_by(Condition.id)))


def signed(body: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """A webhook body and its X-Hub-Signature, as Jira Cloud signs it."""
    data = json.dumps(body).encode()
    return data, "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
