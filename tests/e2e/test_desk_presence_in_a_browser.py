"""Who else is here, and the desk on a phone, in a real browser: Debian's Chromium driven by Playwright, against
``calmly serve`` on a simulated clock.

Two people open the same incident, each in a browser of their own, and each sees the other; one types a public
reply and the other sees "drafting", as does the queue's row for a third; one goes back to the queue and the other
stops seeing them; the reply is sent, and its writer is still shown on the incident. At a phone's width (390 x 844)
the queue and an incident page fit the screen with nothing to scroll sideways. axe-core checks every page on the
way.

Without Chromium (``apt-get install chromium``) or Playwright (``pip install -e '.[dev]'``) these tests skip and say
so. The same is shown across two daemons over one PostgreSQL database, each person's page served by another daemon
(skipping, and saying how to enable it, without CALMLY_TEST_POSTGRES_URL). With ``CALMLY_DESK_SCREENSHOTS=1`` they
also save the phone's queue and incident page to docs/images/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import ROOT, SCREENSHOTS, DeskDaemon, chromium, expect, no_serious_violations
from serving import ServedDaemon
from test_daemon_on_postgresql import store_url  # noqa: F401 - the fixture: a fresh schema

LAPTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


class Daemon(DeskDaemon):
    """The desk's daemon for these tests, with tokens for the people they sign in as."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, people=("alice", "bob", "carol"))

    def assessed(self, external_id: str, text: str, handle: str) -> str:
        """A new complaint, assessed: its page has the public reply's form."""
        incident = self.mention(external_id, text, handle)
        body = {"revision": 0, "fields": {"severity": "medium"}}
        self.post(f"/v1/incidents/{incident}/actions/assess", "alice", body)
        return incident


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    running = Daemon(tmp_path_factory.mktemp("desk-presence"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class People:
    """A browser of their own for each person (no cookie shared), signed in to the desk, closed at the end."""

    def __init__(self, browser: Any, daemon: Daemon) -> None:
        self.browser = browser
        self.daemon = daemon
        self.contexts: list[Any] = []

    def signed_in(self, person: str, device: dict[str, Any] = LAPTOP) -> Any:
        context = self.browser.new_context(**device)
        context.set_default_timeout(5000)
        self.contexts.append(context)
        page = context.new_page()
        page.goto(f"{self.daemon.url}/signin")
        page.get_by_label("Your token").fill(self.daemon.tokens[person])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="The queue")).to_be_visible()
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Any, daemon: Daemon) -> Iterator[People]:
    everyone = People(browser, daemon)
    try:
        yield everyone
    finally:
        everyone.close()


