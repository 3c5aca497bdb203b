"""The backup object `authvault-backup.json`: a readable part plus a standard Aegis vault.

Shape::

    {"format": "authvault-backup", "format_version": 1,
     "backup_id": "...", "holder": {"device_id": "...", "device_name": "iPhone"},
     "count": 20, "updated_at": "2026-11-22T02:10:00Z", "generation": 7,
     "key_origin": {"device_name": "iPhone", "created_at": "2026-11-20T08:00:00.000Z"},
     "vault": <an encrypted Aegis vault file: one password slot (the recovery slot)>}

`key_origin` says whose recovery sheet holds the key that opens this backup: the device that
made the key (at its first enable, or a Replace without the old key) and when. A Merge, or a
Replace with the holder's key, keeps the key and so keeps its origin: after the iPad merges
into the iPhone's backup, the key is still the one on the iPhone's sheet. Objects written
before it existed have none (the pages then say "the recovery key of this backup").

The readable part lets a device say whose backup it is before it can decrypt anything. It is
repeated inside the encrypted Aegis db under the top-level key "authvault" (Aegis ignores it on
import) together with the placeholders of this-device-only accounts (issuer and name, no secret);
after decryption the two copies must match, so a tampered label is caught. `vault` alone, saved
as a file, imports into Aegis with the recovery key (as printed) as its password.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import Any, Sequence

from .. import gates
from ..errors import N_
from ..model import Account
from ..vault import entries, envelope
from ..vault import slots as vault_slots
from ..vault.errors import KdfCostTooHigh, VaultDamaged, VaultError, WrongPassphrase
from .errors import BackupError, BackupTampered, WrongRecoveryKey, shown_name

log = logging.getLogger(__name__)

FORMAT = "authvault-backup"
FORMAT_VERSION = 1
OBJECT_NAME = "authvault-backup.json"
VERSIONS_PREFIX = "versions"
CLAIMS_PREFIX = "claims"
_READABLE_KEYS = ("format", "format_version", "backup_id", "holder", "count", "updated_at",
                  "generation", "key_origin")


@dataclass(frozen=True)
class KeyOrigin:
    """Whose recovery sheet the key of a backup is printed on, and when that key was made."""

    device_name: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the readable part and the pages."""
        return {"device_name": self.device_name, "created_at": self.created_at}

    @classmethod
    def from_json(cls, data: Any) -> KeyOrigin | None:
        """The origin a readable part or a stored state carries; None if absent or malformed."""
        if not isinstance(data, dict):
            return None
        name, created = data.get("device_name"), data.get("created_at")
        if not isinstance(name, str) or not isinstance(created, str) or len(created) > 40 \
                or len(name) > 10_000:
            return None
        return cls(shown_name(name), created)


@dataclass(frozen=True)
class Holder:
    """Whose backup an object is, as its readable part says."""

    device_id: str
    device_name: str
    count: int
    updated_at: str
    generation: int
    backup_id: str
    key_origin: KeyOrigin | None = None

    def to_json(self) -> dict[str, Any]:
        """The holder as plain JSON (for the web layer)."""
        data = dataclasses.asdict(self)
        data["key_origin"] = self.key_origin.to_json() if self.key_origin else None
        return data


@dataclass(frozen=True)
class Parsed:
    """An object read from the backup account: its holder, raw bytes, ETag and JSON."""

    holder: Holder
    data: bytes
    etag: str
    obj: dict[str, Any]


def is_placeholder(account: Account) -> bool:
    """Whether `account` stays out of backups (this-device-only, or a secret-less placeholder)."""
    return account.backup_policy == "this-device-only" or (account.action_required
                                                           and not account.secret)


def readable_part(holder: Holder) -> dict[str, Any]:
    """The readable part of an object for `holder`."""
    part: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "backup_id": holder.backup_id,
        "holder": {"device_id": holder.device_id, "device_name": holder.device_name},
        "count": holder.count, "updated_at": holder.updated_at, "generation": holder.generation}
    if holder.key_origin is not None:
        part["key_origin"] = holder.key_origin.to_json()
    return part


def build(holder: Holder, accounts: Sequence[Account], master_key: bytes,
          recovery_slot: vault_slots.Slot) -> bytes:
    """The bytes of an object: readable part + Aegis vault (no scrypt: the slot is reused)."""
    backed = [a for a in accounts if not is_placeholder(a)]
    placeholders = [{"issuer": a.issuer, "name": a.name, "type": a.type, "id": a.id}
                    for a in accounts if is_placeholder(a)]
    if holder.count != len(backed) + len(placeholders):
        raise ValueError("holder.count must count every account")
    db = entries.db_from_accounts(backed)
    db["authvault"] = dict(readable_part(holder), placeholders=placeholders)
    obj = readable_part(holder)
    obj["vault"] = envelope.to_aegis_vault_with_master_key(db, master_key, [recovery_slot])
    return json.dumps(obj, indent=1, sort_keys=False).encode("utf-8") + b"\n"


