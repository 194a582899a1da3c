"""The authorization matrix: every action (command, button, modal submission) against every role.

A refusal records nothing (no audit row, no notice) and tells the user who may do it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot.common.ids import ActionId
from sandbox import payloads
from storage.models import AuditEvent, OutboxMessage
from tests.flows.test_review_flow import decision_values, intake_values
from tests.support.world import CISO, GROUP_REVIEWER, OWNER, REVIEWER, STRANGER, World

ROLES = {"owner": OWNER, "stranger": STRANGER, "reviewer": REVIEWER, "group_reviewer": GROUP_REVIEWER,
         "admin": CISO}
REVIEWERS = {"reviewer", "group_reviewer", "admin"}


@dataclass(frozen=True)
class Case:
    """One action, who may do it, and how it is carried out by `user` on review number `n`."""

    allowed: frozenset[str]
    run: Callable[[World, str, int], str]  # returns what the user was told ("" when a modal opened)
    state: str = "in_review"  # the state the review is put in first
    opens_modal: bool = False


def _outcome(world: World, user: str, act: Callable[[], object]) -> str:
    """Does `act` and returns what `user` was told, or "" when a modal opened for them instead."""
    answers, modals = world.answer_count(user), len(world.fake.views(user=user))
    act()
    world.fake.wait_for(lambda: world.answer_count(user) > answers or len(world.fake.views(user=user)) > modals)
    if world.answer_count(user) > answers:
        return world.wait_answer(user, answers)
    return ""


def _ask(text: str) -> Callable[[World, str, int], str]:
    return lambda w, user, n: _outcome(
        w, user, lambda: w.command(text.format(n=n, cid=_first_condition(w, n)), user=user))


def _press(action: str, value: str = "SR-{n}") -> Callable[[World, str, int], str]:
    return lambda w, user, n: _outcome(
        w, user, lambda: w.click(action, value.format(n=n, cid=_first_condition(w, n)), user=user))


def _first_condition(world: World, number: int) -> int:
    conditions = world.review(number).conditions
    return conditions[0].id if conditions else 0


def _forged(callback: str, values: dict[str, dict[str, object]]) -> Callable[[World, str, int], str]:
    def run(world: World, user: str, number: int) -> str:
        payload = payloads.view_submission(world.team, user, callback, json.dumps({"key": number}), values)
        response = world.sender.send_interaction(payload)
        assert response.status == 200
        return response.body  # "" when accepted, the field errors when refused

    return run


CASES: dict[str, Case] = {
    "cmd take": Case(frozenset(REVIEWERS), _ask("take SR-{n}"), state="announced"),
    "cmd assign": Case(frozenset(REVIEWERS), _ask(f"assign SR-{{n}} <@{REVIEWER}|bob>"), state="announced"),
    "cmd info": Case(frozenset(REVIEWERS), _ask("info SR-{n} Which data?")),
    "cmd decide": Case(frozenset(REVIEWERS), _ask("decide SR-{n}"), opens_modal=True),
    "cmd withdraw": Case(frozenset({"owner"} | REVIEWERS), _ask("withdraw SR-{n}")),
    "cmd reopen": Case(frozenset(REVIEWERS), _ask("reopen SR-{n} scope changed"), state="approved_with_conditions"),
    "cmd done": Case(frozenset({"owner"} | REVIEWERS), _ask("done {cid}"), state="approved_with_conditions"),
    "cmd waive": Case(frozenset(REVIEWERS), _ask("waive {cid} compensating control"),
                      state="approved_with_conditions"),
    "cmd digest post": Case(frozenset({"admin"}), _ask("digest post")),
    "cmd export": Case(frozenset(REVIEWERS), _ask("export json")),
    "btn take": Case(frozenset(REVIEWERS), _press(ActionId.TAKE), state="announced"),
    "btn decide": Case(frozenset(REVIEWERS), _press(ActionId.DECIDE), opens_modal=True),
    "btn ask info": Case(frozenset(REVIEWERS), _press(ActionId.ASK_INFO), opens_modal=True),
    "btn not a project": Case(frozenset(REVIEWERS), _press(ActionId.NOT_A_PROJECT)),
    "btn start intake": Case(frozenset({"owner"} | REVIEWERS), _press(ActionId.START_INTAKE), opens_modal=True),
    "modal decision (forged)": Case(frozenset(REVIEWERS), _forged("decision-modal", decision_values("approved"))),
    "modal ask info (forged)": Case(frozenset(REVIEWERS), _forged("ask-info-modal", {
        "question": {"question": {"type": "plain_text_input", "value": "Where is the data?"}}})),
    "modal intake (forged)": Case(frozenset({"owner"} | REVIEWERS), _forged("intake-modal", intake_values())),
}


def _prepare(world: World, state: str, index: int) -> int:
    """A fresh review owned by OWNER in `state`; returns its number."""
    world.announce(f"New project number {index}: payroll to Workday")
    world.fake.wait_for(lambda: len(world.reviews()) == index)
    number = index
    if state == "in_review":
        world.ask(f"take SR-{number}", user=REVIEWER)
    elif state == "approved_with_conditions":
        opened = len(world.fake.views(user=REVIEWER))
        world.command(f"decide SR-{number}", user=REVIEWER)
        modal = world.fake.wait_for(lambda: world.fake.views(user=REVIEWER)[opened:])[-1]
        world.submit(modal, decision_values("approved_with_conditions", "ok", "MFA"), user=REVIEWER)
        world.fake.wait_for(lambda: world.review(number).state == "approved_with_conditions")
    world.settle()
    return number


def _recorded(world: World) -> tuple[int, int]:
    with world.session() as session:
        return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


@pytest.mark.parametrize("action", list(CASES))
def test_authorization_matrix(world: World, action: str) -> None:
    case = CASES[action]
    for index, (role, user) in enumerate(ROLES.items(), start=1):
        number = _prepare(world, case.state, index)
        before = _recorded(world)
        modals_before = len(world.fake.views(user=user))
        told = case.run(world, user, number)
        if role in case.allowed:
            if case.opens_modal:
                world.fake.wait_for(lambda f, u=user, m=modals_before: len(f.views(user=u)) > m)
            else:
                assert "Only" not in told, f"{role} was refused {action}: {told}"
                if action != "cmd export":  # an export changes nothing; every other action records or sends
                    world.fake.wait_for(lambda _f, b=before: _recorded(world) != b)
        else:
            assert "Only" in told, f"{role} was not refused {action}: {told!r}"
            who = "admins" if action == "cmd digest post" else "reviewers"
            assert who in told or "owner" in told
            assert _recorded(world) == before, f"a refused {action} by {role} recorded something"
            assert len(world.fake.views(user=user)) == modals_before


def test_read_only_commands_are_for_everyone(world: World) -> None:
    world.announce("New project: payroll to Workday")
    world.fake.wait_for(lambda: world.reviews())
    for user in ROLES.values():
        for text in ("list all", "show SR-1", "roadmap", "metrics", "digest preview", "help"):
            assert "Only" not in world.ask(text, user=user)