def _open(page: Any, daemon: Daemon, incident: str) -> None:
    page.goto(f"{daemon.url}/incidents/{incident}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(incident)


def test_two_people_on_one_incident_see_each_other_and_who_is_drafting(people: People, daemon: Daemon) -> None:
    incident = daemon.assessed("here-1", "My parcel arrived broken and nobody answers", "@fay")
    alice, bob, carol = people.signed_in("alice"), people.signed_in("bob"), people.signed_in("carol")
    expect(carol.locator("body")).to_have_attribute("data-live", "yes")
    carol.evaluate("window.loadedOnce = true")  # gone if the queue reloads
    row_marker = carol.locator(f'#queue-rows tr[data-incident="{incident}"] .presence-marker')

    _open(alice, daemon, incident)
    alice.evaluate("window.loadedOnce = true")
    expect(row_marker).to_have_text("👁 alice viewing")
    _open(bob, daemon, incident)

    alices_list = alice.locator("#presence-list")
    bobs_list = bob.locator("#presence-list")
    expect(alices_list).to_have_text("👁 Bob Okafor is viewing this incident")  # told as bob arrived
    expect(bobs_list).to_have_text("👁 Alice Moreau is viewing this incident")  # on his page as it opened
    expect(alices_list).not_to_contain_text("Alice")  # never yourself
    no_serious_violations(bob, "incident, with someone else on it")

    reply = alice.locator("form.action", has=alice.get_by_role("button", name="Acknowledge")).locator("textarea")
    reply.press_sequentially("Hi @fay, we are so sorry")

    expect(bobs_list).to_have_text("✎ Alice Moreau is drafting: acknowledge")
    expect(bobs_list.locator("li")).to_have_class(re.compile(r"\bpresence-drafting\b"))
    expect(row_marker).to_have_text("✎ alice drafting: acknowledge, 👁 bob viewing")
    expect(row_marker.locator(".presence-drafting")).to_have_attribute("title", "Alice Moreau is drafting: acknowledge")
    no_serious_violations(carol, "queue, with people on an incident")

    bob.goto(f"{daemon.url}/")  # bob goes back to the queue: his page says so as it goes

    expect(alices_list).to_have_text("")
    expect(row_marker).to_have_text("✎ alice drafting: acknowledge")
    expect(bob.locator(f'#queue-rows tr[data-incident="{incident}"] .presence-marker')).to_contain_text("alice")
    assert alice.evaluate("window.loadedOnce") is True, "the incident page reloaded instead of updating in place"

    _open(bob, daemon, incident)
    acknowledge = alice.locator("form.action", has=alice.get_by_role("button", name="Acknowledge"))
    acknowledge.get_by_label("Post this reply in public on twitter").check()
    acknowledge.get_by_role("button", name="Acknowledge").click()  # sent: her page comes back, and she with it

    expect(alice.get_by_role("heading", level=1)).to_contain_text("acknowledged")
    expect(bobs_list).to_have_text("👁 Alice Moreau is viewing this incident")
    expect(row_marker).to_have_text("👁 alice viewing, 👁 bob viewing")
    assert carol.evaluate("window.loadedOnce") is True, "the queue reloaded instead of updating in place"


def _fits_the_screen(page: Any, name: str) -> None:
    # A phone's browser zooms out to fit a page that is too wide, which widens innerWidth with it: so the width
    # is checked against the screen's too.
    wide, shown = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= shown <= PHONE["viewport"]["width"], f"the {name} page is {wide} px wide on a 390 px screen"


def test_the_queue_and_an_incident_fit_a_phones_screen(people: People, daemon: Daemon) -> None:
    incident = daemon.assessed(
        "phone-1",
        "Ordered a kettle three weeks ago, it came broken, and the replacement never shipped: "
        "https://example.com/orders/7b1d0c2e4f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
        "@a_customer_with_a_rather_long_handle_indeed",
    )
    on_it = people.signed_in("bob")
    _open(on_it, daemon, incident)  # someone else on it, so the row and the page show a marker too
    phone = people.signed_in("alice", PHONE)

    row = phone.locator(f'#queue-rows tr[data-incident="{incident}"]')
    expect(row.locator(".presence-marker")).to_contain_text("bob")
    expect(phone.locator(".queue thead")).to_be_hidden()  # the rows are cards, each value after its column's name
    expect(row.locator("td").nth(2)).to_have_attribute("data-label", "Severity")
    _fits_the_screen(phone, "queue")
    no_serious_violations(phone, "queue, at a phone's width")
    if SCREENSHOTS is not None:
        phone.screenshot(path=str(SCREENSHOTS / "desk-phone-queue.png"), full_page=True, scale="css")

    row.get_by_role("link", name=incident).tap()
    expect(phone.get_by_role("heading", level=1)).to_contain_text(incident)
    expect(phone.locator("#presence-list")).to_have_text("👁 Bob Okafor is viewing this incident")
    _fits_the_screen(phone, "incident")
    no_serious_violations(phone, "incident, at a phone's width")
    acknowledge = phone.locator("form.action", has=phone.get_by_role("button", name="Acknowledge"))
    send = acknowledge.get_by_role("button", name="Acknowledge")
    send.scroll_into_view_if_needed()
    form_box, send_box = acknowledge.bounding_box(), send.bounding_box()
    reply_box = acknowledge.locator("textarea").bounding_box()
    assert send_box["height"] >= 44, "a thumb needs a button at least 44 px high"
    assert send_box["width"] >= form_box["width"] * 0.8
    assert reply_box["width"] >= form_box["width"] * 0.8
    if SCREENSHOTS is not None:
        phone.screenshot(path=str(SCREENSHOTS / "desk-phone-incident.png"), full_page=True, scale="css")


# --- two daemons over one database -------------------------------------------------------------------------------


class SharedDaemon(DeskDaemon):
    """A desk daemon on the shared PostgreSQL store at ``url`` (its tokens issued into that store)."""

    def __init__(self, folder: Path, url: str) -> None:
        ServedDaemon.__init__(
            self,
            folder,
            playbooks=ROOT / "playbooks",
            roster=ROOT / "examples" / "roster.yaml",
            people=("alice", "bob"),
            CALMLY_STORE=url,
        )


@pytest.fixture
def two_daemons(tmp_path: Path, store_url: str) -> Iterator[tuple[SharedDaemon, SharedDaemon]]:  # noqa: F811
    started: list[SharedDaemon] = []
    try:
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            started.append(SharedDaemon(tmp_path / name, store_url))
        yield started[0], started[1]
    finally:
        for running in started:
            running.stop()


def test_people_whose_pages_reach_two_daemons_over_one_database_see_each_new_incident_and_each_other(
    browser: Any, two_daemons: tuple[SharedDaemon, SharedDaemon]
) -> None:
    first, second = two_daemons
    on_first, on_second = People(browser, first), People(browser, second)
    try:
        alice = on_first.signed_in("alice")  # her page is served by the first daemon
        expect(alice.locator("body")).to_have_attribute("data-live", "yes")
        alice.evaluate("window.loadedOnce = true")  # gone if the queue reloads

        opened = second.mention("shared-1", "My parcel arrived broken and nobody answers", "@gus")

        row = alice.locator(f'#queue-rows tr[data-incident="{opened}"]')
        expect(row).to_contain_text("My parcel arrived broken")
        assert alice.evaluate("window.loadedOnce") is True, "the queue reloaded instead of updating in place"

        bob = on_second.signed_in("bob")  # his, by the second
        _open(bob, second, opened)
        expect(row.locator(".presence-marker")).to_have_text("👁 bob viewing")
        _open(alice, first, opened)
        expect(alice.locator("#presence-list")).to_have_text("👁 Bob Okafor is viewing this incident")
        expect(bob.locator("#presence-list")).to_have_text("👁 Alice Moreau is viewing this incident")

        bob.goto(f"{second.url}/")
        expect(alice.locator("#presence-list")).to_have_text("")
    finally:
        on_first.close()
        on_second.close()
