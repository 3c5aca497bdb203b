"""Bitwarden's unencrypted exports, JSON and CSV: each login's TOTP field (otpauth or steam URI).

Name and issuer come from the URI, as in Aegis. What the URI leaves empty (always so for a bare
base32 secret or a `steam://` value) comes from the item, as Bitwarden itself shows it and other
importers of Bitwarden read it: the issuer from the item's name, the account name from
`login.username` (CSV: `name` and `login_username`). Password-protected and account-restricted
Bitwarden exports are recognised and refused with a clear message.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ...errors import N_
from ...model import Account
from ...otp import Note, decode_secret
from .base import DamagedFile, EntryCollector, Importer, UnsupportedFormatVersion
from .support.decode import account
from .support.text import looks_like_text, peek_json, text
from .support.uris import account_from_uri, uri_label

_CSV_COLUMN = "login_totp"


def _is_bitwarden_json(doc: Any) -> bool:
    return isinstance(doc, dict) and "encrypted" in doc and ("items" in doc or "data" in doc)


def _csv_header(data: bytes) -> list[str] | None:
    if not looks_like_text(data):
        return None
    first = text(data).split("\n", 1)[0]
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return None
    return header if _CSV_COLUMN in header else None


class BitwardenImporter(Importer):
    """Bitwarden (JSON or CSV)."""

    name = "bitwarden"
    label = "Bitwarden"
    hints = ((b'"encrypted"', b'"items"'),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """Bitwarden's JSON export, or a CSV whose header has login_totp."""
        return _is_bitwarden_json(peek_json(data)) or _csv_header(data) is not None

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        doc = peek_json(data)
        if doc is not None:
            self._parse_json(doc, out)
        elif _csv_header(data) is not None:
            rows = csv.DictReader(io.StringIO(text(data), newline=""))
            for row in rows:
                self._add(row.get(_CSV_COLUMN), row.get("name"), row.get("login_username"), out)
        else:
            raise DamagedFile(self.label)

    def _parse_json(self, doc: Any, out: EntryCollector) -> None:
        if not _is_bitwarden_json(doc):
            raise DamagedFile(self.label)
        if doc.get("encrypted") is not False or "items" not in doc:
            raise UnsupportedFormatVersion(
                self.label,
                N_(
                    "encrypted Bitwarden exports are not supported; export as "
                    "unencrypted JSON or CSV"
                ),
            )
        items = doc["items"]
        if not isinstance(items, list):
            raise DamagedFile(self.label)
        for item in items:
            if not isinstance(item, dict):
                continue
            login = item.get("login")
            if isinstance(login, dict):
                self._add(login.get("totp"), item.get("name"), login.get("username"), out)

    @staticmethod
    def _add(uri: Any, item_name: Any, username: Any, out: EntryCollector) -> None:
        if not isinstance(uri, str) or not uri.strip():
            return  # a login without two-factor: nothing to import
        uri = uri.strip()
        item_name = item_name.strip() if isinstance(item_name, str) else ""
        username = username.strip() if isinstance(username, str) else ""

        def build() -> tuple[Account, list[Note]]:
            if "://" in uri:
                acc, notes = account_from_uri(uri)
                if uri.lower().startswith("steam://"):
                    acc.issuer = ""  # the item says whose Steam account it is
            else:
                # Bitwarden also stores a bare base32 secret: a default TOTP.
                acc, notes = account(secret=decode_secret(uri)), []
            if (not acc.issuer and item_name) or (not acc.name and username):
                acc.issuer = acc.issuer or item_name
                acc.name = acc.name or username
                notes.append(Note(kind="named_from_item", message=N_("Named after the Bitwarden item.")))
            if acc.type == "steam" and not acc.issuer:
                acc.issuer = "Steam"
            return acc, notes

        issuer, name = uri_label(uri) if "://" in uri else ("", "")
        out.add(issuer or item_name, name or username, build)
