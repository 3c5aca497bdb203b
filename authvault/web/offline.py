"""Codes away from home (README, "Codes away from home"): the installable app and the offline copy.

- `GET /api/offline-copy` gives an unlocked device its envelope exactly as stored (slots, header
  MAC, ciphertext) plus non-secret metadata; the browser keeps it in IndexedDB and opens it itself
  when the server cannot be reached (static/js/offline-vault.js). `?have=GENERATION` answers
  `unchanged` without the envelope when the browser's copy is current.
- `PATCH /api/offline-copy {"enabled"}`: Settings › This device, "Keep an offline copy".
- `POST /api/offline-copy/hotp {"used": {id: counter}}`: HOTP counters used offline; each account's
  counter becomes the larger of the two, so no code is shown twice and nothing moves backwards.
- `/sw.js` (the service worker), `/manifest.webmanifest` and `/offline` (the app shell: no data).

Static URLs carry `?v=<hash of the file>`, so a cached file is never served for a newer page and
the service worker (whose bytes change with any static file) replaces its cache on update.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .. import otp
from ..devices import passkeys, registry
from ..errors import N_
from ..vault.envelope import canonical_json
from ..vault.store import read_envelope
from . import context
from .http import ApiError, body
from .passkey_reach import passkey_reach
from .static_files import file_version

bp = Blueprint("offline", __name__)

THEME_COLOR = "#1357d6"
# What the installed app needs to start and unlock with the server out of reach (the shell page
# is added by the service worker itself). Pages may load more: those are cached as they are used.
# Files a page names get ?v=<hash> (cache-first in the worker); files an ES module imports are
# fetched by their plain URL (network first in the worker, the cache when the server is away).
SHELL_FILES = ("app.css", "offline.css", "icon.svg", "icons/icon-192.png", "icons/apple-touch-icon.png",
               "icons/favicon-32.png", "js/offline.js", "js/connection.js",
               "js/core.js", "js/icons.js", "js/list.js", "vendor/simple-icons/icons.svg")
SHELL_MODULES = ("js/offline-vault.js", "js/offline-store.js",
                 *(f"vendor/noble-hashes/{name}" for name in
                   ("scrypt.js", "pbkdf2.js", "hmac.js", "sha2.js", "_md.js", "_u64.js", "utils.js")))
SHELL_TEMPLATES = ("offline/shell.html", "offline/_head.html", "offline/_i18n.html", "accounts/_list_i18n.html")


def static_version(filename: str) -> str | None:
    """A short hash of one static file (None if it is missing): the version its URLs carry."""
    return file_version(current_app.static_folder or "static", filename)


def generation(env: dict[str, Any]) -> str:
    """An id of one stored envelope (any change to the vault changes it): SHA-256 of its canonical JSON."""
    return hashlib.sha256(canonical_json(env)).hexdigest()


def offline_enabled(device_id: str) -> bool:
    """Whether this device keeps an offline copy (on unless turned off in Settings)."""
    return registry.offline_copy_on(context.db(), device_id)


def copy_json(have: str | None) -> dict[str, Any]:
    """The body of GET /api/offline-copy for the unlocked device."""
    device = current_user.device
    conn = context.db()
    out: dict[str, Any] = {"enabled": offline_enabled(device.id), "device_id": device.id,
                           "server_time": time.time(), "lock_minutes": context.lock_seconds(device.id) / 60}
    if not out["enabled"]:
        return out
    env = read_envelope(conn, device.id)
    gen = generation(env)
    out["generation"] = gen
    rp = passkey_reach().rp
    out["rp_id"] = rp.id if rp else None
    out["prf_salt"] = passkeys.prf_salt(conn, device.id)  # made once (one INSERT OR IGNORE), then read
    if have == gen:
        out["unchanged"] = True
    else:
        out["envelope"] = env
    return out


@bp.get("/api/offline-copy")
@login_required
def get_copy() -> ResponseReturnValue:
    """This device's envelope as stored, for its offline copy (or `unchanged`)."""
    return jsonify(copy_json(request.args.get("have")))


