"""Proton Authenticator's JSON export: `{"version": 1, "entries": [{"content": {"uri"...}}]}`.

Proton's password-protected export is recognised and refused with a clear message.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import N_
from .base import DamagedFile, EntryCollector, Importer, UnsupportedFormatVersion
from .support.decode import as_str
from .support.text import load_json, peek_json
from .support.uris import account_from_uri, uri_label


def _is_proton(doc: Any) -> bool:
    if not isinstance(doc, dict) or "version" not in doc:
        return False
    entries = doc.get("entries")
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        return "content" in entries[0]
    return "salt" in doc and "content" in doc and "entries" not in doc


class ProtonImporter(Importer):
    """Proton Authenticator."""

    name = "proton"
    label = "Proton Authenticator"
    hints = ((b'"entries"', b'"content"', b'"entry_type"'),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """Proton's export JSON."""
        return _is_proton(peek_json(data))

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        doc = load_json(data)
        if not isinstance(doc, dict):
            raise DamagedFile(self.label)
        if doc.get("version") != 1:
            raise UnsupportedFormatVersion(
                self.label, N_("version %s") % str(doc.get("version"))[:10]
            )
        entries = doc.get("entries")
        if entries is None and "salt" in doc:
            raise UnsupportedFormatVersion(
                self.label,
                N_("password-protected exports are not supported; export without a password"),
            )
        if not isinstance(entries, list):
            raise DamagedFile(self.label)
        for entry in entries:
            content = entry.get("content") if isinstance(entry, dict) else None
            if not isinstance(content, dict):
                out.skip("", "", N_("This entry is damaged."))
                continue
            uri = content.get("uri")
            issuer, name = uri_label(uri) if isinstance(uri, str) else ("", "")
            out.add(issuer, name or content.get("name"), partial(self._build, uri, entry))

    @staticmethod
    def _build(uri: Any, entry: dict[str, Any]) -> Any:
        acc, notes = account_from_uri(uri)
        note = entry.get("note")
        if note:
            acc.note = as_str(note)
        return acc, notes
