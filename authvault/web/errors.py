"""One place that turns errors into JSON (for /api/ and scripts) or a page (for a person), and the
one table that gives each domain error its HTTP status (domain code names no status)."""
from __future__ import annotations

import errno
import logging
import sqlite3
import traceback
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .. import tls
from ..backup.device import BackupOff, DeviceNotEmpty
from ..backup.errors import (
    BackupBusy,
    BackupError,
    BackupMissing,
    BackupNotAStore,
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
from ..devices.enrollment import EnrollmentError
from ..devices.passkeys import PasskeyError, PasskeyLoginRefused
from ..devices.passphrase import PassphraseChangeError
from ..devices.registry import DeviceError, DeviceNotFound, LastDevice
from ..devices.sending import TransferError
from ..devices.unlock import SignInFailed, TooManyAttempts
from ..errors import N_, AuthVaultError
from ..gates import ServerBusy
from ..interop.importers.base import CostTooHigh, DatabaseTooLarge, FileTooLarge, ImporterError
from ..vault.errors import KdfCostTooHigh, UnsupportedVaultVersion, VaultDamaged, WrongPassphrase
from ..vault.groups import GroupError
from ..vault.store import AccountError
from .http import ApiError

log = logging.getLogger(__name__)

ErrorKey = type | tuple[type, str]  # an AuthVaultError class, or one with a code

# The HTTP status of every domain error. A key is an error class, or (class, code) where one class
# answers with different statuses by its code. The first key met along the error's class and then
# its bases wins, (class, code) before the class alone; AuthVaultError, the root, is a 400.
# ApiError (web/http.py: refusals of the request itself) carries its own status.
STATUSES: dict[ErrorKey, int] = {
    AuthVaultError: 400,
    # the vault and its accounts
    WrongPassphrase: 401, VaultDamaged: 422, UnsupportedVaultVersion: 422, KdfCostTooHigh: 422,
    (AccountError, "account_not_found"): 404,
    (GroupError, "group_not_found"): 404, (GroupError, "group_exists"): 409,
    # devices, unlocking, passkeys, sending
    DeviceNotFound: 404, LastDevice: 409, (DeviceError, "already_set_up"): 409, EnrollmentError: 410,
    TooManyAttempts: 429, SignInFailed: 401,
    (PassphraseChangeError, "reauth_required"): 401,
    PasskeyLoginRefused: 401,  # a login answer that proves nothing; the same refusal at registration is a 400
    (PasskeyError, "passkey_not_found"): 404, (PasskeyError, "passkey_exists"): 409,
    (PasskeyError, "no_passkeys"): 409, (PasskeyError, "passkey_unknown"): 401,
    (PasskeyError, "passkey_other_device"): 403, (PasskeyError, "passkey_key_mismatch"): 401,
    (PasskeyError, "passkey_prf_missing"): 401, (PasskeyError, "device_key_missing"): 401,
    (TransferError, "transfer_damaged"): 422, (TransferError, "receiver_not_ready"): 409,
    (TransferError, "receiver_inbox_full"): 409, (TransferError, "transfer_not_found"): 404,
    # backup: a failure of the backup account is a 502, one that cannot be reached a 503...
    BackupError: 502, BackupUnreachable: 503, BackupBusy: 503,
    # ...but 424 (Failed Dependency) when it answered with an error: AuthVault itself answered, and
    # the pages take a 502-504 for "the server is out of reach".
    BackupServerError: 424,
    # the person's input (user name, password, keys, the address) is what is wrong
    BackupUnauthorized: 400, BackupTargetInvalid: 400, BackupNotAStore: 400, RecoveryKeyRequired: 400,
    # nothing is wrong with the backup account: this AuthVault is older than the backup
    (BackupError, "backup_format_unsupported"): 422,
    BackupPreconditionFailed: 409, BackupTaken: 409, BackupReplaced: 409, BackupRolledBack: 409,
    BackupTampered: 422, WrongRecoveryKey: 401, BackupMissing: 404,
    BackupOff: 409, DeviceNotEmpty: 409,
    # imports
    CostTooHigh: 422, DatabaseTooLarge: 422, FileTooLarge: 413,
    # the server itself
    ServerBusy: 429,
    tls.TlsError: 500, (tls.TlsError, "no_local_ca"): 404,
}


def status_for(kind: type[AuthVaultError], code: str) -> int:
    """The HTTP status of a domain error of class `kind` with `code` (STATUSES)."""
    for cls in kind.__mro__:
        status = STATUSES.get((cls, code), STATUSES.get(cls))
        if status is not None:
            return status
    return 400


def status_of(err: AuthVaultError) -> int:
    """The HTTP status an error is answered with."""
    if isinstance(err, ApiError):
        return err.status
    return status_for(type(err), err.code)


def extra_of(err: AuthVaultError) -> dict[str, Any]:
    """The fields an error answer carries besides code and message (a taken backup's holder and
    choices, when to retry...); an import's error names the app the file is from, for the page."""
    extra = dict(getattr(err, "extra", None) or {})
    if isinstance(err, ImporterError) and err.params.get("format"):
        extra = {"format": err.params["format"]}
    return extra

# Messages for HTTP errors raised by Flask or its extensions (translated at response time).
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("locked", "This device is locked. Unlock it to continue."),
    403: ("forbidden", "This is not allowed from this device."),
    404: ("not_found", "There is nothing here."),
    405: ("method_not_allowed", "That method is not allowed here."),
    413: ("file_too_large", "That file is too large. Upload an image or file under 20 MB."),
    415: ("unsupported_media_type", "Send this as JSON."),
    429: ("too_many_requests", "Too many attempts. Wait a minute and try again."),
}


