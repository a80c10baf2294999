"""What an acknowledged commit survives: SQLite's synchronous setting, FULL unless the operator chose NORMAL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.daemon import Config, build
from engine.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
FULL, NORMAL = 2, 1  # what PRAGMA synchronous answers


def synchronous_of(store: SQLiteStore) -> int:
    level: int = store._db.execute("PRAGMA synchronous").fetchone()[0]
    return level


def test_a_store_syncs_every_commit_to_the_disk_unless_told_otherwise(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    try:
        assert synchronous_of(store) == FULL  # an acknowledged mention survives a power loss
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()


@pytest.mark.parametrize(("setting", "level"), [("full", FULL), ("normal", NORMAL)])
def test_the_daemon_opens_its_store_with_the_configured_setting(tmp_path: Path, setting: str, level: int) -> None:
    config = Config(
        data=tmp_path / "data",
        playbooks=(ROOT / "playbooks",),
        roster=ROOT / "examples" / "roster.yaml",
        sqlite_synchronous=setting,
    )
    daemon = build(config, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    try:
        assert synchronous_of(daemon.store) == level
    finally:
        daemon.store.close()


def test_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="full, normal"):
        SQLiteStore(tmp_path, "off")


@pytest.mark.parametrize(
    ("setting", "durable", "level"),
    [
        ("full", True, FULL),
        ("full", False, NORMAL),
        ("normal", True, NORMAL),
        ("normal", False, NORMAL),
    ],
)
def test_bookkeeping_that_is_safe_to_redo_skips_the_flush_and_what_is_acknowledged_keeps_it(
    tmp_path: Path, setting: str, durable: bool, level: int
) -> None:
    store = SQLiteStore(tmp_path, setting)
    try:
        with store.write(durable=durable):
            during = synchronous_of(store)
        with store.write():
            after = synchronous_of(store)
    finally:
        store.close()

    assert during == level
    assert after == (FULL if setting == "full" else NORMAL)  # the next acknowledged change is flushed again


def test_firing_deadlines_and_delivering_ask_for_no_flush_of_their_own() -> None:
    # A deadline marked fired, or a delivery marked sent, is redone with the same keys after a power cut, so their
    # commits need not each wait on the disk; intake and actions keep theirs (the calls above keep the default).
    service = (ROOT / "engine" / "service" / "_service.py").read_text(encoding="utf-8")
    dispatcher = (ROOT / "engine" / "notify" / "_dispatcher.py").read_text(encoding="utf-8")

    assert service.count("write(durable=False)") == 1
    assert "write()" not in dispatcher
