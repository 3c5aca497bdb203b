"""Slots: each holds a copy of the master key wrapped (AES-256-GCM) by one credential's KEK.

- `passphrase`: KEK = scrypt(passphrase UTF-8, 32-byte salt, N, r, p), like an Aegis password slot.
- `recovery`: KEK = scrypt(normalised recovery key text, ...), so the key as printed
  ("ABCD-EFGH-...") is also the password Aegis asks for when it imports a backup.
- `passkey`: KEK = HKDF-SHA256(WebAuthn PRF output, 32-byte salt, info).

The wrap uses no associated data, exactly like Aegis, so scrypt slots export as Aegis type-1 slots;
the device envelope authenticates the slot list as a whole with its header MAC instead.
"""
from __future__ import annotations

import uuid as _uuid
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from ..errors import N_
from ..otp import OtpError, decode_base32, encode_secret
from . import crypto
from .crypto import DEFAULT_SCRYPT, ScryptParams
from .errors import KdfCostTooHigh, VaultDamaged, VaultError, WrongPassphrase

SlotType = Literal["passphrase", "passkey", "recovery"]
SLOT_TYPES: tuple[str, ...] = ("passphrase", "passkey", "recovery")
AEGIS_PASSWORD_SLOT = 1
PASSKEY_HKDF_INFO = "authvault passkey slot v1"
RECOVERY_KEY_BYTES = 32
RECOVERY_GROUP = 4
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# Characters people type for base32 letters that are not in the alphabet.
# What a file from elsewhere (an Aegis vault to import, a backup object read from a backup account)
# may make the server compute. Aegis and AuthVault write N=2^15, r=8, p=1 (0.1-0.2 s, 32 MiB):
# one slot may cost twice that memory and four times that work, all slots of a file together eight
# times; at most 4 password slots are tried. A hostile file with N=2^18, p=16 took 12.6 s per slot.
FILE_SCRYPT_MAX_MEMORY = 64 * 1024 * 1024  # 128 * N * r bytes
FILE_SCRYPT_MAX_WORK = 2**15 * 8 * 4  # N * r * p of one slot
FILE_SCRYPT_MAX_TOTAL_WORK = 2**15 * 8 * 8  # of all the slots a file offers
FILE_MAX_PASSWORD_SLOTS = 4
FILE_MAX_SLOTS = 32  # of any type (Aegis adds one biometric slot per phone)

_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


