"""The PostgreSQL backend: one database shared by several daemons (``calmly serve --store postgresql://…``)."""

from engine.store.postgresql._connection import is_postgresql_url
from engine.store.postgresql._store import PostgreSQLStore

__all__ = ["PostgreSQLStore", "is_postgresql_url"]
