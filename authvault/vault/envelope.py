"""The device vault envelope (as stored in SQLite) and plain Aegis vault files.

Shape: Aegis's vault file plus an `authvault` part::

    {"version": 1,
     "header": {"slots": [<slot>, ...], "params": {"nonce": hex, "tag": hex}},
     "authvault": {"format": 1, "device_id": "...", "header_mac": hex},
     "db": base64(AES-256-GCM ciphertext of the entries JSON)}

Authentication (an improvement on Aegis, whose header is not authenticated):

- `db` is AES-256-GCM under the master key with AAD = canonical JSON of
  {"device_id", "format"}; its nonce and tag sit in `header.params` as in Aegis.
- `header_mac` = HMAC-SHA256(K_mac, canonical JSON of {"version", "format", "device_id",
  "slots", "params"}), K_mac = HKDF-SHA256(master key, no salt, info "authvault header mac v1").
  Canonical JSON = sorted keys, no spaces, UTF-8. The slots are MACed exactly as stored, so no
  field of any slot (salt, N, uuid, credential id, wrapped key) and no version or device id can be
  changed, swapped or added unnoticed. `params` carries the GCM tag, so the MAC also pins the db.
- Adding or removing a slot rewrites `header.slots` and `header_mac` only: `db` and `params`
  stay byte-identical. Replacing the entries re-encrypts `db` and recomputes the MAC.

Errors: the version is checked first (newer -> UnsupportedVaultVersion). A credential that opens no
slot -> WrongPassphrase. A slot that opens but a MAC, tag or JSON that does not verify ->
VaultDamaged. A slot whose own salt or cost was altered cannot open, so if it is the only slot
that credential has, that looks like a wrong credential (fail closed; nothing can tell them apart
without the key); any other slot that still opens reports the damage.

Aegis files (`to_aegis_vault`, `read_aegis_vault`) follow Aegis exactly: type-1 password slots, no
AAD, no MAC, so Aegis can import our exports and backups with the password.
"""
from __future__ import annotations

import base64
import binascii
import copy
import json
from dataclasses import dataclass
from typing import Any, Sequence

from .. import gates
from ..errors import N_
from . import crypto
from .crypto import DEFAULT_SCRYPT, ScryptParams
from .errors import KdfCostTooHigh, UnsupportedVaultVersion, VaultDamaged, VaultError, WrongPassphrase
from .slots import (
    FILE_MAX_SLOTS,
    Slot,
    check_file_slots,
    normalize_recovery_key,
    passphrase_slot,
    unwrap_passkey,
    unwrap_passphrase,
    unwrap_recovery,
)

FORMAT_VERSION = 1  # AuthVault envelope format
AEGIS_FILE_VERSION = 1  # Aegis vault file "version"
HEADER_MAC_INFO = b"authvault header mac v1"
MAC_SIZE = 32