def wants_json() -> bool:
    """Whether the caller is a script (the API, fetch) rather than a page load."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(code: str, message: str, status: int, **extra: Any) -> tuple[Response, int]:
    """The JSON error shape of the HTTP contract."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    body["error"].update(extra)
    return jsonify(body), status


def _readable(value: Any) -> Any:
    """An ISO 8601 time in a message becomes a date a person reads (in their language)."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")), "medium")
        except ValueError:
            return value
    return value


def translate(err: AuthVaultError) -> str:
    """A domain error's message in the person's language, with its parameters filled in."""
    message = gettext(err.message)
    try:
        return message % {k: _readable(v) for k, v in err.params.items()} if err.params else message
    except (KeyError, ValueError, TypeError):  # a translation with broken placeholders
        return err.text()


def _page(status: int, message: str) -> Any:
    if request_ctx.url_adapter is None:
        # No URL can be built for this request (a Host header that is no host name): the page's
        # links would fail, so the message goes out alone.
        return Response(message, status, mimetype="text/plain")
    return render_template("error.html", status=status, message=message), status


def _as_response(page: Any, status: int) -> tuple[Response, int]:
    if isinstance(page, Response):
        return page, status
    body, code = page
    return Response(body, code, mimetype="text/html"), code


DISK_FULL = N_("The server's disk is full, so nothing was saved. Free some space on the server and try again. "
               "Locking still works.")
READ_ONLY = N_("The server's data folder has become read-only, so nothing was saved. Check the server's disk, "
               "then restart AuthVault.")


def storage_failure(err: BaseException) -> tuple[str, str, int] | None:
    """A write the server's own disk refused: full (507) or read-only (503), else None.

    SQLite says "database or disk is full" (SQLITE_FULL) and "attempt to write a readonly database";
    files written directly raise OSError with ENOSPC, EDQUOT or EROFS.
    """
    seen: BaseException | None = err
    for _ in range(5):  # the error itself and what it was raised from
        if seen is None:
            break
        if isinstance(seen, sqlite3.OperationalError):
            text = str(seen).lower()
            if "disk is full" in text or "database or disk is full" in text:
                return "disk_full", DISK_FULL, 507
            if "readonly" in text or "read-only" in text:
                return "data_folder_read_only", READ_ONLY, 503
        if isinstance(seen, OSError):
            if seen.errno in (errno.ENOSPC, errno.EDQUOT):
                return "disk_full", DISK_FULL, 507
            if seen.errno == errno.EROFS:
                return "data_folder_read_only", READ_ONLY, 503
        seen = seen.__cause__ or seen.__context__
    return None


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(AuthVaultError)
    def domain_error(err: AuthVaultError) -> ResponseReturnValue:
        status = status_of(err)
        extra = extra_of(err)
        if wants_json():
            resp, status = error_response(err.code, translate(err), status, **extra)
        else:
            resp, status = _as_response(_page(status, translate(err)), status)
        if "retry_after" in extra:  # too many attempts: say when to come back (RFC 9110, 10.2.3)
            resp.headers["Retry-After"] = str(extra["retry_after"])
        return resp, status

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError) -> ResponseReturnValue:
        message = gettext("This page has expired. Reload it and try again.")
        if wants_json():
            return error_response("csrf_failed", message, 400)
        return _page(400, message)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> ResponseReturnValue:
        status = err.code or 500
        code, message = HTTP_MESSAGES.get(status, ("http_error", err.description or "Error"))
        if wants_json():
            return error_response(code, gettext(message), status)
        if status == 405 and request.method == "POST":
            # A page's form sent by the browser itself: its script had not run yet (or failed).
            return _page(status, gettext("The page had not finished loading when the form was sent. "
                                         "Nothing was changed. Go back, wait a moment and try again."))
        return _page(status, gettext(message))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> ResponseReturnValue:
        storage = storage_failure(err)
        if storage is not None:  # not a bug: the server's disk refused the write
            code, message, status = storage
            log.error("%s at %s %s", code, request.method, request.path)
            if wants_json():
                return error_response(code, gettext(message), status)
            return _page(status, gettext(message))
        # A 500 is always a bug. Log the type and where it happened, never the message or the
        # values (they can carry input, a secret among them).
        frames = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                            for f in reversed(traceback.extract_tb(err.__traceback__)[-6:]))
        log.error("unexpected %s at %s %s: %s", type(err).__name__, request.method, request.path, frames)
        message = gettext("Something went wrong on the server. Nothing was changed. Try again.")
        if wants_json():
            return error_response("internal_error", message, 500)
        return _page(500, message)
