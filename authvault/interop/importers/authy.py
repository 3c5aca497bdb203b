"""Authy's app-internal token store (shared_prefs XML holding a JSON array of tokens).

Secrets are either in the clear (`decryptedSecret`) or per token encrypted (`encryptedSecret`,
with a per-token `salt` string): key = PBKDF2-HMAC-SHA1(backup password, salt, 1000), AES-256-CBC
with a zero IV, plaintext = the base32 secret. Authy tokens are SHA1 and 30 s.
"""

from __future__ import annotations

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
from .support.decode import account, b64decode
from .support.text import load_json

_KEY = "com.authy.storage.tokens.authenticator.key"


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _split_name(obj: dict[str, Any]) -> tuple[str, str]:
    original, name = _text(obj, "originalName"), _text(obj, "name")
    if ":" in original:
        issuer, sep = original.split(":", 1)[0], ":"
    elif " - " in name:
        issuer, sep = name.split(" - ", 1)[0], " - "
    else:
        kind = _text(obj, "accountType")
        issuer, sep = kind[:1].upper() + kind[1:], ""
    if issuer and name.startswith(issuer + sep):
        name = name[len(issuer + sep) :]
    return issuer.strip(), name.strip()


class AuthyImporter(Importer):
    """Authy."""

    name = "authy"
    label = "Authy"
    hints = ((b"com.authy.storage.tokens.authenticator",),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """Android preferences holding Authy's token list."""
        return is_android_prefs(data) and _KEY.encode() in data

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        prefs = android_prefs(data)
        if _KEY not in prefs:
            raise DamagedFile(self.label)
        tokens = load_json(prefs[_KEY])
        if not isinstance(tokens, list):
            raise DamagedFile(self.label)
        encrypted = [
            t
            for t in tokens
            if isinstance(t, dict) and not t.get("decryptedSecret") and t.get("encryptedSecret")
        ]
        if encrypted and not password:
            raise PasswordRequired(self.label)
        opened = 0
        for obj in tokens:
            if not isinstance(obj, dict):
                out.skip("", "", N_("This entry is damaged."))
                continue
            issuer, name = _split_name(obj)
            if out.add(issuer, name, partial(self._build, obj, issuer, name, password)):
                if any(obj is e for e in encrypted):
                    opened += 1
        if encrypted and opened == 0:
            # Not one secret opened: the password is wrong (a damaged entry fails alone).
            raise WrongPassword(self.label)

    @staticmethod
    def _build(obj: dict[str, Any], issuer: str, name: str, password: str | None) -> Any:
        secret_text = obj.get("decryptedSecret")
        if not secret_text:
            salt, blob = obj.get("salt"), obj.get("encryptedSecret")
            if not isinstance(salt, str) or not isinstance(blob, str) or not password:
                raise EntryRejected(N_("The secret is missing."))
            try:
                plain = open_aes_cbc(password, b64decode(blob), salt=salt.encode("utf-8"), iterations=1000)
                secret_text = plain.decode("ascii")
            except (BadPadding, ValueError) as exc:
                raise EntryRejected(N_("This secret could not be decrypted.")) from exc
        return account(
            secret=decode_secret(secret_text), issuer=issuer, name=name, digits=obj.get("digits")
        )
