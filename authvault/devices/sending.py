"""Send accounts to another of one's own devices, encrypted so that the server cannot read them.

Each device has an X25519 key pair. The private half lives inside the device's encrypted vault
(`db["authvault"]["device_key"]`), so it is only usable while that device is unlocked; the public
half is in the `device_keys` table, where any other device can find it.

A transfer is sealed to the receiving device's public key, ECIES style:

    ephemeral X25519 key pair (fresh per transfer)
    shared  = X25519(ephemeral private, receiver public)
    key     = HKDF-SHA256(shared, salt = ephemeral public || receiver public,
                          info = "authvault-transfer-v1", 32 bytes)
    sealed  = AES-256-GCM(key, 12-byte random nonce, plaintext,
                          AAD = canonical JSON {"v", "sender", "receiver", "transfer", "epk"})

The associated data binds the sending device, the receiving device and the transfer id: a row
moved to another receiver, relabelled as coming from another sender, or swapped with another
transfer's row fails to open. The plaintext is `{"entries": [...]}`, Aegis entries as the vault
holds them (`authvault.vault.entries.account_to_entry`).

No Flask here: the web layer (`authvault.web.transfer_api`) calls these with a connection.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from .. import audit
from ..db import transaction
from ..errors import N_, AuthVaultError
from ..model import Account, Skipped, new_id
from ..vault import entries, envelope
from ..vault import store as accts

log = logging.getLogger(__name__)

VERSION = 1
HKDF_INFO = b"authvault-transfer-v1"
KEY_BYTES = 32
NONCE_BYTES = 12
#: How many accounts one transfer may carry, and how many transfers may wait for one device.
MAX_ACCOUNTS = 500
MAX_PENDING = 50


class TransferError(AuthVaultError):
    """A transfer that cannot be made or opened; `code` says why."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: Any, size: int | None = None) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    raw = base64.b64decode(text, validate=True)
    if size is not None and len(raw) != size:
        raise ValueError("wrong length")
    return raw


def damaged() -> TransferError:
    """The error for a transfer that does not open: changed, moved, or sealed to another key."""
    return TransferError("transfer_damaged", N_(
        "These accounts could not be opened on this device: the transfer was changed, or it was "
        "encrypted for another device or an earlier key of this one. Ask for them to be sent again."))


# --- key pairs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyPair:
    """A device's X25519 key pair (raw 32-byte halves)."""

    private: bytes
    public: bytes


