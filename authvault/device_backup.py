"""A device's backup: its settings kept in its encrypted vault, its status, and pushing changes.

The backup account's address and credentials and the backup's keys (`BackupState`) live inside
the device's vault (`db["authvault"]["backup"]`), so they are encrypted like the accounts. What
the settings page shows without secrets (state, last backup time, count, where, the last error
and when it retries, who took the backup over) is kept in the device's settings row.

No Flask here. Every push happens after the change it carries was committed, so a failed or
interrupted backup never loses an acknowledged change: the next push carries it.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import accounts as accts
from .backup import (
    BackupError,
    BackupReplaced,
    BackupRolledBack,
    BackupService,
    BackupState,
    BackupTampered,
    BackupUnauthorized,
    BackupUnreachable,
    WrongRecoveryKey,
    load,
)
from .backup.errors import holder_json
from .db import transaction
from .devices import registry
from .errors import AuthVaultError
from .otp import Account
from .vault import envelope

log = logging.getLogger(__name__)

STATUS_KEY = "backup_status"
RETRY_SECONDS = 60
# The state a failure leaves the backup in, by error class (design.md's states).
FAILURE_STATES: list[tuple[type[BackupError], str]] = [
    (BackupReplaced, "replaced"), (BackupRolledBack, "rolled-back"), (BackupTampered, "tampered"),
    (WrongRecoveryKey, "wrong-recovery-key"), (BackupUnauthorized, "unauthorized"),
    (BackupUnreachable, "unreachable"),
]
# States in which the device keeps trying on its own; the others wait for the person.
RETRYING = ("pending", "error", "unreachable")


class DeviceBackupError(AuthVaultError):
    """A backup request that does not fit this device's backup state."""


@dataclass
class Config:
    """This device's backup account and its backup keys, as kept in the vault."""

    target: dict[str, Any]
    state: BackupState | None


def service_for(data_dir: Path, keep_versions: int = 5) -> BackupService:
    """The backup service of this server: its lock folder is shared by every worker."""
    return BackupService(data_dir / "backup-locks", keep_versions=keep_versions)


def public_target(target: dict[str, Any]) -> dict[str, Any]:
    """A backup account as the page shows it: its kind and address, never a credential."""
    try:
        where = load(target).describe()
    except BackupError:
        where = ""
    return {"kind": target.get("kind"), "where": where}


# --- the config inside the vault --------------------------------------------------------------

def read_config(conn: sqlite3.Connection, device_id: str, master_key: bytes) -> Config | None:
    """This device's backup account and keys, or None when backup is off."""
    db = accts.load_db(conn, device_id, master_key)
    raw = (db.get("authvault") or {}).get("backup")
    if not raw:
        return None
    state = BackupState.from_json(raw["state"]) if raw.get("state") else None
    return Config(target=raw["target"], state=state)


def write_config(conn: sqlite3.Connection, device_id: str, master_key: bytes, config: Config | None,
                 accounts: list[Account] | None = None) -> None:
    """Store (or with None, forget) the backup config, and optionally the accounts, in one transaction."""
    from .vault import entries
    with transaction(conn):
        env = accts.read_envelope(conn, device_id)
        db = envelope.open_db(env, master_key, expected_device_id=device_id)
        if accounts is not None:
            new_db = entries.db_from_accounts(accounts)
            for key, value in db.items():
                new_db.setdefault(key, value)
            db = new_db
        private = dict(db.get("authvault") or {})
        if config is None:
            private.pop("backup", None)
        else:
            private["backup"] = {"target": config.target,
                                 "state": config.state.to_json() if config.state else None}
        db["authvault"] = private
        accts.write_envelope(conn, device_id, envelope.replace_db(env, master_key, db))


# --- status (no secrets) ----------------------------------------------------------------------

def read_status(conn: sqlite3.Connection, device_id: str) -> dict[str, Any]:
    """The backup status shown in settings: at least {"state": "off"}."""
    raw = registry.get_setting(conn, device_id, STATUS_KEY)
    return json.loads(raw) if raw else {"state": "off"}


