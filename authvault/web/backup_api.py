"""The backup API under /api/backup (design.md: the one-backup-per-account rule and its states)."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from .. import accounts as accts
from .. import device_backup as dbk
from ..backup import BackupError, BackupService, load
from ..backup.errors import holder_json
from ..db import audit, transaction
from ..db import connect as connect_db
from ..errors import N_
from ..otp import Account
from ..qr import make_qr_svg
from . import context
from .api import ApiError, body
from .errors import translate
from .views import account_view

bp = Blueprint("backup", __name__, url_prefix="/api/backup")

TARGET_FIELDS = {
    "folder": ("path",),
    "webdav": ("url", "username", "password"),
    "s3": ("endpoint_url", "bucket", "prefix", "access_key_id", "secret_access_key", "region"),
}


log = logging.getLogger(__name__)


def service() -> BackupService:
    """This server's backup service (locks shared by every worker through the data folder)."""
    settings = current_app.config["AUTHVAULT"]
    return dbk.service_for(settings.data_dir, keep_versions=max(1, settings.backup_versions))


def target_from(data: dict[str, Any]) -> dict[str, Any]:
    """The backup account from a request: only the known fields of its kind, all text."""
    target = data.get("target")
    if not isinstance(target, dict) or not isinstance(target.get("kind"), str) \
            or target["kind"] not in TARGET_FIELDS:
        raise ApiError(400, "target_required",
                       N_("Choose a backup account: a folder, a WebDAV account or an S3 bucket."))
    out: dict[str, Any] = {"kind": target["kind"]}
    for key in TARGET_FIELDS[target["kind"]]:
        value = target.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > 2000:
            raise ApiError(400, "invalid_field", N_("%(field)s must be text."), field=key)
        if "\x00" in value or _unencodable(value):
            raise ApiError(400, "invalid_field", N_("%(field)s contains a character that is not allowed."),
                           field=key)
        out[key] = value.strip() if key not in ("password", "secret_access_key") else value
    load(out)  # validates the fields of the kind (BackupTargetInvalid says which)
    return out


def _unencodable(value: str) -> bool:
    """Whether `value` holds a lone surrogate (JSON allows one; no path, URL or key does)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def recovery_key_from(data: dict[str, Any]) -> str | None:
    """The recovery key of a request, if any."""
    key = data.get("recovery_key")
    if key in (None, ""):
        return None
    if not isinstance(key, str) or len(key) > 200:
        raise ApiError(400, "invalid_recovery_key", N_("The recovery key must be text."))
    return key


def status_json(status: dict[str, Any]) -> dict[str, Any]:
    """The status as GET /api/backup shows it, messages translated."""
    out = {k: v for k, v in status.items() if k != "error"}
    err = status.get("error")
    if err:
        from ..errors import AuthVaultError
        out["error"] = {"code": err["code"],
                        "message": translate(AuthVaultError(err["code"], err["message"], **(err.get("params") or {})))}
    return out


def me() -> tuple[Any, str, bytes]:
    """The connection, device id and master key of the unlocked device."""
    return context.db(), current_user.device.id, current_user.master_key


def retry_if_due() -> None:
    """Retry a failed backup once its retry time has come, in a thread of its own: the code list
    polls this, and a backup server that hangs (up to the WebDAV read timeout, 20 s per request)
    must not hold the codes back, nor a worker thread per poll."""
    conn, device_id, key = me()
    if not dbk.claim_retry(conn, device_id):
        return
    db_path, svc = current_app.config["AUTHVAULT"].db_path, service()

    def run() -> None:
        try:
            own = connect_db(db_path)
            try:
                dbk.push(own, device_id, key, svc)  # records success or failure in the status
            finally:
                own.close()
        except Exception as exc:  # noqa: BLE001 - a thread has no one to answer; say what, not the data
            log.warning("background backup retry of device %s failed: %s", device_id, type(exc).__name__)

    threading.Thread(target=run, name="backup-retry", daemon=True).start()


def after_change() -> None:
    """Back the device's accounts up after a change (called by the accounts API)."""
    conn, device_id, key = me()
    dbk.push(conn, device_id, key, service(), after_change=True)


