"""The PostgreSQL backend: one database shared by several daemons (``calmly serve --store postgresql://…``)."""

from engine.store.postgresql._connection import is_postgresql_url
from engine.store.postgresql._copy import Copied, copy_sqlite_store
from engine.store.postgresql._hints import Beat, HintListener, PeerHints
from engine.store.postgresql._store import PostgreSQLStore

__all__ = ["Beat", "Copied", "HintListener", "PeerHints", "PostgreSQLStore", "copy_sqlite_store", "is_postgresql_url"]
