"""Backups of a device's vault to a backup account, one device's backup per account.

`base.load(target)` picks the store for a kind of backup account (`folder`, `webdav`, `s3`);
`service.BackupService` applies the one-backup-per-account rule on top of any store.
"""
from __future__ import annotations

from .base import KINDS, ClaimInfo, Store, load
from .errors import (
    BackupBusy,
    BackupError,
    BackupMissing,
    BackupPreconditionFailed,
    BackupReplaced,
    BackupRolledBack,
    BackupServerError,
    BackupTaken,
    BackupTampered,
    BackupTargetInvalid,
    BackupUnauthorized,
    BackupUnreachable,
    RecoveryKeyRequired,
    WrongRecoveryKey,
)
from .objects import OBJECT_NAME, Holder
from .service import RESOLUTIONS, BackupService, BackupState, EnableResult, Version

__all__ = [
    "KINDS", "OBJECT_NAME", "RESOLUTIONS", "BackupBusy", "BackupError", "BackupMissing",
    "BackupPreconditionFailed", "BackupReplaced", "BackupRolledBack", "BackupServerError",
    "BackupService", "BackupState", "BackupTaken", "BackupTampered", "BackupTargetInvalid",
    "BackupUnauthorized", "BackupUnreachable", "ClaimInfo", "EnableResult", "Holder",
    "RecoveryKeyRequired", "Store", "Version", "WrongRecoveryKey", "load",
]
