"""The passkey and device endpoints of the HTTP contract (/api/passkeys/*, /api/devices*, /api/enroll).

Thin handlers: WebAuthn and slot logic live in authvault.devices.passkeys, add-a-device links in
authvault.devices.enrollment. The device cookie says which device a browser is; a passkey proves
the person and, once verified, unlocks only that device's vault.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required

from .. import qr
from ..devices import enrollment, passkeys, registry
from ..devices import passphrase as passphrases
from ..devices import unlock as unlocking
from ..errors import N_
from ..vault import store as accts
from . import context
from .http import ApiError, body, check_passphrase
from .passkey_reach import passkey_reach, require_rp
from .session import recently_reauthenticated, require_reauth, secure_cookies, unlocked_response
from .views import device_json, devices_json, events_json, passkey_json, removed_json

log = logging.getLogger(__name__)
bp = Blueprint("devices_api", __name__, url_prefix="/api")

DEVICE_KEY_COOKIE = "authvault_device_key"
DEVICE_KEY_PATH = "/api/passkeys/"
COOKIE_AGE = 10 * 365 * 24 * 3600


# --- helpers ------------------------------------------------------------------------------------

def require_device() -> registry.Device:
    """The device this browser is (401 unknown_device otherwise)."""
    device = context.current_device()
    if device is None:
        raise ApiError(401, "unknown_device", N_("This browser is not one of your devices. Open an add-a-device "
                                                 "link, or sign back in to your device."))
    return device


def json_options(text: str) -> Response:
    """WebAuthn options exactly as py_webauthn's options_to_json wrote them."""
    return current_app.response_class(text, mimetype="application/json")


def set_device_key_cookie(resp: Response, device_id: str, key: bytes) -> None:
    """Give this browser its device key (HttpOnly, sent only to the passkey endpoints)."""
    resp.set_cookie(DEVICE_KEY_COOKIE, passkeys.device_key_cookie(device_id, key), max_age=COOKIE_AGE,
                    path=DEVICE_KEY_PATH, httponly=True, samesite="Strict", secure=secure_cookies())


def device_key_from_cookie(device_id: str) -> bytes | None:
    """This browser's device key for this device, if it holds one."""
    return passkeys.parse_device_key_cookie(request.cookies.get(DEVICE_KEY_COOKIE), device_id)


# --- passkeys -----------------------------------------------------------------------------------

@bp.get("/passkeys/status")
def passkey_status() -> ResponseReturnValue:
    """Whether passkeys work here (and why not), this device's PRF salt and whether it has passkeys."""
    reach = passkey_reach()
    out: dict[str, Any] = {"available": reach.ok, "reason": reach.reason, "message": reach.message,
                           "better_url": reach.better_url, "connect_url": "/connect",
                           "rp_id": reach.rp.id if reach.rp else None}
    device = context.current_device()
    if device is not None:
        conn = context.db()
        out["prf_salt"] = passkeys.prf_salt(conn, device.id)
        out["has_passkeys"] = passkeys.count_passkeys(conn, device.id) > 0
        out["unlock_mode"] = passkeys.unlock_summary(conn, device.id)
        out["has_device_key"] = device_key_from_cookie(device.id) is not None
    return jsonify(out)


@bp.get("/passkeys")
@login_required
def list_passkeys() -> ResponseReturnValue:
    """This device's passkeys."""
    conn = context.db()
    device = current_user.device
    return jsonify({"passkeys": [passkey_json(pk) for pk in passkeys.list_passkeys(conn, device.id)],
                    "unlock_mode": passkeys.unlock_summary(conn, device.id)})


@bp.post("/passkeys/register/options")
@login_required
def register_options() -> ResponseReturnValue:
    """Options for navigator.credentials.create(): a new passkey for this (unlocked) device."""
    rp = require_rp()
    return json_options(passkeys.registration_options(context.db(), rp, current_user.device))


