"""The JSON API under /api/ (README, "The JSON API"): session, setup, unlock and lock, codes,
accounts and settings; thin handlers over the domain modules."""
from __future__ import annotations

import hmac
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from .. import otp, qr, scanning
from ..devices import enrollment, registry, sessions
from ..devices import unlock as unlocking
from ..errors import N_
from ..interop import google_migration
from ..model import Account, Skipped
from ..otp import OtpError
from ..vault import store as accts
from . import context
from .errors import storage_failure
from .http import MAX_NOTE, ApiError, body, check_passphrase, group_name, icon_name, text_field
from .session import DEVICE_COOKIE_AGE, session_json, session_state, unlocked_response
from .views import account_view, added_json, codes_payload

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api")

# --- session, setup, unlock, lock -------------------------------------------------------------

@bp.get("/session")
def get_session() -> ResponseReturnValue:
    """The state of this browser and the CSRF token for state-changing calls."""
    return jsonify(session_json())


@bp.post("/setup")
def setup() -> ResponseReturnValue:
    """Create the first device with its passphrase, unlocked. Works once."""
    data = body()
    settings = current_app.config["AUTHVAULT"]
    conn = context.db()
    if registry.count_devices(conn):
        raise ApiError(409, "already_set_up", N_("AuthVault is already set up. Unlock it, or add this browser "
                                                 "as a new device from a device that is set up."))
    expected = settings.setup_token
    if not expected:
        path = context.setup_token_path(settings)
        expected = path.read_text().strip() if path.exists() else ""
    given = data.get("setup_token")
    if not expected or not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "setup_token_invalid", N_("This setup link is not valid. Use the address the server "
                                                      "printed when it started."))
    name = registry.clean_name(data.get("device_name"))
    passphrase = check_passphrase(data.get("passphrase"))
    device, cookie_token, master_key = enrollment.set_up(conn, name, passphrase, context.scrypt_params(),
                                                         client=context.client_address())
    context.setup_token_path(settings).unlink(missing_ok=True)
    return unlocked_response(device, master_key, 201, cookie_token)


@bp.post("/unlock")
def unlock() -> ResponseReturnValue:
    """Unlock this device with its passphrase."""
    data = body()
    device = context.current_device()
    if device is None:
        raise ApiError(401, "unknown_device", N_("This browser is not one of your devices. Open the setup or "
                                                 "add-a-device link, or sign in to a device."))
    passphrase = data.get("passphrase")
    if not isinstance(passphrase, str) or not passphrase:
        raise ApiError(400, "passphrase_required", N_("Enter your passphrase."))
    master_key = unlocking.with_passphrase(context.db(), device, passphrase, context.client_address())
    return unlocked_response(device, master_key)


@bp.post("/lock")
def lock() -> ResponseReturnValue:
    """Lock this browser now (forget its unlock session).

    The token that unwraps the session's key lives only in this browser's cookie, so dropping it
    locks even when the server's disk is full or read-only and the row cannot be deleted at once
    (it is purged with the idle sessions once the disk takes writes again)."""
    token = session.pop(context.SESSION_TOKEN, None)
    conn = context.db()
    device = context.current_device()
    try:
        sessions.lock(conn, token, device.id if device else None, client=context.client_address())
    except sqlite3.OperationalError as exc:
        refused = storage_failure(exc)
        if refused is None:
            raise
        log.warning("locked without deleting the session row (%s)", refused[0])
    return jsonify({"state": "locked" if device else session_state(), "csrf_token": generate_csrf()})


# --- codes and accounts ---------------------------------------------------------------------

@bp.get("/codes")
@login_required
def codes() -> ResponseReturnValue:
    """Every account with its current code, next code and seconds left, by the server's clock."""
    context.device_backup().retry_in_background()
    accounts, groups = accts.load_library(context.db(), current_user.device.id, current_user.master_key)
    return jsonify(codes_payload(accounts, groups=groups))


def add_parsed(new: list[Account], skipped: list[Skipped]) -> ResponseReturnValue:
    """Add parsed accounts to the vault and answer with what was added and skipped."""
    added, dupes = context.device_backup().add(new, client=context.client_address())
    answer, status = added_json(added, skipped + dupes)
    return jsonify(answer), status


