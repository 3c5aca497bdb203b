"""Domain errors carry no HTTP status: web/errors.py's one table gives each its status.

The known answers below are the statuses each error was answered with before the table existed
(when each class, or the code raising it, set `status` itself); the README's own (code, status)
pairs are checked against the same table.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re

import pytest

import authvault
from authvault import gates, tls
from authvault.backup import device as backup_device
from authvault.backup import errors as backup_errors
from authvault.devices import enrollment, passkeys, passphrase, registry, sending, unlock
from authvault.errors import AuthVaultError
from authvault.interop import export
from authvault.interop.importers import base as importer_errors
from authvault.otp import OtpError
from authvault.qr import QrError
from authvault.vault import errors as vault_errors
from authvault.vault.groups import GroupError
from authvault.vault.store import AccountError
from authvault.web.errors import STATUSES, status_for, status_of
from authvault.web.http import ApiError
from tests.paths import REPO

KNOWN: list[tuple[type[AuthVaultError], str, int]] = [
    (AuthVaultError, "anything", 400),
    (OtpError, "invalid_secret", 400), (OtpError, "secret_too_short", 400),
    (QrError, "not_an_account", 400),
    (vault_errors.VaultError, "session_invalid", 400), (vault_errors.VaultError, "slot_missing", 400),
    (vault_errors.WrongPassphrase, "wrong_passphrase", 401), (vault_errors.WrongPassphrase, "wrong_passkey", 401),
    (vault_errors.VaultDamaged, "vault_damaged", 422),
    (vault_errors.UnsupportedVaultVersion, "vault_version_unsupported", 422),
    (vault_errors.KdfCostTooHigh, "kdf_cost_too_high", 422),
    (AccountError, "account_not_found", 404), (AccountError, "vault_missing", 400),
    (GroupError, "group_not_found", 404), (GroupError, "group_exists", 409), (GroupError, "too_many_groups", 400),
    (registry.DeviceError, "not_removed", 400), (registry.DeviceError, "device_name_required", 400),
    (registry.DeviceError, "confirm_name_required", 400),
    (registry.DeviceNotFound, "device_not_found", 404), (registry.DeviceError, "already_set_up", 409), (registry.LastDevice, "last_device", 409),
    (enrollment.EnrollmentError, "enroll_token_expired", 410),
    (enrollment.EnrollmentError, "enroll_token_used", 410),
    (enrollment.EnrollmentError, "enroll_token_invalid", 410),
    (unlock.TooManyAttempts, "too_many_attempts", 429), (unlock.SignInFailed, "signin_failed", 401),
    (passphrase.PassphraseChangeError, "reauth_required", 401),
    (passphrase.PassphraseChangeError, "passphrase_unchanged", 400),
    (passkeys.PasskeyError, "passkey_not_found", 404), (passkeys.PasskeyError, "passkey_exists", 409),
    (passkeys.PasskeyError, "no_passkeys", 409), (passkeys.PasskeyError, "passkey_unknown", 401),
    (passkeys.PasskeyError, "passkey_other_device", 403), (passkeys.PasskeyError, "passkey_key_mismatch", 401),
    (passkeys.PasskeyError, "passkey_prf_missing", 401), (passkeys.PasskeyError, "device_key_missing", 401),
    (passkeys.PasskeyError, "passkey_invalid", 400), (passkeys.PasskeyError, "passkey_challenge_invalid", 400),
    (passkeys.PasskeyError, "passkey_name_required", 400), (passkeys.PasskeyError, "prf_invalid", 400),
    # A refused registration is a 400, the same refusal of a login a 401.
    (passkeys.PasskeyError, "passkey_wrong_rp_id", 400), (passkeys.PasskeyError, "passkey_refused", 400),
    (passkeys.PasskeyLoginRefused, "passkey_wrong_rp_id", 401),
    (passkeys.PasskeyLoginRefused, "passkey_user_not_verified", 401),
    (passkeys.PasskeyLoginRefused, "passkey_challenge_invalid", 401),
    (passkeys.PasskeyLoginRefused, "passkey_bad_signature", 401),
    (passkeys.PasskeyLoginRefused, "passkey_refused", 401),
    (sending.TransferError, "transfer_damaged", 422), (sending.TransferError, "receiver_not_ready", 409),
    (sending.TransferError, "receiver_inbox_full", 409), (sending.TransferError, "same_device", 400),
    (sending.TransferError, "too_many_accounts", 400), (sending.TransferError, "transfer_not_found", 404),
    (sending.TransferError, "keep_out_of_range", 400),
    (backup_errors.BackupError, "anything", 502),
    (backup_errors.BackupError, "backup_format_unsupported", 422),
    (backup_errors.BackupUnreachable, "backup_unreachable", 503),
    (backup_errors.BackupUnauthorized, "backup_unauthorized", 400),
    (backup_errors.BackupPreconditionFailed, "backup_precondition_failed", 409),
    (backup_errors.BackupTargetInvalid, "backup_target_invalid", 400),
    (backup_errors.BackupServerError, "backup_server_error", 424),
    (backup_errors.BackupNotAStore, "backup_not_a_server", 400),
    (backup_errors.BackupTaken, "backup_taken", 409), (backup_errors.BackupReplaced, "backup_replaced", 409),
    (backup_errors.BackupRolledBack, "backup_rolled_back", 409),
    (backup_errors.BackupTampered, "backup_tampered", 422),
    (backup_errors.WrongRecoveryKey, "wrong_recovery_key", 401),
    (backup_errors.RecoveryKeyRequired, "recovery_key_required", 400),
    (backup_errors.BackupMissing, "backup_missing", 404), (backup_errors.BackupBusy, "backup_busy", 503),
    (backup_device.BackupOff, "backup_off", 409), (backup_device.TargetRequired, "target_required", 400),
    (backup_device.DeviceNotEmpty, "device_not_empty", 409),
    (export.ExportError, "password_required", 400),
    (importer_errors.PasswordRequired, "password_required", 400),
    (importer_errors.WrongPassword, "wrong_password", 400),
    (importer_errors.DamagedFile, "damaged_file", 400), (importer_errors.UnknownFormat, "unknown_format", 400),
    (importer_errors.UnsupportedFormatVersion, "unsupported_format_version", 400),
    (importer_errors.CostTooHigh, "kdf_cost_too_high", 422),
    (importer_errors.DatabaseTooLarge, "database_too_large", 422),
    (importer_errors.FileTooLarge, "file_too_large", 413),
    (gates.ServerBusy, "server_busy", 429),
    (tls.TlsError, "tls_files", 500), (tls.TlsError, "host_name_is_ip", 500), (tls.TlsError, "no_local_ca", 404),
]


@pytest.mark.parametrize(("kind", "code", "status"), KNOWN, ids=[f"{k.__name__}-{c}" for k, c, _ in KNOWN])
def test_each_error_gets_the_status_it_had(kind: type[AuthVaultError], code: str, status: int) -> None:
    assert status_for(kind, code) == status


def test_status_of_reads_the_error_and_api_errors_keep_theirs() -> None:
    assert status_of(backup_errors.BackupMissing()) == 404
    assert status_of(AccountError("account_not_found", "gone")) == 404
    assert status_of(ApiError(409, "group_exists", "taken")) == 409


def _error_classes() -> list[type[AuthVaultError]]:
    for info in pkgutil.walk_packages(authvault.__path__, "authvault."):
        importlib.import_module(info.name)
    seen: list[type[AuthVaultError]] = []
    todo: list[type[AuthVaultError]] = [AuthVaultError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(c for c in cls.__subclasses__() if c not in seen)
    return seen


def test_no_error_class_outside_web_names_a_status() -> None:
    classes = [c for c in _error_classes() if not c.__module__.startswith("authvault.web")]
    assert len(classes) > 40, "the class scan is broken"
    assert [f"{c.__module__}.{c.__qualname__}" for c in classes if "status" in vars(c)] == []


def test_no_domain_code_sets_a_status_on_an_error() -> None:
    """No `err.status = ...`, `self.status = ...` nor a `status=` argument of an error outside web/."""
    found = []
    for path in sorted((REPO / "authvault").rglob("*.py")):
        if "web" in path.relative_to(REPO / "authvault").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                    found.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Error") and any(
                    k.arg == "status" for k in node.keywords):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_every_class_in_the_table_is_a_domain_error() -> None:
    for key in STATUSES:
        kind = key[0] if isinstance(key, tuple) else key
        assert isinstance(kind, type) and issubclass(kind, AuthVaultError) and not issubclass(kind, ApiError)


def _readme_pairs() -> set[tuple[str, int]]:
    """(code, status) pairs the README writes: "409 `backup_taken`" or "`backup_off` (409)"."""
    text = (REPO / "README.md").read_text()
    pairs = {(code, int(status)) for status, code in re.findall(r"\b([45]\d\d) `([a-z][a-z_]+)`", text)}
    pairs |= {(code, int(status)) for code, status in re.findall(r"`([a-z][a-z_]+)` \(([45]\d\d)\b", text)}
    return pairs


def _api_error_statuses() -> dict[str, set[int]]:
    """The statuses the web layer's own refusals (ApiError) answer with, by code."""
    out: dict[str, set[int]] = {}
    for path in (REPO / "authvault" / "web").glob("*.py"):
        for status, code in re.findall(r'ApiError\(\s*(\d{3}),\s*"([a-z_]+)"', path.read_text()):
            out.setdefault(code, set()).add(int(status))
    return out


def test_the_statuses_the_readme_documents_are_the_tables() -> None:
    pairs = _readme_pairs()
    assert {("backup_taken", 409), ("backup_off", 409), ("wrong_recovery_key", 401)} <= pairs, "the scan is broken"
    known: dict[str, set[int]] = {}
    for kind, code, _ in KNOWN:
        known.setdefault(code, set()).add(status_for(kind, code))
    for code, statuses in _api_error_statuses().items():
        known.setdefault(code, set()).update(statuses)
    known.setdefault("disk_full", set()).add(507)  # the server's own disk (web/errors.storage_failure)
    wrong = sorted((code, status, sorted(known.get(code, set()))) for code, status in pairs
                   if status not in known.get(code, set()))
    assert wrong == []
