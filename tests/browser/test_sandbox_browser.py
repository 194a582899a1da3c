"""The sandbox in headless Chromium: a person does the whole review flow in the browser, as in Slack.

Every step goes through the page: typed messages, buttons, modals and the person switcher, so these tests cover
the page's Block Kit rendering, the signed payloads it has sent to secreview, and what secreview answered.
SECREVIEW_SCREENSHOTS=1 rewrites the screenshots in docs/ (never in CI: they are tracked files).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import Sandbox

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOTS = os.environ.get("SECREVIEW_SCREENSHOTS") == "1"
ANNOUNCEMENT = ("Kick-off: we are rolling out the Acme Expenses app for all staff, go-live 2031-05-01. "
                "Staff upload receipts, some with payment card numbers.")


def expect(target: Any) -> Any:
    """Playwright's auto-waiting assertions (imported late: the module is skipped without Playwright)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


class SlackPage:
    """The sandbox page seen as a person uses it: switch person, open channels, type, click, fill modals."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def act_as(self, handle: str) -> None:
        """Switches the person acting (the buttons at the top right)."""
        button = self.page.get_by_test_id(f"as-{handle}")
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")

    def open_channel(self, name: str) -> None:
        """Opens a channel from the sidebar."""
        self.page.get_by_test_id(f"channel-{name}").click()
        expect(self.page.get_by_test_id("channel-title")).to_have_text(name)

    def say(self, text: str) -> None:
        """Types in the message box and presses Enter."""
        box = self.page.get_by_test_id("composer")
        box.fill(text)
        box.press("Enter")
        expect(box).to_have_value("")

    def message(self, text: str) -> Any:
        """The newest message in the open conversation that contains `text`."""
        return self.page.get_by_test_id("messages").get_by_test_id("message").filter(has_text=text).last

    def modal(self) -> Any:
        """The open modal."""
        return self.page.get_by_test_id("modal")

    def field(self, block_id: str) -> Any:
        """One input block of the open modal, by its block_id."""
        return self.modal().locator(f'[data-block-id="{block_id}"]')

    def submit(self) -> None:
        """Submits the modal and waits until it closed."""
        self.modal().get_by_test_id("modal-submit").click()
        expect(self.modal()).to_have_count(0)

    def shot(self, name: str, *, top_of: Any = None) -> None:
        """Saves a screenshot into docs/ when asked to (SECREVIEW_SCREENSHOTS=1), scrolled to `top_of`."""
        if not SCREENSHOTS:
            return
        self.page.wait_for_timeout(300)  # let the last re-render settle
        if top_of is not None:
            top_of.evaluate("node => node.scrollIntoView({block: 'start'})")
        self.page.screenshot(path=str(DOCS / name))


def announce(slack: SlackPage, text: str) -> str:
    """Alice announces a project in #projects; returns the review's key from secreview's thread reply."""
    slack.act_as("alice")
    slack.open_channel("projects")
    slack.say(text)
    slack.message(text[:40]).get_by_test_id("replies").click()
    reply = slack.page.get_by_test_id("thread").get_by_test_id("message").filter(has_text="is open for").first
    expect(reply).to_be_visible()
    found = re.search(r"SR-\d+", reply.inner_text())
    assert found, reply.inner_text()
    return found.group(0)


def test_the_whole_review_flow_in_the_browser(page: Any, sandbox: Sandbox) -> None:
    slack = SlackPage(page)
    thread = page.get_by_test_id("thread")

    # Alice announces; secreview answers in the thread with the key and the intake button.
    key = announce(slack, ANNOUNCEMENT)
    expect(thread).to_contain_text("Start security intake")
    slack.shot("sandbox-channel.png")

    # She fills the intake from the thread's button.
    thread.get_by_role("button", name="Start security intake").click()
    modal = slack.modal()
    expect(modal).to_contain_text("Security intake")
    expect(slack.field("go_live").locator("input")).to_have_value("2031-05-01")  # pre-filled from the text
    slack.field("title").locator("input").fill("Acme Expenses")
    modal.get_by_label("Summary").fill("Staff photograph receipts; Acme stores them in the EU.")
    modal.get_by_label("Data classification").select_option("confidential")
    slack.field("sensitive_data").get_by_label("Payment card data").check()
    slack.field("exposure").get_by_label("Internet-facing").check()
    modal.get_by_label("Where does it run?").select_option("saas")
    modal.get_by_label("Third parties").fill("Acme Corp")
    slack.field("uses_ai").get_by_label("No", exact=True).check()
    slack.field("changes_auth").get_by_label("Yes", exact=True).check()
    slack.shot("sandbox-intake.png", top_of=slack.field("title"))
    slack.submit()

    # Bob, a reviewer, finds the card in the private security channel (Alice does not even see it).
    expect(page.get_by_test_id("channel-security-reviews")).to_have_count(0)
    slack.act_as("bob")
    slack.open_channel("security-reviews")
    card = slack.message(f"{key} · Acme Expenses")
    expect(card).to_contain_text("PCI DSS")  # the intake's answers reached the card
    card.get_by_role("button", name="Take").click()
    expect(page.get_by_test_id("ephemeral").filter(has_text=f"You took {key}")).to_be_visible()
    expect(page.get_by_test_id("ephemeral").last).to_contain_text("Only visible to you")
    expect(card).to_contain_text("@Bob Brown")
    slack.shot("sandbox-card.png")

    # He decides: approve with conditions.
    card.get_by_role("button", name="Decide").click()
    expect(modal).to_contain_text("Security decision")
    slack.field("outcome").get_by_label("Approve with conditions").check()
    slack.field("rationale").locator("textarea").fill("Fine once receipts are encrypted and kept only as needed.")
    slack.field("conditions").locator("textarea").fill("Encrypt receipts at rest\nDelete receipts after 7 years")
    modal.get_by_label("Estimated cost avoided").fill("25000")
    slack.shot("sandbox-decision.png", top_of=modal.locator(".modal-body > *").first)
    slack.submit()
    expect(card).to_contain_text("Decision:")
    expect(card.get_by_role("button", name="Decide")).to_have_count(0)  # the card was updated in place

    # Alice sees the decision in her announcement's thread and in secreview's messages to her.
    slack.act_as("alice")
    slack.open_channel("projects")
    slack.message("Acme Expenses app").get_by_test_id("replies").click()
    expect(thread).to_contain_text("Approved with conditions")
    expect(thread).to_contain_text("Encrypt receipts at rest")
    page.get_by_test_id("app-secreview").click()
    page.get_by_test_id("tab-messages").click()
    expect(slack.message(key)).to_contain_text("Delete receipts after 7 years")

    # App Home lists her project with its open safeguards.
    page.get_by_test_id("tab-home").click()
    home = page.get_by_test_id("home")
    expect(home).to_contain_text(f"{key} · Acme Expenses")
    expect(home).to_contain_text("Encrypt receipts at rest")
    slack.shot("sandbox-home.png")

    # Carol, the CISO, posts the digest now: it lands in #security-digest.
    slack.act_as("carol")
    page.get_by_test_id("post-digest").click()
    expect(page.get_by_test_id("channel-title")).to_have_text("security-digest")
    expect(page.get_by_test_id("messages")).to_contain_text("Security reviews, ", timeout=20_000)
    expect(page.get_by_test_id("messages").locator(".file-image img")).to_be_visible(timeout=20_000)
    digest_message = slack.message("Security reviews, ")
    expect(digest_message).to_contain_text("Went well:")
    expect(digest_message).to_contain_text("Needs attention:")
    slack.shot("sandbox-digest.png", top_of=digest_message)
    slack.shot("sandbox-digest-figures.png", top_of=digest_message.get_by_text("Announced", exact=True))
    slack.shot("sandbox-digest-chart.png", top_of=page.get_by_test_id("messages").get_by_test_id("message").last)