@bp.patch("/api/offline-copy")
@login_required
def set_copy() -> ResponseReturnValue:
    """Turn this device's offline copy on or off (the page deletes the browser's copy when off)."""
    enabled = body().get("enabled")
    if not isinstance(enabled, bool):
        raise ApiError(400, "invalid_enabled", N_("Send enabled: true or false."))
    registry.save_setting(context.db(), current_user.device.id, registry.OFFLINE_COPY_SETTING,
                          "on" if enabled else "off")
    return jsonify(copy_json(None) if enabled else {"enabled": False})


@bp.post("/api/offline-copy/hotp")
@login_required
def report_hotp() -> ResponseReturnValue:
    """HOTP counters this browser used while offline: {"used": {account id: counter shown}}.

    Each account's counter becomes max(server's, used): a counter never moves backwards and the
    next code shown anywhere is one the person has not seen yet. Unknown ids (deleted meanwhile)
    and accounts that are not HOTP are listed in `ignored`.
    """
    used = body().get("used")
    if not isinstance(used, dict) or len(used) > 10_000 or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in used.items()):
        raise ApiError(400, "invalid_used", N_("Send used: an object of account ids and counters."))
    for value in used.values():
        if not 0 <= value <= otp.MAX_COUNTER - 1:
            raise ApiError(400, "invalid_counter", N_("The counter must be a whole number from 0 up."))
    result: dict[str, Any] = {"counters": {}, "ignored": []}

    def apply(existing: list[otp.Account]) -> list[otp.Account]:
        result["counters"], result["ignored"] = otp.catch_up_counters(existing, used)
        return existing

    if used:
        context.device_backup().change(apply)
    return jsonify(result)


# --- the installable app ------------------------------------------------------------------

@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    """The web app manifest: name, icons (192/512, maskable), standalone, theme colour."""
    def icon(name: str, size: int, purpose: str) -> dict[str, str]:
        return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": purpose}
    data = {
        "name": "AuthVault", "short_name": "AuthVault", "id": "/", "start_url": "/", "scope": "/",
        "display": "standalone", "background_color": "#ffffff", "theme_color": THEME_COLOR,
        "description": "Your two-factor codes, from your own server.",
        "icons": [icon("icon-192.png", 192, "any"), icon("icon-512.png", 512, "any"),
                  icon("maskable-192.png", 192, "maskable"), icon("maskable-512.png", 512, "maskable")],
    }
    resp = Response(json.dumps(data), mimetype="application/manifest+json")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, with this release's version and the shell's file list written in.

    The version changes with any shell file, shell template, translation or the worker itself, so
    an update installs a fresh cache and the old one is deleted."""
    static = Path(current_app.static_folder or "static")
    files = [url_for("static", filename=f) for f in SHELL_FILES if static_version(f)]
    files += [f"/static/{f}" for f in SHELL_MODULES if static_version(f)]
    template = (static / "sw.js").read_text()
    digest = hashlib.sha256(template.encode())
    digest.update("\n".join(files).encode())
    digest.update("".join(static_version(f) or "" for f in SHELL_MODULES).encode())
    templates = Path(current_app.root_path) / "templates"
    for name in SHELL_TEMPLATES:
        digest.update((templates / name).read_bytes())
    for mo in sorted((Path(current_app.root_path) / "authvault" / "translations").glob("*/LC_MESSAGES/messages.mo")):
        digest.update(mo.read_bytes())
    text = template.replace("__VERSION__", digest.hexdigest()[:16]).replace("__SHELL_FILES__", json.dumps(files))
    resp = Response(text, mimetype="text/javascript")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@bp.get("/offline")
def shell() -> ResponseReturnValue:
    """The app shell the service worker serves when the server cannot be reached: no account, no
    code, no device name, no CSRF token; its script opens the offline copy."""
    resp = Response(render_template("offline/shell.html"))
    resp.headers["Cache-Control"] = "no-cache"
    return resp
