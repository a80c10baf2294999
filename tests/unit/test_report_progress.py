"""A long report shows its progress on a terminal only: piped, redirected or in CI, standard error stays quiet."""

from __future__ import annotations

import io

import pytest

from engine.cli._progress import counted, shows_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert shows_progress()


def test_progress_stays_quiet_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert not shows_progress()


def test_progress_stays_quiet_when_piped_and_passes_every_item(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    piped = io.StringIO()
    monkeypatch.setattr("sys.stderr", piped)
    assert list(counted(range(5), "reading")) == [0, 1, 2, 3, 4]
    assert piped.getvalue() == ""
