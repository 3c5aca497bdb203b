"""Add-a-device links: a random token made on an unlocked device, valid 10 minutes and once.

Only the token's SHA-256 is stored, so the database alone cannot be used to enroll a device.
No Flask here.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass

from .. import audit
from ..db import transaction
from ..errors import N_, AuthVaultError
from ..vault import store as vault_store
from ..vault.crypto import ScryptParams
from . import registry

ENROLL_SECONDS = 600


class EnrollmentError(AuthVaultError):
    """An add-a-device link that cannot be used."""


@dataclass(frozen=True)
class EnrollToken:
    """A fresh add-a-device token (shown once, in the link and QR code) and when it expires."""

    token: str
    expires_at: float


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn: sqlite3.Connection, created_by: str, *, now: float | None = None) -> EnrollToken:
    """Make an add-a-device token for the device `created_by` (inside the caller's transaction)."""
    now = time.time() if now is None else now
    conn.execute("DELETE FROM enroll_tokens WHERE expires_at < ?", (now - 86400,))  # keep a day for the record
    token = secrets.token_urlsafe(24)
    conn.execute("INSERT INTO enroll_tokens(token_hash, created_by, created_at, expires_at) VALUES (?,?,?,?)",
                 (_hash(token), created_by, now, now + ENROLL_SECONDS))
    return EnrollToken(token, now + ENROLL_SECONDS)


def check_token(conn: sqlite3.Connection, token: object, *, now: float | None = None) -> float:
    """When a usable token expires; EnrollmentError (invalid, used or expired) otherwise. Does not use it up."""
    now = time.time() if now is None else now
    if not isinstance(token, str) or not token or len(token) > 200:
        raise EnrollmentError("enroll_token_invalid", N_(
            "This add-a-device link is not valid. On a device that is set up, open Settings › Devices › "
            "Add a device to get a new one."))
    row = conn.execute("SELECT expires_at, used_at, created_by FROM enroll_tokens WHERE token_hash = ?",
                       (_hash(token),)).fetchone()
    # A link dies with the device that made it (removing a device sets created_by to NULL, for the record).
    if row is None or (row["created_by"] is None and row["used_at"] is None):
        raise EnrollmentError("enroll_token_invalid", N_(
            "This add-a-device link is not valid. On a device that is set up, open Settings › Devices › "
            "Add a device to get a new one."))
    if row["used_at"] is not None:
        raise EnrollmentError("enroll_token_used", N_(
            "This add-a-device link was already used. Each link adds one device: make a new one on a device "
            "that is set up."))
    if row["expires_at"] < now:
        raise EnrollmentError("enroll_token_expired", N_(
            "This add-a-device link has expired (links last 10 minutes). Make a new one on a device that is "
            "set up."))
    return float(row["expires_at"])


def use_token(conn: sqlite3.Connection, token: object, used_by: str, *, now: float | None = None) -> None:
    """Use a token up for the new device `used_by` (inside the caller's write transaction)."""
    now = time.time() if now is None else now
    check_token(conn, token, now=now)
    conn.execute("UPDATE enroll_tokens SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL",
                 (now, used_by, _hash(str(token))))


# --- operations, each its own transaction, recorded as security events -------------------------

def create_link(conn: sqlite3.Connection, device_id: str, *, client: str) -> EnrollToken:
    """An add-a-device token made by `device_id`, recorded."""
    with transaction(conn):
        tok = create_token(conn, device_id)
        audit.record(conn, "enroll_link_created", device_id=device_id, client=client)
    return tok


def _new_device(conn: sqlite3.Connection, name: str, passphrase: str,
                params: ScryptParams) -> tuple[registry.Device, str, bytes]:
    device, cookie_token = registry.create_device(conn, name)
    master_key = vault_store.create_vault(conn, device.id, passphrase, params)
    registry.mark_used(conn, device.id)
    return device, cookie_token, master_key


def set_up(conn: sqlite3.Connection, name: str, passphrase: str, params: ScryptParams, *,
           client: str) -> tuple[registry.Device, str, bytes]:
    """Create the first device with its vault: (device, its cookie token, the master key).
    DeviceError already_set_up when a device exists (another setup won the race)."""
    with transaction(conn):
        if registry.count_devices(conn):
            raise registry.DeviceError("already_set_up", N_("AuthVault is already set up."))
        device, cookie_token, master_key = _new_device(conn, name, passphrase, params)
        audit.record(conn, "setup", device_id=device.id, client=client)
    return device, cookie_token, master_key


def enroll(conn: sqlite3.Connection, token: object, name: str, passphrase: str, params: ScryptParams, *,
           client: str) -> tuple[registry.Device, str, bytes]:
    """Become a new device with an add-a-device token (used up here, once): its own empty vault;
    (device, its cookie token, the master key)."""
    with transaction(conn):
        device, cookie_token, master_key = _new_device(conn, name, passphrase, params)
        use_token(conn, token, device.id)
        registry.record_account_count(conn, device.id, 0)
        audit.record(conn, "device_enrolled", device_id=device.id, detail=name, client=client)
    return device, cookie_token, master_key
