"""The Block Kit of an edited announcement (issue 18), validated with slack_sdk: the card's thread replies, the
owner's DM with the intake's button, the card and App Home of a review that changed since its decision."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.common.ids import ActionId
from bot.config import Settings
from bot.review import messages, posted
from bot.review.facts import NONE
from bot.slack import views
from tests.unit.test_views import (
    HOSTILE,
    HOSTILE_TITLE,
    NOW,
    OWNER,
    REVIEWER,
    all_text,
    assert_no_live_markup,
    buttons,
    check_message,
    check_view,
    decide,
    hostile_review,
    make_review,
)

SETTINGS = Settings(_env_file=None, secreview_security_channel="C0SEC")
CHANGES: dict[str, Any] = {"go_live": [date(2026, 4, 15), date(2026, 3, 20)], "vendors": ["Zendesk"],
                           "regulations": ["HIPAA"], "tags": ["ai"], "tags_dropped": ["payments"]}
FLAG = {"at": "2026-03-11T10:00:00+00:00", "by": OWNER, "go_live": ["2026-04-15", "2026-03-20"],
        "regulations": ["HIPAA"], "vendors": ["Zendesk"]}


def test_what_changed_is_told_in_the_cards_thread_to_the_assignee() -> None:
    review = decide(make_review(), conditions=["SSO"])
    review.state = "approved_with_conditions"
    payload = check_message(messages.announcement_change("changed", review=review, changes=CHANGES, material=True,
                                                         actor=OWNER))
    text = all_text(payload)
    assert f"<@{REVIEWER}>, <@{OWNER}> edited the announcement" in text
    assert "go-live 15 Apr 2026 → *20 Mar 2026*" in text and "new regulations: *HIPAA*" in text
    assert "new vendors: *Zendesk*" in text and "tags no longer named: payments" in text
    assert "changed since decision" in text
    unassigned = check_message(messages.announcement_change("changed", review=make_review(assignee_id=None),
                                                            changes={"vendors": ["Zendesk"]}, material=False,
                                                            actor=OWNER))
    assert not all_text(unassigned).startswith(":pencil2: <@U0REVIEW1>")
    deleted = check_message(messages.announcement_change("deleted", review=review))
    assert "was deleted in Slack" in all_text(deleted)


def test_the_owner_is_asked_with_the_intakes_button_carrying_the_announcements_date() -> None:
    review = make_review(answers={"hosting": "saas"})
    payload = check_message(messages.announcement_change("intake_differs", review=review, go_live=date(2026, 3, 20),
                                                         intake_go_live=date(2026, 4, 15)))
    assert "now says go-live *20 Mar 2026*; your intake says *15 Apr 2026*" in all_text(payload)
    [button] = buttons(payload, ActionId.START_INTAKE)
    assert button["value"] == "SR-12@2026-03-20" and len(button["value"]) <= 100
    # Rendered again from the review's state: settled by a new intake, or closed, the button is gone.
    view = {"go_live": "2026-03-20", "intake_go_live": "2026-04-15"}
    review.go_live = date(2026, 3, 20)
    updated = check_message(posted.render("differs", review=review, settings=SETTINGS, facts=NONE, data=view) or {})
    assert "Settled: the intake now says go-live *20 Mar 2026*" in all_text(updated)
    assert not buttons(updated, ActionId.START_INTAKE)
    review.state = "rejected"
    closed = check_message(posted.render("differs", review=review, settings=SETTINGS, facts=NONE, data=view) or {})
    assert "can no longer be changed" in all_text(closed) and not buttons(closed, ActionId.START_INTAKE)


def test_a_changed_decided_card_offers_reopen_and_hostile_values_stay_inert() -> None:
    review = decide(make_review(changed_since_decision=FLAG), conditions=["SSO"])
    review.state = "approved_with_conditions"
    card = check_message(messages.review_card(review, SETTINGS))
    text = all_text(card)
    assert ("*Changed since decision:* go-live 15 Apr 2026 → 20 Mar 2026; new regulations HIPAA; new vendors Zendesk"
            in text)
    [reopen] = buttons(card, ActionId.REOPEN)
    assert reopen["value"] == "SR-12" and "confirm" in reopen
    plain = check_message(messages.review_card(decide(make_review()), SETTINGS))
    assert not buttons(plain, ActionId.REOPEN)
    hostile = hostile_review()
    hostile.changed_since_decision = {**FLAG, "by": HOSTILE, "vendors": [HOSTILE_TITLE], "regulations": [HOSTILE]}
    hostile.state = "rejected"
    for payload in (messages.review_card(hostile, SETTINGS),
                    messages.announcement_change("changed", review=hostile, actor=HOSTILE, material=True,
                                                 changes={"vendors": [HOSTILE_TITLE], "tags_dropped": [HOSTILE]}),
                    messages.announcement_change("deleted", review=hostile)):
        assert_no_live_markup(check_message(payload))


def test_app_home_lists_the_changed_reviews_with_reopen_for_reviewers_within_its_limits() -> None:
    changed = [make_review(i, title=HOSTILE_TITLE, state="approved", changed_since_decision=FLAG)
               for i in range(1, 31)]
    view = check_view(views.home(user_id=REVIEWER, is_reviewer=True, queue=[], taken=[],
                                 mine=[make_review(40, owner_id=REVIEWER, state="approved",
                                                   changed_since_decision=FLAG)],
                                 figures=None, now=NOW, changed=changed), "home")
    assert_no_live_markup(view)
    text = all_text(view)
    assert "Changed since decision (30)" in text and "and 25 more decided reviews" in text
    assert len(buttons(view, ActionId.REOPEN)) == 5
    assert "the announcement changed since the decision" in text  # on the reviewer's own project too
    owner_only = check_view(views.home(user_id=OWNER, is_reviewer=False, queue=[], taken=[], mine=[], figures=None,
                                       now=NOW, changed=[]), "home")
    assert not buttons(owner_only, ActionId.REOPEN)
