"""Playbooks on disk: finding them in folders and reading them, with the size cap applied before reading.

This is the thin file-reading shell around the pure :func:`engine.playbook.load`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from engine.files._reading import Unreadable, read_capped
from engine.playbook import MAX_BYTES, LoadResult, Problem, load, rules

__all__ = ["PLAYBOOK_SUFFIXES", "discover", "load_file", "load_paths"]

PLAYBOOK_SUFFIXES = (".yaml", ".yml")
#: Playbook tests (``calmly test``) may sit beside playbooks; a folder walk leaves them out.
_TEST_SUFFIXES = (".test.yaml", ".test.yml")


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and every ``*.yaml``/``*.yml`` below each folder, sorted.

    Hidden files and folders, and playbook tests (``*.test.yaml``), are left out of a folder walk.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(name for name in dirs if not name.startswith("."))
                found.extend(
                    Path(root, name)
                    for name in sorted(files)
                    if name.endswith(PLAYBOOK_SUFFIXES)
                    and not name.endswith(_TEST_SUFFIXES)
                    and not name.startswith(".")
                )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _display(path: Path) -> str:
    """Paths as the user typed them, with forward slashes, so they match what CI and editors show."""
    return path.as_posix()


def load_file(path: Path) -> LoadResult:
    """Read one playbook file; a file that cannot be read is a problem like any other, not an exception."""
    source = _display(path)
    content = read_capped(path, MAX_BYTES)
    if isinstance(content, Unreadable):
        return LoadResult(source, None, (Problem(rules.UNREADABLE, source, 1, 1, content.message),))
    if len(content) > MAX_BYTES:
        try:
            size = f"{path.stat().st_size:,} bytes"
        except OSError:  # gone meanwhile: the cap is what matters
            size = f"over {MAX_BYTES:,} bytes"
        message = f"the file is {size}; a playbook may be at most {MAX_BYTES:,} bytes. Split it into several playbooks"
        return LoadResult(source, None, (Problem(rules.TOO_LARGE, source, 1, 1, message),))
    return load(content, source)


def load_paths(paths: Iterable[Path]) -> list[LoadResult]:
    """Every playbook found under ``paths``, each loaded and checked, and the set checked for clashing ids."""
    return _unique_ids([load_file(path) for path in discover(paths)])


def _unique_ids(results: list[LoadResult]) -> list[LoadResult]:
    """A playbook id names one playbook: a second file with the same id is an error in that file."""
    first: dict[str, str] = {}
    checked = []
    for result in results:
        playbook = result.playbook
        if playbook is None or result.marks is None:
            checked.append(result)
            continue
        if playbook.id not in first:
            first[playbook.id] = result.source
            checked.append(result)
            continue
        pos = result.marks.value(("playbook",))
        message = (
            f"the playbook id {playbook.id!r} is already used by {first[playbook.id]}; give each playbook its own "
            "id (raise 'version' to change a playbook instead of copying it)"
        )
        problem = Problem(rules.DUPLICATE_PLAYBOOK, result.source, pos.line, pos.column, message, ("playbook",))
        problems = tuple(sorted((*result.problems, problem), key=lambda item: (item.line, item.column, item.code)))
        checked.append(replace(result, playbook=None, problems=problems))
    return checked
