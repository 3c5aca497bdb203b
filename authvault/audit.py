"""Security events (audit_events): the one module that writes and reads that table.

An event says what happened (`kind`: unlock, unlock_failed, device_added, backup_restored...), on
which device, from which address, and a few words of `detail`, never a secret, code or key.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One recorded event."""

    at: float
    device_id: str | None
    kind: str
    detail: str
    client: str


def record(conn: sqlite3.Connection, kind: str, *, device_id: str | None = None,
           detail: str = "", client: str = "") -> None:
    """Record an event (inside the caller's transaction, or on its own); never a secret in `detail`."""
    conn.execute("INSERT INTO audit_events(at, device_id, kind, detail, client) VALUES (?,?,?,?,?)",
                 (time.time(), device_id, kind, detail, client))


def recent(conn: sqlite3.Connection, limit: int) -> list[Event]:
    """The latest `limit` events, newest first."""
    rows = conn.execute("SELECT at, device_id, kind, detail, client FROM audit_events "
                        "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [Event(r["at"], r["device_id"], r["kind"], r["detail"], r["client"]) for r in rows]
