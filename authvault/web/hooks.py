"""Every app-wide hook in one place: what every template can use (context processors, filters,
globals). No blueprint here: `init_app` registers them on the app, so no part's blueprint reaches
into the other parts' pages (nor matches their endpoint names).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask, has_request_context
from flask_babel import format_date
from flask_login import current_user

from ..backup import device as device_backups
from ..devices import registry, sending
from . import context
from .passkey_reach import PasskeyReach, passkey_reach
from .views import group_code


def page_context() -> dict[str, Any]:
    """What base.html needs on every page: language, device, locked or not, the idle lock time."""
    unlocked = current_user.is_authenticated
    return {"lang": context.select_locale(), "current_device": context.current_device(), "is_unlocked": unlocked,
            "idle_lock_seconds": int(context.lock_seconds(current_user.device.id)) if unlocked else 0}


def passkey_context() -> dict[str, Any]:
    """What every page with passkey buttons needs: whether they work here, and if not why."""
    if not has_request_context():  # a template rendered outside a request has no address to judge
        return {"passkeys_available": False}
    reach = passkey_reach()
    return {"passkeys_available": reach.ok, "passkeys_reason": reach.reason,
            "passkeys_message": reach.message, "passkeys_better_url": reach.better_url}


def backup_context() -> dict[str, Callable[[], device_backups.Health | None]]:
    """`backup_health()` for the list and Settings (templates/backup/_mark.html): read only when a
    page includes the mark, from the status row (no network, no key)."""
    def backup_health() -> device_backups.Health | None:
        if not current_user.is_authenticated:
            return None
        return device_backups.health_of(context.db(), current_user.device.id)
    return {"backup_health": backup_health}


def offline_context() -> dict[str, Callable[[], bool]]:
    """`offline_copy_enabled()`: whether this device keeps an offline copy (Settings)."""
    def enabled() -> bool:
        return bool(current_user.is_authenticated and registry.offline_copy_on(context.db(), current_user.device.id))
    return {"offline_copy_enabled": enabled}


def incoming_context() -> dict[str, Any]:
    """`incoming_transfers`: (transfers, accounts) waiting for this device, and `incoming_senders`
    (their devices' names), for templates/sending/_inbox_banner.html and the settings page."""
    if not current_user.is_authenticated:
        return {"incoming_transfers": (0, 0), "incoming_senders": ""}
    conn = context.db()
    counts = sending.incoming_count(conn, current_user.device.id)
    senders = ""
    if counts[0]:
        senders = ", ".join(sending.incoming_senders(conn, current_user.device.id))
    return {"incoming_transfers": counts, "incoming_senders": senders}


def backup_date(seconds: float | None) -> str:
    """A time of the backup status as a date a person reads, in their language."""
    if not seconds:
        return ""
    return str(format_date(dt.datetime.fromtimestamp(seconds, dt.timezone.utc), "medium"))


def iso_time(ts: float | None) -> str:
    """A Unix time as ISO 8601 UTC (the page's script shows it in the person's time zone)."""
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def _passkey_reach() -> PasskeyReach:
    # A global, so templates/connect/_banner.html works when imported without context.
    return passkey_reach()


def init_app(app: Flask) -> None:
    """Register the hooks on `app`."""
    for processor in (page_context, passkey_context, backup_context, offline_context, incoming_context):
        app.context_processor(processor)
    app.add_template_filter(group_code, "grouped")
    app.add_template_filter(backup_date, "backup_date")
    app.add_template_filter(iso_time, "iso_time")
    app.add_template_global(_passkey_reach, "passkey_reach")
