"""SQLite databases other apps wrote (Google Authenticator, Microsoft Authenticator, Stratum).

Opened read-only from an in-memory copy (the secrets never touch the disk) with limits set before
the file's schema is read and a work budget on every query, so a hostile file gets a clear
refusal (`DatabaseLimit`), never a long wait or a huge allocation.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from typing import Any, Iterator

from ..base import DatabaseLimit
from .memo import remember

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Bounds for reading an SQLite file another app wrote (Google Authenticator, Microsoft
#: Authenticator, Stratum). Real ones hold tens of accounts in a few KB; a hostile one can declare a
#: generated column that computes a 900 MB blob from an 8 KB file, or a schema that loops. So:
#: every string or blob at most 64 KiB (SQLite itself refuses to make a longer one), at most 10,000
#: rows and 16 MiB of values read, at most 10 M virtual machine steps and 5 s, and no ATTACH.
SQLITE_MAX_VALUE_BYTES = 64 * 1024
SQLITE_MAX_ROWS = 10_000
SQLITE_MAX_TOTAL_BYTES = 16 * 1024 * 1024
SQLITE_MAX_STEPS = 10_000_000
SQLITE_MAX_SECONDS = 5.0
_SQLITE_LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: SQLITE_MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 200,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 10,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 16,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
    sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
}


@contextlib.contextmanager
def sqlite_db(data: bytes) -> Iterator[sqlite3.Connection]:
    """Open SQLite database bytes in memory (the secrets never touch the disk), read-only.

    A WAL-mode file is switched to the rollback journal in the copy (SQLite cannot open a WAL
    database from memory). The limits above are set before the file's schema is read;
    `trusted_schema` is off; a progress handler stops a query after its step or time budget.
    Going over a limit raises `DatabaseLimit` (a clear refusal), never a long wait.
    """
    if not data.startswith(SQLITE_MAGIC):
        raise ValueError("not an SQLite database")
    image = bytearray(data)
    if image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"
    conn = sqlite3.connect(":memory:")
    try:
        for limit, value in _SQLITE_LIMITS.items():
            conn.setlimit(limit, value)
        conn.deserialize(bytes(image))
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA cache_size = -2048")  # 2 MiB of page cache at most
        steps = [0]
        deadline = time.monotonic() + SQLITE_MAX_SECONDS

        def budget() -> int:
            steps[0] += 1
            return 1 if steps[0] * 1000 > SQLITE_MAX_STEPS or time.monotonic() > deadline else 0

        conn.set_progress_handler(budget, 1000)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        except sqlite3.DataError as exc:  # "string or blob too big": a value over the length limit
            raise DatabaseLimit("a value is too long") from exc
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise DatabaseLimit("the query took too long") from exc
            if "too big" in str(exc) or "too many" in str(exc) or "too long" in str(exc):
                raise DatabaseLimit("the schema is too large") from exc
            raise
    finally:
        conn.close()


def sqlite_tables(data: bytes) -> dict[str, set[str]]:
    """Table name -> column names of an SQLite database (for detection)."""
    return remember("sqlite_tables", data, lambda: _sqlite_tables(data))


def has_table(data: bytes, table: str, columns: set[str]) -> bool:
    """For detection: whether `data` is an SQLite database whose table `table` has at least
    `columns`. Never raises: a file that is not one, or goes over a bound, is simply not it."""
    if not data.startswith(SQLITE_MAGIC):
        return False
    try:
        found = sqlite_tables(data).get(table, set())
    except Exception:  # noqa: BLE001 - detection never raises
        return False
    return columns <= found


def _sqlite_tables(data: bytes) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    with sqlite_db(data) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names[:200]:
            cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{name.replace(chr(34), "")}")')}
            tables[name] = cols
    return tables


def sqlite_rows(data: bytes, table: str) -> list[dict[str, Any]]:
    """Every row of the real table `table` (not a view) as a dict, within the bounds above."""
    with sqlite_db(data) as conn:
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        if kind is None or kind[0] != "table":
            raise ValueError("no such table")
        cur = conn.execute(f'SELECT * FROM "{table}"')
        rows: list[dict[str, Any]] = []
        total = 0
        for row in cur:
            if len(rows) >= SQLITE_MAX_ROWS:
                raise DatabaseLimit("too many rows")
            total += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
            if total > SQLITE_MAX_TOTAL_BYTES:
                raise DatabaseLimit("too much data")
            rows.append(dict(row))
        return rows
