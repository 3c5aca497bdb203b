"""Export accounts to open formats: Aegis vault files (encrypted or plain), otpauth URI text,
2FAuth's JSON export, and Google Authenticator transfer URIs (one QR code each, 10 accounts a
code).

Every export reads back through our own importers to the same entries (tests check it). The
formats are those of their apps: an encrypted export opens in Aegis with its password, a plain
one and the URI text in any app that reads them. Accounts that are waiting for a new QR code
(`action_required`, no usable secret) cannot be exported: `exportable` says which and why, the
Aegis and URI exports leave them out, and `export_google` returns them with the reason.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Iterable, Sequence

from ..errors import N_, AuthVaultError
from ..model import Account
from ..otp import encode_secret, to_uri
from ..vault.crypto import DEFAULT_SCRYPT, ScryptParams
from ..vault.entries import db_from_accounts
from ..vault.envelope import AEGIS_FILE_VERSION, to_aegis_vault
from .google_migration import DEFAULT_BATCH_SIZE, build_migration_uris

#: The `format` values of `POST /api/export`, each with its file name and media type.
FORMATS: dict[str, tuple[str, str]] = {
    "aegis": ("authvault-export.json", "application/json"),
    "aegis-plain": ("authvault-export-plain.json", "application/json"),
    "uris": ("authvault-export.txt", "text/plain; charset=utf-8"),
    "2fauth": ("authvault-export-2fauth.json", "application/json"),
    "google": ("", "application/json"),
}
#: The formats whose file holds every secret readable (the person confirms they understand).
UNENCRYPTED_FORMATS = frozenset({"aegis-plain", "uris", "2fauth"})
#: A password shorter than this is refused for an encrypted export.
MIN_PASSWORD_LENGTH = 8


class ExportError(AuthVaultError):
    """An export that cannot be made (no password, too short a password, nothing to export)."""


def exportable(accounts: Iterable[Account]) -> tuple[list[Account], list[tuple[Account, str]]]:
    """Split accounts into those any export can hold and those left out, with the reason."""
    ok: list[Account] = []
    left_out: list[tuple[Account, str]] = []
    for acc in accounts:
        if acc.action_required or not acc.secret:
            left_out.append((acc, N_("This account needs a new QR code from its service first.")))
        else:
            ok.append(acc)
    return ok, left_out


def _json_bytes(doc: Any) -> bytes:
    return (json.dumps(doc, indent=4, ensure_ascii=False) + "\n").encode("utf-8")


def export_aegis_encrypted(
    accounts: Sequence[Account], password: str, params: ScryptParams = DEFAULT_SCRYPT
) -> bytes:
    """An encrypted Aegis vault file (one password slot, scrypt + AES-256-GCM) of `accounts`."""
    if not isinstance(password, str) or not password:
        raise ExportError("password_required", N_("Choose a password for the encrypted export."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ExportError(
            "password_too_short",
            N_("The export password needs at least %(min)s characters."),
            min=MIN_PASSWORD_LENGTH,
        )
    ok, _ = exportable(accounts)
    return _json_bytes(to_aegis_vault(db_from_accounts(ok), password, params))


def export_aegis_plain(accounts: Sequence[Account]) -> bytes:
    """An unencrypted Aegis vault file of `accounts` (every secret readable: warn the person)."""
    ok, _ = exportable(accounts)
    vault = {
        "version": AEGIS_FILE_VERSION,
        "header": {"slots": None, "params": None},
        "db": db_from_accounts(ok),
    }
    return _json_bytes(vault)


def export_uris(accounts: Sequence[Account]) -> bytes:
    """A UTF-8 text file with one otpauth URI a line (unencrypted: warn the person)."""
    ok, _ = exportable(accounts)
    return "".join(to_uri(acc) + "\n" for acc in ok).encode("utf-8")


#: What 2FAuth's import checks: `schema` present and an `app` starting with "2fauth_".
TWOFAUTH_APP = "2fauth_authvault"
_TWOFAUTH_TYPES = {"totp": "totp", "hotp": "hotp", "steam": "steamtotp"}
_ICON_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/svg+xml": "svg",
             "image/bmp": "bmp"}


def _twofauth_icon(acc: Account) -> tuple[str | None, str | None, str | None]:
    """(icon file name, mime type, base64 data) of an account's image icon, as 2FAuth writes them."""
    icon = acc.icon or ""
    head, sep, data = icon.partition(";base64,")
    mime = head.removeprefix("data:") if head.startswith("data:") else ""
    if not sep or mime not in _ICON_EXT or not data:
        return None, None, None
    return f"{acc.id}.{_ICON_EXT[mime]}", mime, data


def export_twofauth(accounts: Sequence[Account], now: str | None = None) -> bytes:
    """2FAuth's JSON export (schema 1) of `accounts`, as 2FAuth writes it and reads it back.

    2FAuth's import requires a non-empty `service` and `account`: an account without an issuer
    is written with its name as the service, one without a name with its issuer as the account
    (both empty: "AuthVault"). Unencrypted: warn the person.
    """
    ok, _ = exportable(accounts)
    stamp = now or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    data = []
    for acc in ok:
        service = acc.issuer.strip() or ("Steam" if acc.type == "steam" else acc.name.strip()) or "AuthVault"
        name = acc.name.strip() or acc.issuer.strip() or "AuthVault"
        icon, mime, icon_file = _twofauth_icon(acc)
        data.append({
            "otp_type": _TWOFAUTH_TYPES[acc.type],
            "account": name,
            "service": service,
            "icon": icon,
            "icon_mime": mime,
            "icon_file": icon_file,
            "secret": encode_secret(bytes(acc.secret)),
            "digits": 5 if acc.type == "steam" else acc.digits,
            "algorithm": acc.algorithm.lower(),
            "period": None if acc.type == "hotp" else acc.period,
            "counter": acc.counter if acc.type == "hotp" else None,
            "legacy_uri": to_uri(acc),
        })
    return _json_bytes({"app": TWOFAUTH_APP, "schema": 1, "datetime": stamp, "data": data})


def export_google(
    accounts: Sequence[Account], batch_size: int = DEFAULT_BATCH_SIZE
) -> tuple[list[str], list[tuple[Account, str]]]:
    """Google Authenticator transfer URIs (`batch_size` accounts each, to show as QR codes one
    after another) and the accounts Google Authenticator cannot hold, each with the reason."""
    return build_migration_uris(list(accounts), batch_size)


def export_file(fmt: str, accounts: Sequence[Account], *, password: str | None = None,
                params: ScryptParams = DEFAULT_SCRYPT) -> bytes:
    """The export file of `accounts` in `fmt`, one of FORMATS but "google" (a set of QR codes,
    export_google); `password` is the encrypted Aegis export's."""
    if fmt == "aegis":
        return export_aegis_encrypted(accounts, password or "", params)
    if fmt == "aegis-plain":
        return export_aegis_plain(accounts)
    if fmt == "2fauth":
        return export_twofauth(accounts)
    if fmt == "uris":
        return export_uris(accounts)
    raise ValueError(f"not a file format: {fmt!r}")
