"""Aegis vault files, plain or encrypted (docs/vault.md of beemdevelopment/Aegis).

The file format itself is `authvault.vault`'s (`read_aegis_vault`, `account_from_entry`); this
importer maps its errors onto the importer family and converts entry by entry, so an entry of a
type AuthVault cannot use (mOTP, Yandex) is skipped instead of sinking the file. Old per-entry
"group" names (content version 2) and group lists (version 3) both become account groups.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Mapping

from ...errors import N_
from ...model import new_id
from ...vault.entries import DB_VERSION, account_from_entry
from ...vault.envelope import read_aegis_vault
from ...vault.errors import (
    KdfCostTooHigh,
    UnsupportedVaultVersion,
    VaultDamaged,
    VaultError,
    WrongPassphrase,
)
from .base import (
    CostTooHigh,
    DamagedFile,
    EntryCollector,
    EntryRejected,
    Importer,
    PasswordRequired,
    UnsupportedFormatVersion,
    WrongPassword,
)
from .support.text import load_json, peek_json


def _is_aegis(doc: Any) -> bool:
    return isinstance(doc, dict) and "header" in doc and "db" in doc and "version" in doc


class AegisImporter(Importer):
    """Aegis."""

    name = "aegis"
    label = "Aegis"
    hints = ((b'"header"', b'"db"'),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """An Aegis vault file (version, header, db)."""
        return _is_aegis(peek_json(data))

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        vault = load_json(data)
        if not _is_aegis(vault):
            raise DamagedFile(self.label)
        header = vault.get("header")
        encrypted = isinstance(header, dict) and header.get("slots") is not None
        if encrypted and not password:
            raise PasswordRequired(self.label)
        try:
            db = read_aegis_vault(vault, password or "")
        except WrongPassphrase as exc:
            raise WrongPassword(self.label) from exc
        except KdfCostTooHigh as exc:
            raise CostTooHigh(self.label) from exc
        except UnsupportedVaultVersion as exc:
            raise UnsupportedFormatVersion(self.label, N_("a newer vault format")) from exc
        except VaultDamaged as exc:
            raise DamagedFile(self.label) from exc
        except VaultError as exc:
            if exc.code == "slot_missing":
                raise UnsupportedFormatVersion(
                    self.label,
                    N_(
                        "it can only be unlocked by fingerprint on the phone; "
                        "export it again with a password"
                    ),
                ) from exc
            raise DamagedFile(self.label) from exc
        self._entries(db, out)

    def _entries(self, db: Any, out: EntryCollector) -> None:
        if not isinstance(db, dict):
            raise DamagedFile(self.label)
        version = db.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise DamagedFile(self.label)
        if version > DB_VERSION:
            raise UnsupportedFormatVersion(self.label, N_("content version %s") % version)
        entries = db.get("entries")
        if not isinstance(entries, list):
            raise DamagedFile(self.label)
        names: dict[str, str] = {}
        for group in db.get("groups") or []:
            if (
                isinstance(group, dict)
                and isinstance(group.get("uuid"), str)
                and isinstance(group.get("name"), str)
            ):
                names[group["uuid"]] = group["name"]
        for entry in entries:
            issuer = entry.get("issuer") if isinstance(entry, dict) else ""
            name = entry.get("name") if isinstance(entry, dict) else ""
            out.add(issuer, name, partial(self._build, entry, names))

    @staticmethod
    def _build(entry: Any, names: Mapping[str, str]) -> Any:
        try:
            acc = account_from_entry(entry, names)
        except VaultError as exc:
            code = "unsupported_type" if exc.code == "entry_unsupported" else "damaged_entry"
            raise EntryRejected(exc.message, code, **exc.params) from exc
        acc.id = new_id()  # an import adds new accounts; ids of the file are not ours
        return acc
