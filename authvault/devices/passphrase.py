"""Changing a device's passphrase (no Flask here).

The passphrase slot is re-wrapped: the master key stays, so the entries are not re-encrypted (the
envelope's `db` stays byte for byte) and every passkey slot keeps opening the vault. Proof that it
is the person: the current passphrase, counted exactly like an unlock (a stolen unlocked phone gets
no free guesses; the tenth wrong one ends the device's sessions), or a passkey unlock of this
browser moments ago (the caller says so in `reauthed`, as the export and device-removal re-auth
rule does). Every other unlock session of the device ends; the one that made the change stays.

Backups are not touched: a backup's vault opens with its recovery key, never with a device's
passphrase. The browser's offline copy is the envelope as stored, so its next refresh carries
the new slot (and the old passphrase stops opening it).
"""
from __future__ import annotations

import sqlite3

from .. import audit
from ..db import transaction
from ..errors import N_, AuthVaultError
from ..vault import slots
from ..vault import store as accts
from ..vault.crypto import ScryptParams
from . import registry, sessions
from . import unlock as unlocking


class PassphraseChangeError(AuthVaultError):
    """A passphrase change refused before anything is written."""


def change_passphrase(conn: sqlite3.Connection, device: registry.Device, master_key: bytes,
                      current: str | None, new: str, *, params: ScryptParams, reauthed: bool,
                      keep_token: str | None, client: str) -> int:
    """Replace the device's passphrase slot by one for `new`; return how many other sessions ended.

    `current` is checked (and counted) when given; without it `reauthed` must be true.
    """
    if current:
        if current == new:
            raise PassphraseChangeError("passphrase_unchanged", N_(
                "The new passphrase is the one this device has now. Choose another one."))
        unlocking.confirm_passphrase(conn, device, current, client)
    elif not reauthed:
        raise PassphraseChangeError("reauth_required", N_(
            "Confirm it is you: enter the current passphrase, or use this device's passkey."))
    slot = slots.passphrase_slot(master_key, new, params)  # scrypt before the write transaction
    with transaction(conn):
        accts.replace_passphrase(conn, device.id, master_key, slot)
        ended = sessions.close_other_sessions(conn, device.id, keep_token)
        audit.record(conn, "passphrase_changed", device_id=device.id,
              detail="passphrase" if current else "passkey", client=client)
    return ended