@bp.get("")
@login_required
def get_backup():  # type: ignore[no-untyped-def]
    """This device's backup state (off, on, error, replaced...) and what it says."""
    conn, device_id, key = me()
    retry_if_due()
    if request.args.get("check") == "1":  # the page asks once when it opens: is it still mine?
        dbk.verify(conn, device_id, key, service())
    return jsonify(status_json(dbk.read_status(conn, device_id)))


@bp.post("/test")
@login_required
def test_connection():  # type: ignore[no-untyped-def]
    """Reach a backup account and say whose backup it holds, if any (writes nothing)."""
    store = load(target_from(body()))
    store.test_connection()
    holder = service().inspect(store)
    return jsonify({"ok": True, "holder": holder_json(holder)})


def _add_to_vault(new: list[Account]) -> tuple[list[Account], list[Account]]:
    """Add accounts from a backup to this device without losing any of its own."""
    conn, device_id, key = me()
    added: list[Account] = []

    def apply(existing: list[Account]) -> list[Account]:
        result, done, _ = accts.merge_new(existing, new)
        added.extend(done)
        return result

    return accts.change_accounts(conn, device_id, key, apply), added


@bp.post("/enable")
@login_required
def enable():  # type: ignore[no-untyped-def]
    """Turn backup on; a taken backup account answers 409 backup_taken with its holder and choices."""
    data = body()
    conn, device_id, key = me()
    if data.get("target") is None:  # a choice about the backup account this device already uses
        config = dbk.read_config(conn, device_id, key)
        if config is None:
            target = target_from(data)  # says what is missing
        target = config.target
    else:
        target = target_from(data)
    resolution = data.get("resolution")
    if resolution not in (None, "replace", "merge", "restore"):
        raise ApiError(400, "invalid_resolution", N_("Choose replace, merge or restore."))
    expected = data.get("expected_generation")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise ApiError(400, "invalid_field", N_("%(field)s must be a whole number."), field="expected_generation")
    mine = accts.load_accounts(conn, device_id, key)
    result = service().enable(load(target), device_id=device_id, device_name=current_user.device.name,
                              accounts=mine, resolution=resolution, recovery_key=recovery_key_from(data),
                              expected_generation=expected)
    added: list[Account] = []
    if resolution == "restore":
        _, added = _add_to_vault(result.accounts or [])
        with transaction(conn):
            audit(conn, "backup_restored", device_id=device_id, detail=f"{len(added)} accounts")
        return jsonify({"state": dbk.read_status(conn, device_id).get("state", "off"),
                        "restored": [account_view(a) for a in added], "holder": holder_json(result.holder)})
    if resolution == "merge" and result.accounts is not None:
        _, added = _add_to_vault(result.accounts)
    config = dbk.Config(target=target, state=result.state)
    dbk.write_config(conn, device_id, key, config)
    status = dbk.status_after_success(config, result.state) if result.state else {"state": "off"}
    with transaction(conn):
        dbk.write_status(conn, device_id, status)
        audit(conn, "backup_enabled", device_id=device_id, detail=f"{target['kind']} {resolution or 'new'}")
    if added:  # the merged accounts are on this device now: back the complete list up
        status = dbk.push(conn, device_id, key, service())
    out = status_json(status)
    if result.recovery_key:
        out["recovery_key"] = result.recovery_key  # shown once, never stored
        out["recovery_key_qr"] = make_qr_svg(result.recovery_key)
    if result.superseded:
        out["superseded"] = result.superseded
    out["added"] = [account_view(a) for a in added]
    return jsonify(out), 200