Envelope = dict[str, Any]


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces, UTF-8) for MACs and AAD."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _db_bytes(db: dict[str, Any]) -> bytes:
    return json.dumps(db, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _db_aad(format_version: int, device_id: str) -> bytes:
    return canonical_json({"device_id": device_id, "format": format_version})


def _mac_key(master_key: bytes) -> bytes:
    return crypto.hkdf_sha256(master_key, None, HEADER_MAC_INFO)


def _header_mac(master_key: bytes, envelope: Envelope) -> bytes:
    av = envelope["authvault"]
    header = envelope["header"]
    signed = {"version": envelope["version"], "format": av["format"],
              "device_id": av["device_id"], "slots": header["slots"], "params": header["params"]}
    return crypto.hmac_sha256(_mac_key(master_key), canonical_json(signed))


@dataclass(frozen=True)
class _Parsed:
    format: int
    device_id: str
    slots: list[Slot]
    nonce: bytes
    tag: bytes
    ciphertext: bytes
    mac: bytes


def _check_version(value: Any, supported: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise VaultDamaged()
    if value > supported:
        raise UnsupportedVaultVersion(value)
    if value < 1:
        raise VaultDamaged()
    return value


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError("expected base64 text")
    return base64.b64decode(value, validate=True)


def _params(params: Any) -> tuple[bytes, bytes]:
    nonce, tag = bytes.fromhex(params["nonce"]), bytes.fromhex(params["tag"])
    if len(nonce) != crypto.NONCE_SIZE or len(tag) != crypto.TAG_SIZE:
        raise ValueError("bad nonce or tag length")
    return nonce, tag


def _parse(envelope: Any) -> _Parsed:
    """Check versions first, then shape; UnsupportedVaultVersion or VaultDamaged."""
    try:
        av = envelope["authvault"]
        fmt = _check_version(av["format"], FORMAT_VERSION)
        _check_version(envelope["version"], AEGIS_FILE_VERSION)
        header = envelope["header"]
        if not isinstance(header["slots"], list):
            raise TypeError("slots must be a list")
        slots = [Slot.from_json(s) for s in header["slots"]]
        nonce, tag = _params(header["params"])
        device_id = av["device_id"]
        if not isinstance(device_id, str):
            raise TypeError("device_id must be text")
        mac = bytes.fromhex(av["header_mac"])
        if len(mac) != MAC_SIZE:
            raise ValueError("bad MAC length")
        return _Parsed(fmt, device_id, slots, nonce, tag, _b64(envelope["db"]), mac)
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        raise VaultDamaged() from exc


def _verify(envelope: Envelope, parsed: _Parsed, master_key: bytes,
            expected_device_id: str | None = None) -> dict[str, Any]:
    """Verify the header MAC and the db tag under `master_key`; the decrypted db."""
    try:
        mac = _header_mac(master_key, envelope)
    except (TypeError, ValueError) as exc:  # e.g. a NaN smuggled into the header
        raise VaultDamaged() from exc
    if not crypto.constant_time_equal(mac, parsed.mac):
        raise VaultDamaged()
    if expected_device_id is not None and parsed.device_id != expected_device_id:
        raise VaultDamaged()
    try:
        plain = crypto.aes_gcm_decrypt(master_key, parsed.nonce, parsed.ciphertext, parsed.tag,
                                       _db_aad(parsed.format, parsed.device_id))
        db = json.loads(plain.decode("utf-8"))
    except (crypto.DecryptionFailed, UnicodeDecodeError, ValueError) as exc:
        raise VaultDamaged() from exc
    if not isinstance(db, dict):
        raise VaultDamaged()
    return db


def _assemble(slots: Sequence[Slot], device_id: str, format_version: int,
              sealed: crypto.Sealed, master_key: bytes) -> Envelope:
    envelope: Envelope = {
        "version": AEGIS_FILE_VERSION,
        "header": {
            "slots": [slot.to_json() for slot in slots],
            "params": {"nonce": sealed.nonce.hex(), "tag": sealed.tag.hex()},
        },
        "authvault": {"format": format_version, "device_id": device_id, "header_mac": ""},
        "db": base64.b64encode(sealed.ciphertext).decode("ascii"),
    }
    envelope["authvault"]["header_mac"] = _header_mac(master_key, envelope).hex()
    return envelope


def _require_slots(slots: Sequence[Slot]) -> None:
    if not slots:
        raise VaultError("slot_missing", N_("A vault needs at least one way to unlock it."))


def seal(db: dict[str, Any], master_key: bytes, slots: Sequence[Slot], device_id: str) -> Envelope:
    """A new envelope holding `db` encrypted under `master_key`, unlockable by `slots`."""
    _require_slots(slots)
    sealed = crypto.aes_gcm_encrypt(master_key, _db_bytes(db), _db_aad(FORMAT_VERSION, device_id))
    return _assemble(slots, device_id, FORMAT_VERSION, sealed, master_key)


def open_db(envelope: Envelope, master_key: bytes, *,
            expected_device_id: str | None = None) -> dict[str, Any]:
    """The decrypted db after checking version, header MAC and GCM tag (VaultDamaged if not)."""
    return _verify(envelope, _parse(envelope), master_key, expected_device_id)


def unlock_with_passphrase(envelope: Envelope, passphrase: str) -> bytes:
    """The master key if `passphrase` opens a slot and the vault verifies.

    WrongPassphrase when no slot opens; VaultDamaged when one opens but the vault does not verify.
    """
    parsed = _parse(envelope)
    master_key = unwrap_passphrase(parsed.slots, passphrase)
    _verify(envelope, parsed, master_key)
    return master_key


def unlock_with_recovery_key(envelope: Envelope, recovery_key: str) -> bytes:
    """The master key via a recovery slot (WrongPassphrase code wrong_recovery_key if not)."""
    parsed = _parse(envelope)
    master_key = unwrap_recovery(parsed.slots, recovery_key)
    _verify(envelope, parsed, master_key)
    return master_key


def unlock_with_passkey(envelope: Envelope, credential_id: str, prf_output: bytes) -> bytes:
    """The master key via the passkey slot of `credential_id` and its PRF output."""
    parsed = _parse(envelope)
    master_key = unwrap_passkey(parsed.slots, credential_id, prf_output)
    _verify(envelope, parsed, master_key)
    return master_key


def with_slots(envelope: Envelope, master_key: bytes, slots: Sequence[Slot]) -> Envelope:
    """The same envelope with a new slot list and header MAC; `db` and params stay identical."""
    _require_slots(slots)
    parsed = _parse(envelope)
    _verify(envelope, parsed, master_key)
    updated = copy.deepcopy(envelope)
    updated["header"]["slots"] = [slot.to_json() for slot in slots]
    updated["authvault"]["header_mac"] = _header_mac(master_key, updated).hex()
    return updated


def replace_db(envelope: Envelope, master_key: bytes, db: dict[str, Any]) -> Envelope:
    """The same envelope (slots, device id) holding a new `db`, freshly encrypted."""
    parsed = _parse(envelope)
    _verify(envelope, parsed, master_key)
    sealed = crypto.aes_gcm_encrypt(master_key, _db_bytes(db),
                                    _db_aad(parsed.format, parsed.device_id))
    return _assemble(parsed.slots, parsed.device_id, parsed.format, sealed, master_key)


def slots_of(envelope: Envelope) -> list[Slot]:
    """The slots of an envelope (not yet authenticated: verify with a key before trusting)."""
    return _parse(envelope).slots


def device_id_of(envelope: Envelope) -> str:
    """The device id an envelope claims (authenticated only once it is opened)."""
    return _parse(envelope).device_id


# --- Aegis vault files --------------------------------------------------------------------


def to_aegis_vault(db: dict[str, Any], password: str,
                   params: ScryptParams = DEFAULT_SCRYPT) -> dict[str, Any]:
    """An encrypted Aegis vault file: fresh master key, one password slot, no AAD."""
    master_key = crypto.new_master_key()
    return to_aegis_vault_with_master_key(db, master_key,
                                          [passphrase_slot(master_key, password, params)])


def to_aegis_vault_with_master_key(db: dict[str, Any], master_key: bytes,
                                   slots: Sequence[Slot]) -> dict[str, Any]:
    """An encrypted Aegis vault file under an existing key and slots (no scrypt is run).

    Passphrase and recovery slots become Aegis password slots (type 1); for a recovery slot the
    Aegis password is the recovery key exactly as `normalize_recovery_key` prints it.
    """
    _require_slots(slots)
    sealed = crypto.aes_gcm_encrypt(master_key, _db_bytes(db))
    return {
        "version": AEGIS_FILE_VERSION,
        "header": {
            "slots": [slot.to_aegis_json() for slot in slots],
            "params": {"nonce": sealed.nonce.hex(), "tag": sealed.tag.hex()},
        },
        "db": base64.b64encode(sealed.ciphertext).decode("ascii"),
    }


def aegis_slots(vault: dict[str, Any]) -> list[Slot]:
    """The password slots of an Aegis vault file (as `passphrase` slots); [] if it is plain."""
    try:
        _check_version(vault["version"], AEGIS_FILE_VERSION)
        slots = vault["header"]["slots"]
        if slots is None:
            return []
        if not isinstance(slots, list):
            raise TypeError("slots must be a list")
    except (KeyError, TypeError) as exc:
        raise VaultDamaged() from exc
    if len(slots) > FILE_MAX_SLOTS:
        raise KdfCostTooHigh()
    found = [slot for slot in map(Slot.from_aegis_json, slots) if slot is not None]
    check_file_slots(found, len(slots))  # a file from elsewhere chooses no cost beyond ours
    return found


def open_aegis_db(vault: dict[str, Any], master_key: bytes) -> dict[str, Any]:
    """Decrypt an Aegis vault file's db with its master key (VaultDamaged if it fails)."""
    try:
        _check_version(vault["version"], AEGIS_FILE_VERSION)
        nonce, tag = _params(vault["header"]["params"])
        plain = crypto.aes_gcm_decrypt(master_key, nonce, _b64(vault["db"]), tag)
        db = json.loads(plain.decode("utf-8"))
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error,
            crypto.DecryptionFailed) as exc:
        raise VaultDamaged() from exc
    if not isinstance(db, dict):
        raise VaultDamaged()
    return db


def read_aegis_vault(vault: dict[str, Any], password: str) -> dict[str, Any]:
    """The db of an Aegis vault file; plain files need no password.

    WrongPassphrase if no password slot opens; VaultDamaged if one opens but the db does not.
    """
    try:
        _check_version(vault["version"], AEGIS_FILE_VERSION)
        header = vault["header"]
        plain_file = header["slots"] is None and header["params"] is None
    except (KeyError, TypeError) as exc:
        raise VaultDamaged() from exc
    if plain_file:
        db = vault.get("db")
        if not isinstance(db, dict):
            raise VaultDamaged()
        return db
    slots = aegis_slots(vault)
    if not slots:
        raise VaultError("slot_missing",
                         N_("This Aegis vault has no password slot; export it with a password."))
    with gates.KDF_GATE.hold():
        master_key = unwrap_passphrase(slots, password)
    return open_aegis_db(vault, master_key)


def read_aegis_vault_with_recovery_key(vault: dict[str, Any], recovery_key: str) -> dict[str, Any]:
    """The db of an Aegis file whose password slot is a recovery slot (an AuthVault backup).

    The key is normalised first (VaultError `recovery_key_invalid`); a key that opens no slot is
    WrongPassphrase with code `wrong_recovery_key`.
    """
    canonical = normalize_recovery_key(recovery_key)
    try:
        return read_aegis_vault(vault, canonical)
    except WrongPassphrase as exc:
        raise WrongPassphrase(N_("The recovery key is not correct."),
                              code="wrong_recovery_key") from exc
