"""The one-backup-per-account rule: enable, push, restore, versions, disable.

Two devices must never both believe they hold one backup account. Two layers make sure:

1. Inside one AuthVault server, every operation on one backup account runs under an exclusive
   `flock` on `<lock_dir>/backup-<sha256(store identity)>.lock`, which holds across gunicorn
   worker processes and threads.
2. Against every other writer (a second server, a reinstall), each state transition — first
   claim, replace, merge, and every normal push from generation g to g+1 — must first win the
   claim `claims/<g+1>` through `Store.claim`, an operation that is atomic on each kind (mkdir on
   a folder, MKCOL on WebDAV, a create-only PUT on S3). Only the winner writes the object with
   generation g+1, conditionally (only-if-absent / If-Match the ETag it read), and reads it
   back. A loser waits briefly for the winner's object and reports who holds the account.
   Conditional PUT alone is not trusted: WebDAV servers let two concurrent ones through.

A writer that dies between winning a claim and writing the object leaves a claim without an
object. That claim counts as abandoned, and the next writer claims the generation after it,
when: the claim's record names this server (`server_id`) — we hold the lock, so its writer is
gone; or the claim has had no record for RECORD_GRACE seconds (killed between MKCOL and the
record's PUT); or it is older than `claim_lease`. A writer never writes after lease/2, nor under
a claim whose record took longer than RECORD_GRACE/2 to land.
Each winner also keeps the full new object in its claim (`claims/<g>/object.json`) before it
touches `authvault-backup.json`: a writer killed in the middle of its PUT leaves half an object
on servers that write in place (wsgidav), and readers then use that verified copy instead.

Device-side state (`BackupState`, including the backup master key) is kept by the caller inside
the device's encrypted vault; a push re-encrypts the db under that key and runs no scrypt.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Sequence

from ..files import create_once, file_lock
from ..model import Account
from ..vault import crypto
from ..vault import slots as vault_slots
from ..vault.crypto import DEFAULT_SCRYPT, ScryptParams
from ..vault.store import merge_new
from . import objects
from .base import Store, check_name
from .errors import (
    BackupBusy,
    BackupError,
    BackupMissing,
    BackupPreconditionFailed,
    BackupReplaced,
    BackupRolledBack,
    BackupTaken,
    BackupTampered,
    RecoveryKeyRequired,
)
from .objects import CLAIMS_PREFIX, OBJECT_NAME, VERSIONS_PREFIX, Holder, KeyOrigin, Parsed

log = logging.getLogger(__name__)

Resolution = Literal["replace", "merge", "restore"]
RESOLUTIONS = ("replace", "merge", "restore")
KEEP_CLAIMS = 3  # claims kept behind the current generation (older ones are removed)
MAX_SKIPS = 8  # abandoned claims skipped in one transition, at most
CLAIM_COPY = "object.json"  # the full object, kept in its claim before the object is written
RECORD_GRACE = 2.0  # seconds a claim may be without its record before it counts as abandoned
TORN_RETRIES = 3  # re-reads of an unreadable object before it is reported (0.05-0.4 s apart)


@dataclass
class BackupState:
    """What a device must persist (inside its encrypted vault) while its backup is on.

    `master_key` and `recovery_slot` are secret-bearing: never log them. `generation` and
    `etag` are the last generation and ETag this device wrote or read (rollback detection).
    """

    backup_id: str
    device_id: str
    device_name: str
    generation: int
    etag: str
    updated_at: str
    count: int
    master_key: bytes
    recovery_slot: dict[str, Any]
    key_origin: KeyOrigin | None = None  # whose sheet holds the recovery key, and since when

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return (f"BackupState(backup_id={self.backup_id!r}, device_id={self.device_id!r}, "
                f"generation={self.generation}, count={self.count})")

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the caller's encrypted vault (master key as hex)."""
        data = dataclasses.asdict(self)
        data["master_key"] = self.master_key.hex()
        data["key_origin"] = self.key_origin.to_json() if self.key_origin else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackupState:
        """The state `to_json` wrote."""
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["master_key"] = bytes.fromhex(data["master_key"])
        values["key_origin"] = KeyOrigin.from_json(data.get("key_origin"))
        return cls(**values)

    def slot(self) -> vault_slots.Slot:
        """The recovery slot as a vault Slot."""
        return vault_slots.Slot.from_json(self.recovery_slot)