@bp.post("/passkeys/register/verify")
@login_required
def register_verify() -> ResponseReturnValue:
    """Store a new passkey for this device and give it a vault slot (PRF, or this browser's device key).

    Takes the credential as PublicKeyCredential.toJSON() writes it; an optional top-level `name`.
    """
    credential = body()
    rp = require_rp()
    conn = context.db()
    device = current_user.device
    master_key = current_user.master_key
    new = passkeys.verify_registration(conn, rp, device, credential)
    mode, secret, fresh_key = passkeys.unlock_secret(passkeys.prf_output(credential),
                                                     device_key_from_cookie(device.id))
    resp = make_response()
    pk = passkeys.add_passkey(conn, device.id, master_key, new, mode=mode, secret=secret,
                              name=credential.get("name"),
                              default_name=lambda number: gettext("Passkey %(number)s", number=number),
                              client=context.client_address())
    if fresh_key is not None:
        set_device_key_cookie(resp, device.id, fresh_key)
    # PRF supported but no output at creation (some platforms): one login now adds the PRF slot.
    prf_pending = mode == "device_key" and passkeys.prf_enabled(credential)
    resp.set_data(jsonify({"passkey": passkey_json(pk), "unlock_mode": mode,
                           "prf_pending": prf_pending}).get_data())
    resp.mimetype = "application/json"
    resp.status_code = 201
    return resp


@bp.post("/passkeys/login/options")
def login_options() -> ResponseReturnValue:
    """Options for navigator.credentials.get(): only this device's passkeys, user verification required."""
    device = require_device()
    return json_options(unlocking.passkey_options(context.db(), require_rp(), device))


@bp.post("/passkeys/login/verify")
def login_verify() -> ResponseReturnValue:
    """Unlock this device with one of its passkeys (the credential as PublicKeyCredential.toJSON() writes it)."""
    credential = body()
    device = require_device()
    rp = require_rp()
    conn = context.db()
    done = unlocking.with_passkey(conn, rp, device, credential, device_key_from_cookie(device.id),
                                  context.client_address())
    return unlocked_response(device, done.master_key, unlock_mode=done.unlock_mode)


@bp.patch("/passkeys/<credential_id>")
@login_required
def rename_passkey(credential_id: str) -> ResponseReturnValue:
    """Rename one of this device's passkeys."""
    pk = passkeys.change_name(context.db(), current_user.device.id, credential_id, body().get("name"))
    return jsonify(passkey_json(pk))


@bp.delete("/passkeys/<credential_id>")
@login_required
def delete_passkey(credential_id: str) -> ResponseReturnValue:
    """Remove a passkey of this device and its vault slot. The passphrase always still unlocks."""
    conn = context.db()
    device = current_user.device
    pk, left = passkeys.remove_passkey(conn, device.id, current_user.master_key, credential_id,
                                       client=context.client_address())
    return jsonify({"deleted": pk.id, "passkeys_left": left, "unlock_mode": passkeys.unlock_summary(conn, device.id)})


# --- devices ------------------------------------------------------------------------------------

@bp.get("/devices")
@login_required
def list_devices() -> ResponseReturnValue:
    """All devices (name, added, last used, this one marked)."""
    conn = context.db()
    accts.refresh_account_count(conn, current_user.device.id, current_user.master_key)
    return jsonify({"devices": devices_json(conn, current_user.device.id), "this_device": current_user.device.id,
                    "removed": [removed_json(conn, d) for d in registry.list_removed(conn)]})


@bp.patch("/devices/<device_id>")
@login_required
def rename_device(device_id: str) -> ResponseReturnValue:
    """Rename a device."""
    device = registry.change_name(context.db(), device_id, body().get("name"), client=context.client_address())
    return jsonify(device_json(device))


