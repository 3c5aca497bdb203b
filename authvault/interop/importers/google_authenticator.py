"""Google Authenticator's legacy app database (`databases` SQLite file, table `accounts`).

Type 0 is TOTP, 1 HOTP; codes are always 6 digits, SHA1, 30 s. The `email` column holds
"Issuer:name" when the issuer is known; the issuer prefix is removed from the name.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...otp import decode_secret
from .base import EntryCollector, Importer, unsupported_type
from .support.decode import account, split_label
from .support.sqlite import SQLITE_MAGIC, has_table, sqlite_rows


class GoogleAuthenticatorImporter(Importer):
    """Google Authenticator (app database)."""

    name = "google_authenticator"
    label = "Google Authenticator (app database)"
    hints = ((SQLITE_MAGIC, b"CREATE TABLE accounts", b"original_name"),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """An SQLite file with Google Authenticator's accounts table."""
        return has_table(data, "accounts", {"email", "secret", "type"})

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        for row in sqlite_rows(data, "accounts"):
            issuer_col = row.get("issuer") or ""
            email = row.get("email") or ""
            issuer, name = split_label(str(email), str(issuer_col))
            out.add(issuer, name, partial(self._build, row, issuer, name))

    @staticmethod
    def _build(row: dict[str, Any], issuer: str, name: str) -> Any:
        kind = {0: "totp", 1: "hotp"}.get(row.get("type"))  # type: ignore[arg-type]
        if kind is None:
            raise unsupported_type(str(row.get("type"))[:10])
        return account(
            secret=decode_secret(row.get("secret")),
            type=kind,
            issuer=issuer,
            name=name,
            counter=row.get("counter") if kind == "hotp" else None,
        )
