"""A device's account list: read from and written to its encrypted vault, one transaction a change.

No Flask here. Callers hold the device's master key (from an unlock session); every function that
changes accounts decrypts, changes and re-encrypts inside one SQLite write transaction, so two
requests from two workers never lose each other's change.
"""
from __future__ import annotations

import bisect
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..db import transaction
from ..devices import registry
from ..errors import N_, AuthVaultError
from ..model import Account, Skipped, account_key, new_id
from . import entries, envelope, slots
from .crypto import ScryptParams, new_master_key


class AccountError(AuthVaultError):
    """An account that cannot be found or changed."""


def create_vault(conn: sqlite3.Connection, device_id: str, passphrase: str, params: ScryptParams) -> bytes:
    """Create the empty vault of a new device (inside the caller's transaction); return its master key."""
    master_key = new_master_key()
    slot = slots.passphrase_slot(master_key, passphrase, params)
    env = envelope.seal(entries.db_from_accounts([]), master_key, [slot], device_id)
    conn.execute("INSERT INTO vaults(device_id, envelope, updated_at) VALUES (?,?,?)",
                 (device_id, json.dumps(env), time.time()))
    return master_key


def read_envelope(conn: sqlite3.Connection, device_id: str) -> dict[str, Any]:
    """The stored (encrypted) envelope of a device's vault."""
    row = conn.execute("SELECT envelope FROM vaults WHERE device_id = ?", (device_id,)).fetchone()
    if row is None:
        raise AccountError("vault_missing", N_("This device has no vault."))
    env: dict[str, Any] = json.loads(row["envelope"])
    return env


def write_envelope(conn: sqlite3.Connection, device_id: str, env: dict[str, Any]) -> str:
    """Store a device's envelope (inside the caller's transaction); return the text stored."""
    text = json.dumps(env)
    conn.execute("UPDATE vaults SET envelope = ?, updated_at = ? WHERE device_id = ?",
                 (text, time.time(), device_id))
    return text


def is_current(conn: sqlite3.Connection, device_id: str, written: Written) -> bool:
    """Whether the vault is still exactly what `written` stored (no decryption: every write of an
    envelope has fresh nonces, so equal text means no change since)."""
    row = conn.execute("SELECT envelope FROM vaults WHERE device_id = ?", (device_id,)).fetchone()
    return row is not None and row["envelope"] == written.envelope_text


def unlock_with_passphrase(conn: sqlite3.Connection, device_id: str, passphrase: str) -> bytes:
    """The master key of a device's vault, if the passphrase opens it (WrongPassphrase otherwise)."""
    return envelope.unlock_with_passphrase(read_envelope(conn, device_id), passphrase)


def replace_passphrase(conn: sqlite3.Connection, device_id: str, master_key: bytes,
                       slot: slots.Slot) -> str:
    """Put `slot` (a new passphrase slot for the same master key) in place of the device's passphrase
    slots, inside the caller's transaction; every other slot (passkeys) stays as it is, and the
    entries are not re-encrypted (`db` stays byte for byte: only the slots and header MAC change).
    Returns the envelope text stored."""
    if slot.type != "passphrase":
        raise ValueError("not a passphrase slot")
    env = read_envelope(conn, device_id)
    kept = [s for s in envelope.slots_of(env) if s.type != "passphrase"]
    return write_envelope(conn, device_id, envelope.with_slots(env, master_key, [slot, *kept]))


#: The key of the decrypted vault database under which AuthVault keeps what is not an account
#: (the backup account and its keys, this device's key pair); Aegis ignores it on import.
PRIVATE_KEY = "authvault"


def private_part(db: dict[str, Any]) -> dict[str, Any]:
    """A copy of AuthVault's private part of a decrypted vault database (empty when there is none)."""
    part = db.get(PRIVATE_KEY)
    return dict(part) if isinstance(part, dict) else {}


