"""The Flask application: `create_app(settings)` wires the blueprints, extensions and security."""
from __future__ import annotations

import io
import logging
import os
import secrets
import sqlite3
import sys
from pathlib import Path
from typing import IO, Any

from flask import Flask, Request, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import Babel, gettext
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import data_folder, first_run, gates
from .. import db as database
from ..backup import reach
from ..config import Settings, bind_port
from ..devices import registry
from ..files import create_once, try_lock
from . import (
    api,
    backup_api,
    connect,
    context,
    devices_api,
    devices_pages,
    errors,
    groups_api,
    hooks,
    icons,
    offline,
    pages,
    scan_api,
    security,
    static_files,
    transfer_api,
    transfer_pages,
)
from .context import select_locale, setup_token_path
from .errors import error_response, wants_json

PARTS = (api, pages, backup_api, groups_api, scan_api, connect, devices_api, devices_pages, transfer_api,
         transfer_pages, offline, icons)
REPO = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)

csrf = CSRFProtect()
login_manager = LoginManager()


def _secret_key(data_dir: Path) -> bytes:
    """The Flask secret key, created once in the data folder and shared by every worker."""
    return create_once(data_dir / "secret_key", lambda: secrets.token_bytes(32))


def local_timezone() -> str:
    """The server's time zone name (a home server keeps its owner's time), for dates in messages."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            name = Path("/etc/timezone").read_text().strip()
        except OSError:
            name = ""
    try:
        import zoneinfo
        zoneinfo.ZoneInfo(name)
        return name
    except Exception:  # unknown or empty: UTC
        return "UTC"


_print_lock_fd: int | None = None  # held for the life of the process that prints the setup URL


def _first_to_print(settings: Settings) -> bool:
    """True in one process only (the first worker to start), so the URL is printed once."""
    global _print_lock_fd
    if _print_lock_fd is not None:
        return True
    _print_lock_fd = try_lock(settings.data_dir / "setup-print.lock")
    return _print_lock_fd is not None


def _read_or_create_token(path: Path) -> str:
    """The setup token in the data folder: created once, whole, then read."""
    return create_once(path, lambda: secrets.token_urlsafe(24).encode()).decode().strip()


def ensure_setup_token(settings: Settings, conn: sqlite3.Connection) -> str | None:
    """Until the first device exists, make (once) and print the one-time setup URL."""
    if registry.count_devices(conn):
        return None
    token = settings.setup_token or _read_or_create_token(setup_token_path(settings))
    if _first_to_print(settings):
        port = bind_port(settings.bind or "") if settings.bind else None
        base = settings.origin or f"http://localhost:{port or 8000}"
        # Printed on purpose (the one-time setup address, with a QR code of it), never logged.
        print(first_run.setup_message(f"{base}/setup?token={token}", host_name=settings.host_name,
                                      local_ca=settings.tls_mode == "local-ca", ansi=sys.stderr.isatty()),
              file=sys.stderr, flush=True)
    return token


class InMemoryRequest(Request):
    """Uploads stay in memory (capped by MAX_CONTENT_LENGTH): a QR screenshot or an exported vault
    holds secrets, and Werkzeug would spool any upload over 500 KiB to a temporary file on disk."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


def create_app(settings: Settings | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app for `settings` (environment variables by default)."""
    settings = settings or Settings()
    data_folder.prepare(settings.data_dir, settings.db_path)  # 0700/0600, writable, or one line and exit
    gates.configure(settings.data_dir / "locks")  # costly work is bounded across workers
    reach.configure(data_dir=settings.data_dir, allow_loopback=settings.backup_allow_loopback)
    if not logging.getLogger().handlers:  # under gunicorn: our INFO and up to stderr, with gunicorn's
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    app = Flask("authvault", root_path=str(REPO), template_folder="templates", static_folder="static")
    app.request_class = InMemoryRequest
    secure = bool(settings.origin and settings.origin.startswith("https://"))
    app.config.update(
        SECRET_KEY=_secret_key(settings.data_dir),
        AUTHVAULT=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_NAME="authvault_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session it is bound to
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE=local_timezone(),
        BABEL_TRANSLATION_DIRECTORIES=str(REPO / "authvault" / "translations"),
        RATELIMIT_HEADERS_ENABLED=True,
    )
    if test_config:
        app.config.update(test_config)
    if settings.behind_proxy:
        # Flask's documented way to add WSGI middleware; mypy refuses any assignment to a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    conn = database.connect(settings.db_path)
    try:
        database.init_schema(conn)
        ensure_setup_token(settings, conn)
    finally:
        conn.close()

    Babel(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.request_loader(lambda _req: context.load_unlocked())
    login_manager.user_loader(lambda _uid: None)  # no user id in the session: the cookie pair decides

    @login_manager.unauthorized_handler
    def _locked() -> ResponseReturnValue:
        if wants_json():
            return error_response("locked", gettext("This device is locked. Unlock it to continue."), 401)
        return redirect(url_for("pages.index"))

    app.teardown_appcontext(context.close_db)
    errors.init_app(app)
    hooks.init_app(app)
    static_files.init_app(app)
    for part in PARTS:  # one blueprint per part of the product; none imports another
        app.register_blueprint(part.bp)
    security.init_app(app)
    log.debug("AuthVault data folder: %s; lock after %s minutes", settings.data_dir, settings.lock_minutes)
    return app
