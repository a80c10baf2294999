"""The yardstick for calmly's HTTP intake: the smallest FastAPI app that stores a posted mention in SQLite.

What someone would write instead of calmly to take mentions in: ``POST /mentions`` takes one mention (or, for the
batched figure, ``POST /mentions/batch`` takes ``{"mentions": [...]}``), parsed by FastAPI, and inserts it (each of
them) into one SQLite table in one transaction before answering. SQLite runs as calmly's store does (WAL,
``synchronous=FULL``: an answered mention survives a power loss), so both sides pay for the same durable commit. No
token, no schema check, no incident: everything calmly does on top of this is what the ratio measures.

It is served by the daemon's own uvicorn settings (:func:`engine.daemon.server_settings`), so the server, its event
loop and its HTTP parser are the same on both sides.

Usage: ``python bench/minimal_app.py --db PATH --port PORT``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from engine.daemon import server_settings

__all__ = ["create_minimal_app", "main"]


def create_minimal_app(path: Path) -> FastAPI:
    """The app over a fresh SQLite file at ``path``: one connection, a lock around it, one commit a request."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS mentions (channel TEXT NOT NULL, external_id TEXT NOT NULL, body TEXT NOT NULL, "
        "PRIMARY KEY (channel, external_id))"
    )
    lock = threading.Lock()
    insert = "INSERT INTO mentions (channel, external_id, body) VALUES (?, ?, ?)"
    app = FastAPI()

    @app.post("/mentions")
    def post_mention(mention: dict[str, Any]) -> dict[str, str]:
        with lock:
            db.execute(insert, (mention["channel"], mention["external_id"], json.dumps(mention)))
        return {"status": "stored"}

    @app.post("/mentions/batch")
    def post_mentions(batch: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
        rows = [(item["channel"], item["external_id"], json.dumps(item)) for item in batch["mentions"]]
        with lock:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(insert, rows)
            db.execute("COMMIT")
        return {"stored": len(rows)}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", type=Path, required=True, help="the SQLite file (created)")
    parser.add_argument("--port", type=int, required=True, help="the loopback port to listen on")
    args = parser.parse_args(argv)
    uvicorn.Server(server_settings(create_minimal_app(args.db), "127.0.0.1", args.port)).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
