"""Per-device encrypted vaults: master key, slots, the authenticated envelope, Aegis files."""
from __future__ import annotations

from .crypto import DEFAULT_SCRYPT, TEST_SCRYPT, ScryptParams, new_master_key
from .entries import account_from_entry, account_to_entry, accounts_from_db, db_from_accounts
from .envelope import (
    FORMAT_VERSION,
    aegis_slots,
    device_id_of,
    open_aegis_db,
    open_db,
    read_aegis_vault,
    read_aegis_vault_with_recovery_key,
    replace_db,
    seal,
    slots_of,
    to_aegis_vault,
    to_aegis_vault_with_master_key,
    unlock_with_passkey,
    unlock_with_passphrase,
    unlock_with_recovery_key,
    with_slots,
)
from .errors import UnsupportedVaultVersion, VaultDamaged, VaultError, WrongPassphrase
from .session_keys import new_session_token, session_id, unwrap_for_session, wrap_for_session
from .slots import (
    Slot,
    derive_passphrase_kek,
    derive_recovery_kek,
    new_recovery_key,
    normalize_recovery_key,
    passkey_slot,
    passphrase_slot,
    recovery_slot,
    unwrap_passkey,
    unwrap_passphrase,
    unwrap_recovery,
    unwrap_with_kek,
)

__all__ = [
    "DEFAULT_SCRYPT", "FORMAT_VERSION", "TEST_SCRYPT", "ScryptParams", "Slot",
    "UnsupportedVaultVersion", "VaultDamaged", "VaultError", "WrongPassphrase",
    "account_from_entry", "account_to_entry", "accounts_from_db", "aegis_slots",
    "db_from_accounts", "derive_passphrase_kek", "derive_recovery_kek", "device_id_of",
    "new_master_key", "new_recovery_key", "new_session_token", "normalize_recovery_key",
    "open_aegis_db", "open_db", "passkey_slot", "passphrase_slot", "read_aegis_vault",
    "read_aegis_vault_with_recovery_key",
    "recovery_slot", "replace_db", "seal", "session_id", "slots_of", "to_aegis_vault",
    "to_aegis_vault_with_master_key", "unlock_with_passkey", "unlock_with_passphrase",
    "unlock_with_recovery_key", "unwrap_for_session", "unwrap_passkey", "unwrap_passphrase",
    "unwrap_recovery", "unwrap_with_kek", "with_slots", "wrap_for_session",
]
