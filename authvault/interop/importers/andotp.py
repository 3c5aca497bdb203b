"""andOTP: a plain JSON array, or an encrypted backup (`.json.aes`) in one of two layouts.

New layout: [iterations: 4 bytes big-endian][salt 12][nonce 12][AES-256-GCM ciphertext + tag],
key = PBKDF2-HMAC-SHA1(password, salt, iterations). Old layout: [nonce 12][ciphertext + tag],
key = SHA-256(password). Neither has a magic number: an encrypted andOTP file is recognised by
the iteration count andOTP writes (140,000 to 160,000) at the start of the new layout, or by its
`.aes` name (the only sign of the old layout).
Old andOTP had no issuer field and wrote "Issuer - label"; the part before " - " becomes the
issuer and the label is kept as written (it often repeats "Issuer:"), as Aegis does.
"""

from __future__ import annotations

import struct
from typing import Any

from cryptography.exceptions import InvalidTag

from ...otp import decode_secret
from .base import DamagedFile, EntryCollector, Importer, PasswordRequired, WrongPassword
from .support.crypto import aes_gcm_decrypt, pbkdf2, sha256
from .support.decode import account
from .support.text import load_json, looks_like_text, peek_json

_MAX_ITERATIONS = 10_000_000


def _is_andotp_list(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and bool(doc)
        and isinstance(doc[0], dict)
        and "secret" in doc[0]
        and "type" in doc[0]
        and ("label" in doc[0] or "digits" in doc[0])
        and "otp" not in doc[0]
    )


_OTHER_MAGICS = (
    b"SQLite format 3\x00",
    b"PK\x03\x04",
    b"\xac\xed\x00\x05",
    b"AUTHENTICATORPRO",
    b"AuthenticatorPro",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"RIFF",
    b"BM",
)


#: The PBKDF2 iteration counts andOTP writes at the start of an encrypted backup
#: (PBKDF2_MIN_BACKUP_ITERATIONS, PBKDF2_MAX_BACKUP_ITERATIONS in andOTP's Constants.java).
_ANDOTP_ITERATIONS = range(140_000, 160_001)


def looks_encrypted(data: bytes, filename: str | None) -> bool:
    """Binary data long enough to be an encrypted andOTP backup and not another known file."""
    if len(data) < 12 + 16 + 1 or looks_like_text(data) or data.startswith(_OTHER_MAGICS):
        return False
    return True


def has_andotp_header(data: bytes) -> bool:
    """Whether binary data starts as andOTP's encrypted backups do: an iteration count andOTP
    writes, then salt, nonce and at least a tag (the older layout has no header at all)."""
    if len(data) < 4 + 12 + 12 + 16 or not looks_encrypted(data, None):
        return False
    return struct.unpack(">I", data[:4])[0] in _ANDOTP_ITERATIONS


class AndOtpImporter(Importer):
    """andOTP."""

    name = "andotp"
    label = "andOTP"
    hints = ((b'"secret"', b'"label"', b'"type"', b'"thumbnail"'),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """A JSON array of andOTP entries, a binary file with andOTP's header, or one named *.aes."""
        if _is_andotp_list(peek_json(data)):
            return True
        if has_andotp_header(data):
            return True
        name = (filename or "").lower()
        return name.endswith(".aes") and looks_encrypted(data, filename)

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        if looks_like_text(data):
            doc = load_json(data)  # a plain backup (a damaged one fails here)
        else:
            doc = self._decrypt(data, password)
        if not isinstance(doc, list):
            raise DamagedFile(self.label)
        for obj in doc:
            self._entry(obj, out)

    def _entry(self, obj: Any, out: EntryCollector) -> None:
        if not isinstance(obj, dict):
            out.skip("", "", "This entry is damaged.")
            return
        issuer, label = obj.get("issuer"), obj.get("label")
        if issuer is None and isinstance(label, str) and " - " in label:
            # Old andOTP had no issuer field and wrote "Issuer - label".
            issuer, label = label.split(" - ", 1)
        out.add(
            issuer,
            label,
            lambda: account(
                secret=decode_secret(obj.get("secret")),
                type=obj.get("type"),
                issuer=issuer,
                name=label,
                algorithm=obj.get("algorithm"),
                digits=obj.get("digits"),
                period=obj.get("period"),
                counter=obj.get("counter"),
            ),
        )

    def _decrypt(self, data: bytes, password: str | None) -> Any:
        if len(data) < 12 + 16:
            raise DamagedFile(self.label)
        if not password:
            raise PasswordRequired(self.label)
        secret = password.encode("utf-8")
        attempts: list[tuple[bytes, bytes, bytes]] = []
        iterations = struct.unpack(">I", data[:4])[0]
        if 1 <= iterations <= _MAX_ITERATIONS and len(data) >= 4 + 12 + 12 + 16:
            salt, nonce, body = data[4:16], data[16:28], data[28:]
            attempts.append((pbkdf2(secret, salt, iterations, "SHA1"), nonce, body))
        attempts.append((sha256(secret), data[:12], data[12:]))
        for key, nonce, body in attempts:
            try:
                plain = aes_gcm_decrypt(key, nonce, body)
            except InvalidTag:
                continue
            try:
                return load_json(plain)
            except ValueError as exc:
                raise DamagedFile(self.label) from exc
        raise WrongPassword(self.label, or_damaged=True)
