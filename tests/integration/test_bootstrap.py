"""The one composition root: the daemon and the terminal commands open the data folder's store the same way, and a
command's store is closed however the command ends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.daemon import Config, NoStore, StartupError, adapters, open_adapters
from engine.store.sqlite import DATABASE_NAME


def test_a_commands_store_is_closed_even_when_the_command_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), adapters(Config(data=tmp_path), create=True) as opened:
        raise RuntimeError("the command failed half-way")

    with pytest.raises(sqlite3.ProgrammingError):
        opened.store.migrate()


def test_a_folder_without_a_store_is_refused_and_left_without_one(tmp_path: Path) -> None:
    empty = tmp_path / "typo"

    with pytest.raises(NoStore) as refused, adapters(Config(data=empty)):
        pass

    assert f"no store in {empty}: is --data right" in str(refused.value)
    assert not (empty / DATABASE_NAME).exists()


def test_a_command_that_may_create_makes_the_store_and_says_it_did(tmp_path: Path) -> None:
    with adapters(Config(data=tmp_path), create=True) as made:
        assert made.created
        assert made.path == tmp_path / DATABASE_NAME
    with adapters(Config(data=tmp_path)) as reopened:
        assert not reopened.created
        assert reopened.schema_version == made.schema_version


def test_a_store_newer_than_this_calmly_is_refused_as_the_daemon_refuses_it(tmp_path: Path) -> None:
    with adapters(Config(data=tmp_path), create=True) as opened:
        newer = opened.schema_version + 1
    with sqlite3.connect(tmp_path / DATABASE_NAME) as database:
        database.execute(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, 'later', 'now')", (newer,)
        )
    database.close()

    with pytest.raises(StartupError, match="upgrade calmly"):
        open_adapters(Config(data=tmp_path))
