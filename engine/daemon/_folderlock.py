"""One daemon per data folder: an advisory lock on ``calmly.pid`` in the folder, held for the daemon's life.

``fcntl.flock`` on an open file, with the holder's PID written in for people to read. The operating system lets go
of the lock when the process ends however it ends (SIGKILL and power loss included), so a stale file never keeps a
restarted daemon out. Only ``calmly serve`` takes it: the commands that work on the store beside a running daemon
(``calmly token issue``, ``calmly outbox retry``) go through SQLite's own locking, as before.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from engine.errors import FolderInUse

__all__ = ["PID_FILE", "FolderInUse", "FolderLock"]

PID_FILE = "calmly.pid"


class FolderLock:
    """The lock on ``folder``, taken by :meth:`take` and held until :meth:`release` (or the process ends)."""

    def __init__(self, folder: Path, handle: IO[str]) -> None:
        self.folder = folder
        self.path = folder / PID_FILE
        self._handle = handle

    @classmethod
    def take(cls, folder: Path) -> FolderLock:
        """Take the folder's lock now (never waiting) and write this process's PID in, or raise FolderInUse."""
        folder.mkdir(parents=True, exist_ok=True)
        # Opened without truncating: the file may be another daemon's, whose PID is read for the message.
        handle = (folder / PID_FILE).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            handle.close()
            raise FolderInUse(folder, int(text) if text.isdigit() else None) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(folder, handle)

    def release(self) -> None:
        """Let go (the file stays: the next daemon takes it over)."""
        if not self._handle.closed:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
