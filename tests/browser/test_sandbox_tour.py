"""The README's tour in the sandbox, in headless Chromium, and what is on screen at its end.

Two people at once, each in a browser of their own, as in a real workspace: Alice (the owner) keeps her views open
while Bob (the reviewer) works, so what she sees must change by itself. At the end no message in the thread, on the
card, in the DMs or on App Home may show a button or a sentence that no longer holds. Also the page's own points of
issue 14: emoji are drawn, the thread pane hides nothing, field errors go once fixed, the Messages tab is read-only.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.server import Sandbox
from tests.browser.conftest import sandbox_tab
from tests.browser.test_sandbox_browser import SlackPage, expect

pytestmark = pytest.mark.browser

# The README's tour, step 1.
TOUR = ("Kick-off: we are rolling out Salesforce Service Cloud for support, go-live 15 Jan. "
        "Customer contact data will move there.")


@pytest.fixture
def second_page(browser: Any, sandbox: Sandbox) -> Iterator[Any]:
    """Another person's browser on the same sandbox (its own storage, so its own person)."""
    yield from sandbox_tab(browser, sandbox)


def buttons_in(locator: Any) -> list[str]:
    return [text.strip() for text in locator.locator("button.btn").all_inner_texts()]


def pixels(png: bytes) -> Any:
    """An element's screenshot as an RGB array (matplotlib is a dependency already, for the digest's chart)."""
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")[..., :3]


def test_the_readme_tour_leaves_nothing_stale(page: Any, second_page: Any, sandbox: Sandbox) -> None:
    alice, bob = SlackPage(page), SlackPage(second_page)
    alice.act_as("alice")
    bob.act_as("bob")

    # 1. Alice announces; 2. secreview answers in the thread, and the card appears for the reviewers.
    alice.open_channel("projects")
    alice.say(TOUR)
    alice.message("Salesforce Service Cloud").get_by_test_id("replies").click()
    thread = page.get_by_test_id("thread")
    reply = thread.get_by_test_id("message").filter(has_text="Security review").first
    expect(reply).to_contain_text("is open for")
    key = re.search(r"SR-\d+", reply.inner_text())
    assert key
    key_text = key.group(0)
    expect(reply.get_by_role("button", name="Start security intake")).to_be_visible()
    bob.open_channel("security-reviews")
    card = bob.message(f"{key_text} · Salesforce Service Cloud for support")
    expect(card).to_contain_text("intake pending")
    expect(card).to_contain_text("Vendors: Salesforce")  # what secreview could already tell

    # 3. Alice answers the questions; the thread reply and the card say the intake is in, with the tier and why.
    reply.get_by_role("button", name="Start security intake").click()
    modal = alice.modal()
    expect(modal).to_contain_text("Security intake")
    expect(alice.field("title").locator("input")).to_have_value("Salesforce Service Cloud for support")
    modal.get_by_label("Data classification").select_option("confidential")
    alice.field("sensitive_data").get_by_label("Personal data").check()
    alice.field("exposure").get_by_label("Internet-facing").check()
    modal.get_by_label("Where does it run?").select_option("saas")
    alice.field("uses_ai").get_by_label("No", exact=True).check()
    alice.field("changes_auth").get_by_label("Yes", exact=True).check()
    alice.submit()
    expect(reply).to_contain_text("The intake is in")
    expect(reply).not_to_contain_text("answers a few questions")
    expect(reply.get_by_role("button", name="Edit the intake")).to_be_visible()
    expect(card).to_contain_text("intake in")
    expect(card).to_contain_text("+3 personal data")
    expect(card).to_contain_text("+2 internet-facing")
    expect(card).to_contain_text("GDPR")  # derived from the personal data in the answers

    # Alice keeps her Home tab open from here on: it has to follow by itself.
    page.get_by_test_id("app-secreview").click()
    home = page.get_by_test_id("home")
    project = home.locator(".block-section").filter(has_text=f"{key_text} · Salesforce Service Cloud")
    expect(project).to_contain_text("Announced")

    # 4. Bob takes it, then decides: approve with conditions, one safeguard per line, a cost avoided.
    card.get_by_role("button", name="Take", exact=True).click()
    expect(second_page.get_by_test_id("ephemeral").filter(has_text=f"You took {key_text}")).to_be_visible()
    expect(card.get_by_role("button", name="Take over")).to_be_visible()  # no "Take" for what Bob has
    expect(project).to_contain_text("In review")
    card.get_by_role("button", name="Decide").click()
    decision = bob.modal()
    bob.field("outcome").get_by_label("Approve with conditions").check()
    bob.field("rationale").locator("textarea").fill("Fine with SSO and a signed DPA.")
    bob.field("conditions").locator("textarea").fill("Enable SSO with MFA\nSign the data processing agreement")
    decision.get_by_label("Estimated cost avoided").fill("40000")
    bob.submit()
    expect(card).to_contain_text("Decision:")
    # 5. Bob is told the decision is recorded (a DM: the modal had no channel to answer in).
    second_page.get_by_test_id("app-secreview").click()
    second_page.get_by_test_id("tab-messages").click()
    expect(bob.message(key_text)).to_contain_text("You recorded Approved with conditions")

    # Alice's Home changed while she looked at it: decided, with its two safeguards to mark done.
    expect(project).to_contain_text("Approved with conditions")
    expect(home).to_contain_text("Enable SSO with MFA")
    home.locator(".block-section").filter(has_text="Enable SSO with MFA").get_by_role("button",
                                                                                        name="Mark done").click()
    expect(home).not_to_contain_text("Enable SSO with MFA")
    expect(home).to_contain_text("Sign the data processing agreement")

    # The end of the tour: nothing anyone sees offers what no longer applies or says what is no longer true.
    alice.open_channel("projects")
    alice.message("Salesforce Service Cloud").get_by_test_id("replies").click()
    expect(thread).to_contain_text("Approved with conditions")
    expect(reply).to_contain_text("is decided")
    expect(reply).to_contain_text("1 of 2 safeguards still open")
    for stale in ("answers a few questions", "Next:", "is open for"):
        expect(reply).not_to_contain_text(stale)
    assert buttons_in(thread) == []  # no intake button, no button at all in the thread
    alice.shot("sandbox-thread-decided.png")
    page.get_by_test_id("app-secreview").click()
    page.get_by_test_id("tab-messages").click()
    dm = page.get_by_test_id("messages")
    expect(dm).to_contain_text(f"the intake of {key_text}")  # the short confirmation when the intake was in
    expect(dm).to_contain_text("Reply in the announcement's thread")
    expect(dm).not_to_contain_text("Reply in this thread")  # the DM says what the owner can really do
    alice.shot("sandbox-messages.png")
    assert buttons_in(dm) == []
    # The Messages tab is read-only, as the manifest makes it in Slack.
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.get_by_test_id("composer")).to_be_hidden()
    # The DM's link goes to the announcement's thread.
    dm.get_by_role("link", name="the announcement's thread").last.click()
    expect(page.get_by_test_id("channel-title")).to_have_text("projects")
    expect(thread).to_contain_text("is decided")
    page.get_by_test_id("app-secreview").click()
    page.get_by_test_id("tab-home").click()
    expect(project).to_contain_text("Approved with conditions")
    expect(project).not_to_contain_text("In review")

    bob.open_channel("security-reviews")
    expect(card).to_contain_text("Approved with conditions")
    expect(card).not_to_contain_text("intake pending")
    assert buttons_in(card) == []  # a decided card offers nothing to do
    bob.shot("sandbox-card-decided.png", top_of=card)

    # The card draws its safeguards with real emoji: done (a green tick) and open (a white square) look different.
    done = card.locator('.emoji[title=":white_check_mark:"]').first
    still_open = card.locator('.emoji[title=":white_square:"]').first
    tick, square = pixels(done.screenshot()), pixels(still_open.screenshot())
    green = (tick[..., 1] > 0.5) & (tick[..., 0] < 0.5) & (tick[..., 2] < 0.5)
    assert green.mean() > 0.05, "the tick is not drawn in colour: is a colour emoji font installed?"
    greenish = (square[..., 1] > 0.5) & (square[..., 0] < 0.5) & (square[..., 2] < 0.5)
    assert greenish.mean() < 0.01