@bp.post("/passphrase")
@login_required
def change_passphrase() -> ResponseReturnValue:
    """Change this device's passphrase: `{current, new}`; `current` may be left out within a minute
    of a passkey unlock of this browser. The passphrase slot is re-wrapped (entries untouched,
    passkeys keep working) and this device's other sessions end."""
    data = body()
    current = data.get("current")
    if current is not None and not isinstance(current, str):
        raise ApiError(400, "invalid_field", N_("%(field)s must be text."), field="current")
    new = check_passphrase(data.get("new"))
    ended = passphrases.change_passphrase(
        context.db(), current_user.device, current_user.master_key, current or None, new,
        params=context.scrypt_params(), reauthed=recently_reauthenticated(current_user.device.id),
        keep_token=session.get(context.SESSION_TOKEN), client=context.client_address())
    return jsonify({"changed": True, "sessions_ended": ended})


@bp.delete("/devices/<device_id>")
@login_required
def delete_device(device_id: str) -> ResponseReturnValue:
    """Remove a device: `confirm_name` repeats its name, and this device's passphrase (`passphrase`)
    or a passkey unlock within the last minute confirms the person. The removed device stops
    working at once; its vault is kept for 30 days and any device can restore it meanwhile."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python parses: no confirm_name, refused below
        data = None
    if not isinstance(data, dict):
        data = {}
    conn = context.db()
    target = registry.removable(conn, device_id, data.get("confirm_name"))
    require_reauth(data, ApiError(401, "reauth_required", N_(
        "Confirm it is you: enter this device's passphrase, or use its passkey, to remove %(device)s."),
        device=target.name))
    removed = registry.remove(conn, device_id, data.get("confirm_name"), by=current_user.device.id,
                              client=context.client_address())
    resp = jsonify({"deleted": device_id, "this_device": device_id == current_user.device.id,
                    "recoverable_until": removed.recoverable_until})
    if device_id == current_user.device.id:
        session.pop(context.SESSION_TOKEN, None)
        resp.delete_cookie(context.DEVICE_COOKIE)
        resp.delete_cookie(DEVICE_KEY_COOKIE, path=DEVICE_KEY_PATH)
    return resp


@bp.post("/devices/<device_id>/restore")
@login_required
def restore_device(device_id: str) -> ResponseReturnValue:
    """Bring back a removed device within its 30 days: its vault, passkeys and browser work again."""
    device = registry.restore(context.db(), device_id, by=current_user.device.id, client=context.client_address())
    return jsonify(device_json(device))


@bp.get("/devices/events")
@login_required
def events() -> ResponseReturnValue:
    """Recent security events of every device (unlocks, failures, devices and passkeys added or removed)."""
    return jsonify({"events": events_json(context.db())})


# --- add a device -------------------------------------------------------------------------------

def base_url() -> str:
    """Where other devices open AuthVault: the configured origin, else this request's."""
    return (context.settings().origin or request.host_url).rstrip("/")


