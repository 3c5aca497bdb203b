"""Microsoft Authenticator's app database (`PhoneFactor` SQLite file, table `accounts`).

Account type 0 is a third-party TOTP (base32 secret, 6 digits); type 1 a Microsoft personal
account (base64 secret, 8 digits). Work or school accounts that only approve sign-ins (no OTP
secret) are skipped with a reason. Microsoft Authenticator has no export of its own.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import N_
from ...otp import decode_secret
from .base import EntryCollector, EntryRejected, Importer, unsupported_type
from .support.decode import account, b64decode
from .support.sqlite import SQLITE_MAGIC, has_table, sqlite_rows


class MicrosoftAuthenticatorImporter(Importer):
    """Microsoft Authenticator (app database)."""

    name = "microsoft_authenticator"
    label = "Microsoft Authenticator (app database)"
    hints = ((SQLITE_MAGIC, b"oath_secret_key"),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """An SQLite file with Microsoft Authenticator's accounts table."""
        return has_table(data, "accounts", {"oath_secret_key", "account_type", "username", "name"})

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        for row in sqlite_rows(data, "accounts"):
            out.add(row.get("name"), row.get("username"), partial(self._build, row))

    @staticmethod
    def _build(row: dict[str, Any]) -> Any:
        kind = row.get("account_type")
        secret_text = row.get("oath_secret_key")
        if not secret_text:
            raise EntryRejected(
                N_("This account only approves sign-ins; it has no one-time code secret."),
                "unsupported_type",
            )
        if kind == 0:
            secret, digits = decode_secret(secret_text), 6
        elif kind == 1:
            try:
                secret, digits = b64decode(str(secret_text)), 8
            except ValueError as exc:
                raise EntryRejected(N_("The secret is not valid base64.")) from exc
        else:
            raise unsupported_type(str(kind)[:10])
        return account(
            secret=secret, issuer=row.get("name"), name=row.get("username"), digits=digits
        )
