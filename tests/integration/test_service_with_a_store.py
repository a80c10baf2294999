"""The daemon's service on a real store, SQLite and PostgreSQL each, with a clock moved by hand: intake, actions,
deadlines, rebuilds. The cases that look inside SQLite's file run on SQLite alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from intake_support import mention

from engine.errors import Conflict
from engine.incident import RefusalReason
from engine.service import IntakeStatus, InvalidPlaybooks, Library, NotFound, Service, revoke_tokens
from engine.store import DeskSession, IncidentFilter, SQLiteStore, Store, StoreError
from engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
START = "2026-11-23T09:00:00+00:00"  # a Monday


class Desk:
    """A service over a store, as the daemon builds it; ``restart`` builds it again on the same store."""

    def __init__(self, backend: Backend, clock: FakeClock) -> None:
        self.backend = backend
        self.folder = backend.folder
        self.clock = clock
        self.store = backend.open()
        self.library = Library(self.store)
        self.library.install([PLAYBOOKS], clock.now())
        self.service = Service(self.store, self.library, clock.now)

    def restart(self) -> Desk:
        self.store.close()
        return Desk(self.backend, self.clock)


@pytest.fixture
def desk(backend: Backend) -> Iterator[Desk]:
    made = Desk(backend, FakeClock(START))
    yield made
    made.store.close()


@pytest.fixture
def sqlite_desk(tmp_path: Path) -> Iterator[Desk]:
    """For the cases that open SQLite's file beside the store."""
    made = Desk(Backend("sqlite", tmp_path / "data"), FakeClock(START))
    yield made
    made.store.close()


ALICE = {"person": "alice", "roles": frozenset({"community_manager"})}


def test_a_mention_opens_an_incident_and_the_same_mention_again_is_a_duplicate(desk: Desk) -> None:
    (first,) = desk.service.ingest([mention("1")])
    (again,) = desk.service.ingest([mention("1")])

    assert (first.status, first.incident_id, first.playbook) == ("opened", "inc-1", "customer-complaint")
    assert (again.status, again.incident_id) == ("duplicate", "inc-1")
    row = desk.store.incident("inc-1")
    assert row is not None
    assert (row.incident.state, row.incident.severity, row.final) == ("detected", "medium", False)
    assert "community_manager" in row.waiting_on
    assert {deadline.clock for deadline in desk.store.pending_deadlines("inc-1")} >= {"limit:detected"}


def test_a_batch_opens_joins_ignores_and_refuses_each_mention_on_its_own(desk: Desk) -> None:
    results = desk.service.ingest(
        [
            mention("1"),
            mention("2", text="Still nothing about my broken order", handle="@ann"),
            {**mention("3"), "channel": "carrier_pigeon"},
            {"channel": "twitter"},
        ]
    )

    assert [result.status for result in results] == ["opened", "joined", "invalid", "invalid"]
    assert results[1].incident_id == "inc-1"
    assert results[2].errors[0]["pointer"] == "/channel"
    assert desk.store.mention("twitter", "3") is None  # invalid mentions change nothing
    assert desk.store.counts()["incidents"] == 1


def test_an_action_moves_the_incident_and_a_stale_or_wrong_one_changes_nothing(desk: Desk) -> None:
    desk.service.ingest([mention("1")])
    desk.clock.advance("10m")

    done = desk.service.act("inc-1", "assess", **ALICE, fields={"severity": "high"}, version=0)
    stale = desk.service.act("inc-1", "acknowledge", **ALICE, fields={}, version=0)
    # Alice may offer a resolution, but not before the complaint is acknowledged.
    wrong = desk.service.act("inc-1", "offer_resolution", **ALICE, fields={}, version=1)

    assert done.refused is None
    assert (done.incident.state, done.incident.severity, done.incident.revision) == ("assessed", "high", 1)
    assert stale.refused is not None
    assert stale.refused.reason is RefusalReason.STALE
    assert wrong.refused is not None
    assert wrong.refused.reason is RefusalReason.NOT_AVAILABLE
    row = desk.store.incident("inc-1")
    assert row is not None
    assert row.incident == done.incident
    assert [event.kind for event in desk.store.events("inc-1")] == ["open", "act"]
    with pytest.raises(NotFound):
        desk.service.act("inc-9", "assess", **ALICE, fields={"severity": "high"}, version=0)