def write_status(conn: sqlite3.Connection, device_id: str, status: dict[str, Any]) -> None:
    """Store the backup status (inside the caller's transaction or on its own)."""
    registry.set_setting(conn, device_id, STATUS_KEY, json.dumps(status))


def status_after_success(config: Config, state: BackupState) -> dict[str, Any]:
    """The status after a backup was written."""
    return {"state": "on", "last_backup_at": state.updated_at, "count": state.count,
            "generation": state.generation, "target": public_target(config.target)}


def status_after_failure(previous: dict[str, Any], config: Config, err: BackupError) -> dict[str, Any]:
    """The status after a backup failed: which state, what failed, and when it retries."""
    state = next((name for cls, name in FAILURE_STATES if isinstance(err, cls)), "error")
    status = dict(previous)
    status.update(state=state, target=public_target(config.target),
                  error={"code": err.code, "message": err.message, "params": _jsonable(err.params)},
                  failed_at=time.time())
    status.pop("retry_started_at", None)
    if state in RETRYING:
        status["retry_at"] = time.time() + RETRY_SECONDS
    else:
        status.pop("retry_at", None)
    if isinstance(err, BackupReplaced):
        status["holder"] = holder_json(err.holder)
    return status


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in params.items()}


# --- pushing ------------------------------------------------------------------------------------

def push(conn: sqlite3.Connection, device_id: str, master_key: bytes, service: BackupService,
         *, force: bool = False, after_change: bool = False) -> dict[str, Any]:
    """Back up the device's current accounts if its backup is on; return the new status.

    Never raises a BackupError: a failure is recorded in the status (codes keep working). With
    `force` (Back up now) a device in a waiting state (replaced, tampered...) is tried as well.
    With `after_change`, a backup account that just failed is not tried again before its retry
    time: the change is committed already and the retry carries it, so a backup server that is
    down (a connect timeout each time) does not slow every change down.
    """
    status = read_status(conn, device_id)
    if status.get("state") == "off":
        return status
    if after_change and status.get("state") in RETRYING and status.get("retry_at", 0) > time.time():
        if not status.get("waiting_changes"):
            status["waiting_changes"] = True
            with transaction(conn):
                write_status(conn, device_id, status)
        return status
    if not force and status.get("state") not in ("on", *RETRYING):
        return status  # replaced, tampered...: the person decides what happens next
    config = read_config(conn, device_id, master_key)
    if config is None or config.state is None:
        return status
    try:
        store = load(config.target)
        # read under the backup lock: a push that waited must not write an older list
        new_state = service.push(store, config.state,
                                 lambda: accts.load_accounts(conn, device_id, master_key))
    except BackupError as err:
        log.warning("backup of device %s failed: %s", device_id, err.code)
        status = status_after_failure(status, config, err)
        with transaction(conn):
            write_status(conn, device_id, status)
        return status
    config.state = new_state
    write_config(conn, device_id, master_key, config)
    status = status_after_success(config, new_state)
    with transaction(conn):
        write_status(conn, device_id, status)
    return status


def verify(conn: sqlite3.Connection, device_id: str, master_key: bytes, service: BackupService) -> dict[str, Any]:
    """Check that the backup account still holds this device's intact backup; record what it found."""
    status = read_status(conn, device_id)
    if status.get("state") != "on":
        return status
    config = read_config(conn, device_id, master_key)
    if config is None or config.state is None:
        return status
    try:
        service.verify(load(config.target), config.state)
    except BackupError as err:
        status = status_after_failure(status, config, err)
        with transaction(conn):
            write_status(conn, device_id, status)
    return status


def claim_retry(conn: sqlite3.Connection, device_id: str) -> bool:
    """True if a failed backup's retry time has come and no retry started in the last
    RETRY_SECONDS; then mark the retry as started, in the same transaction: of all the requests
    and workers that see one due retry, one runs it. The retry time itself stays, so a change made
    meanwhile still pushes by itself instead of waiting for this retry."""
    with transaction(conn):
        status = read_status(conn, device_id)
        now = time.time()
        if status.get("state") not in RETRYING or status.get("retry_at", 0) > now \
                or status.get("retry_started_at", 0) > now - RETRY_SECONDS:
            return False
        status["retry_started_at"] = now
        write_status(conn, device_id, status)
    return True
