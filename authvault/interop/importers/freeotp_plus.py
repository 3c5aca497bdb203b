"""FreeOTP+: its JSON export (`{"tokenOrder": [...], "tokens": [...]}`) and its tokens.xml.

The tokens.xml is FreeOTP 1's format (FreeOTP+ is a fork), so detection gives that file to the
FreeOTP importer, with the same result; choosing FreeOTP+ reads it too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import N_
from .base import DamagedFile, EntryCollector, Importer
from .freeotp import read_tokens_xml, token_account
from .support.text import load_json, peek_json


def _is_freeotp_plus(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("tokens"), list) and "tokenOrder" in doc


class FreeOtpPlusImporter(Importer):
    """FreeOTP+."""

    name = "freeotp_plus"
    label = "FreeOTP+"
    hints = ((b'"tokenOrder"', b'"tokens"'),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """FreeOTP+'s JSON export."""
        return _is_freeotp_plus(peek_json(data))

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        doc = peek_json(data)
        if doc is None and data.lstrip().startswith(b"<"):
            read_tokens_xml(data, out, self.label)
            return
        doc = load_json(data)
        if not _is_freeotp_plus(doc):
            raise DamagedFile(self.label)
        for obj in doc["tokens"]:
            if not isinstance(obj, dict):
                out.skip("", "", N_("This entry is damaged."))
                continue
            out.add(obj.get("issuerExt"), obj.get("label"), partial(token_account, obj))
