"""The figures readiness, the logs and /metrics show are kept as rows change, not counted by walking tables: after
incidents open, join, move, breach and close, deadlines fire and notifications are routed and delivered, each kept
figure is what counting every row gives; and a store written before they were kept gets them filled in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import Backend
from intake_support import mention
from test_service_with_a_store import Desk

from engine.testing import FakeClock

START = "2026-11-23T09:00:00+00:00"  # a Monday

SCANNED = {
    "incidents": "SELECT COUNT(*) FROM incidents",
    "open_incidents": "SELECT COUNT(*) FROM incidents WHERE final = 0",
    "pending_deadlines": "SELECT COUNT(*) FROM deadlines WHERE done_at IS NULL",
    "outbox_pending": "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
    "deliveries_pending": "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
    "deliveries_dead": "SELECT COUNT(*) FROM deliveries WHERE state = 'dead'",
}
TALLIED = (
    "SELECT playbook, state, severity, COUNT(*), SUM(breached) FROM incidents GROUP BY playbook, state, severity "
    "ORDER BY playbook, state, severity"
)


def _scanned(path: Path) -> tuple[dict[str, int], list[tuple[str, str, str, int, int]]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        counted = {name: db.execute(query).fetchone()[0] for name, query in SCANNED.items()}
        tallied = [(row[0], row[1], row[2], row[3], row[4]) for row in db.execute(TALLIED)]
    db.close()
    return counted, tallied


def _worked(folder: Path) -> Desk:
    """A day's work: complaints open and join, some are assessed, closed or left to breach; notifications queue."""
    clock = FakeClock(START)
    desk = Desk(Backend("sqlite", folder), clock)
    roles = frozenset({"social_lead"})
    for number in range(12):
        desk.service.ingest([mention(str(number), handle=f"@p{number % 8}")])  # some join their author's incident
    desk.service.ingest([mention("s1", "I was injured by your kettle", "@kim")])
    desk.service.act("inc-1", "assess", person="bob", roles=roles, fields={"severity": "high"}, version=1)
    desk.service.act("inc-2", "do_not_engage", person="bob", roles=roles, fields={"reason": "troll"}, version=1)
    clock.advance("5h")
    assert desk.service.fire_due(limit=1000)  # limits breach, escalations go to the outbox
    return desk


def _tallies(desk: Desk) -> list[tuple[str, str, str, int, int]]:
    return sorted(
        (tally.playbook, tally.state, tally.severity, tally.incidents, tally.breached) for tally in desk.store.tallies()
    )


def test_every_kept_figure_is_what_counting_the_rows_gives(tmp_path: Path) -> None:
    desk = _worked(tmp_path)

    counted, tallied = _scanned(desk.store.path)

    assert dict(desk.store.counts()) == counted
    assert counted["open_incidents"] < counted["incidents"]  # one was closed
    assert counted["outbox_pending"] > 0
    assert _tallies(desk) == sorted(tallied)
    assert any(breached for *_, breached in tallied)


def test_a_store_written_before_the_figures_were_kept_gets_them_filled_in_when_opened(tmp_path: Path) -> None:
    desk = _worked(tmp_path)
    expected = _scanned(desk.store.path)
    desk.store.close()
    with sqlite3.connect(tmp_path / "calmly.sqlite3") as db:
        triggers = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
        for trigger in triggers:
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP TABLE figures")
        db.execute("DROP TABLE tallies")
        db.execute("DELETE FROM schema_migrations WHERE version = 10")
    db.close()

    reopened = desk.restart()

    assert dict(reopened.store.counts()) == expected[0]
    assert _tallies(reopened) == sorted(expected[1])
    reopened.service.ingest([mention("later", handle="@new")])  # and kept from then on
    assert dict(reopened.store.counts()) == _scanned(reopened.store.path)[0]