def test_due_deadlines_fire_once_into_the_outbox_and_never_twice(desk: Desk) -> None:
    desk.service.ingest([mention("1")])  # medium: detected within 4h; 75% warns the community manager
    desk.clock.advance("2h59m")
    assert desk.service.fire_due() == []

    desk.clock.advance("1m")
    fired = desk.service.fire_due()
    again = desk.service.fire_due()

    assert {item.key.split("/")[1] for item in fired} == {"limit:detected", "first_response"}
    assert again == []
    outbox = desk.store.outbox()
    assert {row.body["clock"] for row in outbox} == {"limit:detected", "first_response"}
    assert all(row.body["roles"] == ["community_manager"] for row in outbox)
    assert len({row.key for row in outbox}) == len(outbox)


def test_after_a_restart_an_overdue_deadline_fires_once_at_once_and_says_how_late(desk: Desk) -> None:
    desk.service.ingest([mention("1")])
    desk.clock.advance("5h")  # down over the warning (3h) and the breach (4h)

    restarted = desk.restart()
    fired = restarted.service.fire_due()
    fired += restarted.service.fire_due()

    breach = [row.body for row in restarted.store.outbox() if row.body["clock"] == "limit:detected"]
    assert sorted(notice["kind"] for notice in breach) == ["breach", "warning"]
    assert {notice["late_by_seconds"] for notice in breach} == {2 * 3600.0, 3600.0}
    assert all(item.late_by.total_seconds() > 0 for item in fired)
    restarted.store.close()


def test_every_incident_row_equals_its_history_replayed(desk: Desk) -> None:
    desk.service.ingest([mention("1"), mention("2", text="lol", handle="@troll"), mention("3", handle="@ann")])
    desk.clock.advance("3h")
    desk.service.fire_due()
    desk.service.act("inc-1", "assess", **ALICE, fields={"severity": "critical"}, version=1)
    desk.service.fire_due()
    reply = {"public_reply": {"channel": "twitter", "text": "Sorry, we are on it."}}
    desk.service.act("inc-1", "acknowledge", **ALICE, fields=reply, version=2)
    desk.clock.advance("1d")
    desk.service.fire_due()

    for incident_id in desk.store.all_incident_ids():
        row = desk.store.incident(incident_id)
        assert row is not None
        assert desk.service.rebuild(incident_id) == row.incident, incident_id


def test_lists_filter_by_state_breach_and_waiting_role_and_page(desk: Desk) -> None:
    desk.service.ingest([mention(str(number), handle=f"@c{number}") for number in range(1, 6)])
    desk.service.act("inc-2", "assess", **ALICE, fields={"severity": "low"}, version=0)

    detected = desk.service.incidents(IncidentFilter(states=("detected",)))
    first_page = desk.service.incidents(IncidentFilter(limit=2))
    second_page = desk.service.incidents(IncidentFilter(limit=2, after=first_page[-1].incident.id))
    on_lead = desk.service.incidents(IncidentFilter(waiting_on="customer_care"))

    assert [row.incident.id for row in detected] == ["inc-1", "inc-3", "inc-4", "inc-5"]
    assert [row.incident.id for row in first_page + second_page] == ["inc-1", "inc-2", "inc-3", "inc-4"]
    assert on_lead == []


def test_a_store_written_by_a_newer_calmly_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    store.migrate()
    store.close()
    with sqlite3.connect(tmp_path / "calmly.sqlite3") as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', '2030-01-01T00:00:00Z')")
    again = SQLiteStore(tmp_path)
    with pytest.raises(StoreError, match="newer than this calmly knows"):
        again.migrate()
    again.close()


