"""Enrolled devices and the long-lived device cookie that says which device a browser is."""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass

from .. import audit
from ..db import transaction
from ..errors import N_, AuthVaultError

MAX_NAME = 60
# A removed device (its vault, passkeys and settings) is kept this long, and any other device can
# restore it meanwhile; then it is deleted for good (README, "Remove a device").
REMOVED_KEPT_SECONDS = 30 * 24 * 3600


class DeviceError(AuthVaultError):
    """A device that cannot be created, found or changed."""


@dataclass(frozen=True)
class Device:
    """A device as stored: its id, the name the person gave it, and when it was added and used."""

    id: str
    name: str
    created_at: float
    last_used_at: float | None
    removed_at: float | None = None

    @property
    def recoverable_until(self) -> float | None:
        """Until when a removed device can be restored (None while it is not removed)."""
        return None if self.removed_at is None else self.removed_at + REMOVED_KEPT_SECONDS


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
                  last_used_at=row["last_used_at"], removed_at=row["removed_at"])


def device_by_cookie(conn: sqlite3.Connection, token: str | None) -> Device | None:
    """The device this cookie token belongs to, or None."""
    if not token:
        return None
    row = conn.execute("SELECT * FROM devices WHERE cookie_hash = ? AND removed_at IS NULL",
                       (_hash(token),)).fetchone()
    return _row_to_device(row) if row else None


def get_device(conn: sqlite3.Connection, device_id: str, *, removed: bool = False) -> Device | None:
    """The device with this id, or None (a removed one only with `removed`)."""
    row = conn.execute("SELECT * FROM devices WHERE id = ?", (device_id,)).fetchone()
    if row is None or (row["removed_at"] is not None and not removed):
        return None
    return _row_to_device(row)


def list_devices(conn: sqlite3.Connection, *, removed: bool = False) -> list[Device]:
    """The enrolled devices, oldest first (with `removed`, the removed ones still kept as well)."""
    where = "" if removed else " WHERE removed_at IS NULL"
    return [_row_to_device(r) for r in conn.execute(f"SELECT * FROM devices{where} ORDER BY created_at")]


def list_removed(conn: sqlite3.Connection) -> list[Device]:
    """Removed devices that can still be restored, most recently removed first."""
    return [_row_to_device(r) for r in conn.execute(
        "SELECT * FROM devices WHERE removed_at IS NOT NULL ORDER BY removed_at DESC")]


def count_devices(conn: sqlite3.Connection) -> int:
    """How many devices are enrolled (0 means the server is not set up yet)."""
    return conn.execute("SELECT COUNT(*) FROM devices WHERE removed_at IS NULL").fetchone()[0]


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


ACCOUNT_COUNT_SETTING = "account_count"
OFFLINE_COPY_SETTING = "offline_copy"


def offline_copy_on(conn: sqlite3.Connection, device_id: str) -> bool:
    """Whether this device keeps an offline copy of its vault in its browser (on unless turned off)."""
    return get_setting(conn, device_id, OFFLINE_COPY_SETTING, "on") != "off"


def record_account_count(conn: sqlite3.Connection, device_id: str, count: int) -> None:
    """Remember how many accounts a device's vault holds (inside the caller's transaction): the vault
    is encrypted, and the devices page and the backup mark say it without a key."""
    set_setting(conn, device_id, ACCOUNT_COUNT_SETTING, str(count))


def account_count(conn: sqlite3.Connection, device_id: str) -> int | None:
    """How many accounts a device had when it was last unlocked or changed (None if never recorded)."""
    raw = get_setting(conn, device_id, ACCOUNT_COUNT_SETTING)
    return int(raw) if raw and raw.isdigit() else None


def rename_device(conn: sqlite3.Connection, device_id: str, name: object) -> str:
    """Give a device a new name (inside the caller's transaction); return the cleaned name."""
    name = clean_name(name)
    conn.execute("UPDATE devices SET name = ? WHERE id = ?", (name, device_id))
    return name


def rotate_cookie(conn: sqlite3.Connection, device_id: str) -> str:
    """Issue a new cookie token for a device (the old cookie stops working); return the token."""
    token = secrets.token_urlsafe(32)
    conn.execute("UPDATE devices SET cookie_hash = ? WHERE id = ?", (_hash(token), device_id))
    return token


class DeviceNotFound(DeviceError):
    """No enrolled device with this id."""

    def __init__(self) -> None:
        super().__init__("device_not_found", N_("That device is not enrolled (it may have been removed)."))


class LastDevice(DeviceError):
    """The only device cannot be removed."""