def change_private(conn: sqlite3.Connection, device_id: str, master_key: bytes,
                   fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
    """The one writer of AuthVault's private part of a device's vault, inside the caller's
    transaction: `fn` gets a copy of the part as stored and returns the part to store, or None to
    leave the vault as it is (nothing is written). The accounts are not re-encrypted. Returns the
    part the vault now holds."""
    env = read_envelope(conn, device_id)
    db = envelope.open_db(env, master_key, expected_device_id=device_id)
    new = fn(private_part(db))
    if new is None:
        return private_part(db)
    db[PRIVATE_KEY] = new
    write_envelope(conn, device_id, envelope.replace_db(env, master_key, db))
    return dict(new)


def load_db(conn: sqlite3.Connection, device_id: str, master_key: bytes) -> dict[str, Any]:
    """The decrypted vault database (Aegis db shape plus AuthVault's private keys)."""
    return envelope.open_db(read_envelope(conn, device_id), master_key, expected_device_id=device_id)


def load_accounts(conn: sqlite3.Connection, device_id: str, master_key: bytes) -> list[Account]:
    """The device's accounts, in the person's order."""
    return entries.accounts_from_db(load_db(conn, device_id, master_key))


def refresh_account_count(conn: sqlite3.Connection, device_id: str, master_key: bytes) -> int:
    """Count the device's accounts and record the count (a vault written before counts were kept
    has none); return it."""
    count = len(load_accounts(conn, device_id, master_key))
    with transaction(conn):
        registry.record_account_count(conn, device_id, count)
    return count


@dataclass
class Written:
    """What one change stored: the accounts, the whole decrypted vault database (accounts plus
    AuthVault's private part) and the envelope text, so what comes next (the backup push) needs
    neither another decryption nor another write."""

    accounts: list[Account]
    db: dict[str, Any]
    envelope_text: str

    @property
    def groups(self) -> list[dict[str, str]]:
        """The group list stored (`{"uuid", "name"}`, in order)."""
        return entries.groups_of_db(self.db)


def load_library(conn: sqlite3.Connection, device_id: str,
                 master_key: bytes) -> tuple[list[Account], list[dict[str, str]]]:
    """The device's accounts (in the person's order) and its groups (`{"uuid", "name"}`, in order)."""
    db = load_db(conn, device_id, master_key)
    return entries.accounts_from_db(db), entries.groups_of_db(db)


Library = tuple[list[Account], list[dict[str, str]]]


def change(conn: sqlite3.Connection, device_id: str, master_key: bytes,
           fn: Callable[[list[Account]], list[Account]]) -> Written:
    """Apply `fn` to the account list and store the result: one decryption, one write, one
    write transaction."""
    return change_library(conn, device_id, master_key, lambda accounts, groups: (fn(accounts), groups))


def change_library(conn: sqlite3.Connection, device_id: str, master_key: bytes,
                   fn: Callable[[list[Account], list[dict[str, str]]], Library]) -> Written:
    """Apply `fn` to the accounts and the group list and store both, as `change` does.

    A group keeps its uuid (what Aegis exports carry) while it exists, also with no accounts.
    """
    with transaction(conn):
        env = read_envelope(conn, device_id)
        db = envelope.open_db(env, master_key, expected_device_id=device_id)
        accounts, groups = fn(entries.accounts_from_db(db), entries.groups_of_db(db))
        new_db = entries.db_from_accounts(accounts, groups)
        for key, value in db.items():  # keep what is not an account (PRIVATE_KEY's part)
            new_db.setdefault(key, value)
        text = write_envelope(conn, device_id, envelope.replace_db(env, master_key, new_db))
        # How many accounts a device holds is not secret; the devices page shows it without a key.
        registry.record_account_count(conn, device_id, len(accounts))
    return Written(accounts, new_db, text)


def change_accounts(conn: sqlite3.Connection, device_id: str, master_key: bytes,
                    fn: Callable[[list[Account]], list[Account]]) -> list[Account]:
    """`change`, for callers that only need the accounts."""
    return change(conn, device_id, master_key, fn).accounts


def _identity(a: Account) -> tuple[str, str]:
    return a.issuer.strip().casefold(), a.name.strip().casefold()


def merge_new(existing: list[Account], new: Iterable[Account]) -> tuple[list[Account], list[Account], list[Skipped]]:
    """Add `new` accounts to `existing`: skip exact duplicates, fill in "action required" placeholders.

    Returns the new list, the accounts added (or completed) and the ones skipped. Linear in the
    number of accounts: an import file of many thousands must not take minutes.
    """
    result = list(existing)
    added: list[Account] = []
    skipped: list[Skipped] = []
    have = {account_key(e) for e in result if not e.action_required}
    ids = {e.id for e in result}
    placeholders: dict[tuple[str, str], list[int]] = {}  # identity -> indexes in result, ascending
    for i, e in enumerate(result):
        if e.action_required:
            placeholders.setdefault(_identity(e), []).append(i)
    for acc in new:
        key = account_key(acc)
        if key in have:
            skipped.append(Skipped(acc.issuer, acc.name, "duplicate",
                                   N_("%(label)s is already in this vault."),
                                   {"label": label_of(acc)}))
            continue
        waiting = placeholders.get(_identity(acc))
        if waiting:
            i = waiting.pop(0)
            acc.id = result[i].id
            acc.note = acc.note or result[i].note
            acc.backup_policy = result[i].backup_policy
            result[i] = acc
        else:
            if acc.id in ids:  # another account here has this id (both copied from one device)
                acc.id = new_id()
            i = len(result)
            result.append(acc)
        ids.add(acc.id)
        if acc.action_required:
            bisect.insort(placeholders.setdefault(_identity(acc), []), i)
        else:
            have.add(key)
        added.append(acc)
    return result, added, skipped


def label_of(acc: Account) -> str:
    """How an account is named to a person: "Issuer (name)", or whichever is set."""
    if acc.issuer and acc.name:
        return f"{acc.issuer} ({acc.name})"
    return acc.issuer or acc.name or "—"


def find(accounts: list[Account], account_id: str) -> Account:
    """The account with this id (AccountError account_not_found otherwise)."""
    for acc in accounts:
        if acc.id == account_id:
            return acc
    raise AccountError("account_not_found", N_("That account is not in this vault (it may have been deleted)."))
