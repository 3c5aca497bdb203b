"""A device's backup: its settings kept in its encrypted vault, its status, and pushing changes.

The backup account's address and credentials and the backup's keys (`BackupState`) live inside
the device's vault (`db["authvault"]["backup"]`), so they are encrypted like the accounts. What
the settings page shows without secrets (state, last backup time, count, where, the last error
and when it retries, who took the backup over) is kept in the device's settings row.

No Flask here. Every push happens after the change it carries was committed, so a failed or
interrupted backup never loses an acknowledged change: the next push carries it.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import audit
from ..db import connect as connect_db
from ..db import transaction
from ..devices import registry
from ..errors import N_, AuthVaultError
from ..model import Account, Skipped
from ..vault import store as accts
from . import (
    BackupError,
    BackupMissing,
    BackupReplaced,
    BackupRolledBack,
    BackupService,
    BackupState,
    BackupTampered,
    BackupUnauthorized,
    BackupUnreachable,
    RecoveryKeyRequired,
    WrongRecoveryKey,
    load,
)
from .errors import holder_json
from .objects import Holder
from .service import Version

log = logging.getLogger(__name__)

STATUS_KEY = "backup_status"
RETRY_SECONDS = 60
# The state a failure leaves the backup in, by error class (the states GET /api/backup reports,
# listed in the README's "Backup API").
FAILURE_STATES: list[tuple[type[BackupError], str]] = [
    (BackupReplaced, "replaced"), (BackupRolledBack, "rolled-back"), (BackupTampered, "tampered"),
    (WrongRecoveryKey, "wrong-recovery-key"), (BackupUnauthorized, "unauthorized"),
    (BackupUnreachable, "unreachable"),
]
# States in which the device keeps trying on its own; the others wait for the person.
RETRYING = ("pending", "error", "unreachable")


class DeviceBackupError(AuthVaultError):
    """A backup request that does not fit this device's backup state."""


class BackupOff(DeviceBackupError):
    """A request that needs backup on, on a device whose backup is off."""

    def __init__(self) -> None:
        super().__init__("backup_off", N_("Backup is off on this device. Turn it on first."))


class TargetRequired(DeviceBackupError):
    """A choice about "the backup account this device uses" on a device that uses none."""

    def __init__(self) -> None:
        super().__init__("target_required",
                         N_("Choose a backup account: a folder, a WebDAV account or an S3 bucket."))


class DeviceNotEmpty(DeviceBackupError):
    """Restoring onto a device that holds accounts: it only ever adds (merge), never overwrites."""

    def __init__(self, holder: Holder, count: int) -> None:
        super().__init__("device_not_empty",
                         N_("This device already holds accounts (%(count)s). Restoring adds the backup's "
                            "accounts to them (merge); nothing here is overwritten."), count=count)
        self.extra = {"holder": holder_json(holder), "device_count": count, "choices": ["merge", "cancel"]}


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
    return config_from_db(conn, device_id, accts.load_db(conn, device_id, master_key))


def config_from_db(conn: sqlite3.Connection, device_id: str, db: dict[str, Any]) -> Config | None:
    """The backup config in an already decrypted vault database, at the backup's latest position."""
    raw = accts.private_part(db).get("backup")
    if not raw:
        return None
    state = BackupState.from_json(raw["state"]) if raw.get("state") else None
    return Config(target=raw["target"], state=_at_position(conn, device_id, state) if state else None)


# Where the backup stands (generation, ETag, time, count) is not secret and changes with every
# push: it lives in the device's settings row, so a push after an edit writes no second vault. The
# vault's copy is the position at the last config write (enable, a choice); the row's wins when it
# is of the same backup and not older. A data folder from before this row simply has none yet.
POSITION_KEY = "backup_position"
_POSITION_FIELDS = ("generation", "etag", "updated_at", "count")


def _read_position(conn: sqlite3.Connection, device_id: str) -> dict[str, Any] | None:
    raw = registry.get_setting(conn, device_id, POSITION_KEY)
    return json.loads(raw) if raw else None


