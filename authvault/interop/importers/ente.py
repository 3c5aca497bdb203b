"""Ente Auth's plain text export: otpauth URIs with Ente's `codeDisplay` parameter.

Ente's encrypted export (JSON with `encryptedData` and `kdfParams`, libsodium secretstream) is
recognised and refused with a clear message: export the plain text file from Ente instead.
"""

from __future__ import annotations

from ...errors import N_
from .base import EntryCollector, Importer, UnsupportedFormatVersion
from .otpauth_text import mostly_uris, read_uri_text
from .support.text import peek_json, text


def _is_encrypted_export(data: bytes) -> bool:
    doc = peek_json(data)
    return isinstance(doc, dict) and "encryptedData" in doc and "kdfParams" in doc


class EnteImporter(Importer):
    """Ente Auth."""

    name = "ente"
    label = "Ente Auth"

    def detect(self, data: bytes, filename: str | None) -> bool:
        """otpauth URI lines carrying `codeDisplay`, or Ente's encrypted JSON."""
        return mostly_uris(data, "codeDisplay=") or _is_encrypted_export(data)

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        if _is_encrypted_export(data):
            raise UnsupportedFormatVersion(
                self.label, N_("encrypted Ente exports are not supported; export as plain text")
            )
        read_uri_text(text(data), out, self.label)
