"""The store's schema, as numbered migrations applied in order at start (never edited once released: add one).

Plain SQL that PostgreSQL also reads, but for the types SQLite spells differently (kept to TEXT and INTEGER here).
Moments are RFC 3339 UTC text with microseconds, which sorts as time.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

#: The figures readiness, the logs and ``/metrics`` show, each kept as rows change: the table, and when a row counts.
_KEPT = (
    ("incidents", "incidents", "1"),
    ("open_incidents", "incidents", "{row}.final = 0"),
    ("pending_deadlines", "deadlines", "{row}.done_at IS NULL"),
    ("outbox_pending", "outbox", "{row}.state = 'pending'"),
    ("deliveries_pending", "deliveries", "{row}.state = 'pending'"),
    ("deliveries_dead", "deliveries", "{row}.state = 'dead'"),
)


def _kept_figures() -> tuple[str, ...]:
    """The figures table, filled from the rows as they are, and a trigger per table and change that keeps each
    figure as its rows are written, in the same transaction: reading them costs the same at any size."""
    statements = [
        "CREATE TABLE figures (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        *(
            f"INSERT INTO figures (name, value) SELECT '{name}', COUNT(*) FROM {table} "
            f"WHERE {counted.format(row=table)}"
            for name, table, counted in _KEPT
        ),
    ]
    for table in dict.fromkeys(table for _, table, _ in _KEPT):
        kept = [(name, counted) for name, keeper, counted in _KEPT if keeper == table]
        for change, gained, lost in (("INSERT", "NEW", None), ("DELETE", None, "OLD"), ("UPDATE", "NEW", "OLD")):
            steps = []
            for name, counted in kept:
                delta = "".join(
                    f" {sign} ({counted.format(row=row)})" for sign, row in (("+", gained), ("-", lost)) if row
                )
                steps.append(f"UPDATE figures SET value = value{delta} WHERE name = '{name}';")
            statements.append(
                f"CREATE TRIGGER {table}_figures_{change.lower()} AFTER {change} ON {table} BEGIN "
                + " ".join(steps)
                + " END"
            )
    return tuple(statements)


def _kept_tallies() -> tuple[str, ...]:
    """Incidents by playbook, state, severity and whether closed, with how many breached, kept the same way."""
    key = "playbook, state, severity, final"

    def add(row: str, sign: str) -> str:
        return (
            f"INSERT INTO tallies ({key}, incidents, breached) VALUES ({row}.playbook, {row}.state, {row}.severity, "
            f"{row}.final, {sign}1, {sign}{row}.breached) ON CONFLICT ({key}) DO UPDATE SET "
            f"incidents = incidents + excluded.incidents, breached = breached + excluded.breached;"
        )

    return (
        f"""CREATE TABLE tallies (
            playbook   TEXT NOT NULL,
            state      TEXT NOT NULL,
            severity   TEXT NOT NULL,
            final      INTEGER NOT NULL,
            incidents  INTEGER NOT NULL,
            breached   INTEGER NOT NULL,
            PRIMARY KEY ({key})
        )""",
        f"INSERT INTO tallies ({key}, incidents, breached) SELECT {key}, COUNT(*), SUM(breached) FROM incidents "
        f"GROUP BY {key}",
        f"CREATE TRIGGER incidents_tallies_insert AFTER INSERT ON incidents BEGIN {add('NEW', '')} END",
        f"CREATE TRIGGER incidents_tallies_delete AFTER DELETE ON incidents BEGIN {add('OLD', '-')} END",
        "CREATE TRIGGER incidents_tallies_update AFTER UPDATE ON incidents WHEN OLD.playbook IS NOT NEW.playbook "
        "OR OLD.state IS NOT NEW.state OR OLD.severity IS NOT NEW.severity OR OLD.final IS NOT NEW.final "
        f"OR OLD.breached IS NOT NEW.breached BEGIN {add('OLD', '-')} {add('NEW', '')} END",
    )


MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "incidents, their event log, mentions, deadlines, the outbox, tokens and playbook versions",
        (
            """CREATE TABLE playbooks (
                digest     TEXT PRIMARY KEY,
                id         TEXT NOT NULL,
                version    INTEGER NOT NULL,
                source     TEXT NOT NULL,
                path       TEXT NOT NULL,
                loaded_at  TEXT NOT NULL
            )""",
            """CREATE TABLE counters (
                name   TEXT PRIMARY KEY,
                value  INTEGER NOT NULL
            )""",
            """CREATE TABLE incidents (
                id               TEXT PRIMARY KEY,
                seq              INTEGER NOT NULL UNIQUE,
                playbook         TEXT NOT NULL,
                playbook_version INTEGER NOT NULL,
                playbook_digest  TEXT NOT NULL REFERENCES playbooks (digest),
                state            TEXT NOT NULL,
                severity         TEXT NOT NULL,
                channel          TEXT NOT NULL,
                author           TEXT NOT NULL,
                thread_id        TEXT,
                final            INTEGER NOT NULL,
                breached         INTEGER NOT NULL,
                waiting_on       TEXT NOT NULL,
                revision         INTEGER NOT NULL,
                opened_at        TEXT NOT NULL,
                updated_at       TEXT NOT NULL,
                body             TEXT NOT NULL
            )""",
            "CREATE INDEX incidents_open_by_author ON incidents (channel, author) WHERE final = 0",
            "CREATE INDEX incidents_open_by_thread ON incidents (channel, thread_id) WHERE final = 0",
            "CREATE INDEX incidents_by_state ON incidents (state, seq)",
            """CREATE TABLE events (
                seq              INTEGER PRIMARY KEY AUTOINCREMENT,
                incident_id      TEXT NOT NULL REFERENCES incidents (id),
                at               TEXT NOT NULL,
                kind             TEXT NOT NULL,
                actor            TEXT,
                playbook_digest  TEXT NOT NULL,
                command          TEXT NOT NULL,
                history          TEXT NOT NULL
            )""",
            "CREATE INDEX events_by_incident ON events (incident_id, seq)",
            """CREATE TABLE mentions (
                channel      TEXT NOT NULL,
                external_id  TEXT NOT NULL,
                outcome      TEXT NOT NULL,
                incident_id  TEXT,
                received_at  TEXT NOT NULL,
                body         TEXT NOT NULL,
                PRIMARY KEY (channel, external_id)
            )""",
            """CREATE TABLE deadlines (
                key          TEXT PRIMARY KEY,
                incident_id  TEXT NOT NULL,
                clock        TEXT NOT NULL,
                due_at       TEXT NOT NULL,
                done_at      TEXT
            )""",
            "CREATE INDEX deadlines_pending ON deadlines (due_at) WHERE done_at IS NULL",
            "CREATE INDEX deadlines_by_incident ON deadlines (incident_id) WHERE done_at IS NULL",
            """CREATE TABLE outbox (
                key              TEXT PRIMARY KEY,
                incident_id      TEXT NOT NULL,
                created_at       TEXT NOT NULL,
                body             TEXT NOT NULL,
                state            TEXT NOT NULL DEFAULT 'pending',
                attempts         INTEGER NOT NULL DEFAULT 0,
                next_attempt_at  TEXT,
                delivered_at     TEXT,
                last_error       TEXT
            )""",
            "CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending'",
            """CREATE TABLE tokens (
                hash        TEXT PRIMARY KEY,
                person      TEXT NOT NULL,
                created_at  TEXT NOT NULL,
                expires_at  TEXT,
                revoked_at  TEXT,
                label       TEXT
            )""",
            "CREATE INDEX tokens_by_person ON tokens (person)",
        ),
    ),
    (
        2,
        "deliveries: each notification routed to each of its destinations, retried apart, dead-lettered apart",
        (
            """CREATE TABLE deliveries (
                outbox_key       TEXT NOT NULL REFERENCES outbox (key),
                destination      TEXT NOT NULL,
                channel          TEXT NOT NULL,
                state            TEXT NOT NULL DEFAULT 'pending',
                attempts         INTEGER NOT NULL DEFAULT 0,
                next_attempt_at  TEXT NOT NULL,
                last_error       TEXT,
                delivered_at     TEXT,
                PRIMARY KEY (outbox_key, destination)
            )""",
            "CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending'",
            "CREATE INDEX deliveries_by_state ON deliveries (state, next_attempt_at)",
        ),
    ),
    (
        3,
        "signed intake: the webhook ids already taken, so a replayed request is refused",
        (
            """CREATE TABLE intake_receipts (
                webhook_id  TEXT PRIMARY KEY,
                seen_at     TEXT NOT NULL
            )""",
            "CREATE INDEX intake_receipts_by_age ON intake_receipts (seen_at)",
        ),
    ),
    (
        4,
        "token scopes: a token may be for intake only (a listening tool's), or for everything its person may do",
        ("ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'",),
    ),
    (
        5,
        "one post, however reported: a mention's normalised link is unique, and mentions say which tool sent them",
        (
            "ALTER TABLE mentions ADD COLUMN url_key TEXT",
            "ALTER TABLE mentions ADD COLUMN source TEXT",
            "CREATE UNIQUE INDEX mentions_by_url ON mentions (url_key) WHERE url_key IS NOT NULL",
            # x is the name some tools use for twitter; keep one name, so an id already seen as one is seen as both.
            "DELETE FROM mentions WHERE channel = 'x' AND external_id IN "
            "(SELECT external_id FROM mentions WHERE channel = 'twitter')",
            "UPDATE mentions SET channel = 'twitter' WHERE channel = 'x'",
            # Open incidents are looked up by their author as joining compares them: no leading @, case folded
            # where the platform ignores case (lower() folds ASCII letters, which nearly every handle is made of).
            "UPDATE incidents SET author = lower(ltrim(trim(author), '@')) "
            "WHERE final = 0 AND channel NOT IN ('forum', 'blog', 'news', 'web_chat')",
            "UPDATE incidents SET author = ltrim(trim(author), '@') "
            "WHERE final = 0 AND channel IN ('forum', 'blog', 'news', 'web_chat')",
        ),
    ),
    (
        6,
        "mentions by incident: an incident's own posts read in the order they came, without a walk over them all",
        ("CREATE INDEX mentions_by_incident ON mentions (incident_id, received_at)",),
    ),
    (
        7,
        "desk sessions: who signed in to the desk, kept by the hash of the cookie, with the token its forms carry",
        (
            """CREATE TABLE desk_sessions (
                id_hash     TEXT PRIMARY KEY,
                person      TEXT NOT NULL,
                csrf        TEXT NOT NULL,
                expires_at  TEXT NOT NULL
            )""",
            "CREATE INDEX desk_sessions_by_expiry ON desk_sessions (expires_at)",
        ),
    ),
    (
        8,
        "desk sign-in links: one-time codes, kept by their hash, spent when used",
        (
            """CREATE TABLE desk_links (
                code_hash   TEXT PRIMARY KEY,
                person      TEXT NOT NULL,
                expires_at  TEXT NOT NULL
            )""",
        ),
    ),
    (
        9,
        "incidents by owner and by next deadline, notifications by incident: the desk's queue, 'mine' and its timeline",
        (
            "ALTER TABLE incidents ADD COLUMN owner TEXT",
            "ALTER TABLE incidents ADD COLUMN next_due TEXT",
            # SQLite's JSON functions: the earliest due time of the running clocks each open incident holds.
            "UPDATE incidents SET next_due = (SELECT min(json_extract(clock.value, '$.due_at')) "
            "FROM json_each(incidents.body, '$.clocks') AS clock) WHERE final = 0",
            "CREATE INDEX incidents_by_next_due ON incidents (next_due, seq) WHERE final = 0",
            "CREATE INDEX incidents_by_owner ON incidents (owner, next_due) WHERE final = 0",
            # An incident's page lists who each of its notifications went to.
            "CREATE INDEX outbox_by_incident ON outbox (incident_id)",
        ),
    ),
    (
        10,
        "figures and tallies kept as rows change: /metrics, /readyz and the start cost the same at any size",
        (*_kept_figures(), *_kept_tallies()),
    ),
    (
        11,
        "closed incidents by the incident they were merged into: a later mention of a merged thread finds it",
        (
            "ALTER TABLE incidents ADD COLUMN merged_into TEXT",
            "UPDATE incidents SET merged_into = json_extract(body, '$.facts.merged_into') "
            "WHERE final = 1 AND json_type(body, '$.facts.merged_into') = 'text'",
            "CREATE INDEX incidents_merged_by_author ON incidents (channel, author) WHERE merged_into IS NOT NULL",
            "CREATE INDEX incidents_merged_by_thread ON incidents (channel, thread_id) WHERE merged_into IS NOT NULL",
        ),
    ),
    (
        12,
        "closed incidents whose author is muted, until when: a muted author's next post is recorded there",
        (
            "ALTER TABLE incidents ADD COLUMN muted_until TEXT",
            "CREATE INDEX incidents_muted_by_author ON incidents (channel, author, muted_until) "
            "WHERE muted_until IS NOT NULL",
        ),
    ),
    (
        13,
        "open incidents by the group of mentions they gather, with their latest mention: a grouped mention finds it",
        (
            "ALTER TABLE incidents ADD COLUMN group_key TEXT",
            "ALTER TABLE incidents ADD COLUMN grouped_at TEXT",
            "UPDATE incidents SET group_key = json_extract(body, '$.group'), "
            "grouped_at = json_extract(body, '$.last_mention_at') "
            "WHERE final = 0 AND json_type(body, '$.group') = 'text'",
            "CREATE INDEX incidents_open_by_group ON incidents (group_key, grouped_at) "
            "WHERE final = 0 AND group_key IS NOT NULL",
        ),
    ),
)
