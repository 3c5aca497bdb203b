"""Pages for devices and passkeys: settings › devices, the add-a-device page, and signing back in."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..devices import passkeys, registry
from ..devices import unlock as unlocking
from ..vault import store as accts
from . import context
from .session import session_state
from .views import devices_json, events_json

bp = Blueprint("devices_pages", __name__)


@bp.get("/devices")
@login_required
def devices() -> ResponseReturnValue:
    """Devices and passkeys: this device's passkeys and how it unlocks, every device, recent events."""
    conn = context.db()
    device = current_user.device
    accts.refresh_account_count(conn, device.id, current_user.master_key)
    return render_template("devices/devices.html", passkeys=passkeys.list_passkeys(conn, device.id),
                           unlock_mode=passkeys.unlock_summary(conn, device.id),
                           devices=devices_json(conn, device.id), removed=registry.list_removed(conn),
                           events=events_json(conn))


@bp.get("/enroll")
def enroll() -> ResponseReturnValue:
    """The add-a-device page a new phone or tablet opens from the link or QR code."""
    if session_state() == "setup":
        return redirect(url_for("pages.index"))
    return render_template("devices/enroll.html")


@bp.get("/signin")
def signin() -> ResponseReturnValue:
    """Sign this browser back in to one of the devices (its cookie is gone): the person types the
    device's name and passphrase. No device is listed: the page is open to anyone on the network."""
    if session_state() == "setup":
        return redirect(url_for("pages.index"))
    return render_template("devices/signin.html", retry_after=unlocking.signin_wait(context.db(), context.client_address()))
