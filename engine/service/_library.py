"""The playbooks a daemon runs: the current set, which new mentions are matched against, and every version an
open incident was opened under (kept in the store, so an incident keeps its rules across restarts and reloads)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from engine.errors import InvalidPlaybooks, PlaybookMissing
from engine.files import load_paths
from engine.incident import Rulebook
from engine.playbook import LoadResult, load
from engine.store import PlaybookRecord, Store

__all__ = ["InvalidPlaybooks", "Library", "PlaybookMissing"]


class Library:
    """Rulebooks by playbook id (the current set) and by content digest (every version in use)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._current: tuple[Rulebook, ...] = ()
        self._by_digest: dict[str, Rulebook] = {}
        self._lock = threading.Lock()
        #: What the last install read, file by file: the set-up checks look at the same files without reading them
        #: again (reading and checking the playbooks is most of a start).
        self.loaded: tuple[LoadResult, ...] = ()

    def install(self, paths: Sequence[Path], now: datetime) -> tuple[Rulebook, ...]:
        """Load and check every playbook under ``paths``; on any error keep the current set and raise."""
        results = load_paths(paths)
        errors = tuple(problem for result in results for problem in result.errors)
        if errors:
            raise InvalidPlaybooks(errors)
        books = []
        for result in results:
            if result.playbook is None:  # pragma: no cover - a result without errors has a playbook
                continue
            book = Rulebook(result.playbook)
            source = Path(result.source)
            record = PlaybookRecord(
                book.playbook.digest,
                book.playbook.id,
                book.playbook.version,
                source.read_bytes().decode("utf-8"),  # as read: the digest covers the exact bytes
                result.source,
            )
            with self._store.write() as tx:
                tx.playbooks.save(record, now)
            books.append(book)
        if not books:
            shown = ", ".join(path.as_posix() for path in paths)
            raise InvalidPlaybooks((), f"there are no playbooks (*.yaml) in {shown}")
        with self._lock:
            self._current = tuple(books)
            for book in books:
                self._by_digest[book.playbook.digest] = book
        self.loaded = tuple(results)  # only once installed: a refused set leaves the last good one's
        return self._current

    def hold(self, books: Sequence[Rulebook], now: datetime) -> tuple[Rulebook, ...]:
        """Run rulebooks loaded already (a simulation's playbook). The store keeps each version's name, not its
        source (a rulebook holds none), so they last as long as this library: one over the same store later
        says their digest no longer loads."""
        with self._store.write() as tx:
            for book in books:
                record = PlaybookRecord(book.playbook.digest, book.playbook.id, book.playbook.version, "", "")
                tx.playbooks.save(record, now)
        with self._lock:
            self._current = tuple(books)
            for book in books:
                self._by_digest[book.playbook.digest] = book
        return self._current

    @property
    def current(self) -> tuple[Rulebook, ...]:
        return self._current

    def by_digest(self, digest: str) -> Rulebook:
        """The rulebook an incident was opened under, from memory or from the store."""
        found = self._by_digest.get(digest)
        if found is not None:
            return found
        record = self._store.playbook(digest)
        if record is None:
            raise PlaybookMissing(f"the store has no playbook with digest {digest}")
        loaded = load(record.source.encode("utf-8"), record.path)
        if loaded.playbook is None or loaded.playbook.digest != digest:
            raise PlaybookMissing(f"the stored playbook {record.id} v{record.version} no longer loads as it was")
        book = Rulebook(loaded.playbook)
        with self._lock:
            self._by_digest[digest] = book
        return book

    def ids(self) -> Iterable[str]:
        return (book.playbook.id for book in self._current)
