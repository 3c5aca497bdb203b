"""The words of the product as data: an `Account`, a `Skipped` entry, and when two accounts are
the same (`same_account`). No Flask, no storage: every part (codes, the vault, importers, backups,
the web) speaks these.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

OtpType = Literal["totp", "hotp", "steam"]
BackupPolicy = Literal["backup", "this-device-only"]


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
    icon: str | None = None  # a data: image (Aegis), or the name of a bundled icon the person chose
    favorite: bool = False
    backup_policy: BackupPolicy = "backup"
    action_required: bool = False
    id: str = field(default_factory=new_id)

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return (f"Account(id={self.id!r}, type={self.type!r}, issuer={self.issuer!r}, "
                f"name={self.name!r})")


def account_key(acc: Account) -> tuple[bytes, str]:
    """What makes an account itself: its secret and its type (a name can be edited; the same
    secret under another name is still the same account, and adding it again adds nothing)."""
    return bytes(acc.secret), acc.type


def same_account(a: Account, b: Account) -> bool:
    """The one rule for "the same account", used by every add, import, restore and merge."""
    return account_key(a) == account_key(b)


@dataclass
class Skipped:
    """An entry that was not added, and why (never its secret): an import file's entry, a Google
    export's, or an account already in the vault.

    `code` says why in a word (`duplicate`, `unsupported_type`, `damaged_entry`...); `reason` is an
    English message (a msgid) with %(name)s placeholders filled from `params`.
    """

    issuer: str
    name: str
    code: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The English reason with its parameters filled in."""
        return self.reason % self.params if self.params else self.reason
