"""Reading otpauth URIs inside other formats (text lists, Bitwarden, Proton, 2FAS, ZIPs).

All URI parsing is `authvault.otp.parse_uri`'s; this module only feeds URIs to it entry by
entry, and names a skipped entry from the URI's label, never from its query (the secret).
"""

from __future__ import annotations

from functools import partial
from urllib.parse import unquote, urlsplit

from ....errors import N_
from ....otp import Account, Note, OtpError, read_uri
from ...google_migration import parse_migration_uri
from ..base import EntryCollector, EntryRejected, unsupported_type
from .decode import split_label


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
        return read_uri(uri)
    raise EntryRejected(N_("This is not an otpauth URI."))


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