def _write_position(conn: sqlite3.Connection, device_id: str, state: BackupState | None, *,
                    only_forward: bool = False) -> None:
    """Record where the backup stands (inside the caller's transaction). With `only_forward`, a
    slower push that finishes after a newer one leaves the newer position."""
    if state is None:
        registry.set_setting(conn, device_id, POSITION_KEY, "")
        return
    if only_forward:
        known = _read_position(conn, device_id)
        if known and known.get("backup_id") == state.backup_id and known.get("generation", -1) > state.generation:
            return
    registry.set_setting(conn, device_id, POSITION_KEY, json.dumps(
        {"backup_id": state.backup_id, **{f: getattr(state, f) for f in _POSITION_FIELDS}}))


def _at_position(conn: sqlite3.Connection, device_id: str, state: BackupState) -> BackupState:
    known = _read_position(conn, device_id)
    if not known or known.get("backup_id") != state.backup_id or known.get("generation", -1) < state.generation:
        return state
    return dataclasses.replace(state, **{f: known[f] for f in _POSITION_FIELDS})


def write_config(conn: sqlite3.Connection, device_id: str, master_key: bytes, config: Config | None) -> None:
    """Store (or with None, forget) the backup config, in one transaction."""

    def put(private: dict[str, Any]) -> dict[str, Any]:
        if config is None:
            private.pop("backup", None)
        else:
            private["backup"] = {"target": config.target,
                                 "state": config.state.to_json() if config.state else None}
        return private

    with transaction(conn):
        accts.change_private(conn, device_id, master_key, put)
        _write_position(conn, device_id, config.state if config else None)


# --- status (no secrets) ----------------------------------------------------------------------

@dataclass
class Status:
    """What the settings page, the list's mark and GET /api/backup show of this device's backup,
    kept beside the vault without secrets: state, last backup, count, where, the last error and
    when it retries, who took the backup over (`state` is one of the states the README's
    "Backup API" lists)."""

    state: str = "off"
    last_backup_at: str | None = None
    count: int | None = None
    generation: int | None = None
    target: dict[str, Any] | None = None  # {"kind", "where"}: never a credential
    key_origin: dict[str, Any] | None = None  # whose recovery sheet opens the backup
    error: dict[str, Any] | None = None  # {"code", "message", "params"} of the last failure
    failed_at: float | None = None
    failing_since: float | None = None  # the first failure since the last success
    retry_at: float | None = None
    retry_started_at: float | None = None
    waiting_changes: bool = False  # changes made while waiting for the retry time
    holder: dict[str, Any] | None = None  # for "replaced": who holds the backup account now
    holder_read_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored and shown shape: fields that are not set are left out."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None and v is not False}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Status:
        """A status as `to_json` (or an older AuthVault) stored it; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def read_status(conn: sqlite3.Connection, device_id: str) -> Status:
    """This device's backup status (state "off" when none was stored)."""
    raw = registry.get_setting(conn, device_id, STATUS_KEY)
    return Status.from_json(json.loads(raw)) if raw else Status()


def write_status(conn: sqlite3.Connection, device_id: str, status: Status) -> None:
    """Store the backup status (inside the caller's transaction or on its own)."""
    registry.set_setting(conn, device_id, STATUS_KEY, json.dumps(status.to_json()))


def status_after_success(config: Config, state: BackupState) -> Status:
    """The status after a backup was written."""
    return Status(state="on", last_backup_at=state.updated_at, count=state.count,
                  generation=state.generation, target=public_target(config.target),
                  key_origin=state.key_origin.to_json() if state.key_origin else None)


def status_after_failure(previous: Status, config: Config, err: BackupError) -> Status:
    """The status after a backup failed: which state, what failed, and when it retries."""
    state = next((name for cls, name in FAILURE_STATES if isinstance(err, cls)), "error")
    now = time.time()
    status = dataclasses.replace(
        previous, state=state, target=public_target(config.target),
        error={"code": err.code, "message": err.message, "params": _jsonable(err.params)},
        failed_at=now, retry_started_at=None,
        # since when the backup has been failing without a success in between (the health mark)
        failing_since=previous.failing_since or previous.failed_at or now,
        retry_at=now + RETRY_SECONDS if state in RETRYING else None)
    if isinstance(err, BackupReplaced):
        status.holder = holder_json(err.holder)
        status.holder_read_at = now
    return status


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in params.items()}


