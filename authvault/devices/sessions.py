"""Unlock sessions: a device's master key kept server-side, encrypted under a cookie-held token.

The database row holds only the wrapped key; the token that unwraps it lives only in the
browser's session cookie. Either alone decrypts nothing. Rows are shared by all gunicorn
workers through SQLite. Idle sessions expire; locking deletes the row.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from .. import audit
from ..db import connect, transaction
from ..vault import session_keys
from . import registry

log = logging.getLogger(__name__)
PURGE_EVERY = 10.0  # seconds: an idle session's wrapped key is gone at most this long after its lock time


def open_session(conn: sqlite3.Connection, device_id: str, master_key: bytes) -> str:
    """Store the wrapped master key for a new unlock session; return the token for the cookie."""
    token = session_keys.new_session_token()
    now = time.time()
    conn.execute("INSERT INTO unlock_sessions(id, device_id, wrapped_key, created_at, last_seen_at) "
                 "VALUES (?,?,?,?,?)",
                 (session_keys.session_id(token), device_id,
                  session_keys.wrap_for_session(master_key, token), now, now))
    return token


def session_master_key(conn: sqlite3.Connection, token: str | None, device_id: str,
                       idle_seconds: float, *, touch: bool = True) -> bytes | None:
    """The master key of a live session of this device, or None (locked, expired, or another device's)."""
    if not token:
        return None
    sid = session_keys.session_id(token)
    row = conn.execute("SELECT device_id, wrapped_key, last_seen_at FROM unlock_sessions WHERE id = ?",
                       (sid,)).fetchone()
    if row is None or row["device_id"] != device_id:
        return None
    now = time.time()
    if now - row["last_seen_at"] > idle_seconds:
        conn.execute("DELETE FROM unlock_sessions WHERE id = ?", (sid,))
        return None
    try:
        key = session_keys.unwrap_for_session(bytes(row["wrapped_key"]), token)
    except Exception:  # a forged or stale token: treat as locked
        return None
    if touch and now - row["last_seen_at"] > 5:  # don't write on every request
        conn.execute("UPDATE unlock_sessions SET last_seen_at = ? WHERE id = ?", (now, sid))
    return key


def close_session(conn: sqlite3.Connection, token: str | None) -> None:
    """Lock: forget this session's wrapped key."""
    if token:
        conn.execute("DELETE FROM unlock_sessions WHERE id = ?", (session_keys.session_id(token),))


def lock(conn: sqlite3.Connection, token: str | None, device_id: str | None, *, client: str) -> None:
    """Lock a browser: its unlock session's row goes (the wrapped key with it), recorded for its
    device. The token lives only in the browser's cookie, so the caller drops it first: the browser
    is locked even when the disk refuses this write."""
    with transaction(conn):
        close_session(conn, token)
        if device_id is not None:
            audit.record(conn, "lock", device_id=device_id, client=client)


def close_device_sessions(conn: sqlite3.Connection, device_id: str) -> None:
    """Lock every browser session of a device."""
    conn.execute("DELETE FROM unlock_sessions WHERE device_id = ?", (device_id,))


def close_other_sessions(conn: sqlite3.Connection, device_id: str, keep_token: str | None) -> int:
    """Lock every session of a device but the one `keep_token` holds; how many were ended."""
    keep = session_keys.session_id(keep_token) if keep_token else ""
    cur = conn.execute("DELETE FROM unlock_sessions WHERE device_id = ? AND id != ?", (device_id, keep))
    return cur.rowcount


def purge_idle(conn: sqlite3.Connection, idle_seconds: float) -> None:
    """Delete sessions idle for longer than their device's lock time (its `lock_minutes`, else `idle_seconds`)."""
    conn.execute("DELETE FROM unlock_sessions WHERE last_seen_at < ? - 60 * COALESCE("
                 "(SELECT CAST(value AS REAL) FROM device_settings s WHERE s.device_id = unlock_sessions.device_id "
                 "AND s.key = 'lock_minutes'), ?)", (time.time(), idle_seconds / 60))


class IdlePurger:
    """Deletes idle sessions on time, whether or not their browser ever comes back (and removed
    devices once their grace period is over): a daemon thread
    in each server process (gunicorn.conf.py starts one per worker), sharing the database."""

    def __init__(self, db_path: Path, idle_seconds: float, every: float = PURGE_EVERY) -> None:
        self.db_path, self.idle_seconds, self.every = db_path, idle_seconds, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> IdlePurger:
        """Start purging every `every` seconds."""
        self._thread = threading.Thread(target=self._run, name="authvault-idle-purge", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (it ends within one period)."""
        self._stop.set()

    def _run(self) -> None:
        conn = connect(self.db_path)
        try:
            while not self._stop.wait(self.every):
                try:
                    with transaction(conn):
                        purge_idle(conn, self.idle_seconds)
                        registry.purge_removed(conn)  # removed devices past their grace period
                except sqlite3.Error as exc:  # a full or read-only disk: try again next time
                    log.warning("could not purge idle sessions: %s", type(exc).__name__)
        finally:
            conn.close()
