"""What QR codes hold: the accounts in the texts read from an image or a camera frame.

One reading for the add page's image upload and the live viewfinder: an `otpauth://` (or Steam)
code is one account, a Google Authenticator export batch its accounts and the entries it could not
take; any other code is refused with a message that says what it holds instead. No Flask here.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from . import otp, qr
from .errors import AuthVaultError
from .interop import google_migration
from .model import Account, Skipped


@dataclass(frozen=True)
class Batch:
    """Where a Google Authenticator export code stands in its export: batch `index` of `size`."""

    id: int
    index: int
    size: int


@dataclass
class Reading:
    """What the codes held: accounts, entries skipped inside export batches, the refusal of each
    code that holds no account (in order), and the last export batch seen."""

    accounts: list[Account] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    refused: list[AuthVaultError] = field(default_factory=list)
    batch: Batch | None = None


def read_codes(texts: Sequence[str], *, already_read: Collection[tuple[int, int]] = ()) -> Reading:
    """The accounts in QR code texts; export batches in `already_read` ((id, index) pairs) are
    placed (`batch`) but not read again."""
    out = Reading()
    for text in texts:
        try:
            kind = qr.classify(text)
            if kind == "otpauth-migration":
                parsed = google_migration.parse_migration_uri(text)
                out.batch = Batch(parsed.batch_id, parsed.batch_index, parsed.batch_size)
                if (parsed.batch_id, parsed.batch_index) in already_read:
                    continue
                out.accounts.extend(parsed.accounts)
                out.skipped.extend(parsed.skipped)
            elif kind in ("otpauth", "steam"):
                out.accounts.append(otp.parse_uri(text))
            else:
                raise qr.not_account_error(text)
        except AuthVaultError as err:
            out.refused.append(err)
    return out
