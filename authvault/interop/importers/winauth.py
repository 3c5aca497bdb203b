"""WinAuth's export: a text file of otpauth URIs, where WinAuth keeps the service in the label.

The file cannot be told apart from any other URI list, so detection leaves it to the generic
otpauth text importer; choosing "WinAuth" explicitly names each account as Aegis does: the
label becomes the issuer and the name is "WinAuth".
"""

from __future__ import annotations

from .base import EntryCollector, Importer
from .otpauth_text import read_uri_text
from .support.text import text


class WinAuthImporter(Importer):
    """WinAuth."""

    name = "winauth"
    label = "WinAuth"

    def detect(self, data: bytes, filename: str | None) -> bool:
        """Never from content alone: a WinAuth file is a plain URI list (see the module doc)."""
        return False

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        read_uri_text(text(data), out, self.label)
        for acc in out.result.accounts:
            acc.issuer, acc.name = acc.name, "WinAuth"
