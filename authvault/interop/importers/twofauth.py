"""2FAuth's JSON export (Settings › Export in 2FAuth, schema 1).

2FAuth writes `{"app": "2fauth_v<version>", "schema": 1, "datetime": ..., "data": [...]}`, each
entry `{"otp_type": "totp"|"hotp"|"steamtotp", "account", "service", "icon", "icon_mime",
"icon_file", "secret", "digits", "algorithm", "period", "counter", "legacy_uri"}`: the secret
base32 (Steam's too; 2FAuth may pad it), the algorithm lower-case, `period` null for HOTP and
`counter` null for TOTP, the icon as base64 `icon_file` with its `icon_mime`. Its "otpauth"
variant (`?otpauth=1`) holds `data: [{"uri": "otpauth://..."}]`, the URIs URL-decoded. The fields
are read first; `legacy_uri` (the URI the account was made from) is the fallback for an entry
whose fields cannot be used. 2FAuth recognises its own files by `schema` and an `app` starting
with "2fauth_", and so do we.
"""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Any

from ...errors import N_
from ...model import Account
from ...otp import Note, OtpError, decode_secret, read_uri
from .base import DamagedFile, EntryCollector, EntryRejected, Importer, UnsupportedFormatVersion, unsupported_type
from .support.decode import account
from .support.text import load_json, peek_json

#: 2FAuth's otp_type values and ours.
_TYPES = {"totp": "totp", "hotp": "hotp", "steamtotp": "steam"}
#: Icon types kept (as data: URLs, shown as images, never run); larger icons are left out.
ICON_MIMES = ("image/png", "image/jpeg", "image/webp", "image/svg+xml", "image/bmp")
MAX_ICON_BYTES = 256 * 1024


def _is_twofauth(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("app"), str)
        and doc["app"].startswith("2fauth_")
        and "data" in doc
    )


def _icon(entry: dict[str, Any]) -> str | None:
    """A data: URL of the entry's icon, or None (an icon is never worth refusing an account)."""
    mime, data = entry.get("icon_mime"), entry.get("icon_file")
    if mime not in ICON_MIMES or not isinstance(data, str) or not data:
        return None
    if len(data) > MAX_ICON_BYTES * 4 // 3 + 4:
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}" if raw else None


class TwoFAuthImporter(Importer):
    """2FAuth."""

    name = "twofauth"
    label = "2FAuth"
    hints = ((b'"otp_type"', b'"legacy_uri"'),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """A JSON object whose `app` starts with "2fauth_" (as 2FAuth itself checks)."""
        return _is_twofauth(peek_json(data))

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        doc = load_json(data)
        if not _is_twofauth(doc):
            raise DamagedFile(self.label)
        schema = doc.get("schema", 1)
        if schema not in (1, None):
            raise UnsupportedFormatVersion(self.label, N_("schema %s") % str(schema)[:10])
        entries = doc.get("data")
        if not isinstance(entries, list):
            raise DamagedFile(self.label)
        for entry in entries:
            if not isinstance(entry, dict):
                out.skip("", "", N_("This entry is damaged."))
                continue
            if set(entry) == {"uri"}:  # the "otpauth" variant of the export
                uri = entry["uri"]
                out.add("", "", partial(self._from_uri, uri))
                continue
            out.add(entry.get("service"), entry.get("account"), partial(self._build, entry))

    @staticmethod
    def _from_uri(uri: Any) -> tuple[Account, list[Note]]:
        if not isinstance(uri, str) or not uri.lower().startswith("otpauth://"):
            raise EntryRejected(N_("The entry has no otpauth URI."))
        return read_uri(uri)

    @classmethod
    def _build(cls, entry: dict[str, Any]) -> tuple[Account, list[Note]]:
        kind = entry.get("otp_type")
        if not isinstance(kind, str) or kind.lower() not in _TYPES:
            raise unsupported_type(str(kind))
        try:
            acc = cls._from_fields(entry, _TYPES[kind.lower()])
            notes: list[Note] = []
        except (OtpError, EntryRejected, ValueError) as exc:
            uri = entry.get("legacy_uri")
            if not isinstance(uri, str) or not uri.lower().startswith("otpauth://"):
                raise exc from None
            acc, notes = read_uri(uri)
            notes.append(Note(kind="legacy_uri", message=N_("Read from the entry's original otpauth URI (legacy_uri).")))
        acc.icon = _icon(entry)
        return acc, notes

    @staticmethod
    def _from_fields(entry: dict[str, Any], kind: str) -> Account:
        acc = account(
            secret=decode_secret(entry.get("secret")),
            type=kind,
            issuer=entry.get("service"),
            name=entry.get("account"),
            algorithm=entry.get("algorithm") if kind != "steam" else None,
            digits=entry.get("digits") if kind != "steam" else None,
            period=entry.get("period") if kind == "totp" else None,
            counter=entry.get("counter") if kind == "hotp" else None,
        )
        return acc
