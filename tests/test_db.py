"""The database layer: several processes opening a database that does not exist yet.

On a first start gunicorn boots its workers at the same moment, and each opens the new database,
switches it to WAL and creates the tables. SQLite answers "database is locked" at once (without
the busy timeout) to one of two processes switching a new file to WAL together; before that was
handled, one round in five of this test failed, and CI once saw a worker fail to boot.
"""
from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from authvault import db

PROCESSES = 4
ROUNDS = 25


def _open(path: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    barrier.wait()
    try:
        conn = db.connect(Path(path))
        db.init_schema(conn)
        conn.close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test, which names it
        results.put(repr(exc))


def test_workers_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(ROUNDS):
        path = tmp_path / f"round{round_}" / "data" / "authvault.db"
        barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [ctx.Process(target=_open, args=(str(path), barrier, results)) for _ in range(PROCESSES)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        failures += [o for o in outcomes if o != "ok"]
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(db.SCHEMA_VERSION)
        finally:
            conn.close()
    assert not failures, f"{len(failures)} of {ROUNDS * PROCESSES} opens failed: {failures[0]}"