def migration_accounts(uri: str) -> tuple[list[Account], list[Skipped]]:
    """The accounts of a Google Authenticator export batch and the entries it could not take."""
    batch = google_migration.parse_migration_uri(uri)
    skipped = [s for s in batch.skipped]
    return list(batch.accounts), skipped


def account_from_fields(data: dict[str, Any]) -> Account:
    """An account typed in by hand (advanced fields optional)."""
    secret_text = text_field(data, "secret", limit=1024)
    if not secret_text:
        raise OtpError("secret_required", N_("Enter the secret key (the letters and digits shown under the QR code)."))
    kind = text_field(data, "type") or "totp"
    acc = Account(secret=otp.decode_secret(secret_text),  # its type once the fields are checked, below
                  issuer=text_field(data, "issuer"), name=text_field(data, "name"),
                  algorithm=(text_field(data, "algorithm") or "SHA1").upper())
    for key in ("digits", "period", "counter"):
        raw = data.get(key)
        if raw in (None, ""):
            continue
        try:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(key)  # true, 6.9, Infinity, NaN: not a whole number
            setattr(acc, key, int(raw))
        except (TypeError, ValueError, OverflowError):
            raise ApiError(400, "invalid_number", N_("%(field)s must be a whole number."), field=key) from None
    if kind == "steam":
        acc.digits = 5
    if "digits" not in data or data.get("digits") in (None, ""):
        acc.digits = 5 if kind == "steam" else 6
    if not acc.issuer and not acc.name:
        raise ApiError(400, "label_required", N_("Enter the service (issuer) or the account name."))
    acc.type = otp.otp_type(kind)
    return otp.validate(acc)


@bp.post("/accounts")
@login_required
def add_account() -> ResponseReturnValue:
    """Add accounts from an otpauth:// URI, an otpauth-migration:// URI, or typed-in fields."""
    data = body()
    uri = data.get("uri")
    if uri is not None:
        if not isinstance(uri, str) or not uri.strip():
            raise ApiError(400, "uri_required", N_("Paste an otpauth:// or otpauth-migration:// address."))
        uri = uri.strip()
        if uri.lower().startswith("otpauth-migration:"):
            new, skipped = migration_accounts(uri)
            return add_parsed(new, skipped)
        return add_parsed([otp.parse_uri(uri)], [])
    return add_parsed([account_from_fields(data)], [])


@bp.post("/accounts/scan")
@login_required
def scan() -> ResponseReturnValue:
    """Add every account in every QR code of an uploaded image."""
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "file_required", N_("Choose an image (a screenshot or a photo of a QR code)."))
    data = upload.read()
    if not data:
        raise ApiError(400, "empty_file", N_("That file is empty. Choose an image of a QR code."))
    texts = qr.decode_image(data)
    found = scanning.read_codes(texts)
    if not found.accounts and found.refused and len(texts) == 1:
        raise found.refused[0]  # one QR code that is not an account: say exactly why
    refused = [Skipped("", "", err.code, err.message, dict(err.params or {})) for err in found.refused]
    return add_parsed(found.accounts, found.skipped + refused)


def _edit(account_id: str, fn: Callable[[list[Account], Account], None]) -> Account:
    result: list[Account] = []

    def apply(existing: list[Account]) -> list[Account]:
        acc = accts.find(existing, account_id)
        fn(existing, acc)
        otp.validate(acc)  # an edit never saves an account whose codes cannot be made
        result.append(acc)
        return existing

    context.device_backup().change(apply)
    return result[0]


