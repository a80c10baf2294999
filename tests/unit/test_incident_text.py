"""What `calmly incidents show` prints for people: the post's repairs, its listening tool and the incident's links."""

from __future__ import annotations

from typing import Any

from engine.cli._render import incident_lines


def shown(**extra: Any) -> dict[str, Any]:
    post = {
        "channel": "instagram",
        "external_id": "ig-1",
        "text": "We ended up in A&E \ufffd",
        "author": {"handle": "@mum_of_two", "followers": 120},
        "posted_at": "2026-11-23T09:00:00+00:00",
        "source": "brandwatch",
        "repairs": [{"pointer": "/text", "what": "replaced a lone surrogate with U+FFFD"}],
    }
    return {
        "now": "2026-11-23T09:10:00+00:00",
        "id": "inc-2",
        "playbook": "safety-and-legal",
        "playbook_version": 1,
        "revision": 3,
        "version": 3,
        "state": "detected",
        "severity": "critical",
        "channel": "instagram",
        "author": "@mum_of_two",
        "mentions": [post],
        "links": [{"incident": "inc-1", "relation": "follow_up_of"}],
        "clocks": [],
        "actions": [],
        "history": [],
        **extra,
    }


def test_shows_the_revision_apart_from_the_playbooks_version() -> None:
    assert incident_lines(shown())[0] == "inc-2  safety-and-legal v1  revision 3"


def test_an_older_daemon_answering_only_version_still_shows_the_revision() -> None:
    old = shown()
    del old["revision"]

    assert incident_lines(old)[0].endswith("revision 3")


def test_says_which_listening_tool_sent_the_post_and_what_was_mended_in_it() -> None:
    lines = incident_lines(shown())

    assert "    @mum_of_two (120 followers) on instagram (via brandwatch), posted 10m ago (09:00 UTC)" in lines
    assert "      (mended: replaced a lone surrogate with U+FFFD, in text)" in lines


def test_names_the_incidents_this_one_is_linked_to() -> None:
    assert "  linked    inc-1 (follow up of)" in incident_lines(shown())


def test_says_who_the_customer_is_or_that_nobody_knows_yet() -> None:
    assert "  customer  not known (no mention carried a customer_id)" in incident_lines(shown())
    assert "  customer  c-42 (segment vip)" in incident_lines(shown(customer_id="c-42", customer_segment="vip"))


def test_shows_an_actions_guard_and_the_reasons_only_some_of_its_roles_may_give() -> None:
    action = {
        "trigger": "do_not_engage",
        "to": "not_engaged",
        "by": ["community_manager", "social_lead"],
        "requires": ["reason"],
        "when": {"severities": ["low"]},
        "reasons": [
            {"reason": "spam", "by": ["community_manager", "social_lead"]},
            {"reason": "troll", "by": ["social_lead"]},
        ],
    }

    lines = incident_lines(shown(actions=[action]))

    assert (
        "  can do    do_not_engage -> not_engaged (by community_manager, social_lead) requires reason when severity low"
    ) in lines
    assert "              reason troll: by social_lead" in lines
    assert not any("reason spam" in line for line in lines)  # anyone who may take the action may give it


def test_shows_each_promise_with_its_due_time_or_how_it_was_kept() -> None:
    promises = [
        {
            "id": "refund-1",
            "kind": "refund",
            "amount": 30,
            "currency": "GBP",
            "promised_by": "carol",
            "due_at": "2026-11-23T14:10:00+00:00",
            "kept": False,
            "breached": False,
        },
        {
            "id": "call_back-2",
            "kind": "call_back",
            "amount": None,
            "currency": None,
            "promised_by": "carol",
            "due_at": "2026-11-23T09:00:00+00:00",
            "kept": True,
            "kept_by": "dave",
            "kept_note": "Called at 9.",
        },
    ]

    lines = incident_lines(shown(promises=promises))

    assert "  promise   refund-1: refund of 30 GBP, promised by carol, due in 5h" in "\n".join(lines)
    assert "  promise   call_back-2: call_back, promised by carol; kept by dave: Called at 9." in lines


def test_a_clock_standing_still_reads_as_paused_with_the_time_used_and_left_not_as_a_deadline() -> None:
    clocks = [
        {
            "name": "resolution",
            "timezone": "UTC",
            "started_at": "2026-11-23T08:00:00+00:00",
            "due_at": None,
            "breached": False,
            "next_step_at": None,
            "paused": True,
            "paused_at": "2026-11-23T09:00:00+00:00",
            "counted_seconds": 3600.0,
            "left_seconds": 82800.0,
        },
        {
            "name": "limit:awaiting_customer",
            "timezone": "UTC",
            "due_at": "2026-11-26T09:00:00+00:00",
            "breached": False,
        },
    ]

    lines = incident_lines(shown(clocks=clocks))

    assert "  clock     resolution: paused since 09:00 UTC: 1h used, 23h left" in lines
    assert any(line.startswith("  clock     limit:awaiting_customer: due in 3d") for line in lines)
