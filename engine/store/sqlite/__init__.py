"""The SQLite backend: the default, embedded store (one file in the data folder, or a database in memory)."""

from engine.store.sqlite._recorded import RecordedRange
from engine.store.sqlite._recorded import grouped as decode_recorded_rows
from engine.store.sqlite._recorded import read_range as read_recorded_range
from engine.store.sqlite._store import DATABASE_NAME, SQLiteStore

__all__ = ["DATABASE_NAME", "RecordedRange", "SQLiteStore", "decode_recorded_rows", "read_recorded_range"]
