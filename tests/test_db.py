"""What gunicorn workers booting at the same moment on a first start make together.

Each worker opens the new database, switches it to WAL and creates the tables, and reads (or
makes) the Flask secret key in the data folder. SQLite answers "database is locked" at once
(without the busy timeout) to one of two processes switching a new file to WAL together: before
that was handled, one round in five of the first test failed, and CI once saw a worker fail to
boot. The secret key was made with O_EXCL and then written, so a worker arriving in between read
an empty key; the second test saw that in most rounds.
"""
from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from authvault import db
from authvault.web import _secret_key as secret_key

PROCESSES = 4
ROUNDS = 25


def _at_barrier(action: Callable[[], object], barrier: Any, results: Any) -> None:
    """In a child process: wait for the others, then act; report the result or the error."""
    barrier.wait()
    try:
        results.put(action())
    except Exception as exc:  # noqa: BLE001 - reported to the test, which names it
        results.put(repr(exc))


def all_at_once(action: Callable[[], object]) -> list[object]:
    """Run `action` in PROCESSES forked processes released together, as gunicorn's workers start;
    return what each returned (or the repr of what it raised)."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_at_barrier, args=(action, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return outcomes


def _open_new_database(path: Path) -> str:
    conn = db.connect(path)
    db.init_schema(conn)
    conn.close()
    return "ok"


def test_workers_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    failures = []
    for round_ in range(ROUNDS):
        path = tmp_path / f"round{round_}" / "data" / "authvault.db"
        failures += [o for o in all_at_once(lambda: _open_new_database(path)) if o != "ok"]
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(db.SCHEMA_VERSION)
        finally:
            conn.close()
    assert not failures, f"{len(failures)} of {ROUNDS * PROCESSES} opens failed: {failures[0]}"


def test_workers_starting_at_once_share_one_whole_secret_key(tmp_path: Path) -> None:
    """The Flask secret key is made by whichever worker comes first; the others must read all of
    it, never an empty or partly written file (an empty key makes every session fail)."""
    for round_ in range(ROUNDS):
        data_dir = tmp_path / f"round{round_}"
        data_dir.mkdir()
        keys = all_at_once(lambda: secret_key(data_dir))
        assert all(isinstance(k, bytes) and len(k) == 32 for k in keys), keys
        assert len(set(keys)) == 1
        assert (data_dir / "secret_key").read_bytes() == keys[0]