def test_the_thread_pane_hides_nothing_of_the_channel(page: Any, sandbox: Sandbox) -> None:
    slack = SlackPage(page)
    slack.act_as("carol")
    slack.open_channel("general")
    for n in range(20):  # a conversation longer than the screen, of lines that wrap again when the pane narrows
        slack.say(f"Morning note {n}: the coffee machine on floor works again, the lift is being serviced until "
                  "Thursday, and the quiet room on the second floor is free.")
    slack.say("New project: a pilot of Loom for async video updates, go-live 2031-02-01")
    newest = slack.message("Loom for async video updates")
    newest.get_by_test_id("replies").click()
    expect(page.get_by_test_id("thread")).to_contain_text("is open for")
    page.wait_for_timeout(500)  # the layout settles after the pane opened
    box, composer = newest.bounding_box(), page.get_by_test_id("composer").bounding_box()
    assert box is not None and composer is not None
    assert box["y"] + box["height"] <= composer["y"], "the newest message is hidden behind the message box"


def test_field_errors_go_once_the_field_is_filled_and_the_hint_lists_every_command(page: Any,
                                                                                  sandbox: Sandbox) -> None:
    slack = SlackPage(page)
    slack.act_as("alice")
    slack.open_channel("general")
    box = page.get_by_test_id("composer")
    box.fill("/secreview")
    box.dispatch_event("input")
    hint = page.locator("#command-hint")
    expect(hint).to_contain_text("done 12")
    expect(hint).to_contain_text("waive 12 <reason>")
    expect(hint).to_contain_text("release SR-12")
    slack.say("/secreview new")
    modal = slack.modal()
    modal.get_by_test_id("modal-submit").click()
    title_error = slack.field("title").locator(".field-error")
    summary_error = slack.field("data_classification").locator(".field-error")
    expect(title_error).to_be_visible()
    expect(summary_error).to_be_visible()
    slack.field("title").locator("input").fill("Loom for async video")
    expect(title_error).to_be_hidden()  # filled: its error is gone
    expect(summary_error).to_be_visible()  # the others stay until they are filled
    modal.get_by_label("Data classification").select_option("internal")
    expect(summary_error).to_be_hidden()
    modal.get_by_role("button", name="Cancel").click()
