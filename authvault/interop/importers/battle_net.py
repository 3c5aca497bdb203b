"""The Battle.net Authenticator's shared preferences (XOR-masked device secret and serial).

Both values are hex strings XORed byte by byte with a constant mask (the one Aegis's importer
uses); the unmasked secret is itself the hex of the 20-byte TOTP key. Codes: 8 digits, SHA1, 30 s;
the serial is the account name, "Battle.net" the issuer.
"""

from __future__ import annotations

from ...errors import N_
from ...model import Account
from .base import DamagedFile, EntryCollector, EntryRejected, Importer
from .support.android_prefs import android_prefs, is_android_prefs
from .support.decode import account, hexdecode

_PREFIX = "com.blizzard.messenger."
_SECRET = _PREFIX + "AUTHENTICATOR_DEVICE_SECRET"
_SERIAL = _PREFIX + "AUTHENTICATOR_SERIAL"
_MASK = bytes.fromhex(
    "398e27fc50276a656065b0e525f4c06c04c61075286b8e7aeda59da9813b5dd6"
    "c80d2fb38068773fa59ba47c17ca6c6479015c1d5b8b8f6b9a"
)


def _unmask(hex_text: str) -> str:
    masked = hexdecode(hex_text)
    if len(masked) > len(_MASK):
        raise ValueError("masked value too long")
    return bytes(b ^ m for b, m in zip(masked, _MASK, strict=False)).decode("ascii")


class BattleNetImporter(Importer):
    """Battle.net Authenticator."""

    name = "battle_net"
    label = "Battle.net Authenticator"
    hints = ((b"com.blizzard.messenger.AUTHENTICATOR",),)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """Android preferences holding the Battle.net device secret."""
        return is_android_prefs(data) and _SECRET.encode() in data

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        prefs = android_prefs(data)
        if _SECRET not in prefs:
            raise DamagedFile(self.label)
        kind = prefs.get(_PREFIX + "AUTHENTICATOR_CREDENTIALS_ENCRYPTION_TYPE", "MASK")

        def build() -> Account:
            if kind != "MASK":
                raise EntryRejected(
                    N_("This Battle.net secret is encrypted by the device."), "unsupported_type"
                )
            try:
                secret = hexdecode(_unmask(prefs[_SECRET]))
                serial = _unmask(prefs.get(_SERIAL, "")) if prefs.get(_SERIAL) else ""
            except (ValueError, UnicodeDecodeError) as exc:
                raise EntryRejected(N_("This entry is damaged.")) from exc
            return account(secret=secret, issuer="Battle.net", name=serial, digits=8)

        out.add("Battle.net", "", build)
