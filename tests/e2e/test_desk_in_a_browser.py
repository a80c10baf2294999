"""The desk in a real browser: Debian's Chromium driven by Playwright, against ``calmly serve`` on a simulated clock.

A community manager signs in with her token, sees a new mention appear in the queue without reloading, opens it
from the keyboard, assesses it, has "calm down" flagged as she types and refused on sending in the house rule's
words, picks the approved reply, acknowledges, watches the countdown, and signs out; the team takes a complaint on
to its review; the queue says when it is not live, follows the clock, and asks for a sign-in once the session has
ended. axe-core checks the sign-in, queue and incident pages.

Without Chromium (``apt-get install chromium``) or Playwright (``pip install -e '.[dev]'``) these tests skip and say
so. With ``CALMLY_DESK_SCREENSHOTS=1`` they also save the queue and an incident page to docs/images/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import SCREENSHOTS, DeskDaemon, chromium, expect, no_serious_violations


class Daemon(DeskDaemon):
    """The desk's daemon for these tests, with tokens for the people they sign in as."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, people=("alice", "bob", "carol", "grace"))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    running = Daemon(tmp_path_factory.mktemp("desk"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in(page: Any, daemon: Daemon, person: str) -> None:
    page.goto(f"{daemon.url}/signin")
    page.get_by_label("Your token").fill(daemon.tokens[person])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="The queue")).to_be_visible()


