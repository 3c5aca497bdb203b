"""Steam Guard maFiles (Steam Desktop Authenticator, old and new layout): `shared_secret`.

The shared secret is base64; codes are Steam's (5 characters, SHA1, 30 s). The issuer is
"Steam" and the name the Steam account name.
"""

from __future__ import annotations

import base64
from functools import partial
from typing import Any

from ...errors import N_
from .base import DamagedFile, EntryCollector, EntryRejected, Importer
from .support.decode import account, b64decode
from .support.text import load_json, peek_json


def _accounts(doc: Any) -> list[Any] | None:
    if isinstance(doc, dict) and "shared_secret" in doc:
        return [doc]
    if isinstance(doc, dict) and isinstance(doc.get("accounts"), dict):
        values = list(doc["accounts"].values())
        if values and all(isinstance(v, dict) and "shared_secret" in v for v in values):
            return values
    return None


class SteamImporter(Importer):
    """Steam (maFile)."""

    name = "steam"
    label = "Steam Guard (maFile)"
    hints = ((b'"shared_secret"',),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """JSON with Steam's shared_secret."""
        return _accounts(peek_json(data)) is not None

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        items = _accounts(load_json(data))
        if items is None:
            raise DamagedFile(self.label)
        for obj in items:
            out.add("Steam", obj.get("account_name"), partial(self._build, obj))

    @staticmethod
    def _build(obj: dict[str, Any]) -> Any:
        raw = obj.get("shared_secret")
        if not isinstance(raw, str):
            raise EntryRejected(N_("The secret is missing."))
        try:
            secret = b64decode(raw)
        except (ValueError, base64.binascii.Error) as exc:  # type: ignore[attr-defined]
            raise EntryRejected(N_("The secret is not valid base64.")) from exc
        return account(secret=secret, type="steam", issuer="Steam", name=obj.get("account_name"))
