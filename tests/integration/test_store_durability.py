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
