"""The PostgreSQL store's schema: its own list of migrations, numbered as SQLite's are, so ``schema_version`` means
the same schema on both backends.

SQLite reached its schema in thirteen steps, several of them table rebuilds only SQLite needs; a PostgreSQL store
starts from the shape those steps ended in. Version 1 creates all of it, and versions 2 to 13 are recorded with
their descriptions and no statements of their own (what they brought is in version 1). A version 14 is added to both
lists, each in its own dialect.

The final shape, beside SQLite's (``engine/store/_migrations.py``):

- the same tables, columns, keys and indexes (partial indexes included), with PostgreSQL's types: ``boolean`` for
  ``final`` and ``breached``, ``bigint`` for sequence numbers, ``json`` for the bodies (kept as written);
- moments stay RFC 3339 UTC text with microseconds, as in SQLite: they sort as time on both backends, and a copy from
  one to the other moves them unchanged;
- ``events.seq`` is an identity column, and ``mentions`` has one (``seq``) where SQLite orders by its ``rowid``;
- ``deliveries.claimed_until`` is the lease of a delivery being sent (several daemons share one database);
- SQLite's ``figures`` and ``tallies`` tables and their triggers are not here: every write would update the same few
  rows, which would make all daemons' writers wait on one another; the figures are counted over partial indexes.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

_FINAL_SHAPE = (
    """CREATE TABLE playbooks (
        digest     text PRIMARY KEY,
        id         text NOT NULL,
        version    integer NOT NULL,
        source     text NOT NULL,
        path       text NOT NULL,
        loaded_at  text NOT NULL
    )""",
    """CREATE TABLE counters (
        name   text PRIMARY KEY,
        value  bigint NOT NULL
    )""",
    """CREATE TABLE incidents (
        id               text PRIMARY KEY,
        seq              bigint NOT NULL UNIQUE,
        playbook         text NOT NULL,
        playbook_version integer NOT NULL,
        playbook_digest  text NOT NULL REFERENCES playbooks (digest),
        state            text NOT NULL,
        severity         text NOT NULL,
        channel          text NOT NULL,
        author           text NOT NULL,
        thread_id        text,
        final            boolean NOT NULL,
        breached         boolean NOT NULL,
        waiting_on       text NOT NULL,
        revision         integer NOT NULL,
        opened_at        text NOT NULL,
        updated_at       text NOT NULL,
        body             json NOT NULL,
        owner            text,
        next_due         text,
        merged_into      text,
        muted_until      text,
        group_key        text,
        grouped_at       text
    )""",
    "CREATE INDEX incidents_open_by_author ON incidents (channel, author) WHERE NOT final",
    "CREATE INDEX incidents_open_by_thread ON incidents (channel, thread_id) WHERE NOT final",
    "CREATE INDEX incidents_by_state ON incidents (state, seq)",
    "CREATE INDEX incidents_by_next_due ON incidents (next_due, seq) WHERE NOT final",
    "CREATE INDEX incidents_by_owner ON incidents (owner, next_due) WHERE NOT final",
    "CREATE INDEX incidents_merged_by_author ON incidents (channel, author) WHERE merged_into IS NOT NULL",
    "CREATE INDEX incidents_merged_by_thread ON incidents (channel, thread_id) WHERE merged_into IS NOT NULL",
    "CREATE INDEX incidents_muted_by_author ON incidents (channel, author, muted_until) WHERE muted_until IS NOT NULL",
    "CREATE INDEX incidents_open_by_group ON incidents (group_key, grouped_at) "
    "WHERE NOT final AND group_key IS NOT NULL",
    "CREATE INDEX incidents_open ON incidents (seq) WHERE NOT final",
    """CREATE TABLE events (
        seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        incident_id      text NOT NULL REFERENCES incidents (id),
        at               text NOT NULL,
        kind             text NOT NULL,
        actor            text,
        playbook_digest  text NOT NULL,
        command          json NOT NULL,
        history          json NOT NULL
    )""",
    "CREATE INDEX events_by_incident ON events (incident_id, seq)",
    """CREATE TABLE mentions (
        channel      text NOT NULL,
        external_id  text NOT NULL,
        outcome      text NOT NULL,
        incident_id  text,
        received_at  text NOT NULL,
        body         json NOT NULL,
        url_key      text,
        source       text,
        seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        PRIMARY KEY (channel, external_id)
    )""",
    "CREATE UNIQUE INDEX mentions_by_url ON mentions (url_key) WHERE url_key IS NOT NULL",
    "CREATE INDEX mentions_by_incident ON mentions (incident_id, received_at, seq)",
    """CREATE TABLE deadlines (
        key          text PRIMARY KEY,
        incident_id  text NOT NULL,
        clock        text NOT NULL,
        due_at       text NOT NULL,
        done_at      text
    )""",
    "CREATE INDEX deadlines_pending ON deadlines (due_at, key) WHERE done_at IS NULL",
    "CREATE INDEX deadlines_by_incident ON deadlines (incident_id) WHERE done_at IS NULL",
    """CREATE TABLE outbox (
        key              text PRIMARY KEY,
        incident_id      text NOT NULL,
        created_at       text NOT NULL,
        body             json NOT NULL,
        state            text NOT NULL DEFAULT 'pending',
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  text,
        delivered_at     text,
        last_error       text
    )""",
    "CREATE INDEX outbox_pending ON outbox (created_at, key) WHERE state = 'pending'",
    "CREATE INDEX outbox_by_incident ON outbox (incident_id)",
    """CREATE TABLE deliveries (
        outbox_key       text NOT NULL REFERENCES outbox (key),
        destination      text NOT NULL,
        channel          text NOT NULL,
        state            text NOT NULL DEFAULT 'pending',
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  text NOT NULL,
        last_error       text,
        delivered_at     text,
        claimed_until    text,
        PRIMARY KEY (outbox_key, destination)
    )""",
    "CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending'",
    "CREATE INDEX deliveries_by_state ON deliveries (state, next_attempt_at)",
    """CREATE TABLE tokens (
        hash        text PRIMARY KEY,
        person      text NOT NULL,
        created_at  text NOT NULL,
        expires_at  text,
        revoked_at  text,
        label       text,
        scope       text NOT NULL DEFAULT 'full'
    )""",
    "CREATE INDEX tokens_by_person ON tokens (person)",
    """CREATE TABLE intake_receipts (
        webhook_id  text PRIMARY KEY,
        seen_at     text NOT NULL
    )""",
    "CREATE INDEX intake_receipts_by_age ON intake_receipts (seen_at)",
    """CREATE TABLE desk_sessions (
        id_hash     text PRIMARY KEY,
        person      text NOT NULL,
        csrf        text NOT NULL,
        expires_at  text NOT NULL
    )""",
    "CREATE INDEX desk_sessions_by_expiry ON desk_sessions (expires_at)",
    """CREATE TABLE desk_links (
        code_hash   text PRIMARY KEY,
        person      text NOT NULL,
        expires_at  text NOT NULL
    )""",
)

#: What versions 2 to 13 brought (SQLite's descriptions): in PostgreSQL, part of version 1's shape.
_FOLDED = (
    (2, "deliveries: each notification routed to each of its destinations, retried apart, dead-lettered apart"),
    (3, "signed intake: the webhook ids already taken, so a replayed request is refused"),
    (4, "token scopes: a token may be for intake only (a listening tool's), or for everything its person may do"),
    (5, "one post, however reported: a mention's normalised link is unique, and mentions say which tool sent them"),
    (6, "mentions by incident: an incident's own posts read in the order they came, without a walk over them all"),
    (7, "desk sessions: who signed in to the desk, kept by the hash of the cookie, with the token its forms carry"),
    (8, "desk sign-in links: one-time codes, kept by their hash, spent when used"),
    (
        9,
        "incidents by owner and by next deadline, notifications by incident: the desk's queue, 'mine' and its timeline",
    ),
    (10, "figures and tallies: counted over partial indexes in PostgreSQL, so that writers never wait on one row"),
    (11, "closed incidents by the incident they were merged into: a later mention of a merged thread finds it"),
    (12, "closed incidents whose author is muted, until when: a muted author's next post is recorded there"),
    (13, "open incidents by the group of mentions they gather, with their latest mention: a grouped mention finds it"),
)

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "the schema SQLite's migrations 1 to 13 end in, in PostgreSQL's types, a lease on deliveries", _FINAL_SHAPE),
    *((version, description, ()) for version, description in _FOLDED),
)