def test_invalid_playbooks_are_refused_with_their_positions(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "broken.yaml").write_text("playbook: x\nversion: one\n", encoding="utf-8")
    store = SQLiteStore(tmp_path / "data")
    store.migrate()
    with pytest.raises(InvalidPlaybooks) as raised:
        Library(store).install([folder], FakeClock(START).now())
    assert "broken.yaml:2:10:" in str(raised.value)
    store.close()


def test_all_or_nothing_intake_records_nothing_when_one_mention_is_invalid(desk: Desk) -> None:
    results = desk.service.ingest([mention("1"), {"channel": "twitter"}], all_or_nothing=True)

    assert [result.status for result in results] == ["not_recorded", "invalid"]
    assert results[1].errors
    assert desk.store.mention("twitter", "1") is None
    assert desk.store.counts()["incidents"] == 0


# --- one author, one channel, one post ------------------------------------------------------------------------


def test_zed_on_x_joins_the_incident_at_zed_opened_on_twitter(desk: Desk) -> None:
    (first,) = desk.service.ingest([mention("1", handle="@zed")])
    (later,) = desk.service.ingest([{**mention("2", text="Still broken", handle="Zed"), "channel": "x"}])

    assert (first.status, later.status, later.incident_id) == ("opened", "joined", "inc-1")
    assert desk.store.mention("twitter", "2") is not None  # kept under the channel's one name
    assert desk.store.counts()["incidents"] == 1


def test_the_same_post_from_a_second_listening_tool_is_a_duplicate_not_a_second_mention(desk: Desk) -> None:
    link = "https://x.com/ann/status/1861"
    from_one = mention("1861", url=link, source="brandwatch")
    from_other = {**mention("tw-1861", url="HTTP://X.com/ann/status/1861/?utm_source=sprout"), "source": "sprout"}

    (first,) = desk.service.ingest([from_one])
    (second,) = desk.service.ingest([from_other])

    assert (first.status, second.status, second.incident_id) == ("opened", "duplicate", "inc-1")
    assert "twitter/1861" in str(second.message)
    assert desk.store.mention("twitter", "tw-1861") is None
    row = desk.store.incident("inc-1")
    assert row is not None
    assert row.incident.mention_count == 1
    assert [(post.channel, post.external_id) for post in desk.store.mentions_of(row.incident.id)] == [
        ("twitter", "1861")
    ]


def test_the_same_post_on_x_and_on_twitter_with_one_id_is_a_duplicate(desk: Desk) -> None:
    desk.service.ingest([mention("1861")])
    (again,) = desk.service.ingest([{**mention("1861"), "channel": "x"}])

    assert (again.status, again.incident_id) == ("duplicate", "inc-1")


def test_two_reports_of_one_post_in_one_batch_record_it_once(desk: Desk) -> None:
    results = desk.service.ingest(
        [mention("a", url="https://x.com/ann/status/9"), mention("b", url="https://x.com/ann/status/9?utm_medium=s")]
    )

    assert [result.status for result in results] == ["opened", "duplicate"]