def test_a_wrong_token_is_refused_in_words_on_an_accessible_sign_in_page(page: Any, daemon: Daemon) -> None:
    page.goto(f"{daemon.url}/signin")
    no_serious_violations(page, "sign-in")

    page.get_by_label("Your token").fill("calmly_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_be_visible()
    assert page.url.endswith("/signin")
    assert "calmly_not-a-real-token" not in page.url


def test_a_community_manager_works_a_new_complaint_from_the_queue(page: Any, daemon: Daemon) -> None:
    _sign_in(page, daemon, "alice")
    assert daemon.tokens["alice"] not in page.url
    expect(page.locator("body")).to_have_attribute("data-live", "yes")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    opened = daemon.mention("desk-1", "My order arrived broken and nobody answers", "@ann")

    row = page.locator(f'#queue-rows tr[data-incident="{opened}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("My order arrived broken")
    assert page.evaluate("window.loadedOnce") is True, "the queue reloaded instead of updating in place"
    no_serious_violations(page, "queue")
    if SCREENSHOTS is not None:
        page.screenshot(path=str(SCREENSHOTS / "desk-queue.png"), full_page=True)

    page.keyboard.press("j")
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(opened)
    no_serious_violations(page, "incident")

    countdown = page.locator(".countdown").first
    expect(countdown).to_contain_text("due in")
    shown = countdown.inner_text()
    expect(countdown).not_to_have_text(shown)  # it counts down by itself, each second

    assess = page.locator("form.action", has=page.get_by_role("button", name="Assess"))
    assess.get_by_label("Severity").select_option("medium")
    assess.get_by_role("button", name="Assess").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("assessed")

    acknowledge = page.locator("form.action", has=page.get_by_role("button", name="Acknowledge"))
    reply = acknowledge.locator("textarea")
    reply.fill("Please calm down, we will look at it")
    expect(acknowledge.locator(".draft-problem")).to_contain_text("calm down")  # flagged before it is sent
    expect(reply).to_have_attribute("aria-invalid", "true")
    acknowledge.get_by_label("Post this reply in public on twitter").check()
    acknowledge.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("alert")).to_contain_text("calm down")
    expect(page.get_by_role("heading", level=1)).to_contain_text("assessed")

    acknowledge = page.locator("form.action", has=page.get_by_role("button", name="Acknowledge"))
    expect(acknowledge.locator("textarea")).to_have_value("Please calm down, we will look at it")  # kept to mend
    acknowledge.locator("textarea").fill("")
    acknowledge.get_by_role("button", name="Use the approved reply").first.click()
    expect(acknowledge.locator(".draft-problem")).to_have_text("")  # the approved wording breaks no house rule
    expect(acknowledge.locator("textarea")).to_have_value(
        "Hi @ann, thank you for telling us. We're sorry, and we're looking into it now."
    )
    if SCREENSHOTS is not None:
        page.screenshot(path=str(SCREENSHOTS / "desk-incident.png"), full_page=True)
    acknowledge.get_by_label("Post this reply in public on twitter").check()
    acknowledge.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("acknowledged")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Your token")).to_be_visible()
    page.goto(daemon.url + "/")
    expect(page.get_by_label("Your token")).to_be_visible()


def _form(page: Any, action: str) -> Any:
    return page.locator("form.action", has=page.get_by_role("button", name=action, exact=True))


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Your token")).to_be_visible()


def test_the_team_works_a_complaint_from_the_queue_to_the_review(page: Any, daemon: Daemon) -> None:
    opened = daemon.mention("desk-4", "The blender I ordered arrived broken", "@dev")
    heading = page.get_by_role("heading", level=1)

    _sign_in(page, daemon, "alice")
    page.get_by_role("link", name=opened, exact=True).click()
    _form(page, "Assess").get_by_label("Severity").select_option("medium")
    _form(page, "Assess").get_by_role("button", name="Assess").click()
    expect(heading).to_contain_text("assessed")
    acknowledge = _form(page, "Acknowledge")
    acknowledge.get_by_role("button", name="Use the approved reply").first.click()
    acknowledge.get_by_label("Post this reply in public on twitter").check()
    acknowledge.get_by_role("button", name="Acknowledge").click()
    expect(heading).to_contain_text("acknowledged")
    offer = _form(page, "Offer resolution")
    offer.get_by_label("What is offered").select_option("replacement")
    offer.get_by_label("Details of the offer").fill("A new blender, sent today")
    offer.get_by_label("Private route to continue").select_option("dm")
    offer.get_by_label("Who the customer can reach").fill("Alice")
    offer.get_by_role("button", name="Offer resolution").click()
    expect(heading).to_contain_text("resolution_offered")
    _sign_out(page)

    _sign_in(page, daemon, "carol")
    page.goto(f"{daemon.url}/incidents/{opened}")
    expect(page.locator("ul.promises")).to_contain_text("replacement-1: replacement (A new blender, sent today)")
    _form(page, "Deliver").get_by_label("Internal note").fill("The courier delivered the new blender")
    _form(page, "Deliver").get_by_role("button", name="Deliver").click()
    expect(page.locator("ul.promises")).to_contain_text("Kept by carol")
    _form(page, "Resolve").get_by_label("What was done to resolve it").fill("The replacement was delivered")
    _form(page, "Resolve").get_by_role("button", name="Resolve").click()
    expect(heading).to_contain_text("resolved")
    _sign_out(page)

    _sign_in(page, daemon, "bob")
    page.goto(f"{daemon.url}/incidents/{opened}")
    review = _form(page, "Review")
    review.get_by_label("Was it avoidable?").select_option("yes")
    review.get_by_label("Is there a missed opportunity?").fill("Pack blenders in more foam")
    review.get_by_label("Where did it start?").select_option("delivery")
    review.get_by_role("button", name="Review").click()

    expect(heading).to_contain_text("reviewed")
    expect(page.get_by_text("This incident is closed.")).to_be_visible()
    _sign_out(page)


def _choose_by_keyboard(page: Any, row: Any) -> None:
    """Press j until ``row`` is the chosen one (the queue holds the other tests' incidents too)."""
    for _ in range(page.locator("#queue-rows tr.incident-row").count()):
        page.keyboard.press("j")
        if re.search(r"\bselected\b", row.get_attribute("class") or ""):
            return
    raise AssertionError("j never reached the row")


def test_a_safety_reply_is_taken_noted_drafted_approved_by_legal_and_posted_word_for_word(
    page: Any, daemon: Daemon
) -> None:
    opened = daemon.mention("desk-7", "I was injured by your kettle", "@kim")
    heading = page.get_by_role("heading", level=1)

    _sign_in(page, daemon, "alice")
    row = page.locator(f'#queue-rows tr[data-incident="{opened}"]')
    expect(row).to_be_visible()
    _choose_by_keyboard(page, row)
    page.keyboard.press("t")  # take the chosen incident
    expect(row.locator("td.owner")).to_have_text("you")
    row.get_by_role("link", name=opened, exact=True).click()
    expect(page.locator("#owner")).to_have_text("you")
    page.get_by_label("A note for the team").fill("Kim posted a photo of the burn; keep the photo out of replies.")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".timeline")).to_contain_text("Internal note Kim posted a photo of the burn")
    _form(page, "Assess").get_by_label("Severity").select_option("high")
    _form(page, "Assess").get_by_role("button", name="Assess").click()
    expect(heading).to_contain_text("assessed")
    draft = _form(page, "Submit draft for approval")
    expect(draft).to_contain_text("Needs approval by legal_counsel or comms_director")
    draft.get_by_role("button", name="Use the approved reply").first.click()
    drafted = draft.locator("textarea").input_value()
    assert drafted
    draft.get_by_role("button", name="Submit draft for approval").click()
    expect(page.get_by_role("heading", name="Draft reply waiting for approval")).to_be_visible()
    expect(heading).to_contain_text("assessed")  # a draft waits where the incident is: nothing is posted
    _sign_out(page)

    _sign_in(page, daemon, "grace")
    page.goto(f"{daemon.url}/incidents/{opened}")
    expect(page.get_by_role("heading", name="Draft reply waiting for approval")).to_be_visible()
    expect(page.locator("#approval-draft")).to_have_text(drafted)
    expect(page.locator(".approval")).to_contain_text("I was injured by your kettle")
    no_serious_violations(page, "approval")
    if SCREENSHOTS is not None:
        page.screenshot(path=str(SCREENSHOTS / "desk-approval.png"), full_page=True)
    page.locator(".approval").get_by_role("button", name="Approve reply").click()
    expect(page.get_by_role("heading", name="Approved reply, to post as it is")).to_be_visible()
    _sign_out(page)

    _sign_in(page, daemon, "alice")
    page.goto(f"{daemon.url}/incidents/{opened}")
    acknowledge = _form(page, "Acknowledge")
    expect(acknowledge.locator("textarea")).to_have_value(drafted)  # the approved words, as they were approved
    acknowledge.get_by_label("Post this reply in public on twitter").check()
    acknowledge.get_by_role("button", name="Acknowledge").click()
    expect(heading).to_contain_text("acknowledged")
    expect(page.locator(".timeline")).to_contain_text("the reply grace approved, word for word")
    _sign_out(page)