def test_a_rejection_without_rationale_is_shown_on_the_field(page: Any, sandbox: Sandbox) -> None:
    slack = SlackPage(page)
    key = announce(slack, "New project: a pilot of Figma for the design team, go-live 2031-06-01.")
    slack.act_as("bob")
    slack.open_channel("security-reviews")
    slack.message(f"{key} · ").get_by_role("button", name="Decide").click()
    modal = slack.modal()
    slack.field("outcome").get_by_label("Reject").check()
    modal.get_by_test_id("modal-submit").click()

    error = slack.field("rationale").locator(".field-error")
    expect(error).to_have_text(re.compile("rationale is required"))
    expect(modal).to_be_visible()  # the modal stays open with what was typed
    expect(slack.field("outcome").get_by_label("Reject")).to_be_checked()

    # Fixed, it goes through.
    slack.field("rationale").locator("textarea").fill("Figma is approved company-wide already; nothing new here.")
    slack.submit()
    expect(slack.message(f"{key} · ")).to_contain_text("Rejected")


def test_required_fields_are_checked_before_anything_is_sent(page: Any, sandbox: Sandbox) -> None:
    slack = SlackPage(page)
    slack.act_as("alice")
    slack.open_channel("projects")
    slack.say("/secreview new")
    modal = slack.modal()
    expect(modal).to_contain_text("Security intake")
    modal.get_by_test_id("modal-submit").click()
    expect(slack.field("title").locator(".field-error")).to_have_text("Please complete this required field.")
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_have_count(0)


def test_commands_answer_only_the_person_who_typed_them(page: Any, sandbox: Sandbox) -> None:
    slack = SlackPage(page)
    slack.act_as("alice")
    slack.open_channel("general")
    slack.say("/secreview help")
    answer = page.get_by_test_id("ephemeral").last
    expect(answer).to_contain_text("/secreview list")
    expect(answer).to_contain_text("Only visible to you")
    slack.act_as("bob")
    slack.open_channel("general")
    expect(page.get_by_test_id("ephemeral")).to_have_count(0)


def test_typed_markup_is_shown_as_text_and_mrkdwn_is_formatted(page: Any, sandbox: Sandbox) -> None:
    slack = SlackPage(page)
    slack.act_as("carol")
    slack.open_channel("general")
    slack.say("<b>hi</b> & <img src=x onerror=alert(1)> *bold* `code` @bob in #projects")
    message = slack.message("hi")
    expect(message).to_contain_text("<b>hi</b> & <img src=x onerror=alert(1)>")
    expect(message.locator("b, img, script")).to_have_count(0)
    expect(message.locator("strong")).to_have_text("bold")
    expect(message.locator("code")).to_have_text("code")
    expect(message.locator(".mention")).to_have_text(["@Bob Brown", "#projects"])


def test_the_page_answers_only_its_own_origin_and_json(sandbox: Sandbox) -> None:
    import urllib.error
    import urllib.request

    def post(headers: dict[str, str], body: bytes = b"{}") -> int:
        request = urllib.request.Request(f"{sandbox.url}/api/digest", data=body, headers=headers, method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=5) as reply:
                return int(reply.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    # Another site's name pointed at 127.0.0.1 (DNS rebinding), and a cross-site form post: both refused.
    assert post({"Content-Type": "application/json", "Host": "evil.example:80"}) == 403
    assert post({"Content-Type": "application/x-www-form-urlencoded"}, b"user=UCISO0001") == 415
    assert post({"Content-Type": "application/json"}, b'{"user": "UNOBODY1"}') == 400