def test_the_store_finds_a_post_by_its_link_through_a_unique_index(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    desk.service.ingest([mention("1", url="https://x.com/ann/status/1", source="brandwatch")])
    db = sqlite3.connect(desk.folder / "calmly.sqlite3")
    try:
        (plan,) = [row[3] for row in db.execute("EXPLAIN QUERY PLAN SELECT * FROM mentions WHERE url_key = 'k'")]
        (unique,) = db.execute("SELECT \"unique\" FROM pragma_index_list('mentions') WHERE name = 'mentions_by_url'")
        stored = db.execute("SELECT url_key, source FROM mentions WHERE external_id = '1'").fetchone()
    finally:
        db.close()

    assert "USING INDEX mentions_by_url" in plan
    assert unique == (1,)
    assert stored == ("x.com/ann/status/1", "brandwatch")


# --- a follow-up that matches a higher-priority playbook -------------------------------------------------------


def test_an_injury_claim_from_an_author_with_an_open_complaint_opens_a_legal_incident_linked_both_ways(
    desk: Desk,
) -> None:
    from engine.api._views import details_view  # noqa: PLC0415 - the view the API and the terminal show

    desk.service.ingest([mention("1", text="My order arrived late", handle="@ann")])
    desk.clock.advance("1h")
    (injury,) = desk.service.ingest([mention("2", text="The kettle burned my hand, an injury", handle="ann")])
    desk.clock.advance("1h")
    (later,) = desk.service.ingest([mention("3", text="And still no reply about my order", handle="@ann")])

    assert (injury.status, injury.incident_id, injury.playbook) == ("opened", "inc-2", "safety-and-legal")
    assert "inc-1" in str(injury.message)
    assert (later.status, later.incident_id) == ("joined", "inc-1")
    complaint = details_view(desk.service.incident("inc-1"), desk.clock.now())
    legal = details_view(desk.service.incident("inc-2"), desk.clock.now())
    assert complaint["links"] == [{"incident": "inc-2", "relation": "followed_up_by"}]
    assert legal["links"] == [{"incident": "inc-1", "relation": "follow_up_of"}]
    assert "opened inc-2 under safety-and-legal: this post matches a higher-priority playbook" in [
        entry["summary"] for entry in complaint["history"]
    ]
    assert any(entry["summary"].startswith("follow-up from inc-1's author") for entry in legal["history"])
    for incident_id in ("inc-1", "inc-2"):
        row = desk.store.incident(incident_id)
        assert row is not None
        assert desk.service.rebuild(incident_id) == row.incident, incident_id


def test_an_incident_is_merged_only_into_an_incident_the_store_has(desk: Desk) -> None:
    (lead,) = desk.service.ingest([mention("lead", "The app is down for everyone", handle="@lead")])
    (duplicate,) = desk.service.ingest([mention("dup", "The app is down again", handle="@dup", channel="facebook")])
    assert (lead.playbook, duplicate.playbook) == ("service-outage", "service-outage")
    manager = {"person": "alice", "roles": frozenset({"community_manager"})}

    missing = desk.service.act(
        duplicate.incident_id or "", "merge", **manager, fields={"merged_into": "inc-99"}, version=None
    )
    row = desk.store.incident(duplicate.incident_id or "")

    assert missing.refused is not None
    assert (missing.refused.reason, missing.refused.field) == (RefusalReason.INVALID_FIELD, "merged_into")
    assert "no such incident" in missing.refused.message
    assert row is not None
    assert row.incident.state == "detected"  # nothing changed

    merged = desk.service.act(
        duplicate.incident_id or "", "merge", **manager, fields={"merged_into": lead.incident_id}, version=None
    )

    assert merged.refused is None
    assert merged.incident.state == "merged"


# --- later mentions of a merged thread ---------------------------------------------------------------------------
# service-outage groups a channel's outage mentions into one incident: the duplicates here come from other channels,
# as the ones a team merges by hand do.

MANAGER = {"person": "alice", "roles": frozenset({"community_manager"})}


def _summaries(desk: Desk, incident_id: str) -> list[str]:
    return [entry["summary"] for event in desk.service.incident(incident_id).events for entry in event.history]


def _merge(desk: Desk, incident_id: str, into: str) -> None:
    merged = desk.service.act(incident_id, "merge", **MANAGER, fields={"merged_into": into}, version=None)
    assert merged.refused is None, merged.refused


def test_a_later_reply_in_a_merged_thread_joins_the_incident_it_was_merged_into(desk: Desk) -> None:
    (lead,) = desk.service.ingest([mention("lead", "The app is down for everyone", handle="@lead", thread_id="t1")])
    (dup,) = desk.service.ingest(
        [mention("dup", "The app is down again", handle="@dup", thread_id="t2", channel="facebook")]
    )
    _merge(desk, dup.incident_id or "", lead.incident_id or "")
    desk.clock.advance("3d")  # past the join window: only the thread ties the reply to its incident

    # The reply says nothing a playbook listens for: before, it was ignored, and nobody heard of it.
    (reply,) = desk.service.ingest(
        [mention("reply", "Any news? Nothing here", handle="@someone", thread_id="t2", channel="facebook")]
    )

    assert (reply.status, reply.incident_id) == ("joined", lead.incident_id)
    assert f"it belongs to {dup.incident_id}, which was merged into {lead.incident_id}" == reply.message
    lead_row = desk.store.incident(lead.incident_id or "")
    assert lead_row is not None
    assert lead_row.incident.mention_count == 2
    assert (
        f"mention facebook/reply joined: it belongs to {dup.incident_id}, which was merged into this incident"
        in _summaries(desk, lead.incident_id or "")
    )
    assert (
        f"mention facebook/reply by @someone joined {lead.incident_id}, which this incident was merged into"
        in _summaries(desk, dup.incident_id or "")
    )
    for incident_id in (lead.incident_id or "", dup.incident_id or ""):
        row = desk.store.incident(incident_id)
        assert row is not None
        assert desk.service.rebuild(incident_id) == row.incident, incident_id


def test_the_author_of_a_merged_incident_posting_again_soon_joins_the_lead_instead_of_opening_another(
    desk: Desk,
) -> None:
    (lead,) = desk.service.ingest([mention("lead", "The app is down for everyone", handle="@lead")])
    (dup,) = desk.service.ingest([mention("dup", "The app is down again", handle="@dup", channel="facebook")])
    _merge(desk, dup.incident_id or "", lead.incident_id or "")
    desk.clock.advance("1h")

    (again,) = desk.service.ingest(
        [mention("again", "The app is still down, outage all morning", handle="@Dup", channel="facebook")]
    )

    assert (again.status, again.incident_id) == ("joined", lead.incident_id)
    assert desk.store.counts()["incidents"] == 2


def test_the_author_of_a_merged_incident_past_the_join_window_opens_a_new_incident(desk: Desk) -> None:
    (lead,) = desk.service.ingest([mention("lead", "The app is down for everyone", handle="@lead")])
    (dup,) = desk.service.ingest([mention("dup", "The app is down again", handle="@dup", channel="facebook")])
    _merge(desk, dup.incident_id or "", lead.incident_id or "")
    desk.clock.advance("4w")

    (weeks_later,) = desk.service.ingest(
        [
            mention(
                "later",
                "The app is down again, another outage",
                handle="@dup",
                posted_at="2026-12-21T09:00:00Z",
                channel="facebook",
            )
        ]
    )

    assert weeks_later.status == "opened"
    assert weeks_later.incident_id not in (lead.incident_id, dup.incident_id)


def test_a_mention_follows_a_chain_of_merges_to_the_open_incident_at_its_end(desk: Desk) -> None:
    (first,) = desk.service.ingest([mention("a", "The app is down for everyone", handle="@a", thread_id="ta")])
    (second,) = desk.service.ingest([mention("b", "The app is down", handle="@b", thread_id="tb", channel="facebook")])
    (third,) = desk.service.ingest(
        [mention("c", "The app is down again", handle="@c", thread_id="tc", channel="instagram")]
    )
    _merge(desk, third.incident_id or "", second.incident_id or "")
    _merge(desk, second.incident_id or "", first.incident_id or "")

    (reply,) = desk.service.ingest([mention("reply", "same here", handle="@d", thread_id="tc", channel="instagram")])

    assert (reply.status, reply.incident_id) == ("joined", first.incident_id)
    assert f"it belongs to {third.incident_id}, which was merged into {first.incident_id}" == reply.message


def test_merges_that_come_round_in_a_loop_send_a_mention_nowhere_they_point(desk: Desk) -> None:
    (first,) = desk.service.ingest([mention("a", "The app is down for everyone", handle="@a", thread_id="ta")])
    (second,) = desk.service.ingest([mention("b", "The app is down", handle="@b", thread_id="tb", channel="facebook")])
    _merge(desk, second.incident_id or "", first.incident_id or "")
    _merge(desk, first.incident_id or "", second.incident_id or "")  # both closed now, each merged into the other

    (reply,) = desk.service.ingest(
        [mention("reply", "The app is down still", handle="@d", thread_id="tb", channel="facebook")]
    )

    assert reply.status == "opened"
    assert reply.incident_id not in (first.incident_id, second.incident_id)


def test_a_store_written_before_merges_were_kept_finds_its_merged_incidents_once_opened(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    (lead,) = desk.service.ingest([mention("lead", "The app is down for everyone", handle="@lead")])
    (dup,) = desk.service.ingest(
        [mention("dup", "The app is down again", handle="@dup", thread_id="t2", channel="facebook")]
    )
    _merge(desk, dup.incident_id or "", lead.incident_id or "")
    desk.store.close()
    with sqlite3.connect(desk.folder / "calmly.sqlite3") as db:  # the store as schema version 10 left it
        db.execute("DROP INDEX incidents_merged_by_author")
        db.execute("DROP INDEX incidents_merged_by_thread")
        db.execute("ALTER TABLE incidents DROP COLUMN merged_into")
        db.execute("DELETE FROM schema_migrations WHERE version = 11")
    db.close()

    reopened = desk.restart()
    (reply,) = reopened.service.ingest([mention("reply", "any news?", handle="@x", thread_id="t2", channel="facebook")])

    assert (reply.status, reply.incident_id) == ("joined", lead.incident_id)


# --- the promise ledger -----------------------------------------------------------------------------------------

CAROL = {"person": "carol", "roles": frozenset({"customer_care"})}


def _offered_a_refund(desk: Desk) -> None:
    """inc-1 acknowledged, and Carol's refund of 30 GBP promised: due in 16 of the office's open hours."""
    desk.service.ingest([mention("1")])
    desk.clock.advance("10m")
    assert desk.service.act("inc-1", "assess", **ALICE, fields={"severity": "medium"}, version=0).refused is None
    reply = {"channel": "twitter", "text": "Sorry about this, we're on it."}
    assert desk.service.act("inc-1", "acknowledge", **ALICE, fields={"public_reply": reply}, version=1).refused is None
    offer = {"offer": {"kind": "refund", "amount": 30}, "contact_route": "dm", "contact": "Carol Lindqvist"}
    done = desk.service.act("inc-1", "offer_resolution", **CAROL, fields=offer, version=2, name="Carol Lindqvist")
    assert done.refused is None, done.refused


def test_a_promise_survives_a_restart_and_its_deadline_still_escalates(desk: Desk) -> None:
    _offered_a_refund(desk)

    restarted = desk.restart()
    row = restarted.store.incident("inc-1")
    assert row is not None
    (promise,) = row.incident.promises
    assert (promise.id, promise.amount, promise.currency, promise.contact) == ("refund-1", 30, "GBP", "Carol Lindqvist")
    assert "promise:refund-1" in {deadline.clock for deadline in restarted.store.pending_deadlines("inc-1")}
    restarted.clock.advance("2d")  # Monday 09:10 + 2 days: past the refund's Tuesday 16:10
    fired = restarted.service.fire_due() + restarted.service.fire_due()

    assert any(done.key.startswith("inc-1/promise:refund-1/3/") for done in fired)
    after = restarted.store.incident("inc-1")
    assert after is not None
    assert "promise:refund-1" in after.incident.breached
    assert restarted.service.rebuild("inc-1") == after.incident
    restarted.store.close()


def test_deliver_keeps_the_promise_cancels_its_deadline_and_lets_the_incident_resolve(desk: Desk) -> None:
    _offered_a_refund(desk)
    blocked = desk.service.act("inc-1", "resolve", **CAROL, fields={"outcome": "Refunded."}, version=3)

    kept = desk.service.act("inc-1", "deliver", **CAROL, fields={"note": "Refunded to the card."}, version=3)
    resolved = desk.service.act("inc-1", "resolve", **CAROL, fields={"outcome": "Refunded."}, version=4)

    assert blocked.refused is not None
    assert blocked.refused.reason is RefusalReason.OPEN_PROMISE
    assert kept.refused is None
    assert resolved.refused is None
    assert "promise:refund-1" not in {deadline.clock for deadline in desk.store.pending_deadlines("inc-1")}
    row = desk.store.incident("inc-1")
    assert row is not None
    assert row.incident.promises[0].kept_note == "Refunded to the card."
    assert desk.service.rebuild("inc-1") == row.incident
    shown = desk.service.incident("inc-1")
    assert [entry["kind"] for event in shown.events for entry in event.history if entry["kind"] == "delivered"]


# --- muted authors -------------------------------------------------------------------------------------------

LEAD = {"person": "lena", "roles": frozenset({"social_lead"})}


def _not_engaged_troll(desk: Desk) -> str:
    (troll,) = desk.service.ingest([mention("t-1", text="@brand scumbags, the lot of you", handle="@gr1ft3r")])
    assert (troll.status, troll.playbook) == ("opened", "abuse-and-trolls")
    closed = desk.service.act(
        troll.incident_id or "", "do_not_engage", **LEAD, fields={"reason": "troll"}, version=None
    )
    assert closed.refused is None, closed.refused
    return troll.incident_id or ""


def test_a_muted_trolls_next_post_is_recorded_on_the_closed_incident_and_opens_nothing(desk: Desk) -> None:
    muted = _not_engaged_troll(desk)
    desk.clock.advance("1d")

    (again,) = desk.service.ingest([mention("t-2", text="Still scumbags, all of you", handle="@gr1ft3r")])

    assert (again.status, again.incident_id) == ("muted", muted)
    assert again.message is not None
    assert "muted until" in again.message
    assert desk.store.counts()["incidents"] == 1
    recorded = desk.store.mention("twitter", "t-2")
    assert recorded is not None
    assert (recorded.outcome, recorded.incident_id) == ("muted", muted)
    last = desk.store.events(muted)[-1]
    assert last.history[0]["summary"].startswith("mention twitter/t-2 by @gr1ft3r recorded here: the author is muted")
    assert not [row for row in desk.store.deliveries(None, 100) if row.incident_id == muted]  # nobody told


def test_a_mute_survives_a_restart_lets_a_threat_through_and_ends_on_time(desk: Desk) -> None:
    muted = _not_engaged_troll(desk)
    desk = desk.restart()
    desk.clock.advance("2d")

    (again,) = desk.service.ingest([mention("t-2", text="Rot in hell, scumbags", handle="@gr1ft3r")])
    (threat,) = desk.service.ingest([mention("t-3", text="I know where you live", handle="@gr1ft3r")])
    desk.clock.advance("6d")
    (later,) = desk.service.ingest([mention("t-4", text="scumbags again", handle="@gr1ft3r")])

    assert (again.status, again.incident_id) == ("muted", muted)
    assert threat.status == "opened"  # more severe than the trolling the verdict was about
    threat_row = desk.store.incident(threat.incident_id or "")
    assert threat_row is not None
    assert threat_row.incident.severity == "critical"
    # The week is up: the post goes where any post of theirs would, to the open threat.
    assert (later.status, later.incident_id) == ("joined", threat.incident_id)


# --- pauses -------------------------------------------------------------------------------------------------------


def test_a_clock_paused_while_we_wait_on_the_customer_stays_paused_over_a_restart_and_resumes_on_their_answer(
    desk: Desk,
) -> None:
    desk.service.ingest([mention("1", thread_id="t-1")])  # medium: the resolution target allows 24h
    desk.clock.advance("10m")
    assert desk.service.act("inc-1", "assess", **ALICE, fields={"severity": "medium"}, version=0).refused is None
    reply = {"channel": "twitter", "text": "Sorry about this, we're on it."}
    assert desk.service.act("inc-1", "acknowledge", **ALICE, fields={"public_reply": reply}, version=1).refused is None
    desk.clock.advance("50m")  # an hour in: 23h left
    ask = {"contact_route": "dm", "note": "Asked for the order number by DM."}
    assert desk.service.act("inc-1", "ask_customer", **ALICE, fields=ask, version=2).refused is None

    restarted = desk.restart()
    restarted.clock.advance("2d")  # two days waiting: well past the 24h the target would otherwise allow
    restarted.service.fire_due()
    restarted.service.fire_due()
    waiting = restarted.store.incident("inc-1")
    assert waiting is not None
    assert waiting.incident.state == "awaiting_customer"
    assert "resolution" not in waiting.incident.breached
    assert "resolution" not in {deadline.clock for deadline in restarted.store.pending_deadlines("inc-1")}
    assert all(row.body["clock"] != "resolution" for row in restarted.store.outbox())

    answer = mention("2", text="Order 12345", thread_id="t-1", posted_at="2026-11-25T10:00:00Z")
    (joined,) = restarted.service.ingest([answer])

    assert joined.status == "joined"
    back = restarted.store.incident("inc-1")
    assert back is not None
    assert back.incident.state == "acknowledged"
    resolution = back.incident.clock("resolution")
    assert resolution is not None
    assert resolution.due_at == restarted.clock.now() + timedelta(hours=23)
    assert "resolution" in {deadline.clock for deadline in restarted.store.pending_deadlines("inc-1")}
    assert restarted.service.rebuild("inc-1") == back.incident
    restarted.store.close()


class CrossedOnce:
    """The store, except that its first unit of work is crossed by another daemon's (PostgreSQL's deadlock
    detector ends it: :class:`Conflict`, nothing written)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.crossed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Any]:
        with self._store.write(durable=durable) as tx:
            yield tx
            if not self.crossed:
                self.crossed += 1
                raise Conflict("the change crossed another one at the same moment (deadlock detected); send it again")


def test_a_batch_of_mentions_crossed_by_another_daemons_change_is_taken_again_rather_than_refused(
    sqlite_desk: Desk,
) -> None:
    crossed = CrossedOnce(sqlite_desk.store)
    service = Service(crossed, sqlite_desk.library, sqlite_desk.clock.now)  # type: ignore[arg-type]

    results = service.ingest([mention("tw-1"), mention("tw-2", handle="@bea")])

    assert crossed.crossed == 1
    assert [result.status for result in results] == [IntakeStatus.OPENED, IntakeStatus.OPENED]
    assert len(list(sqlite_desk.store.all_incident_ids())) == 2


def test_revoking_a_persons_access_ends_their_desk_sessions_and_sign_in_links_and_nobody_elses(desk: Desk) -> None:
    later = desk.clock.now() + timedelta(hours=12)
    with desk.store.write() as tx:
        for id_hash, person in (("s-alice-1", "alice"), ("s-alice-2", "alice"), ("s-bob", "bob")):
            tx.sessions.add(DeskSession(id_hash, person, "csrf", later))
        tx.sessions.add_link("link-alice", "alice", later)
        tx.sessions.add_link("link-bob", "bob", later)

    revoked = revoke_tokens(desk.store, "alice", desk.clock.now())

    assert revoked == (0, 2)
    assert desk.store.desk_session("s-alice-1") is None
    assert desk.store.desk_session("s-alice-2") is None
    assert desk.store.desk_session("s-bob") is not None
    with desk.store.write() as tx:
        assert tx.sessions.spend_link("link-alice", desk.clock.now()) is None
        assert tx.sessions.spend_link("link-bob", desk.clock.now()) == "bob"
