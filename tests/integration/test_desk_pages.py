"""The desk's pages, in process, over a real SQLite store on a simulated clock: signing in and out, the queue,
the incident page and acting from its forms, as a person in the example roster drives them with a browser.

Each test reads the pages' HTML as the browser gets it; what an action changed is read back from the store.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from intake_support import mention
from starlette.exceptions import StarletteDeprecationWarning

from engine.daemon import Config, Daemon, build
from engine.desk import create_web_app
from engine.service import TOKEN_PREFIX, TokenScope, issue_sign_in_code, issue_token, revoke_tokens

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, in office hours


class Browser:
    """One person's browser on the daemon's app: its own cookies, following no redirect by itself."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.http = TestClient(create_web_app(daemon.context), follow_redirects=False)

    def sign_in(self, person: str) -> httpx.Response:
        token = issue_token(self.daemon.store, person, START)
        answer = self.http.post("/signin", data={"token": token})
        assert answer.status_code == 303, answer.text
        return answer

    def page(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def csrf(self, path: str = "/") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.page(path).text)
        assert found is not None
        return found.group(1)

    def act(self, incident_id: str, trigger: str, **form: str | int) -> httpx.Response:
        data = {"csrf": self.csrf(f"/incidents/{incident_id}"), **{key: str(value) for key, value in form.items()}}
        return self.http.post(f"/incidents/{incident_id}/actions/{trigger}", data=data)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    config = Config(data=tmp_path, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
    built = build(config, START)
    yield built
    built.store.close()


def _open(daemon: Daemon, *mentions: dict[str, object]) -> list[str]:
    results = daemon.context.service.ingest(list(mentions))
    return [str(result.incident_id) for result in results]


def _revision(daemon: Daemon, incident_id: str) -> int:
    row = daemon.store.incident(incident_id)
    assert row is not None
    return row.incident.revision


def _state(daemon: Daemon, incident_id: str) -> str:
    row = daemon.store.incident(incident_id)
    assert row is not None
    return row.incident.state


# --- signing in and out ------------------------------------------------------------------------------------------


def test_signs_in_with_a_token_and_keeps_the_session_in_a_strict_http_only_cookie(daemon: Daemon) -> None:
    browser = Browser(daemon)
    form = browser.page("/signin")
    assert form.status_code == 200
    assert '<label for="token">Your token</label>' in form.text

    answer = browser.sign_in("alice")

    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("calmly_session=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", "max-age=43200"} <= flags
    assert "calmly_" not in cookie.split(";")[0].removeprefix("calmly_session=")  # an opaque id, not the token
    queue = browser.page("/")
    assert queue.status_code == 200
    assert "Signed in as Alice Moreau" in queue.text


def test_a_wrong_token_shows_the_form_again_with_what_to_do(daemon: Daemon) -> None:
    browser = Browser(daemon)

    answer = browser.http.post("/signin", data={"token": TOKEN_PREFIX + secrets.token_urlsafe(32)})

    assert answer.status_code == 401
    assert "That token is not known here. Ask your social lead for a new one." in answer.text
    assert "set-cookie" not in answer.headers


def test_an_intake_only_token_cannot_sign_in(daemon: Daemon) -> None:
    token = issue_token(daemon.store, "alice", START, scope=TokenScope.INTAKE)

    answer = Browser(daemon).http.post("/signin", data={"token": token})

    assert answer.status_code == 403
    assert "only lets a listening tool send mentions" in answer.text


def test_every_page_sends_a_visitor_without_a_session_to_sign_in(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)

    for path in ("/", f"/incidents/{incident_id}"):
        answer = browser.page(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/signin"
    assert browser.page("/desk/queue-rows").status_code == 401


def test_a_person_taken_off_the_roster_is_signed_out_at_the_next_request(daemon: Daemon) -> None:
    browser = Browser(daemon)
    browser.sign_in("alice")
    roster = daemon.context.roster
    people = {person: member for person, member in roster.people.items() if person != "alice"}
    daemon.context.roster = dataclasses.replace(roster, people=people)

    answer = browser.page("/")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin"
    daemon.context.roster = roster  # back on the roster: the ended session does not come back
    assert browser.page("/").status_code == 303


def test_signing_out_ends_the_session(daemon: Daemon) -> None:
    browser = Browser(daemon)
    browser.sign_in("alice")

    answer = browser.http.post("/signout", data={"csrf": browser.csrf()})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin"
    assert browser.page("/").status_code == 303


def test_revoking_a_persons_tokens_signs_them_out_of_the_desk_and_spends_their_sign_in_links(daemon: Daemon) -> None:
    signed_in, other = Browser(daemon), Browser(daemon)
    signed_in.sign_in("alice")
    other.sign_in("bob")
    code = issue_sign_in_code(daemon.store, "alice", START)

    revoked = revoke_tokens(daemon.store, "alice", START)

    assert revoked.sessions == 1
    assert signed_in.page("/").status_code == 303  # to the sign-in form
    answer = Browser(daemon).http.post("/signin/link", data={"code": code})
    assert answer.status_code == 401
    assert other.page("/").status_code == 200  # someone else's session goes on


# --- the queue ---------------------------------------------------------------------------------------------------


def test_the_queue_puts_the_incident_whose_clock_runs_out_first_at_the_top(daemon: Daemon) -> None:
    everyday, safety = _open(
        daemon, mention("1", "My order arrived broken", "@ann"), mention("2", "I was injured by your kettle", "@bo")
    )
    browser = Browser(daemon)
    browser.sign_in("alice")

    page = browser.page("/").text

    assert page.index(f'data-incident="{safety}"') < page.index(f'data-incident="{everyday}"')
    assert "I was injured by your kettle" in page
    assert re.search(r'data-due-at="2026-11-23T\d\d:\d\d:\d\d\+00:00"', page)
    assert 'data-now="2026-11-23T09:00:00+00:00"' in page


def test_the_queue_keeps_only_what_its_filters_in_the_url_ask_for(daemon: Daemon) -> None:
    everyday, safety = _open(
        daemon, mention("1", "My order arrived broken", "@ann"), mention("2", "I was injured by your kettle", "@bo")
    )
    browser = Browser(daemon)
    browser.sign_in("alice")

    by_severity = browser.page("/?severity=high").text
    by_handle = browser.page("/?q=ann").text
    by_text = browser.page("/?q=kettle").text
    rows = browser.page("/desk/queue-rows?severity=high").text

    assert f'data-incident="{safety}"' in by_severity
    assert f'data-incident="{everyday}"' not in by_severity
    assert f'data-incident="{everyday}"' in by_handle
    assert f'data-incident="{safety}"' not in by_handle
    assert f'data-incident="{safety}"' in by_text
    assert f'data-incident="{everyday}"' not in by_text
    assert '<option value="high" selected>' in by_severity  # the form shows the filter it came with
    assert f'data-incident="{safety}"' in rows
    assert f'data-incident="{everyday}"' not in rows
    assert "<html" not in rows


# --- the incident page and acting --------------------------------------------------------------------------------


def test_the_incident_page_shows_its_posts_and_only_the_actions_the_persons_roles_allow(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1", "My order arrived broken", "@ann"))
    alice, carol, bob = Browser(daemon), Browser(daemon), Browser(daemon)
    alice.sign_in("alice")
    carol.sign_in("carol")
    bob.sign_in("bob")

    seen_by_alice = alice.page(f"/incidents/{incident_id}").text
    seen_by_carol = carol.page(f"/incidents/{incident_id}").text
    seen_by_bob = bob.page(f"/incidents/{incident_id}").text

    assert "My order arrived broken" in seen_by_alice
    assert "ann (10 followers) on twitter" in seen_by_alice
    assert f'action="/incidents/{incident_id}/actions/assess"' in seen_by_alice
    assert "/actions/do_not_engage" not in seen_by_alice
    assert '<select id="assess-severity" name="severity">' in seen_by_alice
    assert "/actions/" not in seen_by_carol
    assert "None of your roles (customer_care) can act on it in this state." in seen_by_carol
    assert "/actions/assess" in seen_by_bob
    assert "/actions/do_not_engage" in seen_by_bob


def test_acting_from_the_form_moves_the_incident_and_comes_back_to_its_page(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")

    answer = browser.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/incidents/{incident_id}"
    assert _state(daemon, incident_id) == "assessed"
    page = browser.page(f"/incidents/{incident_id}").text
    assert "/actions/acknowledge" in page
    assert "Post this reply in public on twitter" in page
    assert "Hi @ann, thank you for telling us." in page  # the approved reply, its {author} filled in
    assert "alice" in page.split('id="history-title"')[1]


def test_a_reply_the_house_rules_forbid_is_refused_in_the_rules_words_and_changes_nothing(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    browser.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")
    before = _revision(daemon, incident_id)

    answer = browser.act(
        incident_id, "acknowledge", revision=before, public_reply="Please calm down.", confirm_public="yes"
    )

    assert answer.status_code == 422
    assert "which the house rules forbid" in answer.text
    assert "Please calm down." in answer.text  # the draft is kept, to rephrase
    assert _revision(daemon, incident_id) == before
    assert _state(daemon, incident_id) == "assessed"


def test_a_public_reply_is_not_sent_without_its_confirmation(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    browser.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")
    before = _revision(daemon, incident_id)

    answer = browser.act(incident_id, "acknowledge", revision=before, public_reply="Sorry, we are on it.")

    assert answer.status_code == 422
    assert "nothing was sent" in answer.text
    assert _revision(daemon, incident_id) == before


def test_an_action_by_a_role_the_playbook_does_not_allow_is_refused_by_the_service(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("carol")

    answer = browser.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")

    assert answer.status_code == 403
    assert 'role="alert"' in answer.text
    assert _state(daemon, incident_id) == "detected"


def test_when_someone_else_acted_first_the_page_says_so_and_shows_the_new_state(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    alice, bob = Browser(daemon), Browser(daemon)
    alice.sign_in("alice")
    bob.sign_in("bob")
    seen = _revision(daemon, incident_id)
    bob.act(incident_id, "assess", revision=seen, severity="high")

    answer = alice.act(incident_id, "assess", revision=seen, severity="low")

    assert answer.status_code == 409
    assert "Someone else acted on this incident first, so nothing was done." in answer.text
    assert f"<h1>{incident_id} · assessed</h1>" in answer.text
    row = daemon.store.incident(incident_id)
    assert row is not None
    assert row.incident.severity == "high"


def test_a_form_posted_without_the_sessions_form_token_changes_nothing(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    seen = _revision(daemon, incident_id)

    answer = browser.http.post(
        f"/incidents/{incident_id}/actions/assess", data={"revision": str(seen), "severity": "medium"}
    )
    signout = browser.http.post("/signout", data={"csrf": "forged"})

    assert answer.status_code == 403
    assert "This form was not sent from the desk" in answer.text
    assert signout.status_code == 403
    assert _revision(daemon, incident_id) == seen
    assert browser.page("/").status_code == 200  # still signed in


def test_the_desk_is_not_part_of_the_json_apis_document(daemon: Daemon) -> None:
    paths = Browser(daemon).http.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if not path.startswith("/v1/") and path.startswith(("/signin", "/incidents"))]
    assert "/" not in paths


def test_a_session_ends_when_its_twelve_hours_are_up(daemon: Daemon) -> None:
    browser = Browser(daemon)
    browser.sign_in("alice")
    clock = daemon.context.simulated
    assert clock is not None

    clock.advance("11h59m")
    still = browser.page("/")
    clock.advance("1m")
    ended = browser.page("/")

    assert still.status_code == 200
    assert ended.status_code == 303
    assert ended.headers["location"] == "/signin"


def test_an_incident_that_does_not_exist_is_a_page_saying_so(daemon: Daemon) -> None:
    browser = Browser(daemon)
    browser.sign_in("alice")

    answer = browser.page("/incidents/inc-404")

    assert answer.status_code == 404
    assert "There is no incident inc-404." in answer.text


def test_works_an_incident_from_the_queue_to_its_review_with_the_forms_alone(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    alice, carol, bob = Browser(daemon), Browser(daemon), Browser(daemon)
    alice.sign_in("alice")
    carol.sign_in("carol")
    bob.sign_in("bob")

    steps = [
        (alice, "assess", {"severity": "medium"}),
        (alice, "acknowledge", {"public_reply": "Hi @ann, we are sorry. We are on it.", "confirm_public": "yes"}),
        (
            carol,
            "offer_resolution",
            {"offer.kind": "replacement", "offer.note": "a new kettle", "contact_route": "dm", "contact": "Carol"},
        ),
        (carol, "deliver", {"promise": "replacement-1", "note": "The courier delivered it today."}),
        (carol, "resolve", {"outcome": "Sent a replacement; she confirmed it works."}),
        (
            bob,
            "review",
            {"review.avoidable": "yes", "review.missed_opportunity": "none", "review.root_cause": "delivery"},
        ),
    ]
    for browser, trigger, form in steps:
        answer = browser.act(incident_id, trigger, revision=_revision(daemon, incident_id), **form)
        assert answer.status_code == 303, (trigger, answer.text)

    assert _state(daemon, incident_id) == "reviewed"
    row = daemon.store.incident(incident_id)
    assert row is not None
    assert row.incident.facts["review"] == {"avoidable": "yes", "missed_opportunity": "none", "root_cause": "delivery"}
    (promise,) = row.incident.promises
    assert (promise.kind, promise.contact, promise.kept_by) == ("replacement", "Carol", "carol")
    page = bob.page(f"/incidents/{incident_id}").text
    assert "This incident is closed." in page
    assert "Kept by carol" in page
    assert f'data-incident="{incident_id}"' not in bob.page("/").text


def test_an_open_promise_shows_on_the_page_with_the_form_that_records_it_kept(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    alice, carol = Browser(daemon), Browser(daemon)
    alice.sign_in("alice")
    carol.sign_in("carol")
    alice.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")
    alice.act(
        incident_id,
        "acknowledge",
        revision=_revision(daemon, incident_id),
        public_reply="Sorry, we are on it.",
        confirm_public="yes",
    )
    carol.act(
        incident_id,
        "offer_resolution",
        revision=_revision(daemon, incident_id),
        **{"offer.kind": "refund", "offer.amount": "30", "contact_route": "dm", "contact": "Carol"},
    )

    page = carol.page(f"/incidents/{incident_id}").text
    refused = carol.act(incident_id, "resolve", revision=_revision(daemon, incident_id), outcome="Refunded.")

    assert "<strong>refund-1</strong>: refund of 30 GBP" in page
    assert "promised by carol (contact: Carol)" in page
    assert f'action="/incidents/{incident_id}/actions/deliver"' in page
    assert '<option value="refund-1"' in page
    assert refused.status_code == 422
    assert "while a promise is open: refund-1" in refused.text


def test_a_review_left_half_answered_is_refused_with_the_question_it_leaves(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    alice, carol, bob = Browser(daemon), Browser(daemon), Browser(daemon)
    alice.sign_in("alice")
    carol.sign_in("carol")
    bob.sign_in("bob")
    alice.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")
    alice.act(
        incident_id,
        "acknowledge",
        revision=_revision(daemon, incident_id),
        public_reply="Sorry, we are on it.",
        confirm_public="yes",
    )
    carol.act(
        incident_id,
        "offer_resolution",
        revision=_revision(daemon, incident_id),
        **{"offer.kind": "refund", "offer.amount": "30", "contact_route": "dm", "contact": "+44 20 7946 0000"},
    )
    carol.act(incident_id, "deliver", revision=_revision(daemon, incident_id), note="Refunded to the card.")
    carol.act(incident_id, "resolve", revision=_revision(daemon, incident_id), outcome="Refunded.")

    answer = bob.act(incident_id, "review", revision=_revision(daemon, incident_id), **{"review.avoidable": "no"})

    assert answer.status_code == 422
    assert "review leaves &#39;missed_opportunity&#39; unanswered (Is there a missed opportunity?)" in answer.text
    assert _state(daemon, incident_id) == "resolved"


def test_a_posts_words_are_shown_as_text_and_only_a_web_address_becomes_a_link(daemon: Daemon) -> None:
    [script, web] = _open(
        daemon,
        mention("1", "<script>alert('hi')</script> broken", "@ann", url="javascript:alert(1)"),
        mention("2", "Still broken", "@bo", url="https://twitter.com/bo/status/2"),
    )
    browser = Browser(daemon)
    browser.sign_in("alice")

    hostile = browser.page(f"/incidents/{script}").text
    plain = browser.page(f"/incidents/{web}").text

    assert "<script>alert" not in hostile
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; broken" in hostile
    assert "javascript:" not in hostile
    assert '<a href="https://twitter.com/bo/status/2" rel="noopener noreferrer">the original post</a>' in plain


def test_a_form_over_the_daemons_body_cap_is_refused_unread(tmp_path: Path) -> None:
    config = Config(
        data=tmp_path, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml", max_body_bytes=1024
    )
    daemon = build(config, START)
    try:
        browser = Browser(daemon)

        answer = browser.http.post("/signin", data={"token": "x" * 2000})

        assert answer.status_code == 413
        assert "That form is over 1,024 bytes; send less at once." in answer.text
    finally:
        daemon.store.close()


def _gauge_of(page: str, clock: str) -> str:
    """The clock's paragraph on the incident page: its countdown and its gauge."""
    found = re.search(rf'<p class="clock[^"]*">\s*{re.escape(clock)}.*?</p>', page, re.DOTALL)
    assert found is not None, clock
    return found.group(0)


def test_a_clocks_bar_counts_office_hours_and_turns_at_the_playbooks_escalation_steps(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    clock = daemon.context.simulated
    assert clock is not None
    browser = Browser(daemon)
    browser.sign_in("alice")
    clock.advance("8h")  # Monday 17:00: one office hour left today
    browser.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")

    clock.advance("15h")  # Tuesday 08:00: 1 of the 4 office hours used, though 15 of 19 hours went by
    browser.sign_in("alice")  # the next morning: yesterday's session is over
    overnight = _gauge_of(browser.page(f"/incidents/{incident_id}").text, "limit:assessed")
    clock.advance("3h")  # Tuesday 11:00: 3 of 4, the warning step at 75%
    warned = _gauge_of(browser.page(f"/incidents/{incident_id}").text, "limit:assessed")

    assert 'class="stage-calm" max="100" value="25"' in overnight
    assert "allowed 4h of open time on office" in overnight
    assert "0 of 3 escalation steps passed" in overnight
    assert 'class="stage-escalated" max="100" value="75"' in warned
    assert "1 of 3 escalation steps passed" in warned


# --- sign-in links -----------------------------------------------------------------------------------------------


def test_a_sign_in_link_signs_in_once_and_opening_it_spends_nothing(daemon: Daemon) -> None:
    code = issue_sign_in_code(daemon.store, "carol", START)
    browser, again = Browser(daemon), Browser(daemon)

    opened = browser.page(f"/signin/link?code={code}")
    opened_twice = browser.page(f"/signin/link?code={code}")  # a mail scanner following the link first
    used = browser.http.post("/signin/link", data={"code": code})
    reused = again.http.post("/signin/link", data={"code": code})

    assert opened.status_code == opened_twice.status_code == 200
    assert 'action="/signin/link"' in opened.text
    assert used.status_code == 303
    assert used.headers["location"] == "/"
    assert code not in used.headers["location"]
    assert "Signed in as Carol Lindqvist" in browser.page("/").text
    assert reused.status_code == 401
    assert "This sign-in link was used already or has expired" in reused.text
    assert again.page("/").status_code == 303


def test_a_sign_in_link_stops_working_after_fifteen_minutes(daemon: Daemon) -> None:
    code = issue_sign_in_code(daemon.store, "carol", START)
    clock = daemon.context.simulated
    assert clock is not None
    clock.advance("15m")

    answer = Browser(daemon).http.post("/signin/link", data={"code": code})

    assert answer.status_code == 401
    assert "links last 15 minutes" in answer.text


def test_the_queue_shows_the_incidents_due_soonest_whatever_order_they_opened_in(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engine.desk._queue._SHOWN", 2)  # room for two: the soonest due opened last
    first, second, soonest = _open(
        daemon,
        mention("1", "My order arrived broken", "@ann"),
        mention("2", "Still broken", "@bo"),
        mention("3", "I was injured by your kettle", "@cy"),
    )
    browser = Browser(daemon)
    browser.sign_in("alice")

    page = browser.page("/").text

    assert page.index(f'data-incident="{soonest}"') < page.index(f'data-incident="{first}"')
    assert f'data-incident="{second}"' not in page  # due last of the three (opened after the first)


def test_the_incident_page_reads_its_times_as_people_do_not_as_iso_stamps(daemon: Daemon) -> None:
    (everyday,) = _open(daemon, mention("1", "My order arrived broken", "@ann"))
    browser = Browser(daemon)
    browser.sign_in("alice")

    page = browser.page(f"/incidents/{everyday}").text

    assert re.search(r">\d+\w* ago \(\d\d:\d\d UTC\)</time>|>just now \(\d\d:\d\d UTC\)</time>", page)  # the post
    assert ">09:00 UTC</time>" in page  # the history, against the server's now
    assert not re.search(r">\d{4}-\d\d-\d\dT[^<]*</time>", page)


def test_a_clock_paused_while_we_wait_on_the_customer_reads_as_paused_with_time_used_and_left(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))  # medium: the resolution target allows 24h, paused in the wait
    clock = daemon.context.simulated
    assert clock is not None
    alice = Browser(daemon)
    alice.sign_in("alice")
    alice.act(incident_id, "assess", revision=_revision(daemon, incident_id), severity="medium")
    alice.act(
        incident_id,
        "acknowledge",
        revision=_revision(daemon, incident_id),
        public_reply="Sorry, we are on it.",
        confirm_public="yes",
    )
    clock.advance("2h")
    asked = alice.act(
        incident_id, "ask_customer", revision=_revision(daemon, incident_id), contact_route="dm", note="Order number?"
    )
    clock.advance("5h")  # five hours of waiting count for nothing

    resolution = _gauge_of(alice.page(f"/incidents/{incident_id}").text, "resolution")

    assert asked.status_code == 303, asked.text
    assert _state(daemon, incident_id) == "awaiting_customer"
    assert "paused since" in resolution
    assert "2h used, 22h left" in resolution
    assert "data-due-at" not in resolution  # no countdown: it is due at no time while it waits
    assert "8% used, paused" in resolution
