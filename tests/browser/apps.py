"""WSGI apps for tests that need a setting no environment variable gives; gunicorn serves them by
name, e.g. `server_factory(app="tests.browser.apps:short_lock()")`. Everything else comes from the
environment, as for `app:app`."""
from __future__ import annotations

from flask import Flask

from authvault.config import Settings
from authvault.web import create_app

SHORT_LOCK_SECONDS = 8.0  # above the 5 s for which the server does not re-record activity


def short_lock() -> Flask:
    """AuthVault locking after SHORT_LOCK_SECONDS idle instead of minutes."""
    return create_app(Settings(lock_seconds_for_tests=SHORT_LOCK_SECONDS))