def parse(data: bytes, etag: str) -> Parsed:
    """The readable part of an object; BackupTampered if it is not a well-formed object."""
    try:
        obj = json.loads(data.decode("utf-8"))
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise ValueError("not an AuthVault backup")
        version = obj["format_version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("bad format_version")
        if version > FORMAT_VERSION:
            # Nothing is wrong with the backup account: this AuthVault is older than the backup.
            raise BackupError("backup_format_unsupported",
                              N_("This backup was written by a newer AuthVault (format "
                                 "%(version)s). Update AuthVault to use it."), version=version)
        holder = Holder(device_id=_s(obj["holder"]["device_id"], 100),
                        device_name=shown_name(_s(obj["holder"]["device_name"], 10_000)),
                        count=_i(obj["count"]), updated_at=_s(obj["updated_at"], 40),
                        generation=_i(obj["generation"]), backup_id=_s(obj["backup_id"], 100),
                        key_origin=KeyOrigin.from_json(obj.get("key_origin")))
        if not isinstance(obj.get("vault"), dict):
            raise ValueError("no vault")
    except BackupError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BackupTampered(N_("the backup file is not readable")) from exc
    return Parsed(holder, data, etag, obj)


def _s(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise TypeError("expected a string of bounded length")
    return value


def _i(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("expected a non-negative integer")
    return value


def _check_inner(parsed: Parsed, db: dict[str, Any]) -> None:
    inner = db.get("authvault")
    outer = {k: parsed.obj.get(k) for k in _READABLE_KEYS}
    if not isinstance(inner, dict) or {k: inner.get(k) for k in _READABLE_KEYS} != outer:
        log.warning("backup %s: readable part differs from its encrypted copy",
                    parsed.holder.backup_id)
        raise BackupTampered(N_("the readable part does not match the encrypted backup"))


def open_with_master_key(parsed: Parsed, master_key: bytes) -> dict[str, Any]:
    """The decrypted db, checked against the readable part; BackupTampered otherwise."""
    try:
        db = envelope.open_aegis_db(parsed.obj["vault"], master_key)
    except (VaultDamaged, VaultError) as exc:
        raise BackupTampered(N_("the encrypted backup does not verify")) from exc
    _check_inner(parsed, db)
    return db


def open_with_recovery_key(parsed: Parsed,
                           recovery_key: str) -> tuple[bytes, vault_slots.Slot, dict[str, Any]]:
    """(master key, recovery slot, db) of an object; WrongRecoveryKey or BackupTampered.

    Runs scrypt once (the cost recorded in the slot); keep the key and slot for later pushes.
    """
    try:
        canonical = vault_slots.normalize_recovery_key(recovery_key)
    except VaultError as exc:
        raise WrongRecoveryKey() from exc
    try:
        found = envelope.aegis_slots(parsed.obj["vault"])
    except KdfCostTooHigh as exc:  # AuthVault writes N=2^15, r=8, p=1: this is not its backup
        raise BackupTampered(N_("its key slot asks for more computation than AuthVault does")) from exc
    except (VaultDamaged, VaultError) as exc:
        raise BackupTampered(N_("the backup's key slot is damaged")) from exc
    if not found:
        raise BackupTampered(N_("the backup has no recovery slot"))
    for slot in found:
        try:
            with gates.KDF_GATE.hold():
                kek = vault_slots.derive_passphrase_kek(slot, canonical)
            master_key = vault_slots.unwrap_with_kek(slot, kek)
        except WrongPassphrase:
            continue
        except (VaultDamaged, VaultError) as exc:
            raise BackupTampered(N_("the backup's key slot is damaged")) from exc
        db = open_with_master_key(parsed, master_key)
        return master_key, dataclasses.replace(slot, type="recovery"), db
    raise WrongRecoveryKey()


def accounts_of(db: dict[str, Any]) -> list[Account]:
    """The accounts of a decrypted backup db, placeholders last, as action-required accounts."""
    try:
        accounts = entries.accounts_from_db(db)
    except VaultError as exc:
        raise BackupTampered(N_("an account in the backup cannot be read")) from exc
    inner = db.get("authvault") or {}
    for item in inner.get("placeholders") or []:
        if not isinstance(item, dict):
            continue
        kwargs: dict[str, Any] = {"secret": b"", "issuer": str(item.get("issuer") or ""),
                                  "name": str(item.get("name") or ""),
                                  "backup_policy": "this-device-only", "action_required": True}
        if item.get("type") in ("totp", "hotp", "steam"):
            kwargs["type"] = item["type"]
        if isinstance(item.get("id"), str) and item["id"]:
            kwargs["id"] = item["id"]
        accounts.append(Account(**kwargs))
    return accounts
