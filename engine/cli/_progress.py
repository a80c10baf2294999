"""A progress line for long reads on a terminal (rich's), and silence everywhere else: when standard error is not
a terminal (piped, redirected, a test) or in CI (the ``CI`` variable set, as every CI service sets it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["counted", "shows_progress", "tally"]

_Item = TypeVar("_Item")


def shows_progress() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def counted(items: Iterable[_Item], doing: str) -> Iterator[_Item]:
    """``items`` one by one, with a count of them going by on a terminal."""
    if not shows_progress():
        yield from items
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    columns = (TextColumn(f"{doing} incidents"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, redirect_stdout=False, redirect_stderr=False) as progress:
        task = progress.add_task(doing, total=None)
        for item in items:
            yield item
            progress.advance(task)


@contextmanager
def tally(doing: str) -> Iterator[Callable[[int], None]]:
    """A function to count incidents done by, shown going by on a terminal (a no-op elsewhere): for work done in
    chunks, as ``calmly diff`` does it over its worker processes."""
    if not shows_progress():
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    columns = (TextColumn(f"{doing} incidents"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, redirect_stdout=False, redirect_stderr=False) as progress:
        task = progress.add_task(doing, total=None)
        yield lambda done: progress.advance(task, done)