def test_the_queue_follows_the_clock_when_it_moves_on(page: Any, daemon: Daemon) -> None:
    opened = daemon.mention("desk-2", "Still waiting on my refund", "@bea")
    _sign_in(page, daemon, "alice")
    row = page.locator(f'#queue-rows tr[data-incident="{opened}"]')
    expect(row).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live", "yes")
    expect(row).not_to_have_class(re.compile(r"\bbreached\b"))
    page.evaluate("window.loadedOnce = true")

    daemon.post("/v1/admin/clock", "bob", {"advance": "5h"})  # past its 4h limit: the deadline fires

    expect(row).to_have_class(re.compile(r"\bbreached\b"))
    expect(row.locator(".countdown")).to_contain_text("overdue by 1h")  # counted from the server's time now
    assert page.evaluate("window.loadedOnce") is True, "the queue reloaded instead of updating in place"


def test_the_queue_says_when_it_is_not_live_and_reconnects_by_itself(page: Any, daemon: Daemon) -> None:
    # As a proxy that cuts quiet streams would: each connection answered, then closed at once.
    def cut(route: Any) -> None:
        route.fulfill(status=200, headers={"content-type": "text/event-stream"}, body=": live\n\n")

    page.route("**/desk/events", cut)
    _sign_in(page, daemon, "alice")
    banner = page.get_by_role("status")
    expect(banner).to_have_text("Not live: reconnecting…")

    page.unroute("**/desk/events", cut)

    opened = daemon.mention("desk-3", "Never again, the parcel was broken", "@cal")
    expect(page.locator(f'#queue-rows tr[data-incident="{opened}"]')).to_be_visible(timeout=10_000)
    expect(banner).to_be_hidden()


def test_a_queue_left_open_after_signing_out_elsewhere_asks_to_sign_in_again(page: Any, daemon: Daemon) -> None:
    _sign_in(page, daemon, "alice")
    expect(page.locator("body")).to_have_attribute("data-live", "yes")
    other = page.context.new_page()  # another tab of the same browser, sharing the session
    other.goto(f"{daemon.url}/")
    _sign_out(other)

    daemon.mention("desk-5", "Still waiting on my refund, again", "@eve")

    expect(page.get_by_label("Your token")).to_be_visible()
