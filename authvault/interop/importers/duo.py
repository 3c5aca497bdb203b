"""Duo Mobile's account list (JSON array of `OtpAccount`s with an `otpGenerator`).

Duo keeps no issuer; an entry whose generator has a counter is HOTP, the rest TOTP (6 digits,
SHA1, 30 s). Duo Push accounts without an OTP secret are skipped.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import N_
from ...otp import decode_secret
from .base import DamagedFile, EntryCollector, EntryRejected, Importer
from .support.decode import account
from .support.text import load_json, peek_json


def _is_duo(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and bool(doc)
        and isinstance(doc[0], dict)
        and ("otpGenerator" in doc[0] or doc[0].get("accountType") == "OtpAccount")
    )


class DuoImporter(Importer):
    """Duo Mobile."""

    name = "duo"
    label = "Duo Mobile"
    hints = ((b'"otpGenerator"',),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """A JSON array of Duo accounts."""
        return _is_duo(peek_json(data))

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        doc = load_json(data)
        if not isinstance(doc, list):
            raise DamagedFile(self.label)
        for obj in doc:
            if not isinstance(obj, dict):
                out.skip("", "", N_("This entry is damaged."))
                continue
            out.add("", obj.get("name"), partial(self._build, obj))

    @staticmethod
    def _build(obj: dict[str, Any]) -> Any:
        gen = obj.get("otpGenerator")
        if not isinstance(gen, dict) or not gen.get("otpSecret"):
            raise EntryRejected(
                N_("Duo Push account without a one-time code secret."), "unsupported_type"
            )
        counter = gen.get("counter")
        kind = "hotp" if counter is not None else "totp"
        return account(
            secret=decode_secret(gen.get("otpSecret")), type=kind, name=obj.get("name"), counter=counter
        )
