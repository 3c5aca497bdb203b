"""The root of every AuthVault exception family.

Each package (otp, qr, vault, importers, backup, devices) subclasses `AuthVaultError` once and
raises only that family, chained with `raise ... from`. The web layer maps them to an HTTP status
(one table, web/errors.py) and the JSON error shape; domain code never imports Flask nor names a
status.
"""
from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a message for translation without translating it (the web layer translates)."""
    return message


class AuthVaultError(Exception):
    """A failure a person can be told about: a snake_case `code` and an English `message`.

    `message` may hold %(name)s placeholders filled from `params`; the web layer translates the
    message (it is a gettext msgid) and then fills them in. Never put a secret in either.
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        self.code = code
        self.message = message
        self.params = params
        super().__init__(self.text())

    def text(self) -> str:
        """The English message with its parameters filled in."""
        return self.message % self.params if self.params else self.message
