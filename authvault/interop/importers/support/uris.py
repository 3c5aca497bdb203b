"""Reading otpauth URIs inside other formats (text lists, Bitwarden, Proton, 2FAS, ZIPs).

All URI parsing is `authvault.otp.parse_uri`'s; this module only feeds URIs to it entry by
entry, and names a skipped entry from the URI's label, never from its query (the secret).
"""

from __future__ import annotations

import json
from functools import partial
from urllib.parse import unquote, unquote_plus, urlsplit

from ....errors import N_
from ....model import Account
from ....otp import Note, OtpError, read_uri
from ...google_migration import parse_migration_uri
from ..base import EntryCollector, EntryRejected, unsupported_type
from .decode import b64decode, split_label


def uri_lines(content: str) -> list[str]:
    """The non-empty lines of a text that look like otpauth, migration or steam URIs."""
    return [
        line.strip()
        for line in content.splitlines()
        if line.strip().lower().startswith(("otpauth://", "otpauth-migration://", "steam://"))
    ]


def uri_label(uri: str) -> tuple[str, str]:
    """(issuer, name) from a URI's path, for naming a skipped entry; empty if unreadable."""
    try:
        parts = urlsplit(uri)
        label = unquote(parts.path.lstrip("/"))
    except ValueError:
        return "", ""
    if not label or len(label) > 200:
        return "", ""
    return split_label(label)


def account_from_uri(uri: str) -> tuple[Account, list[Note]]:
    """One account from an otpauth:// or Bitwarden-style steam:// URI, with the reading's notes."""
    if not isinstance(uri, str):
        raise EntryRejected(N_("The entry has no otpauth URI."))
    uri = uri.strip()
    lower = uri.lower()
    if lower.startswith("steam://"):
        acc, notes = read_uri(uri)
        acc.issuer = "Steam"
        return acc, notes
    if lower.startswith("otpauth://"):
        kind = lower[len("otpauth://") :].split("/", 1)[0]
        if kind not in ("totp", "hotp", "steam"):
            raise unsupported_type(kind[:20])
        acc, notes = read_uri(uri)
        steam_secret = winauth_steam_secret(uri)
        if steam_secret is not None:
            acc.secret, acc.type = steam_secret, "steam"
            acc.issuer = acc.issuer or "Steam"
            notes = [n for n in notes if n.kind != "steam"]
            notes.append(Note(kind="steam_data", message=N_(
                "Recognised as Steam Guard; the secret was read from WinAuth's Steam data.")))
        return acc, notes
    raise EntryRejected(N_("This is not an otpauth URI."))


def winauth_steam_secret(uri: str) -> bytes | None:
    """The real key of a WinAuth Steam entry, or None when the URI is no such entry.

    WinAuth writes a Steam authenticator as `otpauth://totp/...?secret=...&digits=5&issuer=Steam
    &deviceid=...&data=<Steam's authenticator JSON, URL-encoded>`; that JSON (what Steam Desktop
    Authenticator keeps as a maFile) holds the key as base64 `shared_secret`.
    """
    query = uri.partition("?")[2]
    values = [unquote_plus(v) for k, _, v in (p.partition("=") for p in query.split("&"))
              if unquote_plus(k).strip().lower() == "data"]
    if len(values) != 1 or not values[0].lstrip().startswith("{"):
        return None
    try:
        doc = json.loads(values[0])
    except ValueError:
        return None
    shared = doc.get("shared_secret") if isinstance(doc, dict) else None
    if not isinstance(shared, str) or not shared.strip():
        return None
    try:
        return b64decode(shared)
    except ValueError as exc:
        raise EntryRejected(N_("The secret is not valid base64.")) from exc


def add_uri(out: EntryCollector, uri: str) -> None:
    """Add the account(s) of one URI line to `out` (a migration URI may hold several)."""
    if uri.lower().startswith("otpauth-migration://"):
        add_migration_uri(out, uri)
        return
    issuer, name = uri_label(uri)
    out.add(issuer, name, lambda: account_from_uri(uri))


def _same(acc: Account) -> Account:
    return acc


def add_migration_uri(out: EntryCollector, uri: str) -> None:
    """Add every account of a Google Authenticator transfer URI; its skips are kept."""
    try:
        batch = parse_migration_uri(uri)
    except OtpError as exc:  # one bad transfer code does not sink the rest of the file
        out.skip("", "", exc.message, "damaged_entry", **exc.params)
        return
    for acc in batch.accounts:
        out.add(acc.issuer, acc.name, partial(_same, acc))
    for skipped in batch.skipped:
        code = "unsupported_type" if skipped.code.startswith("unsupported") else "damaged_entry"
        out.skip(skipped.issuer, skipped.name, skipped.reason, code, **skipped.params)
