"""Who is asking: the device (from its cookie) and, when unlocked, its master key.

Flask-Login carries the unlocked device as `current_user`; the master key stays in `g`, never in
the session. Only the web layer touches request, session and cookies.
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, g, request, session
from flask_login import UserMixin, current_user

from ..backup import device as device_backups
from ..config import Settings
from ..db import connect
from ..devices import registry, sessions
from ..model import Account
from ..vault import store as accts
from ..vault.crypto import ScryptParams

DEVICE_COOKIE = "authvault_device"
SESSION_TOKEN = "unlock"


@dataclass
class UnlockedDevice(UserMixin):
    """The Flask-Login user: an unlocked device."""

    device: registry.Device
    master_key: bytes

    def get_id(self) -> str:
        """The device id (Flask-Login's user id)."""
        return self.device.id

    def __repr__(self) -> str:
        return f"UnlockedDevice({self.device.id!r})"


# A thread-local is the honest tool here, not `g` nor app state: a connection carries one
# transaction at a time, so two threads (gunicorn's gthread workers) must never share one; `g`
# lives for one request (opening a connection, with its WAL and pragma setup, costs about 1 ms
# a request), and app config or extension state is shared by every thread of the worker. So each
# worker thread keeps one
# connection for its life and lends it to its requests through `g`; close_db ends any transaction
# a request left open. The path is kept with it, so a thread serving another app's database (tests
# build many apps in one process) closes the old connection rather than mixing the two.
_local = threading.local()


def db() -> sqlite3.Connection:
    """This thread's database connection, kept between requests (opening one costs ~1 ms)."""
    if "db" not in g:
        path = current_app.config["AUTHVAULT"].db_path
        cached = getattr(_local, "conn", None)
        if cached is None or cached[0] != path:
            if cached is not None:
                cached[1].close()
            _local.conn = (path, connect(path))
        g.db = _local.conn[1]
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """End the request: never leave a transaction open on the kept connection."""
    conn = g.pop("db", None)
    if conn is not None and conn.in_transaction:
        conn.rollback()


def current_device() -> registry.Device | None:
    """The device this browser is (from its cookie), or None."""
    if "device" not in g:
        g.device = registry.device_by_cookie(db(), request.cookies.get(DEVICE_COOKIE))
    return g.device


def lock_seconds(device_id: str) -> float:
    """The idle time after which this device locks itself."""
    settings = current_app.config["AUTHVAULT"]
    if settings.lock_seconds_for_tests is not None:
        return float(settings.lock_seconds_for_tests)
    default = settings.lock_minutes
    minutes = registry.get_setting(db(), device_id, "lock_minutes", str(default))
    return float(minutes or default) * 60


def load_unlocked() -> UnlockedDevice | None:
    """Flask-Login's request loader: the unlocked device, or None when locked."""
    device = current_device()
    if device is None:
        return None
    # A background poll of the codes ("X-AuthVault-Idle") does not count as the person being active.
    touch = request.headers.get("X-AuthVault-Idle") != "1"
    key = sessions.session_master_key(db(), session.get(SESSION_TOKEN), device.id, lock_seconds(device.id),
                                      touch=touch)
    return UnlockedDevice(device, key) if key is not None else None


def settings() -> Settings:
    """The app's settings."""
    return current_app.config["AUTHVAULT"]


def scrypt_params() -> ScryptParams:
    """The scrypt cost for new passphrase slots (N=2^15, r=8, p=1; tests lower N)."""
    return ScryptParams(settings().scrypt_n, 8, 1)


def unlocked_accounts() -> list[Account]:
    """The unlocked device's accounts (the caller is @login_required)."""
    return accts.load_accounts(db(), current_user.device.id, current_user.master_key)


def device_backup() -> device_backups.DeviceBackup:
    """The unlocked device's vault with its backup (the caller is @login_required): every change
    of its accounts goes through it, so the backup push follows each change."""
    s = settings()
    service = device_backups.service_for(s.data_dir, keep_versions=max(1, s.backup_versions))
    return device_backups.DeviceBackup(db(), current_user.device.id, current_user.master_key,
                                       device_name=current_user.device.name, service=service,
                                       db_path=s.db_path)


def client_address() -> str:
    """The client's address (ProxyFix has already applied X-Forwarded-For when configured)."""
    return request.remote_addr or ""


LANGUAGES = ("en", "ja")


def select_locale() -> str:
    """The person's language: their choice in settings (a cookie), else the browser's."""
    chosen = request.cookies.get("authvault_lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def setup_token_path(settings: Settings) -> Path:
    """Where the one-time setup token waits until the first device is set up."""
    return settings.data_dir / "setup_token"