@dataclass
class Slot:
    """One way to unlock: a wrapped master key plus what is needed to rebuild its KEK."""

    type: SlotType
    uuid: str
    key: str  # wrapped master key, hex
    nonce: str  # hex, 12 bytes
    tag: str  # hex, 16 bytes
    n: int | None = None  # scrypt (passphrase, recovery)
    r: int | None = None
    p: int | None = None
    salt: str | None = None  # hex: scrypt salt, or the HKDF salt of a passkey slot
    credential_id: str | None = None  # passkey: WebAuthn credential id, base64url
    info: str | None = None  # passkey: HKDF info

    def scrypt_params(self) -> ScryptParams:
        """The scrypt parameters this slot records (passphrase and recovery slots)."""
        if self.n is None or self.r is None or self.p is None:
            raise VaultDamaged()
        return ScryptParams(self.n, self.r, self.p)

    def to_json(self) -> dict[str, Any]:
        """This slot as stored in an AuthVault envelope (Aegis's slot shape, named types)."""
        obj: dict[str, Any] = {
            "type": self.type,
            "uuid": self.uuid,
            "key": self.key,
            "key_params": {"nonce": self.nonce, "tag": self.tag},
        }
        if self.type == "passkey":
            obj.update(credential_id=self.credential_id, salt=self.salt, info=self.info)
        else:
            obj.update(n=self.n, r=self.r, p=self.p, salt=self.salt)
        return obj

    @classmethod
    def from_json(cls, obj: Any) -> Slot:
        """Parse a slot written by `to_json`; VaultDamaged if it is malformed."""
        try:
            kind = obj["type"]
            if kind not in SLOT_TYPES:
                raise ValueError("unknown slot type")
            params = obj["key_params"]
            slot = cls(type=kind, uuid=_str(obj["uuid"]), key=_hex(obj["key"]),
                       nonce=_hex(params["nonce"], crypto.NONCE_SIZE),
                       tag=_hex(params["tag"], crypto.TAG_SIZE))
            if kind == "passkey":
                slot.credential_id = _str(obj["credential_id"])
                slot.salt = _hex(obj["salt"])
                slot.info = _str(obj["info"])
            else:
                slot.n, slot.r, slot.p = _int(obj["n"]), _int(obj["r"]), _int(obj["p"])
                slot.salt = _hex(obj["salt"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultDamaged() from exc
        return slot

    def to_aegis_json(self) -> dict[str, Any]:
        """This scrypt slot as an Aegis password slot (type 1); passkey slots have no Aegis form."""
        if self.type == "passkey":
            raise VaultError("slot_not_exportable", N_("A passkey cannot unlock an Aegis vault."))
        return {
            "type": AEGIS_PASSWORD_SLOT,
            "uuid": self.uuid,
            "key": self.key,
            "key_params": {"nonce": self.nonce, "tag": self.tag},
            "n": self.n, "r": self.r, "p": self.p, "salt": self.salt,
            "repaired": True,  # what Aegis writes: this slot's key was derived the fixed way
        }

    @classmethod
    def from_aegis_json(cls, obj: Any) -> Slot | None:
        """Parse an Aegis slot: a password slot (type 1) as `passphrase`, others as None."""
        try:
            if obj["type"] != AEGIS_PASSWORD_SLOT:
                return None  # raw and Android-biometric slots cannot be opened here
            params = obj["key_params"]
            return cls(type="passphrase", uuid=_str(obj.get("uuid", "")), key=_hex(obj["key"]),
                       nonce=_hex(params["nonce"], crypto.NONCE_SIZE),
                       tag=_hex(params["tag"], crypto.TAG_SIZE),
                       n=_int(obj["n"]), r=_int(obj["r"]), p=_int(obj["p"]),
                       salt=_hex(obj["salt"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultDamaged() from exc


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value


def _hex(value: Any, size: int | None = None) -> str:
    raw = bytes.fromhex(_str(value))
    if size is not None and len(raw) != size:
        raise ValueError("wrong length")
    return raw.hex()


def _wrap(kind: SlotType, master_key: bytes, kek: bytes, **fields: Any) -> Slot:
    sealed = crypto.aes_gcm_encrypt(kek, master_key)
    return Slot(type=kind, uuid=str(_uuid.uuid4()), key=sealed.ciphertext.hex(),
                nonce=sealed.nonce.hex(), tag=sealed.tag.hex(), **fields)


def _scrypt_slot(kind: SlotType, master_key: bytes, secret: str, params: ScryptParams) -> Slot:
    if not params.is_sane():  # refuse now what unlocking would refuse later
        raise VaultError("scrypt_params_invalid",
                         N_("The scrypt cost is outside what AuthVault accepts (N a power of two "
                            "up to 2^20, at most 256 MiB)."))
    salt = crypto.random_bytes(crypto.SALT_SIZE)
    kek = crypto.scrypt_kek(secret.encode("utf-8"), salt, params)
    return _wrap(kind, master_key, kek, n=params.n, r=params.r, p=params.p, salt=salt.hex())


def passphrase_slot(master_key: bytes, passphrase: str,
                    params: ScryptParams = DEFAULT_SCRYPT) -> Slot:
    """A slot that opens with `passphrase` (scrypt KEK, fresh salt)."""
    return _scrypt_slot("passphrase", master_key, passphrase, params)


def recovery_slot(master_key: bytes, recovery_key: str,
                  params: ScryptParams = DEFAULT_SCRYPT) -> Slot:
    """A slot that opens with the recovery key (normalised first, then scrypt)."""
    return _scrypt_slot("recovery", master_key, normalize_recovery_key(recovery_key), params)


def _passkey_kek(prf_output: bytes, salt: bytes, info: str) -> bytes:
    if len(prf_output) < 16:
        raise VaultError("prf_invalid", N_("The passkey did not return a usable key."))
    return crypto.hkdf_sha256(prf_output, salt, info.encode("utf-8"))


def passkey_slot(master_key: bytes, prf_output: bytes, credential_id: str) -> Slot:
    """A slot that opens with the WebAuthn PRF output of one passkey (HKDF-SHA256 KEK)."""
    salt = crypto.random_bytes(crypto.SALT_SIZE)
    kek = _passkey_kek(prf_output, salt, PASSKEY_HKDF_INFO)
    return _wrap("passkey", master_key, kek, salt=salt.hex(), credential_id=credential_id,
                 info=PASSKEY_HKDF_INFO)


def derive_passphrase_kek(slot: Slot, passphrase: str) -> bytes:
    """The scrypt KEK of a passphrase or recovery slot (derive once, then `unwrap_with_kek`)."""
    if slot.type == "passkey" or slot.salt is None:
        raise VaultError("slot_type_mismatch", N_("This slot does not open with a passphrase."))
    params = slot.scrypt_params()
    if not params.is_sane():
        raise VaultDamaged()
    secret = normalize_recovery_key(passphrase) if slot.type == "recovery" else passphrase
    return crypto.scrypt_kek(secret.encode("utf-8"), bytes.fromhex(slot.salt), params)


def check_file_slots(slots: Sequence[Slot], total: int | None = None) -> None:
    """KdfCostTooHigh unless the password slots of a file from elsewhere are within the bounds
    above (`total`: how many slots of any type the file lists). Call before any scrypt runs."""
    scrypt = [s for s in slots if s.type != "passkey"]
    if len(scrypt) > FILE_MAX_PASSWORD_SLOTS or (total or 0) > FILE_MAX_SLOTS:
        raise KdfCostTooHigh()
    work = 0
    for slot in scrypt:
        params = slot.scrypt_params()
        if not params.is_sane():
            raise VaultDamaged()
        if (128 * params.n * params.r > FILE_SCRYPT_MAX_MEMORY
                or params.n * params.r * params.p > FILE_SCRYPT_MAX_WORK):
            raise KdfCostTooHigh()
        work += params.n * params.r * params.p
    if work > FILE_SCRYPT_MAX_TOTAL_WORK:
        raise KdfCostTooHigh()


def derive_recovery_kek(slot: Slot, recovery_key: str) -> bytes:
    """The scrypt KEK of a recovery slot from the recovery key as typed (normalised here)."""
    if slot.type != "recovery":
        raise VaultError("slot_type_mismatch", N_("This slot does not open with a recovery key."))
    return derive_passphrase_kek(slot, recovery_key)


def unwrap_with_kek(slot: Slot, kek: bytes) -> bytes:
    """The master key from `slot` under `kek`; WrongPassphrase if the GCM tag fails."""
    try:
        master_key = crypto.aes_gcm_decrypt(kek, bytes.fromhex(slot.nonce),
                                            bytes.fromhex(slot.key), bytes.fromhex(slot.tag))
    except crypto.DecryptionFailed as exc:
        raise WrongPassphrase() from exc
    if len(master_key) != crypto.KEY_SIZE:
        raise VaultDamaged()
    return master_key


def _unwrap_scrypt(slots: Sequence[Slot], kind: SlotType, secret: str,
                   wrong: WrongPassphrase) -> bytes:
    candidates = [s for s in slots if s.type == kind]
    if not candidates:
        raise VaultError("slot_missing", N_("This vault cannot be opened that way."))
    insane = 0
    for slot in candidates:
        try:
            return unwrap_with_kek(slot, derive_passphrase_kek(slot, secret))
        except WrongPassphrase:
            continue
        except VaultDamaged:
            insane += 1
    if insane == len(candidates):
        raise VaultDamaged()
    raise wrong


def unwrap_passphrase(slots: Sequence[Slot], passphrase: str) -> bytes:
    """Try every passphrase slot; the master key, or WrongPassphrase if none opens."""
    return _unwrap_scrypt(slots, "passphrase", passphrase, WrongPassphrase())


def unwrap_recovery(slots: Sequence[Slot], recovery_key: str) -> bytes:
    """Try every recovery slot; the master key, or WrongPassphrase(code wrong_recovery_key)."""
    normalize_recovery_key(recovery_key)  # a malformed key is its own error, before any scrypt
    return _unwrap_scrypt(slots, "recovery", recovery_key, WrongPassphrase(
        N_("The recovery key is not correct."), code="wrong_recovery_key"))


def unwrap_passkey(slots: Sequence[Slot], credential_id: str, prf_output: bytes) -> bytes:
    """The master key from the slot of this passkey; WrongPassphrase(code wrong_passkey)."""
    candidates = [s for s in slots if s.type == "passkey" and s.credential_id == credential_id]
    if not candidates:
        raise VaultError("slot_missing", N_("This passkey cannot unlock this vault."))
    for slot in candidates:
        try:
            kek = _passkey_kek(prf_output, bytes.fromhex(slot.salt or ""),
                               slot.info or PASSKEY_HKDF_INFO)
            return unwrap_with_kek(slot, kek)
        except WrongPassphrase:
            continue
    raise WrongPassphrase(N_("This passkey did not unlock the vault."), code="wrong_passkey")


def new_recovery_key() -> str:
    """A fresh recovery key: 32 random bytes as base32 in groups of four ("ABCD-EFGH-...")."""
    return _group(encode_secret(crypto.random_bytes(RECOVERY_KEY_BYTES)))


def _group(text: str) -> str:
    return "-".join(text[i:i + RECOVERY_GROUP] for i in range(0, len(text), RECOVERY_GROUP))


def normalize_recovery_key(text: str) -> str:
    """The canonical form of a typed recovery key (upper case, grouped); VaultError if invalid."""
    compact = "".join(ch for ch in text.upper() if ch not in " -\t\r\n").translate(_LOOKALIKES)
    expected = len(encode_secret(bytes(RECOVERY_KEY_BYTES)))
    invalid = VaultError("recovery_key_invalid",
                         N_("That is not a recovery key. Check it against the one you saved."))
    if len(compact) != expected or any(ch not in _B32 for ch in compact):
        raise invalid
    try:
        raw = decode_base32(compact)  # the one base32 reader (authvault.otp)
    except OtpError as exc:
        raise invalid from exc
    # The last character carries unused bits; a key we issued always has them zero.
    if encode_secret(raw) != compact:
        raise invalid
    return _group(compact)