@bp.patch("/accounts/<account_id>")
@login_required
def edit_account(account_id: str) -> ResponseReturnValue:
    """Change an account's issuer, label, note or backup policy."""
    data = body()
    updates: dict[str, Any] = {}
    if "issuer" in data:
        updates["issuer"] = text_field(data, "issuer")
    if "name" in data:
        updates["name"] = text_field(data, "name")
    if "note" in data:
        updates["note"] = text_field(data, "note", limit=MAX_NOTE)
    if "backup_policy" in data:
        if data["backup_policy"] not in ("backup", "this-device-only"):
            raise ApiError(400, "invalid_backup_policy",
                           N_("backup_policy must be “backup” or “this-device-only”."))
        updates["backup_policy"] = data["backup_policy"]
    if "group" in data:
        updates["group"] = group_name(data, "group", allow_empty=True)
    if "favorite" in data:
        if not isinstance(data["favorite"], bool):
            raise ApiError(400, "invalid_favorite", N_("favorite must be true or false."))
        updates["favorite"] = data["favorite"]
    if "icon" in data:
        updates["icon"] = icon_name(data["icon"])
    if not updates:
        raise ApiError(400, "nothing_to_change", N_("Nothing to change: send issuer, name, note, group, "
                                                    "favorite, icon or backup_policy."))

    def apply(_all: list[Account], acc: Account) -> None:
        new_issuer = updates.get("issuer", acc.issuer)
        new_name = updates.get("name", acc.name)
        if not new_issuer and not new_name:
            raise ApiError(400, "label_required", N_("An account needs a service (issuer) or an account name."))
        for key, value in updates.items():
            setattr(acc, key, value)

    return jsonify(account_view(_edit(account_id, apply)))


@bp.delete("/accounts/<account_id>")
@login_required
def delete_account(account_id: str) -> ResponseReturnValue:
    """Delete an account (the page asks first, naming it)."""
    gone = context.device_backup().delete(account_id, client=context.client_address())
    return jsonify({"deleted": gone.id})


@bp.post("/accounts/<account_id>/next")
@login_required
def next_hotp(account_id: str) -> ResponseReturnValue:
    """HOTP: move to the next counter, save it, and show the new code."""

    def apply(_all: list[Account], acc: Account) -> None:
        if acc.type != "hotp":
            raise ApiError(400, "not_hotp", N_("Only counter-based (HOTP) accounts have a next-code button."))
        if acc.counter + 2 > otp.MAX_COUNTER:  # the code after the next is shown too
            raise ApiError(409, "counter_exhausted", N_("This account's counter is at its end: no further codes exist."))
        acc.counter += 1

    return jsonify(account_view(_edit(account_id, apply)))


@bp.post("/accounts/order")
@login_required
def reorder() -> ResponseReturnValue:
    """Put the accounts in the given order (a list of every account id)."""
    ids = body().get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "ids_required", N_("Send ids: the list of account ids in the new order."))

    def apply(existing: list[Account]) -> list[Account]:
        if sorted(ids) != sorted(a.id for a in existing):
            raise ApiError(409, "order_mismatch", N_("The list changed meanwhile. Reload and try again."))
        by_id = {a.id: a for a in existing}
        return [by_id[i] for i in ids]

    now = time.time()
    return jsonify({"accounts": [account_view(a, now) for a in context.device_backup().change(apply).accounts]})


# --- settings -------------------------------------------------------------------------------

@bp.get("/settings")
@login_required
def get_settings() -> ResponseReturnValue:
    """This device's settings."""
    return jsonify({"lock_minutes": context.lock_seconds(current_user.device.id) / 60,
                    "language": request.cookies.get("authvault_lang", "auto"), "effective_language": context.select_locale()})


@bp.patch("/settings")
@login_required
def put_settings() -> ResponseReturnValue:
    """Change this device's lock time and this browser's language."""
    data = body()
    resp = make_response()
    conn = context.db()
    if "lock_minutes" in data:
        minutes = data["lock_minutes"]
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 1440:
            raise ApiError(400, "invalid_lock_minutes", N_("Lock after 1 to 1440 minutes."))
        registry.save_setting(conn, current_user.device.id, "lock_minutes", str(minutes))
    if "language" in data:
        lang = data["language"]
        if lang not in ("auto", "en", "ja"):
            raise ApiError(400, "invalid_language", N_("Language must be auto, en or ja."))
        if lang == "auto":
            resp.delete_cookie("authvault_lang")
        else:
            resp.set_cookie("authvault_lang", lang, max_age=DEVICE_COOKIE_AGE, samesite="Lax", httponly=True)
    resp.set_data(jsonify({"lock_minutes": context.lock_seconds(current_user.device.id) / 60,
                           "language": data.get("language", request.cookies.get("authvault_lang", "auto"))}).get_data())
    resp.mimetype = "application/json"
    return resp