@bp.post("/disable")
@login_required
def disable():  # type: ignore[no-untyped-def]
    """Turn backup off, keeping or deleting the backup at the backup account."""
    data = body()
    delete_remote = data.get("delete_remote", False)
    if not isinstance(delete_remote, bool):
        raise ApiError(400, "invalid_field", N_("%(field)s must be true or false."), field="delete_remote")
    conn, device_id, key = me()
    config = dbk.read_config(conn, device_id, key)
    if config is not None:
        try:
            service().disable(load(config.target), config.state, delete_remote)
        except BackupError:
            if delete_remote:
                raise  # nothing changed here: say why the backup could not be deleted
    dbk.write_config(conn, device_id, key, None)
    with transaction(conn):
        dbk.write_status(conn, device_id, {"state": "off"})
        audit(conn, "backup_disabled", device_id=device_id, detail="deleted" if delete_remote else "kept")
    return jsonify({"state": "off"})


@bp.post("/now")
@login_required
def backup_now():  # type: ignore[no-untyped-def]
    """Back up now (also retries after an error)."""
    conn, device_id, key = me()
    if dbk.read_status(conn, device_id).get("state") == "off":
        raise ApiError(409, "backup_off", N_("Backup is off on this device. Turn it on first."))
    return jsonify(status_json(dbk.push(conn, device_id, key, service(), force=True)))


@bp.post("/inspect")
@login_required
def inspect():  # type: ignore[no-untyped-def]
    """Whose backup a backup account holds (device, date, count), before anything is written."""
    store = load(target_from(body()))
    holder = service().inspect(store)
    if holder is None:
        from ..backup import BackupMissing
        raise BackupMissing()
    return jsonify({"holder": holder_json(holder)})


@bp.post("/restore")
@login_required
def restore():  # type: ignore[no-untyped-def]
    """Restore a backup onto this device; a device with accounts must say "merge" (never silent)."""
    data = body()
    target = target_from(data)
    key_text = recovery_key_from(data)
    if not key_text:
        from ..backup import RecoveryKeyRequired
        raise RecoveryKeyRequired()
    conn, device_id, key = me()
    holder, restored = service().restore(load(target), key_text)
    existing = accts.load_accounts(conn, device_id, key)
    if existing and data.get("mode") != "merge":
        err = ApiError(409, "device_not_empty",
                       N_("This device already holds accounts (%(count)s). Restoring adds the backup's "
                          "accounts to them (merge); nothing here is overwritten."), count=len(existing))
        err.extra = {"holder": holder_json(holder), "device_count": len(existing), "choices": ["merge", "cancel"]}
        raise err
    _, added = _add_to_vault(restored)
    with transaction(conn):
        audit(conn, "backup_restored", device_id=device_id, detail=f"{len(added)} accounts")
    now = time.time()
    after_change_safe()
    return jsonify({"holder": holder_json(holder), "restored": [account_view(a, now) for a in added],
                    "skipped": len(restored) - len(added)})


@bp.get("/versions")
@login_required
def versions():  # type: ignore[no-untyped-def]
    """The kept previous backups at this device's backup account (device, date, count)."""
    conn, device_id, key = me()
    config = dbk.read_config(conn, device_id, key)
    if config is None:
        raise ApiError(409, "backup_off", N_("Backup is off on this device. Turn it on first."))
    found = service().list_versions(load(config.target))
    return jsonify({"versions": [{"name": v.name, **(holder_json(v.holder) or {})} for v in found]})


@bp.post("/versions/restore")
@login_required
def restore_version():  # type: ignore[no-untyped-def]
    """Add the accounts of a kept version to this device (nothing here is removed)."""
    data = body()
    name = data.get("name")
    key_text = recovery_key_from(data)
    if not isinstance(name, str) or not name:
        raise ApiError(400, "missing_field", N_("%(field)s is required."), field="name")
    if not key_text:
        from ..backup import RecoveryKeyRequired
        raise RecoveryKeyRequired()
    conn, device_id, key = me()
    config = dbk.read_config(conn, device_id, key)
    if config is None:
        raise ApiError(409, "backup_off", N_("Backup is off on this device. Turn it on first."))
    holder, restored = service().restore_version(load(config.target), name, key_text)
    _, added = _add_to_vault(restored)
    after_change_safe()
    return jsonify({"holder": holder_json(holder), "restored": [account_view(a) for a in added]})


def after_change_safe() -> None:
    """Back up after a change when backup is on (never fails the request that made the change)."""
    if current_user.is_authenticated:
        after_change()