@bp.post("/devices/enroll")
@login_required
def make_enroll_link() -> ResponseReturnValue:
    """A link (and QR code) that adds one new device; valid 10 minutes and once."""
    tok = enrollment.create_link(context.db(), current_user.device.id, client=context.client_address())
    # The token rides in the fragment, so it never reaches server or proxy access logs.
    url = f"{base_url()}/enroll#token={tok.token}"
    svg = qr.make_qr_svg(url)
    return jsonify({"url": url, "token": tok.token, "expires_at": tok.expires_at,
                    "qr_svg": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")}), 201


@bp.post("/enroll/check")
def check_enroll() -> ResponseReturnValue:
    """Whether an add-a-device token can still be used (does not use it up)."""
    expires_at = enrollment.check_token(context.db(), body().get("token"))
    return jsonify({"valid": True, "expires_at": expires_at})


@bp.post("/enroll")
def enroll() -> ResponseReturnValue:
    """Become a new device with an add-a-device token: its own empty vault, unlocked."""
    data = body()
    conn = context.db()
    existing = context.current_device()
    if existing is not None:
        raise ApiError(409, "already_a_device", N_(
            "This browser is already your device “%(device)s”. Use another browser or phone for the new device, "
            "or remove %(device)s first."), device=existing.name)
    token = data.get("token")
    enrollment.check_token(conn, token)
    name = registry.clean_name(data.get("device_name"))
    passphrase = check_passphrase(data.get("passphrase"))
    device, cookie_token, master_key = enrollment.enroll(conn, token, name, passphrase, context.scrypt_params(),
                                                         client=context.client_address())
    return unlocked_response(device, master_key, 201, cookie_token)


# --- sign back in (the device cookie is gone) ---------------------------------------------------

def signin_pepper() -> bytes:
    """The key that hashes typed device names before they are counted (never stored in the clear)."""
    return hmac.new(current_app.secret_key if isinstance(current_app.secret_key, bytes)
                    else str(current_app.secret_key).encode(), b"authvault signin names", hashlib.sha256).digest()


@bp.get("/devices/signin")
def signin_state() -> ResponseReturnValue:
    """What signing back in needs (the device's name and passphrase) and how long this address must
    wait first. It names no device: a stranger on the network learns nothing here."""
    wait = unlocking.signin_wait(context.db(), context.client_address())
    return jsonify({"fields": ["device_name", "passphrase"], "retry_after": wait})


@bp.post("/devices/signin")
def signin() -> ResponseReturnValue:
    """Sign this browser back in to a device by its name and passphrase: a new device cookie.

    The old cookie stops working, and device-key passkeys (whose key the old browser data held)
    are removed; passkeys with PRF keep working. Failures slow down this address and its network,
    never the device (devices/unlock.py).
    """
    data = body()
    name = signin_name(data)
    passphrase = data.get("passphrase")
    if not isinstance(passphrase, str) or not passphrase:
        raise ApiError(400, "passphrase_required", N_("Enter your passphrase."))
    if len(passphrase) > 1024:
        raise unlocking.SignInFailed()
    done = unlocking.sign_in(context.db(), name, passphrase, context.client_address(), pepper=signin_pepper(),
                             dummy_cost=context.scrypt_params())
    resp = unlocked_response(done.device, done.master_key, 200, done.cookie_token,
                             removed_passkeys=done.removed_passkeys)
    resp.delete_cookie(DEVICE_KEY_COOKIE, path=DEVICE_KEY_PATH)
    return resp


def signin_name(data: dict[str, Any]) -> str:
    """The typed device name of a sign-in (400 if missing)."""
    name = data.get("device_name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "device_name_required", N_("Type the name of your device, as it is shown in "
                                                       "Settings › Devices (for example “iPhone”)."))
    return name[:200]


@bp.post("/devices/signin/passkey/options")
def signin_passkey_options() -> ResponseReturnValue:
    """`{device_name}` -> `{options, prf_salt}` for one passkey prompt (the same shape for any name)."""
    name = signin_name(body())
    got = unlocking.passkey_signin_options(context.db(), require_rp(), name, context.client_address(),
                                           pepper=signin_pepper())
    return jsonify({"options": got.options, "prf_salt": got.prf_salt})


@bp.post("/devices/signin/passkey")
def signin_passkey() -> ResponseReturnValue:
    """`{device_name, credential}`: sign this browser back in with the device's PRF passkey."""
    data = body()
    name = signin_name(data)
    credential = data.get("credential")
    if not isinstance(credential, dict):
        raise ApiError(400, "credential_required", N_("Send the passkey's answer as credential."))
    done = unlocking.sign_in_with_passkey(context.db(), require_rp(), name, credential, context.client_address())
    resp = unlocked_response(done.device, done.master_key, 200, done.cookie_token,
                             removed_passkeys=done.removed_passkeys)
    resp.delete_cookie(DEVICE_KEY_COOKIE, path=DEVICE_KEY_PATH)
    return resp
