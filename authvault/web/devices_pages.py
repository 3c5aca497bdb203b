"""Pages for devices and passkeys: settings › devices, the add-a-device page, and signing back in."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, has_request_context, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..db import transaction
from ..devices import passkeys, registry
from ..devices import unlock as unlocking
from ..vault import store as accts
from . import context
from .api import session_state
from .devices_api import (
    availability,
    availability_message,
    devices_payload,
    recent_events,
    record_account_count,
    unlock_summary,
)

bp = Blueprint("devices_pages", __name__)


@bp.app_template_filter("iso_time")
def _iso_time(ts: float | None) -> str:
    """A Unix time as ISO 8601 UTC (the page's script shows it in the person's time zone)."""
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def passkey_context() -> dict:
    """What every page with passkey buttons needs: whether they work here, and if not why."""
    av = availability()
    return {"passkeys_available": av.ok, "passkeys_reason": av.reason,
            "passkeys_message": availability_message(av), "passkeys_better_url": av.better_url}


@bp.app_context_processor
def _inject_passkeys() -> dict:
    if not has_request_context():  # a template rendered outside a request has no address to judge
        return {"passkeys_available": False}
    return passkey_context()


@bp.get("/devices")
@login_required
def devices() -> ResponseReturnValue:
    """Devices and passkeys: this device's passkeys and how it unlocks, every device, recent events."""
    conn = context.db()
    device = current_user.device
    mine = accts.load_accounts(conn, device.id, current_user.master_key)
    with transaction(conn):
        record_account_count(conn, device.id, len(mine))
    return render_template("devices/devices.html", passkeys=passkeys.list_passkeys(conn, device.id),
                           unlock_mode=unlock_summary(conn, device.id), devices=devices_payload(conn),
                           removed=registry.list_removed(conn), events=recent_events(conn))


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
