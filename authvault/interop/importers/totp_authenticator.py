"""TOTP Authenticator (Binary Boone): the encrypted backup (.bin) and the app's preferences.

Backup: base64 of AES-256-CBC (zero IV, PKCS#7) with key = SHA-256(password); the plaintext is a
JSON object whose first key is the JSON array of entries. Backups made without a password use
the app's built-in one. Entries hold `key` in base 16, 32 or 64; the app's codes are 6 digits,
SHA1, 30 s whatever the entry says (as Aegis reads them).
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from ...errors import N_
from ...otp import decode_secret
from .base import (
    DamagedFile,
    EntryCollector,
    EntryRejected,
    Importer,
    PasswordRequired,
    WrongPassword,
)
from .support.android_prefs import android_prefs, is_android_prefs
from .support.crypto import BadPadding, open_aes_cbc
from .support.decode import account, b64decode, hexdecode
from .support.text import load_json, looks_like_text

_PREF = "STATIC_TOTP_CODES_LIST"
_BUILTIN_PASSWORD = "TotpAuthenticator"  # the app's own default, public in its code
_B64_RE = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


def _backup_bytes(data: bytes) -> bytes | None:
    if not looks_like_text(data) or not _B64_RE.match(data.strip() or b"!"):
        return None
    try:
        raw = b64decode(data)
    except ValueError:
        return None
    return raw if raw and len(raw) % 16 == 0 else None


class TotpAuthenticatorImporter(Importer):
    """TOTP Authenticator."""

    name = "totp_authenticator"
    label = "TOTP Authenticator"
    hints = ((b"STATIC_TOTP_CODES_LIST",),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """The app's preferences, or a base64 text of whole AES blocks (its backup)."""
        if is_android_prefs(data):
            return _PREF.encode() in data
        return _backup_bytes(data) is not None

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        if is_android_prefs(data):
            prefs = android_prefs(data)
            if _PREF not in prefs:
                raise DamagedFile(self.label)
            entries = load_json(prefs[_PREF])
        else:
            entries = self._decrypt(data, password)
        if not isinstance(entries, list):
            raise DamagedFile(self.label)
        for item in entries:
            try:
                obj = load_json(item) if isinstance(item, str) else item
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                out.skip("", "", N_("This entry is damaged."))
                continue
            out.add(obj.get("issuer"), obj.get("name"), partial(self._build, obj))

    def _decrypt(self, data: bytes, password: str | None) -> Any:
        raw = _backup_bytes(data)
        if raw is None:
            raise DamagedFile(self.label)
        candidates = [password] if password else [_BUILTIN_PASSWORD]
        for candidate in candidates:
            try:
                plain = open_aes_cbc(candidate, raw)
                doc = load_json(plain)
            except (BadPadding, ValueError):
                continue  # no authentication in CBC: garbage means a wrong key
            if not isinstance(doc, dict) or not doc:
                raise DamagedFile(self.label)
            return load_json(next(iter(doc)))
        if not password:
            raise PasswordRequired(self.label)
        raise WrongPassword(self.label, or_damaged=True)

    @staticmethod
    def _build(obj: dict[str, Any]) -> Any:
        base, key = obj.get("base"), obj.get("key")
        if base in (16, "16"):
            try:
                secret = hexdecode(key)
            except ValueError as exc:
                raise EntryRejected(N_("The secret is not valid hex.")) from exc
        elif base in (32, "32"):
            secret = decode_secret(key)
        elif base in (64, "64"):
            secret = b64decode(key if isinstance(key, str) else "")
        else:
            raise EntryRejected(N_("Unknown secret encoding."))
        return account(secret=secret, issuer=obj.get("issuer"), name=obj.get("name"))
