"""This browser's unlock session: starting it (with its cookies), the state GET /api/session
reports, and "the person proved it is them a moment ago" (re-authentication).

No blueprint here: every part that unlocks a browser or asks for the passphrase again uses these.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Response, current_app, g, jsonify, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..devices import registry, sending, sessions
from ..devices import unlock as unlocking
from . import context
from .http import ApiError
from .views import device_json

DEVICE_COOKIE_AGE = 10 * 365 * 24 * 3600
REAUTH_SESSION_KEY = "reauth"
REAUTH_SECONDS = 60


def session_state() -> str:
    """setup (no device anywhere yet), locked or unlocked."""
    if registry.count_devices(context.db()) == 0:
        return "setup"
    return "unlocked" if current_user.is_authenticated else "locked"


def session_json() -> dict[str, Any]:
    """The body of GET /api/session."""
    device = context.current_device()
    out: dict[str, Any] = {"state": session_state(), "device": device_json(device), "csrf_token": generate_csrf()}
    if device is not None:
        out["lock_minutes"] = context.lock_seconds(device.id) / 60
    return out


def mark_reauthenticated(device_id: str) -> None:
    """The person just proved it is them (passphrase or passkey): exports may follow for a while."""
    session[REAUTH_SESSION_KEY] = {"device": device_id, "at": time.time()}


def recently_reauthenticated(device_id: str) -> bool:
    """Whether this browser proved the person within the last REAUTH_SECONDS."""
    mark = session.get(REAUTH_SESSION_KEY)
    return (isinstance(mark, dict) and mark.get("device") == device_id
            and time.time() - float(mark.get("at", 0)) < REAUTH_SECONDS)


def require_reauth(data: dict[str, Any], refusal: ApiError) -> None:
    """The person proves it is them again: this device's passphrase in `passphrase` (counted like a
    failed unlock when wrong), or a passkey or passphrase unlock of this browser within the last
    REAUTH_SECONDS; `refusal` (a 401 saying what to do) when neither is there."""
    device = current_user.device
    passphrase = data.get("passphrase")
    if (passphrase is None or passphrase == "") and recently_reauthenticated(device.id):
        return
    if not isinstance(passphrase, str) or not passphrase:
        raise refusal
    unlocking.confirm_passphrase(context.db(), device, passphrase, context.client_address())
    mark_reauthenticated(device.id)


def secure_cookies() -> bool:
    """The one rule for the Secure flag of our cookies: the app is served over HTTPS (its
    configured origin, or this request, also through a trusted proxy)."""
    origin = current_app.config["AUTHVAULT"].origin
    return bool(origin and origin.startswith("https://")) or request.scheme == "https"


def start_session(resp: Response, device: registry.Device, cookie_token: str | None, master_key: bytes) -> None:
    """Unlock this browser: store the wrapped key, put the token in the session cookie."""
    conn = context.db()
    sessions.close_session(conn, session.get(context.SESSION_TOKEN))
    # Idle sessions of every device go now, even if their browser never comes back: locking (button,
    # idle timeout, logout) deletes the wrapped key, so the database alone decrypts nothing.
    sessions.purge_idle(conn, current_app.config["AUTHVAULT"].lock_minutes * 60)
    session[context.SESSION_TOKEN] = sessions.open_session(conn, device.id, master_key)
    mark_reauthenticated(device.id)
    sending.prepare_to_receive(conn, device.id, master_key)
    if cookie_token:
        resp.set_cookie(context.DEVICE_COOKIE, cookie_token, max_age=DEVICE_COOKIE_AGE, httponly=True,
                        samesite="Lax", secure=secure_cookies())


def unlocked_response(device: registry.Device, master_key: bytes, status: int = 200,
                      cookie_token: str | None = None, **extra: Any) -> Response:
    """Start an unlock session for this browser and answer like POST /api/unlock."""
    resp = make_response()
    start_session(resp, device, cookie_token, master_key)
    g.device = device
    payload = {"state": "unlocked", "device": device_json(device), "csrf_token": generate_csrf(), **extra}
    resp.set_data(jsonify(payload).get_data())
    resp.mimetype = "application/json"
    resp.status_code = status
    return resp


INBOX_SHOWN_KEY = "transfer_inbox_shown"


def _unlock_mark() -> str:
    return str(session.get(context.SESSION_TOKEN, ""))[:16]


def mark_inbox_shown() -> None:
    """This unlock session has seen the inbox (what other devices sent)."""
    session[INBOX_SHOWN_KEY] = _unlock_mark()


def inbox_first() -> bool:
    """Whether the list should show the inbox first: the first time it opens in this unlock
    session while accounts wait for this device (then it is marked as shown)."""
    if session.get(INBOX_SHOWN_KEY) == _unlock_mark():
        return False
    if sending.incoming_count(context.db(), current_user.device.id)[0] == 0:
        return False
    mark_inbox_shown()
    return True
