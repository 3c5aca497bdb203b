"""The vault exception family: wrong passphrase, damaged vault, newer format, other failures."""
from __future__ import annotations

from typing import Any

from ..errors import N_, AuthVaultError


class VaultError(AuthVaultError):
    """Any vault failure; `code` says which (e.g. `session_invalid`, `recovery_key_invalid`)."""


class WrongPassphrase(VaultError):
    """No slot's key-encryption key unwraps the master key: the credential is wrong.

    The code says which credential: `wrong_passphrase`, `wrong_recovery_key`, `wrong_passkey`.
    """

    def __init__(self, message: str = N_("The passphrase is not correct."), *,
                 code: str = "wrong_passphrase", **params: Any) -> None:
        super().__init__(code, message, **params)


class VaultDamaged(VaultError):
    """A slot opened but the header MAC, the entries or the JSON do not verify."""

    def __init__(self, message: str = N_("The vault is damaged or was changed outside AuthVault."),
                 **params: Any) -> None:
        super().__init__("vault_damaged", message, **params)


class UnsupportedVaultVersion(VaultError):
    """The vault was written in a format newer than this AuthVault understands."""

    def __init__(self, version: object) -> None:
        super().__init__(
            "vault_version_unsupported",
            N_("This vault was written by a newer AuthVault (format %(version)s). "
               "Update AuthVault to open it."),
            version=str(version),
        )


class KdfCostTooHigh(VaultError):
    """A file from elsewhere (an Aegis import, a backup object) asks for more key derivation than
    AuthVault computes for one file: its scrypt cost or its number of password slots."""

    def __init__(self) -> None:
        super().__init__(
            "kdf_cost_too_high",
            N_("This file asks for more password-key computation than AuthVault does for one file "
               "(scrypt up to 64 MiB and four times the work Aegis uses, at most 4 password slots). "
               "Export it again from its app with the usual settings."),
        )
