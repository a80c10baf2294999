"""Every file a person hands calmly (a playbook, a roster, a configuration, a timeline): ordinary files only, a
byte order mark is fine, and a file built to break a reader is a located problem, never a hang or a traceback."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.authoring.timeline import read_timeline
from engine.daemon import ConfigError, load_config
from engine.files import load_file
from engine.playbook import Failed
from engine.service import load_roster

ROOT = Path(__file__).resolve().parents[2]

GOOD = {
    "playbook": ROOT / "tests" / "fixtures" / "playbooks" / "good" / "minimal.good.yaml",
    "roster": ROOT / "examples" / "roster.yaml",
    "config": ROOT / "examples" / "config.yaml",
    "timeline": ROOT / "examples" / "timelines" / "broken-order.yaml",
}


def _problems(kind: str, path: Path) -> list[str]:
    """What each reader says about the file, as located lines; empty when it reads."""
    if kind == "playbook":
        return [problem.located for problem in load_file(path).problems]
    if kind == "roster":
        found = load_roster(path)
        return [problem.located for problem in found.problems] if isinstance(found, Failed) else []
    if kind == "timeline":
        read = read_timeline(path)
        return [problem.located for problem in read.problems] if isinstance(read, Failed) else []
    try:
        load_config(path, {}, {})
    except ConfigError as error:
        return error.problems
    return []


def _within(seconds: float, work: Callable[[], list[str]]) -> list[str]:
    """The work's answer, failing the test (instead of hanging the suite) when it blocks."""
    answer: list[list[str]] = []
    thread = threading.Thread(target=lambda: answer.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert answer, f"still reading after {seconds}s: the file was read as if it would end"
    return answer[0]


KINDS = pytest.mark.parametrize("kind", sorted(GOOD))


@KINDS
def test_each_good_example_reads(kind: str) -> None:
    assert _problems(kind, GOOD[kind]) == []


@KINDS
def test_refuses_a_named_pipe_instead_of_waiting_for_it(kind: str, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)

    (problem,) = _within(5, lambda: _problems(kind, pipe))

    assert problem.startswith(f"{pipe.as_posix()}:1:1: E100 ")
    assert "it is a named pipe, not a file" in problem


@KINDS
def test_refuses_a_device_instead_of_reading_it_forever(kind: str) -> None:
    (problem,) = _within(5, lambda: _problems(kind, Path("/dev/zero")))

    assert problem.startswith("/dev/zero:1:1: E100 ")
    assert "it is a device, not a file" in problem


@KINDS
def test_accepts_a_utf8_byte_order_mark(kind: str, tmp_path: Path) -> None:
    path = tmp_path / GOOD[kind].name
    path.write_bytes(b"\xef\xbb\xbf" + GOOD[kind].read_bytes())
    if kind == "config":  # its relative paths point beside it
        path = GOOD[kind].with_name("bom-config.yaml")
        path.write_bytes(b"\xef\xbb\xbf" + GOOD[kind].read_bytes())
    try:
        assert _problems(kind, path) == []
    finally:
        if kind == "config":
            path.unlink()


@KINDS
@pytest.mark.parametrize("depth", [500, 1000])
@pytest.mark.parametrize("style", ["flow", "block"])
def test_refuses_deep_nesting_with_a_located_problem(kind: str, depth: int, style: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    nested = "[" * depth + "]" * depth if style == "flow" else "\n" + "  - " * 1 + "- " * depth + "x"
    path.write_text(GOOD[kind].read_text(encoding="utf-8") + f"\nextra: {nested}\n", encoding="utf-8")

    (problem,) = _problems(kind, path)

    assert " E112 " in problem
    assert problem.startswith(f"{path.as_posix()}:")


@KINDS
def test_refuses_a_5000_digit_number_with_a_located_problem(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD[kind].read_text(encoding="utf-8") + "\nextra: " + "9" * 5000 + "\n", encoding="utf-8")

    (problem,) = _problems(kind, path)

    assert " E113 " in problem
    assert "of 5,000 digits is too large" in problem