def new_key_pair() -> KeyPair:
    """A fresh X25519 key pair."""
    return key_pair_from_private(X25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def key_pair_from_private(private: bytes) -> KeyPair:
    """The key pair of a raw private key."""
    key = X25519PrivateKey.from_private_bytes(private)
    return KeyPair(private, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def fingerprint(public: bytes) -> str:
    """A short identifier of a public key (which key a transfer was sealed to)."""
    return hashlib.sha256(public).hexdigest()[:16]


# --- sealing --------------------------------------------------------------------------------------

def associated_data(sender_id: str, receiver_id: str, transfer_id: str, epk: bytes) -> bytes:
    """The AES-GCM associated data: binds sender, receiver, transfer and the ephemeral key."""
    return envelope.canonical_json({"v": VERSION, "sender": sender_id, "receiver": receiver_id,
                                    "transfer": transfer_id, "epk": _b64(epk)})


def _derive_key(shared: bytes, epk: bytes, receiver_public: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=epk + receiver_public,
                info=HKDF_INFO).derive(shared)


def seal(plaintext: bytes, *, receiver_public: bytes, sender_id: str, receiver_id: str, transfer_id: str,
         ephemeral_private: bytes | None = None, nonce: bytes | None = None) -> dict[str, Any]:
    """Encrypt `plaintext` to the receiver's public key (`ephemeral_private`/`nonce` only for tests)."""
    eph = X25519PrivateKey.from_private_bytes(ephemeral_private) if ephemeral_private else X25519PrivateKey.generate()
    epk = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = eph.exchange(X25519PublicKey.from_public_bytes(receiver_public))
    key = _derive_key(shared, epk, receiver_public)
    nonce = nonce or secrets.token_bytes(NONCE_BYTES)
    ct = AESGCM(key).encrypt(nonce, plaintext, associated_data(sender_id, receiver_id, transfer_id, epk))
    return {"v": VERSION, "epk": _b64(epk), "nonce": _b64(nonce), "ct": _b64(ct)}


def open_sealed(sealed: Any, *, receiver_private: bytes, sender_id: str, receiver_id: str,
                transfer_id: str) -> bytes:
    """Decrypt a sealed transfer with the receiver's private key (TransferError if anything is off)."""
    try:
        if not isinstance(sealed, dict) or sealed.get("v") != VERSION:
            raise ValueError("unknown version")
        epk = _unb64(sealed.get("epk"), 32)
        nonce = _unb64(sealed.get("nonce"), NONCE_BYTES)
        ct = _unb64(sealed.get("ct"))
        priv = X25519PrivateKey.from_private_bytes(receiver_private)
        receiver_public = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        shared = priv.exchange(X25519PublicKey.from_public_bytes(epk))
        key = _derive_key(shared, epk, receiver_public)
        return AESGCM(key).decrypt(nonce, ct, associated_data(sender_id, receiver_id, transfer_id, epk))
    except (InvalidTag, ValueError, TypeError, binascii.Error) as exc:
        raise damaged() from exc


def accounts_plaintext(accounts: Sequence[Account]) -> bytes:
    """The plaintext of a transfer: the accounts as an Aegis db (entries and their groups)."""
    return json.dumps(entries.db_from_accounts(accounts), ensure_ascii=False).encode("utf-8")


def accounts_from_plaintext(plaintext: bytes) -> list[Account]:
    """The accounts of an opened transfer (each gets a new id on this device)."""
    try:
        doc = json.loads(plaintext.decode("utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
            raise ValueError("not an Aegis db")
        out = entries.accounts_from_db(doc)
    except (ValueError, KeyError, TypeError, AuthVaultError) as exc:
        raise damaged() from exc
    for acc in out:
        acc.id = new_id()  # the sender's ids mean nothing on this device
    return out


# --- the device key in the vault and in the table ---------------------------------------------------

def public_key(conn: sqlite3.Connection, device_id: str) -> bytes | None:
    """A device's public key, or None if it has not made one yet (it makes one at its next unlock)."""
    row = conn.execute("SELECT public_key FROM device_keys WHERE device_id = ?", (device_id,)).fetchone()
    return bytes(row["public_key"]) if row else None


def _private_from_db(db: dict[str, Any]) -> bytes | None:
    return _private_key_of(accts.private_part(db))


def _private_key_of(part: dict[str, Any]) -> bytes | None:
    raw = part.get("device_key")
    if not isinstance(raw, dict):
        return None
    try:
        return _unb64(raw.get("private"), 32)
    except (ValueError, binascii.Error):
        return None


def prepare_to_receive(conn: sqlite3.Connection, device_id: str, master_key: bytes) -> None:
    """At an unlock: make this device's key pair if it has none, so other devices can send to it.
    Never fails the unlock: a failure is logged by its kind only, and the next unlock tries again."""
    try:
        ensure_device_key(conn, device_id, master_key)
    except Exception as exc:  # noqa: BLE001 - any failure here must not undo an unlock that succeeded
        log.warning("could not make the transfer key of a device (%s)", type(exc).__name__)


def ensure_device_key(conn: sqlite3.Connection, device_id: str, master_key: bytes) -> KeyPair:
    """This device's key pair: made on first need, private half in the vault, public half in the table.

    Idempotent and safe under concurrent requests (one write transaction); also repairs a missing
    or stale table row (a restored vault, say) from the vault's private key.
    """
    db = accts.load_db(conn, device_id, master_key)
    private = _private_from_db(db)
    if private is not None:
        pair = key_pair_from_private(private)
        if public_key(conn, device_id) == pair.public:
            return pair
    made: list[KeyPair] = []

    def add_key(part: dict[str, Any]) -> dict[str, Any] | None:
        if _private_key_of(part) is not None:
            return None  # already there (made by another request, or only the table row was stale)
        made.append(new_key_pair())
        part["device_key"] = {"private": _b64(made[0].private), "created_at": time.time()}
        return part

    with transaction(conn):
        kept = _private_key_of(accts.change_private(conn, device_id, master_key, add_key))
        pair = key_pair_from_private(kept) if kept is not None and not made else made[0]
        conn.execute("INSERT INTO device_keys(device_id, public_key, created_at) VALUES (?,?,?) "
                     "ON CONFLICT(device_id) DO UPDATE SET public_key = excluded.public_key, "
                     "created_at = excluded.created_at", (device_id, pair.public, time.time()))
    return pair


# --- transfers in the table ----------------------------------------------------------------------

@dataclass
class Transfer:
    """A sealed transfer waiting for its receiver (what the server may know: who, when, how many)."""

    id: str
    sender_id: str
    sender_name: str
    receiver_id: str
    count: int
    created_at: float
    key_fingerprint: str
    sealed: dict[str, Any]


def _row(row: sqlite3.Row) -> Transfer:
    return Transfer(id=row["id"], sender_id=row["sender_id"], sender_name=row["sender_name"],
                    receiver_id=row["receiver_id"], count=row["count"], created_at=row["created_at"],
                    key_fingerprint=row["key_fingerprint"], sealed=json.loads(row["sealed"]))


def send_accounts(conn: sqlite3.Connection, *, sender_id: str, sender_name: str, receiver_id: str,
                  accounts: Sequence[Account]) -> Transfer:
    """Seal `accounts` to the receiver's public key and store the transfer (one transaction)."""
    if not accounts:
        raise TransferError("nothing_to_send", N_("Choose at least one account to send."))
    if len(accounts) > MAX_ACCOUNTS:
        raise TransferError("too_many_accounts", N_("Send at most %(max)s accounts at a time."), max=MAX_ACCOUNTS)
    if receiver_id == sender_id:
        raise TransferError("same_device", N_("Choose another device: these accounts are already on this one."))
    with transaction(conn):
        receiver_public = public_key(conn, receiver_id)
        if receiver_public is None:
            raise TransferError("receiver_not_ready", N_(
                "That device cannot receive accounts yet: open AuthVault on it and unlock it once, then send again."))
        pending = conn.execute("SELECT COUNT(*) FROM transfers WHERE receiver_id = ?", (receiver_id,)).fetchone()[0]
        if pending >= MAX_PENDING:
            raise TransferError("receiver_inbox_full", N_(
                "That device has too many transfers waiting. Open it and keep or decline them first."))
        transfer_id = secrets.token_hex(16)
        sealed = seal(accounts_plaintext(accounts), receiver_public=receiver_public, sender_id=sender_id,
                      receiver_id=receiver_id, transfer_id=transfer_id)
        transfer = Transfer(transfer_id, sender_id, sender_name, receiver_id, len(accounts), time.time(),
                            fingerprint(receiver_public), sealed)
        conn.execute("INSERT INTO transfers(id, sender_id, sender_name, receiver_id, count, created_at, "
                     "key_fingerprint, sealed) VALUES (?,?,?,?,?,?,?,?)",
                     (transfer.id, sender_id, sender_name, receiver_id, transfer.count, transfer.created_at,
                      transfer.key_fingerprint, json.dumps(sealed)))
    return transfer


def incoming(conn: sqlite3.Connection, receiver_id: str) -> list[Transfer]:
    """The transfers waiting for a device, oldest first."""
    rows = conn.execute("SELECT * FROM transfers WHERE receiver_id = ? ORDER BY created_at, id",
                        (receiver_id,)).fetchall()
    return [_row(r) for r in rows]


def outgoing(conn: sqlite3.Connection, sender_id: str) -> list[Transfer]:
    """The transfers a device sent that are still waiting, oldest first."""
    rows = conn.execute("SELECT * FROM transfers WHERE sender_id = ? ORDER BY created_at, id",
                        (sender_id,)).fetchall()
    return [_row(r) for r in rows]


def incoming_count(conn: sqlite3.Connection, receiver_id: str) -> tuple[int, int]:
    """How many transfers and how many accounts wait for a device."""
    row = conn.execute("SELECT COUNT(*), COALESCE(SUM(count), 0) FROM transfers WHERE receiver_id = ?",
                       (receiver_id,)).fetchone()
    return int(row[0]), int(row[1])


def incoming_senders(conn: sqlite3.Connection, receiver_id: str) -> list[str]:
    """The names of the devices whose transfers wait for a device, each once, in name order."""
    rows = conn.execute("SELECT DISTINCT sender_name FROM transfers WHERE receiver_id = ? ORDER BY sender_name",
                        (receiver_id,)).fetchall()
    return [r[0] for r in rows]


def get_transfer(conn: sqlite3.Connection, transfer_id: str) -> Transfer | None:
    """A transfer by id."""
    row = conn.execute("SELECT * FROM transfers WHERE id = ?", (transfer_id,)).fetchone()
    return _row(row) if row else None


def open_transfer(transfer: Transfer, receiver_private: bytes) -> list[Account]:
    """The accounts of a transfer, opened with the receiver's private key."""
    plaintext = open_sealed(transfer.sealed, receiver_private=receiver_private, sender_id=transfer.sender_id,
                            receiver_id=transfer.receiver_id, transfer_id=transfer.id)
    return accounts_from_plaintext(plaintext)


def delete_transfer(conn: sqlite3.Connection, transfer_id: str) -> None:
    """Forget a transfer (inside the caller's transaction)."""
    conn.execute("DELETE FROM transfers WHERE id = ?", (transfer_id,))


def _gone() -> TransferError:
    return TransferError("transfer_not_found", N_("That transfer is gone (it was kept, declined or taken back)."))


def cancel(conn: sqlite3.Connection, transfer_id: str, sender_id: str, *, client: str) -> Transfer:
    """Take back a transfer `sender_id` sent that was not opened yet (TransferError
    transfer_not_found otherwise), recorded."""
    with transaction(conn):
        t = get_transfer(conn, transfer_id)
        if t is None or t.sender_id != sender_id:
            raise _gone()
        delete_transfer(conn, transfer_id)
        audit.record(conn, "transfer_cancelled", device_id=sender_id, detail=f"{t.count}", client=client)
    return t


def incoming_transfer(conn: sqlite3.Connection, transfer_id: str, receiver_id: str) -> Transfer:
    """A transfer waiting for `receiver_id` (TransferError transfer_not_found otherwise)."""
    t = get_transfer(conn, transfer_id)
    if t is None or t.receiver_id != receiver_id:
        raise _gone()
    return t


def decline(conn: sqlite3.Connection, transfer_id: str, receiver_id: str, *, client: str) -> Transfer:
    """Decline every account of a transfer waiting for `receiver_id`: it is deleted unopened, recorded."""
    with transaction(conn):
        t = incoming_transfer(conn, transfer_id, receiver_id)
        delete_transfer(conn, transfer_id)
        audit.record(conn, "transfer_declined", device_id=receiver_id, detail=f"{t.count} from {t.sender_name}",
                     client=client)
    return t


@dataclass(frozen=True)
class Kept:
    """What keeping part of a transfer did: the accounts added, those already here, how many declined."""

    added: list[Account]
    skipped: list[Skipped]
    declined: int


def keep(conn: sqlite3.Connection, transfer_id: str, receiver_id: str, private: bytes, indexes: Sequence[int], *,
         change: Callable[[Callable[[list[Account]], list[Account]]], object], client: str) -> Kept:
    """Keep the accounts at `indexes` of a transfer waiting for `receiver_id` (opened with its
    private key), decline the rest. `change` writes the receiver's accounts (its vault, then its
    backup); the transfer is deleted in that same write, so it is kept exactly once."""
    t = incoming_transfer(conn, transfer_id, receiver_id)
    arrived = open_transfer(t, private)
    if any(i < 0 or i >= len(arrived) for i in indexes):
        raise TransferError("keep_out_of_range", N_("keep names an account that is not in this transfer."))
    chosen = [arrived[i] for i in sorted(set(indexes))]
    added: list[Account] = []
    skipped: list[Skipped] = []

    def apply(existing: list[Account]) -> list[Account]:
        incoming_transfer(conn, transfer_id, receiver_id)  # not kept or declined meanwhile (a double tap)
        merged, done, dupes = accts.merge_new(existing, chosen)
        added.extend(done)
        skipped.extend(dupes)
        delete_transfer(conn, transfer_id)
        return merged

    change(apply)
    declined = len(arrived) - len(chosen)
    audit.record(conn, "transfer_received", device_id=receiver_id,
                 detail=f"{len(added)} kept, {declined} declined, from {t.sender_name}", client=client)
    return Kept(added, skipped, declined)
