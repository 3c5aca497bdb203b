"""Stratum (formerly Authenticator Pro): plain JSON backup, encrypted backup, app database.

Encrypted: "AUTHENTICATORPRO" + salt(16) + iv(12) + AES-256-GCM, key = Argon2id(t=3, m=64 MiB,
p=4). Legacy encrypted: "AuthenticatorPro" + salt(20) + iv(16) + AES-256-CBC/PKCS#7, key =
PBKDF2-HMAC-SHA1(password, salt, 64000). The app database is SQLite with an `authenticator`
table. Types: 1 HOTP, 2 TOTP, 3 mOTP, 4 Steam, 5 Yandex; algorithms: 0 SHA1, 1 SHA256, 2 SHA512.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag

from ... import gates
from ...errors import N_
from ...otp import decode_secret
from .base import (
    DamagedFile,
    EntryCollector,
    Importer,
    PasswordRequired,
    WrongPassword,
    unsupported_type,
)
from .support.crypto import BadPadding, aes_gcm_decrypt, open_aes_cbc
from .support.decode import account
from .support.sqlite import SQLITE_MAGIC, has_table, sqlite_rows
from .support.text import load_json, peek_json

_HEADER = b"AUTHENTICATORPRO"
_LEGACY_HEADER = b"AuthenticatorPro"
_TYPES = {1: "hotp", 2: "totp", 4: "steam"}
_UNSUPPORTED = {3: "mOTP", 5: "Yandex"}
_ALGORITHMS = {0: "SHA1", 1: "SHA256", 2: "SHA512"}


def _is_stratum_json(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("Authenticators"), list)



class StratumImporter(Importer):
    """Stratum / Authenticator Pro."""

    name = "stratum"
    label = "Stratum (Authenticator Pro)"
    hints = ((b'"Authenticators"',), (SQLITE_MAGIC, b'CREATE TABLE "authenticator"'))

    def detect(self, data: bytes, filename: str | None) -> bool:
        """Stratum's header, its JSON backup, or its app database."""
        return (
            data.startswith((_HEADER, _LEGACY_HEADER))
            or _is_stratum_json(peek_json(data))
            or has_table(data, "authenticator", {"secret", "issuer", "username", "type"})
        )

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        if data.startswith(SQLITE_MAGIC):
            rows = sqlite_rows(data, "authenticator")
            for row in rows:
                self._entry({k.lower(): v for k, v in row.items()}, out)
            return
        if data.startswith(_HEADER):
            doc = self._decrypt_gcm(data[len(_HEADER) :], password)
        elif data.startswith(_LEGACY_HEADER):
            doc = self._decrypt_legacy(data[len(_LEGACY_HEADER) :], password)
        else:
            doc = load_json(data)
        if not _is_stratum_json(doc):
            raise DamagedFile(self.label)
        for obj in doc["Authenticators"]:
            if not isinstance(obj, dict):
                out.skip("", "", N_("This entry is damaged."))
                continue
            self._entry({str(k).lower(): v for k, v in obj.items()}, out)

    def _decrypt_gcm(self, body: bytes, password: str | None) -> Any:
        if len(body) < 16 + 12 + 16:
            raise DamagedFile(self.label)
        if not password:
            raise PasswordRequired(self.label)
        salt, iv, ciphertext = body[:16], body[16:28], body[28:]
        # Through the gate: two Argon2id derivations at once deadlock OpenSSL (gates.py).
        key = gates.argon2id(password.encode("utf-8"), salt, iterations=3, lanes=4, memory_cost=65536)
        try:
            plain = aes_gcm_decrypt(key, iv, ciphertext)
        except InvalidTag as exc:
            raise WrongPassword(self.label, or_damaged=True) from exc
        try:
            return load_json(plain)
        except ValueError as exc:
            raise DamagedFile(self.label) from exc

    def _decrypt_legacy(self, body: bytes, password: str | None) -> Any:
        if len(body) < 20 + 16 + 16 or (len(body) - 36) % 16:
            raise DamagedFile(self.label)
        if not password:
            raise PasswordRequired(self.label)
        salt, iv, ciphertext = body[:20], body[20:36], body[36:]
        try:
            plain = open_aes_cbc(password, ciphertext, salt=salt, iterations=64000, iv=iv)
            return load_json(plain)
        except (BadPadding, ValueError) as exc:
            # CBC has no authentication: bad padding or garbage means the key is wrong.
            raise WrongPassword(self.label, or_damaged=True) from exc

    @staticmethod
    def _entry(obj: dict[str, Any], out: EntryCollector) -> None:
        def build() -> Any:
            kind = obj.get("type")
            if kind in _UNSUPPORTED:
                raise unsupported_type(_UNSUPPORTED[kind])
            if kind not in _TYPES:
                raise unsupported_type(str(kind)[:10])
            algo = obj.get("algorithm", 0)
            if algo not in _ALGORITHMS:
                raise unsupported_type(str(algo)[:10])
            return account(
                secret=decode_secret(obj.get("secret")),
                type=_TYPES[kind],
                issuer=obj.get("issuer"),
                name=obj.get("username"),
                algorithm=_ALGORITHMS[algo],
                digits=obj.get("digits"),
                period=obj.get("period"),
                counter=obj.get("counter"),
            )

        out.add(obj.get("issuer"), obj.get("username"), build)