def removable(conn: sqlite3.Connection, device_id: str, confirm_name: object) -> Device:
    """The device to remove, if it may be: it exists, `confirm_name` repeats its name, and it is not
    the only device (DeviceError otherwise)."""
    target = get_device(conn, device_id)
    if target is None:
        raise DeviceNotFound()
    if confirm_name != target.name:
        raise DeviceError("confirm_name_required", N_(
            "To remove %(device)s and delete its vault, send confirm_name with its exact name."), device=target.name)
    if count_devices(conn) <= 1:
        raise LastDevice("last_device", N_("%(device)s is your only device. Add another device before removing "
                                           "this one."), device=target.name)
    return target


def remove_device(conn: sqlite3.Connection, device_id: str, confirm_name: object,
                  now: float | None = None) -> Device:
    """Remove a device (inside the caller's transaction): it stops working at once (its cookie names
    no device, its unlock sessions end, the add-a-device links it made die), while its vault,
    passkeys and settings are kept for REMOVED_KEPT_SECONDS so that another device can restore it."""
    target = removable(conn, device_id, confirm_name)
    now = time.time() if now is None else now
    conn.execute("UPDATE devices SET removed_at = ? WHERE id = ?", (now, device_id))
    conn.execute("DELETE FROM unlock_sessions WHERE device_id = ?", (device_id,))
    conn.execute("DELETE FROM passkey_challenges WHERE device_id = ?", (device_id,))
    conn.execute("UPDATE enroll_tokens SET created_by = NULL WHERE created_by = ? AND used_at IS NULL", (device_id,))
    return Device(target.id, target.name, target.created_at, target.last_used_at, now)


def restore_device(conn: sqlite3.Connection, device_id: str) -> Device:
    """Bring a removed device back (inside the caller's transaction): its browser's cookie, passkeys
    and passphrase work again, and its vault is as it was."""
    target = get_device(conn, device_id, removed=True)
    if target is None or target.removed_at is None:
        raise DeviceError("not_removed", N_("That device is not among the removed devices (it may have been "
                                            "restored already, or its %(days)s days have passed)."),
                          days=REMOVED_KEPT_SECONDS // 86400)
    conn.execute("UPDATE devices SET removed_at = NULL WHERE id = ?", (device_id,))
    return Device(target.id, target.name, target.created_at, target.last_used_at, None)


def purge_removed(conn: sqlite3.Connection, now: float | None = None) -> int:
    """Delete for good the devices removed more than REMOVED_KEPT_SECONDS ago, and through the foreign
    keys their vaults, sessions, passkeys and settings (inside the caller's transaction)."""
    now = time.time() if now is None else now
    return conn.execute("DELETE FROM devices WHERE removed_at IS NOT NULL AND removed_at < ?",
                        (now - REMOVED_KEPT_SECONDS,)).rowcount


def delete_device(conn: sqlite3.Connection, device_id: str) -> None:
    """Delete a device now and, through the foreign keys, its vault, sessions, passkeys and settings."""
    conn.execute("DELETE FROM devices WHERE id = ?", (device_id,))


# --- operations, each its own transaction, recorded as security events -------------------------

def save_setting(conn: sqlite3.Connection, device_id: str, key: str, value: str) -> None:
    """Store a per-device setting that is not secret, in its own transaction."""
    with transaction(conn):
        set_setting(conn, device_id, key, value)


def change_name(conn: sqlite3.Connection, device_id: str, name: object, *, client: str) -> Device:
    """Rename an enrolled device (DeviceNotFound otherwise) and record it; return the device."""
    with transaction(conn):
        if get_device(conn, device_id) is None:
            raise DeviceNotFound()
        rename_device(conn, device_id, name)
        audit.record(conn, "device_renamed", device_id=device_id, client=client)
    device = get_device(conn, device_id)
    if device is None:  # removed meanwhile
        raise DeviceNotFound()
    return device


def remove(conn: sqlite3.Connection, device_id: str, confirm_name: object, *, by: str, client: str) -> Device:
    """Remove a device (see `remove_device`), recorded as done by device `by` with the removed
    device's name and account count."""
    with transaction(conn):
        removed = remove_device(conn, device_id, confirm_name)
        count = account_count(conn, device_id)
        audit.record(conn, "device_removed", device_id=by,
                     detail=f"{removed.name} ({count if count is not None else '?'} accounts)", client=client)
    return removed


def restore(conn: sqlite3.Connection, device_id: str, *, by: str, client: str) -> Device:
    """Bring a removed device back (see `restore_device`), recorded as done by device `by`."""
    with transaction(conn):
        device = restore_device(conn, device_id)
        audit.record(conn, "device_restored", device_id=by, detail=device.name, client=client)
    return device
