"""One-time codes (RFC 4226 HOTP, RFC 6238 TOTP, Steam) and the otpauth Key URI format.

No Flask here: functions take accounts and times and return codes, URIs and errors.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from .errors import AuthVaultError, N_

OtpType = Literal["totp", "hotp", "steam"]
BackupPolicy = Literal["backup", "this-device-only"]
ALGORITHMS = ("SHA1", "SHA256", "SHA512")


class OtpError(AuthVaultError):
    """An account, URI or secret that cannot be used; `code` says which rule it broke."""


def new_id() -> str:
    """A fresh random account id."""
    return uuid.uuid4().hex


@dataclass
class Account:
    """One two-factor entry. `secret` holds the raw key bytes, never text."""

    secret: bytes
    type: OtpType = "totp"
    issuer: str = ""
    name: str = ""
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30
    counter: int = 0
    note: str = ""
    group: str = ""
    icon: str | None = None
    backup_policy: BackupPolicy = "backup"
    action_required: bool = False
    id: str = field(default_factory=new_id)

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return (f"Account(id={self.id!r}, type={self.type!r}, issuer={self.issuer!r}, "
                f"name={self.name!r})")
