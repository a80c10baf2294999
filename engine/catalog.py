"""Playbooks on disk: finding them in folders and reading them, with the size cap applied before reading.

This is the thin file-reading shell around the pure :func:`engine.playbook.load`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from engine.playbook import MAX_BYTES, LoadResult, Problem, load, rules

__all__ = ["PLAYBOOK_SUFFIXES", "discover", "load_file", "load_paths"]

PLAYBOOK_SUFFIXES = (".yaml", ".yml")


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and every ``*.yaml``/``*.yml`` below each folder (hidden folders skipped), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(name for name in dirs if not name.startswith("."))
                found.extend(
                    Path(root, name)
                    for name in sorted(files)
                    if name.endswith(PLAYBOOK_SUFFIXES) and not name.startswith(".")
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
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_BYTES + 1)
            if len(content) > MAX_BYTES:
                size = os.fstat(handle.fileno()).st_size
                message = (
                    f"the file is {size:,} bytes; a playbook may be at most {MAX_BYTES:,} bytes. "
                    "Split it into several playbooks"
                )
                return LoadResult(source, None, (Problem(rules.TOO_LARGE, source, 1, 1, message),))
    except OSError as error:
        reason = error.strerror or str(error)
        message = f"cannot read the file: {reason}"
        return LoadResult(source, None, (Problem(rules.UNREADABLE, source, 1, 1, message),))
    return load(content, source)


def load_paths(paths: Iterable[Path]) -> list[LoadResult]:
    """Every playbook found under ``paths``, each loaded and checked."""
    return [load_file(path) for path in discover(paths)]
