"""Storage: one contract, backends behind it (SQLite, the embedded default; PostgreSQL to come).

Every change to an incident is one transaction (:meth:`Store.write`): the event appended to the incident's
append-only log, the incident's row, its pending deadlines and its outbox rows. The row is a projection: the log
holds every command that changed the incident, and replaying them through the pure runtime rebuilds it.
"""

from engine.store._codec import decode_incident, encode_incident, moment, parse_moment
from engine.store._contract import (
    Conflict,
    Delivery,
    DueDeadline,
    Event,
    IncidentFilter,
    IncidentRow,
    MentionBody,
    MentionRecord,
    OutboxRow,
    PlaybookRecord,
    Store,
    StoreError,
    TokenRecord,
    WriteTransaction,
)
from engine.store.sqlite import SQLiteStore

__all__ = [
    "Conflict",
    "Delivery",
    "DueDeadline",
    "Event",
    "IncidentFilter",
    "IncidentRow",
    "MentionBody",
    "MentionRecord",
    "OutboxRow",
    "PlaybookRecord",
    "SQLiteStore",
    "Store",
    "StoreError",
    "TokenRecord",
    "WriteTransaction",
    "decode_incident",
    "encode_incident",
    "moment",
    "parse_moment",
]
