"""The SQLite backend: the default, embedded store (one file in the data folder, or a database in memory)."""

from engine.store.sqlite._recorded import grouped as decode_recorded_rows
from engine.store.sqlite._store import DATABASE_NAME, SQLiteStore

__all__ = ["DATABASE_NAME", "SQLiteStore", "decode_recorded_rows"]
