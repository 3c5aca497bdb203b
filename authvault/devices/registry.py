"""Enrolled devices and the long-lived device cookie that says which device a browser is."""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass

from ..errors import N_, AuthVaultError

MAX_NAME = 60


class DeviceError(AuthVaultError):
    """A device that cannot be created, found or changed."""


@dataclass(frozen=True)
class Device:
    """A device as stored: its id, the name the person gave it, and when it was added and used."""

    id: str
    name: str
    created_at: float
    last_used_at: float | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clean_name(name: object) -> str:
    """A device name as stored: trimmed, 1 to 60 characters."""
    if not isinstance(name, str) or not name.strip():
        raise DeviceError("device_name_required", N_("Give this device a name, for example “iPhone”."))
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise DeviceError("device_name_too_long", N_("A device name can be at most %(max)s characters."),
                          max=MAX_NAME)
    return name


def create_device(conn: sqlite3.Connection, name: str) -> tuple[Device, str]:
    """Insert a device (inside the caller's transaction); return it and its new cookie token."""
    token = secrets.token_urlsafe(32)
    device = Device(id=uuid.uuid4().hex, name=clean_name(name), created_at=time.time(), last_used_at=None)
    conn.execute("INSERT INTO devices(id, name, cookie_hash, created_at) VALUES (?,?,?,?)",
                 (device.id, device.name, _hash(token), device.created_at))
    return device, token


def _row_to_device(row: sqlite3.Row) -> Device:
    return Device(id=row["id"], name=row["name"], created_at=row["created_at"],
                  last_used_at=row["last_used_at"])


def device_by_cookie(conn: sqlite3.Connection, token: str | None) -> Device | None:
    """The device this cookie token belongs to, or None."""
    if not token:
        return None
    row = conn.execute("SELECT * FROM devices WHERE cookie_hash = ?", (_hash(token),)).fetchone()
    return _row_to_device(row) if row else None


def get_device(conn: sqlite3.Connection, device_id: str) -> Device | None:
    """The device with this id, or None."""
    row = conn.execute("SELECT * FROM devices WHERE id = ?", (device_id,)).fetchone()
    return _row_to_device(row) if row else None


def list_devices(conn: sqlite3.Connection) -> list[Device]:
    """All devices, oldest first."""
    return [_row_to_device(r) for r in conn.execute("SELECT * FROM devices ORDER BY created_at")]


def count_devices(conn: sqlite3.Connection) -> int:
    """How many devices are enrolled (0 means the server is not set up yet)."""
    return conn.execute("SELECT COUNT(*) FROM devices").fetchone()[0]


def mark_used(conn: sqlite3.Connection, device_id: str) -> None:
    """Record that the device was just unlocked."""
    conn.execute("UPDATE devices SET last_used_at = ? WHERE id = ?", (time.time(), device_id))


def get_setting(conn: sqlite3.Connection, device_id: str, key: str, default: str | None = None) -> str | None:
    """A per-device setting that is not secret (lock minutes, language)."""
    row = conn.execute("SELECT value FROM device_settings WHERE device_id = ? AND key = ?",
                       (device_id, key)).fetchone()
    return row["value"] if row else default


def set_setting(conn: sqlite3.Connection, device_id: str, key: str, value: str) -> None:
    """Store a per-device setting that is not secret."""
    conn.execute("INSERT INTO device_settings(device_id, key, value) VALUES (?,?,?) "
                 "ON CONFLICT(device_id, key) DO UPDATE SET value = excluded.value",
                 (device_id, key, value))


def rename_device(conn: sqlite3.Connection, device_id: str, name: str) -> str:
    """Give a device a new name (inside the caller's transaction); return the cleaned name."""
    name = clean_name(name)
    conn.execute("UPDATE devices SET name = ? WHERE id = ?", (name, device_id))
    return name


def rotate_cookie(conn: sqlite3.Connection, device_id: str) -> str:
    """Issue a new cookie token for a device (the old cookie stops working); return the token."""
    token = secrets.token_urlsafe(32)
    conn.execute("UPDATE devices SET cookie_hash = ? WHERE id = ?", (_hash(token), device_id))
    return token


def delete_device(conn: sqlite3.Connection, device_id: str) -> None:
    """Delete a device and, through the foreign keys, its vault, sessions, passkeys and settings."""
    conn.execute("DELETE FROM devices WHERE id = ?", (device_id,))