# --- pushing ------------------------------------------------------------------------------------

def push(conn: sqlite3.Connection, device_id: str, master_key: bytes, service: BackupService,
         *, force: bool = False, after_change: bool = False,
         written: accts.Written | None = None) -> Status:
    """Back up the device's current accounts if its backup is on; return the new status.

    Never raises a BackupError: a failure is recorded in the status (codes keep working). With
    `force` (Back up now) a device in a waiting state (replaced, tampered...) is tried as well.
    With `after_change`, a backup account that just failed is not tried again before its retry
    time: the change is committed already and the retry carries it, so a backup server that is
    down (a connect timeout each time) does not slow every change down.

    `written` is what the change just stored: its decrypted vault gives the config and, unless
    the vault changed again meanwhile, its accounts are the ones backed up, so a push after an
    edit decrypts nothing more; where the backup stands is written to the settings row, so it
    writes no second vault either.
    """
    status = read_status(conn, device_id)
    if status.state == "off":
        return status
    if after_change and status.state in RETRYING and (status.retry_at or 0) > time.time():
        if not status.waiting_changes:
            status.waiting_changes = True
            with transaction(conn):
                write_status(conn, device_id, status)
        return status
    if not force and status.state not in ("on", *RETRYING):
        return status  # replaced, tampered...: the person decides what happens next
    if written is not None:
        config = config_from_db(conn, device_id, written.db)
    else:
        config = read_config(conn, device_id, master_key)
    if config is None or config.state is None:
        return status

    def current_accounts() -> list[Account]:
        # read under the backup lock: a push that waited must not write an older list
        if written is not None and accts.is_current(conn, device_id, written):
            return written.accounts
        return accts.load_accounts(conn, device_id, master_key)

    try:
        store = load(config.target)
        new_state = service.push(store, config.state, current_accounts)
    except BackupError as err:
        log.warning("backup of device %s failed: %s", device_id, err.code)
        status = status_after_failure(status, config, err)
        with transaction(conn):
            write_status(conn, device_id, status)
        return status
    config.state = new_state
    status = status_after_success(config, new_state)
    with transaction(conn):
        _write_position(conn, device_id, new_state, only_forward=True)
        write_status(conn, device_id, status)
    return status


def verify(conn: sqlite3.Connection, device_id: str, master_key: bytes, service: BackupService) -> Status:
    """Check that the backup account still holds this device's intact backup; record what it found.

    A device whose backup was taken over reads the holder again: the conflict screen shows the
    backup as it is now (the other device may have backed up many times since it took over)."""
    status = read_status(conn, device_id)
    if status.state not in ("on", "replaced"):
        return status
    config = read_config(conn, device_id, master_key)
    if config is None or config.state is None:
        return status
    store = load(config.target)
    if status.state == "replaced":
        try:
            holder = service.inspect(store)
        except BackupError as err:  # unreachable now: the last holder seen stays, and says when
            log.info("backup of device %s: holder not read again (%s)", device_id, err.code)
            return status
        status.holder = holder_json(holder)
        status.holder_read_at = time.time()
        with transaction(conn):
            write_status(conn, device_id, status)
        return status
    try:
        service.verify(store, config.state)
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
        if status.state not in RETRYING or (status.retry_at or 0) > now \
                or (status.retry_started_at or 0) > now - RETRY_SECONDS:
            return False
        status.retry_started_at = now
        write_status(conn, device_id, status)
    return True


# --- one device's backup: every choice the person makes, as one call each ------------------------

@dataclass
class Restored:
    """What a restore added to this device, and from whose backup."""

    holder: Holder
    added: list[Account]
    total: int  # accounts in the backup

    @property
    def already_here(self) -> int:
        """Accounts of the backup that this device held already (nothing to add)."""
        return self.total - len(self.added)

    @property
    def action_required(self) -> int:
        """Accounts added without their secret (kept on their device only): scan a new QR code."""
        return sum(1 for a in self.added if a.action_required)


