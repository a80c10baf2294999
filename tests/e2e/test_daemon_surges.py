"""A real ``calmly serve`` on SQLite with the shipped playbooks: an outage's complaints posted one request each to
``POST /v1/mentions`` gather into one incident, and their surge makes it critical and notifies, once, across a
SIGKILL and a restart in the middle of the burst."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from serving import ServedDaemon

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
ROSTER = ROOT / "examples" / "roster.yaml"
#: Before the daemon's simulated clock (09:00): a burst that happened, replayed by a listening tool.
POSTED = datetime(2026, 11, 23, 8, 50, tzinfo=UTC)


def _complaint(number: int) -> dict[str, Any]:
    return {
        "channel": "twitter",
        "external_id": f"outage-{number}",
        "text": "Is the app down? It's not working for me",
        "posted_at": (POSTED + timedelta(seconds=5 * number)).isoformat(),
        "author": {"handle": f"@witness{number}", "followers": 40},
    }


def _post(daemon: ServedDaemon, numbers: range) -> list[dict[str, Any]]:
    results = []
    with httpx.Client(base_url=daemon.url, headers=daemon.auth("bob"), timeout=10.0) as client:
        for number in numbers:
            answer = client.post("/v1/mentions", json=_complaint(number))
            assert answer.status_code == 200, answer.text
            (result,) = answer.json()["results"]
            results.append(result)
    return results


def _incident(daemon: ServedDaemon, incident_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{daemon.url}/v1/incidents/{incident_id}", headers=daemon.auth("bob"), timeout=10.0)
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


def test_a_burst_posted_to_the_daemon_groups_and_surges_once_across_a_sigkill_and_a_restart(tmp_path: Path) -> None:
    first = ServedDaemon(tmp_path, playbooks=PLAYBOOKS, roster=ROSTER, people=("bob",))
    try:
        before = _post(first, range(1, 31))
    finally:
        first.process.send_signal(signal.SIGKILL)  # no goodbye: only what was committed before each answer
        first.process.wait(timeout=30)
    again = ServedDaemon(tmp_path, playbooks=PLAYBOOKS, roster=ROSTER)
    again.tokens = first.tokens
    try:
        after = _post(again, range(31, 61))
        shown = _incident(again, "inc-1")
        listed = httpx.get(f"{again.url}/v1/incidents", headers=again.auth("bob"), timeout=10.0).json()
    finally:
        again.stop()

    assert [(result["status"], result["incident"]) for result in before + after] == [("opened", "inc-1")] + [
        ("joined", "inc-1")
    ] * 59
    assert after[0]["message"] == "grouped with the mentions of 'service-outage on twitter'"
    assert [item["id"] for item in listed["incidents"]] == ["inc-1"]
    assert shown["severity"] == "critical"
    assert (shown["group"], shown["surged"]) == ("service-outage on twitter", ["outage_spike"])
    summaries = [entry["summary"] for entry in shown["history"]]
    spike = "surge outage_spike: 50 mentions within 10m: raise to critical, notify incident_commander, comms_director"
    assert summaries.count(spike) == 1
    assert "severity medium -> critical (surge outage_spike)" in summaries
    surge_keys = {item["key"] for item in shown["notifications"] if "/event/surge/" in item["key"]}
    assert surge_keys == {"inc-1/event/surge/outage_spike/r0"}
