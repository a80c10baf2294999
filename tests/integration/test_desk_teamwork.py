"""Working an incident as a team on the desk: taking, assigning and releasing it, internal notes kept apart from
public replies, refused attempts in the history, the approver's view of a draft, and the queue's "mine" and
"waiting on my roles" views. In process, over a real SQLite store on a simulated clock."""

from __future__ import annotations

import re
import time

from intake_support import mention
from test_desk_pages import Browser, Daemon, _open, _revision, _state, daemon

from engine.service import issue_token

__all__ = ["daemon"]  # the fixture, shared with the desk's page tests


def _owner(daemon: Daemon, incident_id: str) -> str | None:
    row = daemon.store.incident(incident_id)
    assert row is not None
    return row.incident.owner


def _post(browser: Browser, incident_id: str, what: str, **form: str) -> object:
    data = {"csrf": browser.csrf(f"/incidents/{incident_id}"), **form}
    return browser.http.post(f"/incidents/{incident_id}/{what}", data=data)


def test_taking_an_incident_from_its_page_makes_it_yours_and_says_so_in_the_queue(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    assert 'id="take"' in browser.page(f"/incidents/{incident_id}").text

    answer = _post(browser, incident_id, "take")

    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert _owner(daemon, incident_id) == "alice"
    page = browser.page(f"/incidents/{incident_id}").text
    assert '<dd id="owner">you</dd>' in page
    assert "alice took it" in page
    row = browser.page("/").text
    assert re.search(r'<td class="owner"><strong>you</strong>', row)


def test_a_take_from_a_queue_row_goes_back_to_the_same_filtered_queue(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    queue = browser.page("/?severity=medium").text
    assert f'aria-label="Take {incident_id}"' in queue
    csrf = browser.csrf("/?severity=medium")

    answer = browser.http.post(f"/incidents/{incident_id}/take", data={"csrf": csrf, "back": "/?severity=medium"})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/?severity=medium"
    assert _owner(daemon, incident_id) == "alice"


def test_a_take_never_sends_the_browser_to_another_site(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")

    answer = _post(browser, incident_id, "take", back="https://evil.example/")

    assert answer.headers["location"] == f"/incidents/{incident_id}"  # type: ignore[attr-defined]


def test_taking_what_a_colleague_has_is_refused_on_the_page_in_the_rules_words(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    bob = Browser(daemon)
    bob.sign_in("bob")
    _post(bob, incident_id, "take")
    alice = Browser(daemon)
    alice.sign_in("alice")
    csrf = alice.csrf(f"/incidents/{incident_id}")

    answer = alice.http.post(f"/incidents/{incident_id}/take", data={"csrf": csrf})

    assert answer.status_code == 409
    assert "bob has this incident already; ask them, or assign it to yourself to take it over" in answer.text
    assert _owner(daemon, incident_id) == "bob"
    assert "Take it over from bob" in answer.text


def test_assigning_and_releasing_from_the_page_are_recorded_and_leave_the_state_alone(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("bob")
    assert '<option value="carol">Carol Lindqvist</option>' in browser.page(f"/incidents/{incident_id}").text
    assert 'value="erin"' not in browser.page(f"/incidents/{incident_id}").text  # not in this playbook's team
    before = (_state(daemon, incident_id), _revision(daemon, incident_id))

    _post(browser, incident_id, "assign", owner="carol")
    assigned = _owner(daemon, incident_id)
    _post(browser, incident_id, "release")

    assert assigned == "carol"
    assert _owner(daemon, incident_id) is None
    assert (_state(daemon, incident_id), _revision(daemon, incident_id)) == before
    history = browser.page(f"/incidents/{incident_id}").text
    assert "bob assigned it to carol" in history
    assert "bob released it (it was carol&#39;s)" in history


def test_assigning_without_choosing_anyone_says_what_to_do_and_changes_nothing(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("bob")

    answer = _post(browser, incident_id, "assign", owner="")

    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "Choose a person from the list to assign it to." in answer.text  # type: ignore[attr-defined]
    assert _owner(daemon, incident_id) is None


def test_a_teamwork_form_without_its_form_token_changes_nothing(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")

    taken = browser.http.post(f"/incidents/{incident_id}/take", data={})
    noted = browser.http.post(f"/incidents/{incident_id}/notes", data={"text": "hello", "csrf": "forged"})

    assert (taken.status_code, noted.status_code) == (403, 403)
    assert _owner(daemon, incident_id) is None
    assert all(event.kind != "note" for event in daemon.store.events(incident_id))


def test_an_internal_note_is_kept_apart_from_public_replies_and_marked_never_public(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    page = browser.page(f"/incidents/{incident_id}").text
    notes_form = page[page.index('action="/incidents/' + incident_id + '/notes"') :]
    assert 'class="internal"' in page
    assert "never public" in page
    assert "confirm_public" not in notes_form[: notes_form.index("</form>")]  # nothing of a public send in it

    _post(browser, incident_id, "notes", text="Ann is a regular; her last order was late too.")

    after = browser.page(f"/incidents/{incident_id}").text
    assert '<span class="tag tag-note">Internal note</span> Ann is a regular; her last order was late too.' in after
    assert _revision(daemon, incident_id) == 0


def test_an_empty_note_is_refused_next_to_the_note_form(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")

    answer = _post(browser, incident_id, "notes", text="   ")

    assert answer.status_code == 422  # type: ignore[attr-defined]
    text = answer.text  # type: ignore[attr-defined]
    notes = text[text.index('id="notes-title"') :]
    assert "the note is empty; write what the team should know" in notes[: notes.index("</section>")]


def test_a_reply_refused_by_a_house_rule_shows_in_the_history_as_an_attempt_that_changed_nothing(
    daemon: Daemon,
) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    browser.act(incident_id, "assess", revision=0, severity="medium")

    browser.act(incident_id, "acknowledge", revision=1, public_reply="Calm down, please.", confirm_public="yes")

    assert _state(daemon, incident_id) == "assessed"
    page = browser.page(f"/incidents/{incident_id}").text
    assert '<span class="tag tag-refused">Refused attempt</span> acknowledge refused, nothing changed:' in page


DRAFTED = "Kim, we're so sorry. Please DM us so our safety team can call you today."


def _drafted(daemon: Daemon) -> str:
    """A safety incident with a reply drafted by the community manager, waiting for legal."""
    [incident_id] = _open(daemon, mention("1", "I was injured by your kettle", "@kim"))
    alice = Browser(daemon)
    alice.sign_in("alice")
    assert alice.act(incident_id, "assess", revision=0, severity="high").status_code == 303
    page = alice.page(f"/incidents/{incident_id}").text
    drafting = page[page.index('action="/incidents/' + incident_id + '/actions/acknowledge/draft"') :]
    drafting = drafting[: drafting.index("</form>")]
    assert "Needs approval by legal_counsel or comms_director" in drafting
    assert "Submit draft for approval" in drafting
    assert 'name="confirm_public"' not in drafting  # a draft posts nothing, so nothing to confirm
    drafted = _post(alice, incident_id, "actions/acknowledge/draft", revision="1", public_reply=DRAFTED)
    assert drafted.status_code == 303, drafted.text  # type: ignore[attr-defined]
    assert _state(daemon, incident_id) == "assessed"
    return incident_id


def test_the_approver_sees_the_exact_draft_beside_the_post_it_answers(daemon: Daemon) -> None:
    incident_id = _drafted(daemon)
    grace = Browser(daemon)
    grace.sign_in("grace")

    page = grace.page(f"/incidents/{incident_id}").text

    panel = page[page.index('id="approval-title"') :]
    panel = panel[: panel.index("</section>")]
    assert "Draft reply waiting for approval" in panel
    assert "I was injured by your kettle" in panel
    assert (
        '<blockquote class="draft-text" id="approval-draft">Kim, we&#39;re so sorry. Please DM us so our safety team '
        "can call you today.</blockquote>" in panel
    )
    assert "Drafted by alice" in panel
    assert 'action="/incidents/' + incident_id + '/actions/acknowledge/approve"' in panel
    assert 'action="/incidents/' + incident_id + '/actions/acknowledge/return"' in panel


def test_the_drafter_sees_the_draft_waiting_but_no_forms_to_decide_on_it(daemon: Daemon) -> None:
    incident_id = _drafted(daemon)
    alice = Browser(daemon)
    alice.sign_in("alice")

    page = alice.page(f"/incidents/{incident_id}").text

    assert "Nothing is posted until legal_counsel or comms_director approves it." in page
    assert "/actions/acknowledge/approve" not in page


def test_a_returned_draft_shows_the_approvers_note_and_comes_back_into_the_redraft(daemon: Daemon) -> None:
    incident_id = _drafted(daemon)
    grace = Browser(daemon)
    grace.sign_in("grace")
    note = "Do not promise a call today; say 'as soon as we can'."
    assert _post(grace, incident_id, "actions/acknowledge/return", revision="2", note=note).status_code == 303  # type: ignore[attr-defined]
    alice = Browser(daemon)
    alice.sign_in("alice")

    page = alice.page(f"/incidents/{incident_id}").text

    assert "Draft reply returned with a note" in page
    assert "grace returned it:</strong> Do not promise a call today" in page
    redraft = page[page.index('action="/incidents/' + incident_id + '/actions/acknowledge/draft"') :]
    assert "Kim, we&#39;re so sorry. Please DM us so our safety team can call you today.</textarea>" in redraft


def test_returning_a_draft_without_a_note_is_refused_in_the_approval_panel(daemon: Daemon) -> None:
    incident_id = _drafted(daemon)
    grace = Browser(daemon)
    grace.sign_in("grace")

    answer = _post(grace, incident_id, "actions/acknowledge/return", revision="2")

    assert answer.status_code == 422  # type: ignore[attr-defined]
    panel = answer.text[answer.text.index('id="approval-title"') :]  # type: ignore[attr-defined]
    assert "say in a note what to change" in panel[: panel.index("</section>")]


def test_an_approved_draft_is_filled_into_the_public_reply_to_post_word_for_word(daemon: Daemon) -> None:
    incident_id = _drafted(daemon)
    grace = Browser(daemon)
    grace.sign_in("grace")
    assert _post(grace, incident_id, "actions/acknowledge/approve", revision="2").status_code == 303  # type: ignore[attr-defined]
    alice = Browser(daemon)
    alice.sign_in("alice")

    page = alice.page(f"/incidents/{incident_id}").text

    assert "Approved reply, to post as it is" in page
    assert "Approved by grace" in page
    posting = page[page.index('action="/incidents/' + incident_id + '/actions/acknowledge"') :]
    assert "Kim, we&#39;re so sorry. Please DM us so our safety team can call you today.</textarea>" in posting
    changed = alice.act(
        incident_id, "acknowledge", revision=3, public_reply=DRAFTED.replace("today", "soon"), confirm_public="yes"
    )
    assert changed.status_code == 422
    assert "differs from the approved text at word 15" in changed.text
    assert (
        alice.act(incident_id, "acknowledge", revision=3, public_reply=DRAFTED, confirm_public="yes").status_code == 303
    )
    assert _state(daemon, incident_id) == "acknowledged"


def test_an_everyday_acknowledgement_is_no_draft_waiting_for_anyone(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1"))
    browser = Browser(daemon)
    browser.sign_in("alice")
    browser.act(incident_id, "assess", revision=0, severity="medium")
    browser.act(incident_id, "acknowledge", revision=1, public_reply="Sorry, we're on it.", confirm_public="yes")

    page = browser.page(f"/incidents/{incident_id}").text

    assert _state(daemon, incident_id) == "acknowledged"
    assert 'id="approval-title"' not in page


def test_the_queue_shows_mine_and_what_waits_on_my_roles_as_separate_views(daemon: Daemon) -> None:
    everyday, other, safety = _open(
        daemon,
        mention("1", "My order arrived broken", "@ann"),
        mention("2", "Still no refund", "@ben"),
        mention("3", "I was injured by your kettle", "@cy"),
    )
    alice = Browser(daemon)
    alice.sign_in("alice")
    _post(alice, other, "take")
    carol = Browser(daemon)
    carol.sign_in("carol")  # customer care: nothing waits on them in detected

    mine = alice.page("/?mine=1").text
    waiting = carol.page("/?my_roles=1").text
    everything = carol.page("/").text

    assert f'data-incident="{other}"' in mine
    assert f'data-incident="{everyday}"' not in mine
    assert "No open incident matches." in waiting
    assert all(f'data-incident="{found}"' in everything for found in (everyday, other, safety))


def test_the_queue_search_finds_words_of_a_post_whatever_their_case_and_a_handle(daemon: Daemon) -> None:
    everyday, safety = _open(
        daemon, mention("1", "My ORDER arrived Broken", "@Ann"), mention("2", "I was injured by your kettle", "@cy")
    )
    browser = Browser(daemon)
    browser.sign_in("alice")

    by_words = browser.page("/?q=order+arrived+broken").text
    by_handle = browser.page("/?q=%40ann").text
    by_id = browser.page(f"/?q={safety}").text

    assert f'data-incident="{everyday}"' in by_words
    assert f'data-incident="{safety}"' not in by_words
    assert f'data-incident="{everyday}"' in by_handle
    assert f'data-incident="{safety}"' in by_id


def test_the_history_says_whom_an_escalation_went_to_and_that_it_arrived(daemon: Daemon) -> None:
    [incident_id] = _open(daemon, mention("1", "I was injured by your kettle", "@kim"))
    assert daemon.context.simulated is not None
    daemon.context.simulated.advance("10m")  # past detected's limit: the social lead and legal are told
    assert daemon.context.service.fire_due()
    assert daemon.courier is not None
    daemon.courier.start()
    try:
        for _ in range(200):  # the courier's thread delivers to the log channel at once; wait for it, not a clock
            sent = daemon.store.deliveries_of(incident_id)
            if sent and all(delivery.state == "delivered" for delivery in sent):
                break
            time.sleep(0.02)
    finally:
        daemon.courier.stop()
    browser = Browser(daemon)
    browser.sign_in("bob")

    page = browser.page(f"/incidents/{incident_id}").text

    told = page[page.index('<ul class="told">') :]
    told = told[: told.index("</ul>")]
    assert re.search(r"to the daemon&#39;s log \(\w+\): delivered at <time", told)
    shown = browser.http.get(
        f"/v1/incidents/{incident_id}",
        headers={"Authorization": f"Bearer {issue_token(daemon.store, 'bob', daemon.context.clock())}"},
    ).json()
    assert {item["state"] for item in shown["notifications"]} == {"delivered"}
    assert all(item["to"].startswith("the daemon's log") for item in shown["notifications"])