@dataclass
class EnableResult:
    """What `enable` did.

    - `state`: the new BackupState to persist (None after `restore`: nothing was taken over).
    - `recovery_key`: only when a new recovery key was made; show it once, never store it.
      Otherwise the key of `holder.key_origin`'s sheet keeps opening the backup.
    - `accounts`: the merged list after `merge`, the backup's accounts after `restore`
      (the caller puts them into the device's vault), else None.
    - `holder`: who holds the backup account now (for `restore`: whose backup was read).
    - `superseded`: the versions/ name the previous object was kept under, if any.
    - `displaced`: the other device whose backup this choice took over (replace, merge).
    """

    state: BackupState | None
    holder: Holder
    recovery_key: str | None = None
    accounts: list[Account] | None = None
    superseded: str | None = None
    displaced: Holder | None = None


@dataclass(frozen=True)
class Version:
    """One kept previous backup under versions/."""

    name: str
    holder: Holder


def now_iso() -> str:
    """The current UTC time as ISO 8601 with a Z, to the millisecond."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _LostClaim(Exception):
    """Internal: another writer won the claim this transition needed."""


class BackupService:
    """The backup rules for one AuthVault server (one lock folder shared by its workers)."""

    def __init__(self, lock_dir: str | os.PathLike[str], *, keep_versions: int = 5,
                 scrypt: ScryptParams = DEFAULT_SCRYPT, claim_lease: float = 120.0,
                 claim_wait: float = 10.0, lock_timeout: float = 120.0) -> None:
        self.lock_dir = Path(lock_dir)
        self.keep_versions = keep_versions
        self.scrypt = scrypt
        self.claim_lease = claim_lease
        self.claim_wait = claim_wait
        self.lock_timeout = lock_timeout
        self._server_id: str | None = None

    def server_id(self) -> str:
        """A random id of this server (all workers sharing `lock_dir`), kept in the lock dir.

        Claims record it: a claim of this server's that is found while this server holds the
        account's lock was left by a worker that died mid-transition (a live one would hold
        the lock), so it is abandoned at once instead of after the lease.
        """
        if self._server_id is None:
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            self._server_id = create_once(self.lock_dir / "server-id",
                                          lambda: uuid.uuid4().hex.encode()).decode().strip()
        return self._server_id

    # -- the local lock ------------------------------------------------------------------------

    def lock_path(self, store: Store) -> Path:
        """The lock file serializing this server's writes to `store`'s backup account."""
        digest = hashlib.sha256(store.identity().encode("utf-8")).hexdigest()[:32]
        return self.lock_dir / f"backup-{digest}.lock"

    @contextmanager
    def _locked(self, store: Store) -> Iterator[None]:
        """Hold the cross-process lock of `store` (flock on a fresh descriptor, bounded wait)."""
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self.lock_path(store), timeout=self.lock_timeout, on_timeout=BackupBusy):
            yield

    # -- reading -------------------------------------------------------------------------------

    def _current(self, store: Store) -> Parsed | None:
        """The object at the account, or None. Some WebDAV servers (wsgidav) write a PUT in
        place, so a read during another writer's PUT can see half an object: an unreadable
        object is read again a few times (bounded) before it is called tampered."""
        for attempt in range(TORN_RETRIES + 1):
            found = store.read(OBJECT_NAME)
            if found is None:
                return None
            try:
                return objects.parse(*found)
            except BackupTampered:
                if attempt == TORN_RETRIES:
                    copy = self._copy_from_claims(store, found[1])
                    if copy is None:
                        raise
                    return copy
                time.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")

    def _copy_from_claims(self, store: Store, etag: str) -> Parsed | None:
        """The newest complete copy kept in a claim, standing in for a torn object.

        A writer that dies in the middle of its PUT can leave half an object on servers that
        write in place (wsgidav does; Apache writes a temp file and renames). Every writer puts
        the full object into its claim before it touches the object, so the newest claim with
        a readable copy of its own generation is what the torn write was writing. It carries
        the torn object's ETag, so the next writer's If-Match replaces the torn object.
        """
        numbered: list[tuple[int, str]] = []
        for name in store.list_claims(CLAIMS_PREFIX):
            tail = name.rsplit("/", 1)[-1]
            if tail.isdigit():
                numbered.append((int(tail), name))
        for number, name in sorted(numbered, reverse=True)[:KEEP_CLAIMS]:
            found = store.read(f"{name}/{CLAIM_COPY}")
            if found is None:
                continue
            try:
                parsed = objects.parse(found[0], etag)
            except BackupTampered:
                continue
            if parsed.holder.generation == number:
                log.warning("backup at %s: the object is unreadable; using the copy in %s",
                            store.describe(), name)
                return parsed
        return None

    def inspect(self, store: Store) -> Holder | None:
        """Whose backup the account holds (readable part only), or None if it holds none."""
        current = self._current(store)
        return current.holder if current else None

    # -- the claim protocol -------------------------------------------------------------------

    def _record(self, generation: int, device_id: str, device_name: str,
                backup_id: str) -> bytes:
        return json.dumps({"generation": generation, "device_id": device_id,
                           "device_name": device_name, "backup_id": backup_id,
                           "server_id": self.server_id(),
                           "claimed_at": time.time()}).encode("utf-8")

    def _is_abandoned(self, store: Store, name: str) -> bool:
        info = store.read_claim(name)
        if not info.exists:
            return False
        if not info.record:
            # A writer makes its claim and puts its record in it right after (milliseconds).
            # A claim still without a record after RECORD_GRACE was left by a writer that died
            # in between (kill -9 between the two steps): found by the crash-safety test.
            # Poll (bounded): usually the record lands within milliseconds.
            deadline = time.monotonic() + RECORD_GRACE - (info.age_seconds or 0.0)
            delay = 0.01
            while not info.record and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
                info = store.read_claim(name)
                if not info.exists:
                    return False
            if not info.record:
                return True
        age = info.age_seconds
        if info.record is not None:
            try:
                record = json.loads(info.record)
                if record.get("server_id") == self.server_id():
                    return True  # ours, and we hold the lock: its writer is gone
                age = time.time() - float(record["claimed_at"])
            except (ValueError, KeyError, TypeError, AttributeError):
                age = info.age_seconds
        return age is not None and age > self.claim_lease

    def _wait_for_change(self, store: Store, current: Parsed | None) -> Parsed | None:
        """Poll (bounded) until the object differs from `current`; the last object read."""
        deadline = time.monotonic() + self.claim_wait
        delay = 0.01
        latest = current
        while time.monotonic() < deadline:
            latest = self._current(store)
            if (latest is None) != (current is None) or (
                    latest is not None and current is not None and latest.etag != current.etag):
                return latest
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        return latest

    def _claim_next(self, store: Store, current: Parsed | None, device_id: str,
                    device_name: str, backup_id: str) -> tuple[int, float]:
        """Win the claim for the generation after `current`: (generation, monotonic time the
        winning claim was started); _LostClaim if another writer won.

        Claims left by writers that died (older than the lease) are skipped.
        """
        generation = (current.holder.generation if current else 0) + 1
        for _ in range(MAX_SKIPS + 1):
            name = f"{CLAIMS_PREFIX}/{generation}"
            started = time.monotonic()
            if store.claim(name, self._record(generation, device_id, device_name, backup_id)):
                if time.monotonic() - started > RECORD_GRACE / 2:
                    # Our claim went without its record for so long that others may already
                    # count it as abandoned (RECORD_GRACE): do not write under it.
                    raise BackupBusy()
                return generation, started
            if not self._is_abandoned(store, name):
                raise _LostClaim(name)
            log.warning("backup at %s: claim %s was abandoned; claiming the next generation",
                        store.describe(), name)
            generation += 1
        raise BackupBusy()

    def _commit(self, store: Store, current: Parsed | None, *, device_id: str,
                device_name: str, backup_id: str, accounts: Sequence[Account],
                master_key: bytes, slot: vault_slots.Slot, key_origin: KeyOrigin | None,
                archive: bool) -> tuple[BackupState, str | None]:
        """Claim the next generation, keep the superseded object if asked, write, read back."""
        generation, started = self._claim_next(store, current, device_id, device_name,
                                               backup_id)
        superseded = None
        if archive and current is not None:
            superseded = self._archive(store, current)
        holder = Holder(device_id=device_id, device_name=device_name, count=len(accounts),
                        updated_at=now_iso(), generation=generation, backup_id=backup_id,
                        key_origin=key_origin)
        data = objects.build(holder, accounts, master_key, slot)
        store.write(f"{CLAIMS_PREFIX}/{generation}/{CLAIM_COPY}", data)
        if time.monotonic() - started > self.claim_lease / 2:
            # Too slow: others may already treat this claim as abandoned. Do not write.
            raise BackupBusy()
        try:
            if current is None:
                store.write(OBJECT_NAME, data, create_only=True)
            elif current.etag.startswith("W/"):
                # A weak ETag (Apache without FileETag Digest, for a file under 1 s old) never
                # matches If-Match; the claim already makes this writer the only one.
                store.write(OBJECT_NAME, data)
            else:
                store.write(OBJECT_NAME, data, if_match=current.etag)
        except BackupPreconditionFailed:
            # Somebody wrote without going through a claim (or after skipping ours).
            log.warning("backup at %s changed under claim %d", store.describe(), generation)
            raise _LostClaim(str(generation)) from None
        back = store.read(OBJECT_NAME)
        if back is None or back[0] != data:
            log.warning("backup at %s: read-back after generation %d shows another object",
                        store.describe(), generation)
            raise _LostClaim(str(generation))
        self._forget_claims(store, generation, thorough=archive)
        state = BackupState(backup_id=backup_id, device_id=device_id, device_name=device_name,
                            generation=generation, etag=back[1], updated_at=holder.updated_at,
                            count=holder.count, master_key=master_key,
                            recovery_slot=slot.to_json(), key_origin=key_origin)
        return state, superseded

    def _forget_claims(self, store: Store, generation: int, *, thorough: bool) -> None:
        """Remove claims well behind `generation` (one per push; all of them when thorough)."""
        try:
            if thorough:
                for name in store.list_claims(CLAIMS_PREFIX):
                    number = name.rsplit("/", 1)[-1]
                    if number.isdigit() and int(number) <= generation - KEEP_CLAIMS:
                        store.delete_claim(name)
            elif generation > KEEP_CLAIMS:
                store.delete_claim(f"{CLAIMS_PREFIX}/{generation - KEEP_CLAIMS}")
        except BackupError as exc:  # housekeeping only: the backup itself is complete
            log.info("backup at %s: old claims not removed (%s)", store.describe(), exc.code)

    # -- versions ------------------------------------------------------------------------------

    def _archive(self, store: Store, current: Parsed) -> str:
        """Keep `current` under versions/ (create-only), then trim to `keep_versions`."""
        stamp = current.holder.updated_at.replace(":", "").replace("-", "").replace(".", "")
        name = (f"{VERSIONS_PREFIX}/{current.holder.generation:010d}-{stamp}-"
                f"{current.holder.backup_id[:8]}.json")
        try:
            store.write(name, current.data, create_only=True)
        except BackupPreconditionFailed:
            pass  # already kept
        names = sorted(n for n in store.list(VERSIONS_PREFIX) if n.endswith(".json"))
        if self.keep_versions > 0:
            for old in names[:-self.keep_versions]:
                store.delete(old)
        log.info("backup at %s: generation %d kept as a version", store.describe(),
                 current.holder.generation)
        return name

    def list_versions(self, store: Store) -> list[Version]:
        """The kept previous backups, newest first (unreadable ones are left out)."""
        out = []
        for name in sorted(store.list(VERSIONS_PREFIX), reverse=True):
            found = store.read(name)
            if found is None:
                continue
            try:
                out.append(Version(name, objects.parse(*found).holder))
            except BackupError:
                log.warning("backup at %s: version %s is unreadable", store.describe(), name)
        return out

    def restore_version(self, store: Store, version: str,
                        recovery_key: str) -> tuple[Holder, list[Account]]:
        """The holder and accounts of one kept version (its own recovery key opens it)."""
        if not version.startswith(f"{VERSIONS_PREFIX}/") or len(version) > 200:
            raise BackupMissing("version")
        try:
            check_name(version)
        except ValueError:  # not a name AuthVault gives a version ("..", spaces...)
            raise BackupMissing("version") from None
        found = store.read(version)
        if found is None:
            raise BackupMissing("version")
        parsed = objects.parse(*found)
        _, _, db = objects.open_with_recovery_key(parsed, recovery_key)
        return parsed.holder, objects.accounts_of(db)

    # -- the operations -------------------------------------------------------------------

    def enable(self, store: Store, *, device_id: str, device_name: str,
               accounts: Sequence[Account], resolution: Resolution | None = None,
               recovery_key: str | None = None,
               expected_generation: int | None = None,
               merge: Callable[[list[Account]], Sequence[Account]] | None = None) -> EnableResult:
        """Turn backup on for this device at `store`.

        Empty account: a new backup with a new recovery key (returned once). Taken account:
        BackupTaken(holder) unless `resolution` says what to do: "replace" (this device's
        accounts; the superseded backup is kept under versions/; a new recovery key unless the
        holder's is given), "merge" (needs the holder's recovery key), "restore" (needs the
        key; returns the holder's accounts; takes nothing over).
        `expected_generation`: the generation of the backup the person saw in the conflict
        dialog; if the account changed since, BackupTaken is raised again with the new holder,
        so a choice is never applied to a backup the person was not shown.
        `merge`: given the backup's accounts, puts them on this device and returns the device's
        complete list, which becomes the merged backup, so the backup holds exactly what the
        device lists (one rule for "the same account": the device's). Without it, the backup's
        accounts are added to `accounts` by that same rule.
        """
        if resolution is not None and resolution not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {resolution!r}")
        with self._locked(store):
            current = self._current(store)
            if current is None:
                if resolution in ("merge", "restore"):
                    raise BackupMissing()
                return self._create(store, device_id, device_name, accounts, current=None)
            if resolution is None:
                raise BackupTaken(current.holder)
            if expected_generation is not None and \
                    current.holder.generation != expected_generation:
                raise BackupTaken(current.holder, expected_generation=expected_generation)
            displaced = current.holder if current.holder.device_id != device_id else None
            if resolution == "restore":
                key = _need(recovery_key)
                _, _, db = objects.open_with_recovery_key(current, key)
                return EnableResult(None, current.holder, accounts=objects.accounts_of(db))
            if resolution == "merge":
                key = _need(recovery_key)
                master_key, slot, db = objects.open_with_recovery_key(current, key)
                theirs = objects.accounts_of(db)
                merged = list(merge(theirs) if merge is not None
                              else accts_merge(list(accounts), theirs))
                state, superseded = self._guarded(
                    store, current, device_id=device_id, device_name=device_name,
                    backup_id=current.holder.backup_id, accounts=merged,
                    master_key=master_key, slot=slot, key_origin=current.holder.key_origin,
                    archive=True)
                log.info("backup at %s: merged into generation %d", store.describe(),
                         state.generation)
                return EnableResult(state, _holder(state), accounts=merged,
                                    superseded=superseded, displaced=displaced)
            # replace
            if recovery_key:
                master_key, slot, _ = objects.open_with_recovery_key(current, recovery_key)
                state, superseded = self._guarded(
                    store, current, device_id=device_id, device_name=device_name,
                    backup_id=current.holder.backup_id, accounts=accounts,
                    master_key=master_key, slot=slot, key_origin=current.holder.key_origin,
                    archive=True)
                return EnableResult(state, _holder(state), superseded=superseded,
                                    displaced=displaced)
            result = self._create(store, device_id, device_name, accounts, current=current)
            return dataclasses.replace(result, displaced=displaced)

    def _create(self, store: Store, device_id: str, device_name: str,
                accounts: Sequence[Account], *, current: Parsed | None) -> EnableResult:
        """A new backup (new key, master key and id) replacing `current` (kept) or nothing.

        The new key is printed on this device's sheet, made now: that is its origin."""
        key = vault_slots.new_recovery_key()
        master_key = crypto.new_master_key()
        slot = vault_slots.recovery_slot(master_key, key, self.scrypt)
        state, superseded = self._guarded(
            store, current, device_id=device_id, device_name=device_name,
            backup_id=uuid.uuid4().hex, accounts=accounts, master_key=master_key, slot=slot,
            key_origin=KeyOrigin(device_name, now_iso()), archive=current is not None)
        log.info("backup at %s: device %s holds it (generation %d)", store.describe(),
                 device_id, state.generation)
        return EnableResult(state, _holder(state), recovery_key=key, superseded=superseded)

    def _guarded(self, store: Store, current: Parsed | None, **kwargs: Any
                 ) -> tuple[BackupState, str | None]:
        """_commit for enable: a lost claim becomes BackupTaken by whoever won."""
        try:
            return self._commit(store, current, **kwargs)
        except _LostClaim:
            latest = self._wait_for_change(store, current)
            if latest is None:
                raise BackupBusy() from None
            raise BackupTaken(latest.holder) from None

    def push(self, store: Store, state: BackupState,
             accounts: Sequence[Account] | Callable[[], Sequence[Account]]) -> BackupState:
        """Back up `accounts` as the next generation; the new state to persist.

        `accounts` may be a function that reads them: it is called under the lock, so a push
        that waited for another one never writes a list older than the one that went before.

        BackupReplaced when another device took over (or the backup was removed),
        BackupRolledBack when the account shows an older generation than `state`,
        BackupTampered when the object does not verify.
        """
        with self._locked(store):
            if callable(accounts):
                accounts = accounts()
            current = self._current(store)
            self._check_still_mine(current, state)
            assert current is not None
            try:
                new_state, _ = self._commit(
                    store, current, device_id=state.device_id, device_name=state.device_name,
                    backup_id=state.backup_id, accounts=accounts, master_key=state.master_key,
                    slot=state.slot(), key_origin=state.key_origin, archive=False)
            except _LostClaim:
                latest = self._wait_for_change(store, current)
                if latest is None:
                    raise BackupReplaced(None) from None
                if latest.etag == current.etag:
                    raise BackupBusy() from None
                self._check_still_mine(latest, state)
                raise BackupReplaced(latest.holder) from None
            log.info("backup at %s: generation %d (%d accounts)", store.describe(),
                     new_state.generation, new_state.count)
            return new_state

    def _check_still_mine(self, current: Parsed | None, state: BackupState) -> None:
        """Raise unless `current` is this device's backup at or after `state`'s generation."""
        if current is None:
            raise BackupReplaced(None)
        holder = current.holder
        if holder.generation < state.generation:
            raise BackupRolledBack(holder.generation, state.generation)
        mine = holder.device_id == state.device_id and holder.backup_id == state.backup_id
        if not mine:
            if holder.backup_id == state.backup_id:
                # Same backup key (a merge by another device): we can verify the label.
                objects.open_with_master_key(current, state.master_key)
            raise BackupReplaced(holder)
        # Always verify (one AES-GCM pass, no scrypt): an ETag that did not change proves
        # nothing on servers whose ETag is not a content hash.
        objects.open_with_master_key(current, state.master_key)

    def verify(self, store: Store, state: BackupState) -> Holder:
        """Check, without writing, that the backup is still this device's and intact."""
        current = self._current(store)
        self._check_still_mine(current, state)
        assert current is not None
        objects.open_with_master_key(current, state.master_key)
        return current.holder

    def restore(self, store: Store, recovery_key: str) -> tuple[Holder, list[Account]]:
        """The holder and accounts of the backup (this-device-only ones as placeholders)."""
        current = self._current(store)
        if current is None:
            raise BackupMissing()
        _, _, db = objects.open_with_recovery_key(current, recovery_key)
        return current.holder, objects.accounts_of(db)

    def disable(self, store: Store, state: BackupState | None, delete_remote: bool) -> None:
        """Turn backup off; with `delete_remote`, remove this device's backup, its own versions
        and the claims.

        Another device's backup is never deleted: if the account no longer holds this device's
        backup, nothing remote is touched.
        """
        if not delete_remote or state is None:
            return
        with self._locked(store):
            current = self._current(store)
            if current is None or current.holder.device_id != state.device_id \
                    or current.holder.backup_id != state.backup_id:
                log.info("backup at %s: not this device's backup; left in place",
                         store.describe())
                return
            store.delete(OBJECT_NAME, if_match=current.etag)
            for version in self.list_versions(store):
                # Another device's backup kept by a Replace or Merge is not this device's to
                # delete (nothing is lost by a choice made in a conflict dialog).
                if version.holder.device_id == state.device_id:
                    store.delete(version.name)
            for name in store.list_claims(CLAIMS_PREFIX):
                store.delete_claim(name)
            log.info("backup at %s: deleted by its holder", store.describe())


def _need(recovery_key: str | None) -> str:
    if not recovery_key:
        raise RecoveryKeyRequired()
    return recovery_key


def _holder(state: BackupState) -> Holder:
    return Holder(device_id=state.device_id, device_name=state.device_name, count=state.count,
                  updated_at=state.updated_at, generation=state.generation,
                  backup_id=state.backup_id, key_origin=state.key_origin)


def accts_merge(mine: list[Account], theirs: list[Account]) -> list[Account]:
    """`mine` plus the accounts of `theirs` that are not already in it, by the device's rule."""
    return merge_new(mine, theirs)[0]


__all__ = ["BackupService", "BackupState", "EnableResult", "Version", "Resolution",
           "RESOLUTIONS", "now_iso"]
