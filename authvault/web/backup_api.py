"""The backup API under /api/backup: one backup account holds one device's backup; the states a
device's backup is in (off, on, pending, error, taken, replaced...) and the choices of a conflict
(README, "Backup and restore")."""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ..backup import device as dbk
from ..backup import load
from ..backup.errors import holder_json
from ..errors import N_, AuthVaultError
from ..qr import make_qr_svg
from . import context
from .errors import translate
from .http import ApiError, body
from .views import account_view

bp = Blueprint("backup", __name__, url_prefix="/api/backup")

TARGET_FIELDS = {
    "folder": ("path",),
    "webdav": ("url", "username", "password"),
    "s3": ("endpoint_url", "bucket", "prefix", "access_key_id", "secret_access_key", "region"),
}


log = logging.getLogger(__name__)


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


def status_json(status: dbk.Status, health: dbk.Health | None = None) -> dict[str, Any]:
    """The status as GET /api/backup shows it, messages translated."""
    out = status.to_json()
    out.pop("error", None)
    if health is not None:
        out["health"] = health.to_json()
    err = status.error
    if err:
        out["error"] = {"code": err["code"],
                        "message": translate(AuthVaultError(err["code"], err["message"], **(err.get("params") or {})))}
    return out


def _whole_number(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ApiError(400, "invalid_field", N_("%(field)s must be a whole number."), field=key)
    return value


@bp.get("")
@login_required
def get_backup() -> ResponseReturnValue:
    """This device's backup state (off, on, error, replaced...) and what it says; with ?check=1
    (the page asks once when it opens) the backup account is asked first."""
    backup = context.device_backup()
    status = backup.status(check=request.args.get("check") == "1")
    return jsonify(status_json(status, backup.health(status)))


@bp.post("/test")
@login_required
def test_connection() -> ResponseReturnValue:
    """Reach a backup account and say whose backup it holds, if any (writes nothing)."""
    holder = context.device_backup().test(target_from(body()))
    return jsonify({"ok": True, "holder": holder_json(holder)})


@bp.post("/enable")
@login_required
def enable() -> ResponseReturnValue:
    """Turn backup on; a taken backup account answers 409 backup_taken with its holder and choices."""
    data = body()
    target = None if data.get("target") is None else target_from(data)
    resolution = data.get("resolution")
    if resolution not in (None, "replace", "merge", "restore"):
        raise ApiError(400, "invalid_resolution", N_("Choose replace, merge or restore."))
    expected = _whole_number(data, "expected_generation")
    key = recovery_key_from(data)
    done = context.device_backup().enable(target, resolution=resolution, recovery_key=key, expected_generation=expected)
    if done.restored is not None:
        return jsonify({"state": done.status.state, **restored_json(done.restored)})
    out = status_json(done.status)
    out["recovery_key_new"] = bool(done.recovery_key)
    out["key_origin"] = done.holder.key_origin.to_json() if done.holder and done.holder.key_origin else None
    out["displaced"] = holder_json(done.displaced)
    if done.recovery_key:
        out["recovery_key"] = done.recovery_key  # shown once, never stored
        out["recovery_key_qr"] = make_qr_svg(done.recovery_key)
    if done.superseded:
        out["superseded"] = done.superseded
    out["added"] = [account_view(a) for a in done.added]
    return jsonify(out), 200


@bp.post("/disable")
@login_required
def disable() -> ResponseReturnValue:
    """Turn backup off, keeping or deleting the backup at the backup account."""
    delete_remote = body().get("delete_remote", False)
    if not isinstance(delete_remote, bool):
        raise ApiError(400, "invalid_field", N_("%(field)s must be true or false."), field="delete_remote")
    return jsonify(context.device_backup().disable(delete_remote=delete_remote))


@bp.post("/now")
@login_required
def backup_now() -> ResponseReturnValue:
    """Back up now (also retries after an error)."""
    return jsonify(status_json(context.device_backup().back_up_now()))


@bp.post("/inspect")
@login_required
def inspect() -> ResponseReturnValue:
    """Whose backup a backup account holds (device, date, count), before anything is written."""
    return jsonify({"holder": holder_json(context.device_backup().inspect(target_from(body())))})


def restored_json(done: dbk.Restored) -> dict[str, Any]:
    """What a restore added, for the page's result message."""
    now = time.time()
    return {"holder": holder_json(done.holder), "restored": [account_view(a, now) for a in done.added],
            "total": done.total, "already_here": done.already_here, "action_required": done.action_required,
            "skipped": done.already_here}


@bp.post("/restore")
@login_required
def restore() -> ResponseReturnValue:
    """Restore a backup onto this device; a device with accounts must say "merge" (never silent)."""
    data = body()
    target = target_from(data)
    done = context.device_backup().restore(target, recovery_key_from(data), merge=data.get("mode") == "merge")
    return jsonify(restored_json(done))


@bp.get("/versions")
@login_required
def versions() -> ResponseReturnValue:
    """The kept previous backups at this device's backup account (device, date, count)."""
    found = context.device_backup().versions()
    return jsonify({"versions": [{"name": v.name, **(holder_json(v.holder) or {})} for v in found]})


@bp.post("/versions/restore")
@login_required
def restore_version() -> ResponseReturnValue:
    """Add the accounts of a kept version to this device (nothing here is removed)."""
    data = body()
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "missing_field", N_("%(field)s is required."), field="name")
    done = context.device_backup().restore_version(name, recovery_key_from(data))
    return jsonify(restored_json(done))