@dataclass
class Enabled:
    """What turning backup on (or a conflict choice) did, for the page to show.

    `recovery_key` is set only when a new key was made (shown once with its sheet); otherwise
    the key on `holder.key_origin`'s sheet keeps opening the backup. `displaced` is the other
    device whose backup this choice took over: it is told, and can choose again."""

    status: Status
    holder: Holder | None
    recovery_key: str | None = None
    superseded: str | None = None
    added: list[Account] = field(default_factory=list)
    displaced: Holder | None = None
    restored: Restored | None = None  # set by the "restore" choice (nothing taken over)


class DeviceBackup:
    """One device's backup: its config (in the vault), its status row, and every choice.

    The web layer parses a request, makes one call here and shows the result. No Flask here.
    `db_path` lets a background retry open a connection of its own.
    """

    def __init__(self, conn: sqlite3.Connection, device_id: str, master_key: bytes, *,
                 device_name: str, service: BackupService, db_path: Path | None = None) -> None:
        self.conn = conn
        self.device_id = device_id
        self.master_key = master_key
        self.device_name = device_name
        self.service = service
        self.db_path = db_path

    # -- reading --------------------------------------------------------------------------------

    def status(self, *, check: bool = False) -> Status:
        """The status the settings page shows; with `check`, first ask the backup account
        whether the backup is still this device's. A due retry starts in the background."""
        self.retry_in_background()
        if check:
            verify(self.conn, self.device_id, self.master_key, self.service)
        return read_status(self.conn, self.device_id)

    def health(self, status: Status | None = None) -> Health:
        """The health mark of this device's backup (of `status`, else of the stored one)."""
        status = status if status is not None else read_status(self.conn, self.device_id)
        return health(status, account_count=account_count(self.conn, self.device_id))

    def test(self, target: dict[str, Any]) -> Holder | None:
        """Reach a backup account and say whose backup it holds, if any (writes nothing)."""
        store = load(target)
        store.test_connection()
        return self.service.inspect(store)

    def inspect(self, target: dict[str, Any]) -> Holder:
        """Whose backup a backup account holds; BackupMissing if none."""
        holder = self.service.inspect(load(target))
        if holder is None:
            raise BackupMissing()
        return holder

    def config(self) -> Config:
        """This device's backup config; BackupOff when backup is off."""
        config = read_config(self.conn, self.device_id, self.master_key)
        if config is None:
            raise BackupOff()
        return config

    def versions(self) -> list[Version]:
        """The kept previous backups at this device's backup account."""
        return self.service.list_versions(load(self.config().target))

    # -- changing -------------------------------------------------------------------------------

    def _add(self, new: list[Account]) -> list[Account]:
        """Add accounts from a backup to this device without losing any of its own."""
        added: list[Account] = []

        def apply(existing: list[Account]) -> list[Account]:
            result, done, _ = accts.merge_new(existing, new)
            added.extend(done)
            return result

        accts.change_accounts(self.conn, self.device_id, self.master_key, apply)
        return added

    def enable(self, target: dict[str, Any] | None, *, resolution: str | None,
               recovery_key: str | None, expected_generation: int | None) -> Enabled:
        """Turn backup on at `target` (None: the backup account this device already uses),
        or apply a conflict choice (replace, merge, restore). BackupTaken when taken."""
        if target is None:
            config = read_config(self.conn, self.device_id, self.master_key)
            if config is None:
                raise TargetRequired()
            target = config.target
        mine = accts.load_accounts(self.conn, self.device_id, self.master_key)
        added: list[Account] = []

        def merge_here(theirs: list[Account]) -> list[Account]:
            # Under the backup lock: the backup's accounts go onto this device first, and the
            # device's complete list is what the merged backup holds (its count is the truth).
            def apply(existing: list[Account]) -> list[Account]:
                result, done, _ = accts.merge_new(existing, theirs)
                added.extend(done)
                return result
            return accts.change_accounts(self.conn, self.device_id, self.master_key, apply)

        result = self.service.enable(load(target), device_id=self.device_id, device_name=self.device_name,
                                     accounts=mine, resolution=resolution,  # type: ignore[arg-type]
                                     recovery_key=recovery_key, expected_generation=expected_generation,
                                     merge=merge_here)
        if resolution == "restore":
            backup_accounts = result.accounts or []
            added = self._add(backup_accounts)
            with transaction(self.conn):
                audit.record(self.conn, "backup_restored", device_id=self.device_id, detail=f"{len(added)} accounts")
            return Enabled(read_status(self.conn, self.device_id), result.holder,
                           restored=Restored(result.holder, added, len(backup_accounts)))
        config = Config(target=target, state=result.state)
        write_config(self.conn, self.device_id, self.master_key, config)
        status = status_after_success(config, result.state) if result.state else Status()
        with transaction(self.conn):
            write_status(self.conn, self.device_id, status)
            audit.record(self.conn, "backup_enabled", device_id=self.device_id,
                  detail=f"{target['kind']} {resolution or 'new'}")
        return Enabled(status, result.holder, recovery_key=result.recovery_key,
                       superseded=result.superseded, added=added, displaced=result.displaced)

    def disable(self, *, delete_remote: bool) -> Status:
        """Turn backup off, keeping or deleting the backup at the backup account."""
        config = read_config(self.conn, self.device_id, self.master_key)
        if config is not None:
            try:
                self.service.disable(load(config.target), config.state, delete_remote)
            except BackupError:
                if delete_remote:
                    raise  # nothing changed here: say why the backup could not be deleted
        write_config(self.conn, self.device_id, self.master_key, None)
        with transaction(self.conn):
            write_status(self.conn, self.device_id, Status())
            audit.record(self.conn, "backup_disabled", device_id=self.device_id,
                  detail="deleted" if delete_remote else "kept")
        return Status()

    def change(self, fn: Callable[[list[Account]], list[Account]]) -> accts.Written:
        """Change this device's accounts (one decryption, one vault write), then hand what was
        written to the backup push when backup is on. The push never raises: a failed backup is
        recorded in the status and retried, and the change stays committed."""
        written = accts.change(self.conn, self.device_id, self.master_key, fn)
        self.push(after_change=True, written=written)
        return written

    def change_library(self, fn: Callable[[list[Account], list[dict[str, str]]], accts.Library]) -> accts.Written:
        """Change this device's accounts and groups in one vault write, then push as `change` does."""
        written = accts.change_library(self.conn, self.device_id, self.master_key, fn)
        self.push(after_change=True, written=written)
        return written

    def merge(self, new: list[Account]) -> tuple[list[Account], list[Skipped]]:
        """Add the accounts of `new` that are not here yet (one vault write, then the push);
        return those added and those skipped as already here."""
        added: list[Account] = []
        dupes: list[Skipped] = []

        def apply(existing: list[Account]) -> list[Account]:
            result, done, skipped = accts.merge_new(existing, new)
            added.extend(done)
            dupes.extend(skipped)
            return result

        if new:
            self.change(apply)
        return added, dupes

    def add(self, new: list[Account], *, client: str) -> tuple[list[Account], list[Skipped]]:
        """`merge`, recording how many were added as a security event (never which)."""
        added, dupes = self.merge(new)
        if added:
            with transaction(self.conn):
                audit.record(self.conn, "account_added", device_id=self.device_id, detail=str(len(added)),
                             client=client)
        return added, dupes

    def delete(self, account_id: str, *, client: str) -> Account:
        """Delete one account (AccountError account_not_found if it is not here), push, and
        record it (never which)."""
        gone: list[Account] = []

        def apply(existing: list[Account]) -> list[Account]:
            gone.append(accts.find(existing, account_id))
            return [a for a in existing if a.id != account_id]

        self.change(apply)
        audit.record(self.conn, "account_deleted", device_id=self.device_id, client=client)
        return gone[0]

    def push(self, *, force: bool = False, after_change: bool = False,
             written: accts.Written | None = None) -> Status:
        """Back this device's accounts up now if backup is on (see `push`)."""
        return push(self.conn, self.device_id, self.master_key, self.service,
                    force=force, after_change=after_change, written=written)

    def back_up_now(self) -> Status:
        """Back up now, also after an error or in a waiting state; BackupOff when off."""
        if read_status(self.conn, self.device_id).state == "off":
            raise BackupOff()
        return self.push(force=True)

    def restore(self, target: dict[str, Any], recovery_key: str | None, *, merge: bool) -> Restored:
        """Restore a backup onto this device; a device with accounts must say `merge`."""
        if not recovery_key:
            raise RecoveryKeyRequired()
        holder, restored = self.service.restore(load(target), recovery_key)
        existing = accts.load_accounts(self.conn, self.device_id, self.master_key)
        if existing and not merge:
            raise DeviceNotEmpty(holder, len(existing))
        added = self._add(restored)
        with transaction(self.conn):
            audit.record(self.conn, "backup_restored", device_id=self.device_id, detail=f"{len(added)} accounts")
        self.push(after_change=True)
        return Restored(holder, added, len(restored))

    def restore_version(self, name: str, recovery_key: str | None) -> Restored:
        """Add the accounts of a kept version to this device (nothing here is removed)."""
        if not recovery_key:
            raise RecoveryKeyRequired()
        holder, restored = self.service.restore_version(load(self.config().target), name, recovery_key)
        added = self._add(restored)
        self.push(after_change=True)
        return Restored(holder, added, len(restored))

    # -- in the background ---------------------------------------------------------------------

    def retry_in_background(self) -> bool:
        """Retry a failed backup once its retry time has come, in a thread of its own: the code
        list polls this, and a backup server that hangs (up to the WebDAV read timeout, 20 s per
        request) must not hold the codes back, nor a worker thread per poll. True if started."""
        if self.db_path is None or not claim_retry(self.conn, self.device_id):
            return False
        db_path, device_id, key, service = self.db_path, self.device_id, self.master_key, self.service

        def run() -> None:
            try:
                own = connect_db(db_path)
                try:
                    push(own, device_id, key, service)  # records success or failure in the status
                finally:
                    own.close()
            except Exception as exc:  # noqa: BLE001 - a thread has no one to answer; say what, not the data
                log.warning("background backup retry of device %s failed: %s", device_id, type(exc).__name__)

        threading.Thread(target=run, name="backup-retry", daemon=True).start()
        return True


