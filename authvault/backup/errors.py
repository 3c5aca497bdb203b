"""The backup exception family: one class per state a person is told about.

Every failure of a backup account (a store) or of the one-backup-per-account rule (the service)
is a `BackupError` with a snake_case `code` (and `extra`, the fields an answer carries besides
the message); the web layer (web/errors.py) gives each its HTTP status. Messages name the backup account by kind and location, never by its credentials.
"""
from __future__ import annotations

import unicodedata
from typing import Any

from ..errors import N_, AuthVaultError


class BackupError(AuthVaultError):
    """Any backup failure; `code` says which (see the subclasses)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(code, message, **params)
        self.extra: dict[str, Any] = {}


class BackupUnreachable(BackupError):
    """The backup account did not answer: connection refused, DNS failure, timeout."""

    def __init__(self, where: str) -> None:
        super().__init__("backup_unreachable",
                         N_("The backup account at %(where)s cannot be reached. Codes keep "
                            "working; the backup is retried when it is back."), where=where)


class BackupUnauthorized(BackupError):
    """The backup account refused the credentials (HTTP 401/403, S3 AccessDenied)."""

    def __init__(self, where: str) -> None:
        super().__init__("backup_unauthorized",
                         N_("The backup account at %(where)s refused the user name, password or "
                            "keys. Check them in Settings > Backup."), where=where)


class BackupPreconditionFailed(BackupError):
    """A conditional write or delete found the object changed (HTTP 412) or already there."""

    def __init__(self, name: str) -> None:
        super().__init__("backup_precondition_failed",
                         N_("%(name)s changed at the backup account while AuthVault was writing "
                            "it."), name=name)


class BackupTargetInvalid(BackupError):
    """The backup account settings are incomplete or wrong (missing field, bad URL, no bucket)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__("backup_target_invalid", message, **params)


class BackupServerError(BackupError):
    """The backup account answered in a way AuthVault does not expect (e.g. HTTP 500).

    `detail` (a status, an S3 error code) is for the server's log only: the message says no
    more than that it answered with an error, so a backup account's address cannot be used to
    tell the statuses and services of other machines apart."""

    def __init__(self, where: str, detail: str = "") -> None:
        super().__init__("backup_server_error",
                         N_("The backup account at %(where)s answered with an error. Codes keep "
                            "working; the backup is retried later."), where=where)
        self.detail = detail


class BackupNotAStore(BackupError):
    """The address answered, but not as a WebDAV server or S3 service that AuthVault can use:
    another kind of server, an answer far larger than any backup, or no ETags (S3)."""

    def __init__(self, where: str, kind: str) -> None:
        if kind == "s3":
            message = N_("The address %(where)s answered, but it is not an S3 service AuthVault "
                         "can use. Check the endpoint address.")
        else:
            message = N_("The address %(where)s answered, but it is not a WebDAV server. Check "
                         "the address (for Nextcloud it ends in /remote.php/dav/files/USER/).")
        super().__init__("backup_not_a_server", message, where=where)


#: The longest holder name shown (a device name is at most 60 characters: devices/registry.py).
MAX_SHOWN_NAME = 60


def shown_name(value: str) -> str:
    """A holder's device name as it may be shown: the readable part comes from a backup account
    anyone with its password can write, so control and format characters (bidi overrides among
    them) go, spaces collapse, and it is cut to MAX_SHOWN_NAME characters with an ellipsis."""
    text = "".join(ch if unicodedata.category(ch)[0] not in "CZ" else " " for ch in value[:1000])
    text = " ".join(text.split())
    if len(text) > MAX_SHOWN_NAME:
        text = text[:MAX_SHOWN_NAME - 1].rstrip() + "\u2026"
    return text or "?"


def holder_json(holder: Any) -> dict[str, Any] | None:
    """The public description of a holder for an error body (no ids, nothing secret)."""
    if holder is None:
        return None
    origin = getattr(holder, "key_origin", None)
    return {"device_name": shown_name(str(holder.device_name)), "updated_at": holder.updated_at,
            "count": holder.count, "generation": holder.generation,
            "key_origin": {"device_name": shown_name(str(origin.device_name)), "created_at": origin.created_at}
            if origin is not None else None}


class BackupTaken(BackupError):
    """Turning backup on: the backup account already holds another device's backup."""

    CHOICES: tuple[str, ...] = ("replace", "merge", "restore", "other", "cancel")

    def __init__(self, holder: Any, choices: tuple[str, ...] = CHOICES, *,
                 expected_generation: int | None = None) -> None:
        super().__init__("backup_taken",
                         N_("This backup account already holds the backup of %(device)s "
                            "(accounts: %(count)s; last updated %(updated_at)s). One backup "
                            "account keeps one device's backup."),
                         device=holder.device_name, count=holder.count,
                         updated_at=holder.updated_at)
        self.holder = holder
        self.choices = choices
        self.extra = {"holder": holder_json(holder), "choices": list(choices)}
        if expected_generation is not None:
            # The person chose against the backup as it was at this generation; it changed
            # since, and nothing was written: the page says what changed and asks again.
            self.extra["expected_generation"] = expected_generation


class BackupReplaced(BackupError):
    """Backing up: another device took over this backup account (or the backup was removed)."""

    def __init__(self, holder: Any) -> None:
        if holder is None:
            super().__init__("backup_replaced",
                             N_("The backup at the backup account was removed. This device's "
                                "accounts are no longer backed up."))
        else:
            super().__init__("backup_replaced",
                             N_("%(device)s took over this backup account on %(updated_at)s. "
                                "This device's accounts are no longer backed up."),
                             device=holder.device_name, updated_at=holder.updated_at)
        self.holder = holder
        self.extra = {"holder": holder_json(holder), "choices": list(BackupTaken.CHOICES)}


class BackupRolledBack(BackupError):
    """The backup account shows an older generation than this device last wrote or read."""

    def __init__(self, seen: int, expected: int) -> None:
        super().__init__("backup_rolled_back",
                         N_("The backup account holds an older backup (generation %(seen)s) "
                            "than the one this device last saw (generation %(expected)s). It "
                            "may have been restored from an old copy; check it before "
                            "continuing."), seen=seen, expected=expected)
        self.seen = seen
        self.expected = expected


class BackupTampered(BackupError):
    """The readable part does not match its encrypted copy, or the ciphertext does not verify."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("backup_tampered",
                         N_("The backup at the backup account was changed outside AuthVault "
                            "(%(detail)s). It was not used."), detail=detail or "damaged")


class WrongRecoveryKey(BackupError):
    """The recovery key does not open this backup (told apart from a tampered backup)."""

    def __init__(self) -> None:
        super().__init__("wrong_recovery_key",
                         N_("The recovery key does not open this backup. Check it against the "
                            "one you saved."))


class RecoveryKeyRequired(BackupError):
    """Merge and restore need the holder's recovery key."""

    def __init__(self) -> None:
        super().__init__("recovery_key_required",
                         N_("Enter the recovery key of the backup to merge or restore it."))


class BackupMissing(BackupError):
    """There is no backup (or no such version) at the backup account."""

    def __init__(self, what: str = "") -> None:
        # Two whole sentences, not one with a word slotted in: translations need the whole thing.
        if what == "version":
            super().__init__("backup_missing", N_("There is no such previous version at this backup account."))
        else:
            super().__init__("backup_missing", N_("There is no backup at this backup account."))


class BackupBusy(BackupError):
    """Another writer is in the middle of changing the backup; try again in a moment."""

    def __init__(self) -> None:
        super().__init__("backup_busy",
                         N_("Another device is changing this backup right now. Try again in a "
                            "moment."))