# --- at a glance: is this device's backup healthy? ---------------------------------------------

FAILING_GRACE = 24 * 3600  # a backup that keeps failing for longer than this is marked
NEEDS_PERSON = ("tampered", "rolled-back", "wrong-recovery-key", "unauthorized")


@dataclass(frozen=True)
class Health:
    """Whether the list and Settings mark this device's backup, and why.

    `reason`: None (healthy, or nothing to back up), "never" (accounts here, no backup made),
    "taken" (another device took the backup account over), "failing" (failing for more than a
    day), "attention" (a state that waits for the person: tampered, rolled back, refused)."""

    reason: str | None
    since: float | None = None
    device_name: str | None = None  # for "taken": who took it over

    @property
    def ok(self) -> bool:
        """True when nothing is marked."""
        return self.reason is None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for GET /api/backup."""
        return {"ok": self.ok, "reason": self.reason, "since": self.since, "device_name": self.device_name}


def health(status: Status, *, account_count: int, now: float | None = None) -> Health:
    """The health mark of a backup status (no network: what the status row says)."""
    now = time.time() if now is None else now
    state = status.state
    if state == "off":
        return Health("never") if account_count > 0 else Health(None)
    if state == "replaced":
        return Health("taken", status.failed_at, (status.holder or {}).get("device_name"))
    if state in NEEDS_PERSON:
        return Health("attention", status.failing_since or status.failed_at)
    if state in RETRYING:
        since = status.failing_since or status.failed_at
        if not status.last_backup_at:
            return Health("never", since)
        if since is not None and now - since > FAILING_GRACE:
            return Health("failing", since)
    return Health(None)


def account_count(conn: sqlite3.Connection, device_id: str) -> int:
    """How many accounts this device holds (kept beside the vault; no key needed)."""
    return registry.account_count(conn, device_id) or 0


def health_of(conn: sqlite3.Connection, device_id: str) -> Health:
    """The health mark of this device's backup, from its status row."""
    return health(read_status(conn, device_id), account_count=account_count(conn, device_id))
