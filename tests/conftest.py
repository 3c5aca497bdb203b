"""Shared fixtures: an app on a temporary data folder, and an API client that speaks CSRF."""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authvault.backup import reach
from authvault.config import Settings

# The backup servers of the tests (wsgidav, Apache, moto, the hostile ones) listen on 127.0.0.1,
# an address the backup policy refuses by default (authvault/backup/reach.py); the tests of that
# policy turn it off again.
os.environ["AUTHVAULT_BACKUP_ALLOW_LOOPBACK"] = "1"
reach.configure(allow_loopback=True)

# The suite's rules (markers, missing fixtures and servers) and the backup servers as fixtures.
pytest_plugins = ("tests.plugins.suite", "tests.plugins.backup_servers")

SETUP_TOKEN = "test-setup-token-0123456789"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a throwaway server: temp data folder, cheap scrypt, a known setup token."""
    return Settings(data_dir=tmp_path / "data", setup_token=SETUP_TOKEN, host_name=None, rp_id="localhost",
                    origin="http://localhost", lock_minutes=5, behind_proxy=False, scrypt_n=2**4)


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    """The Flask app under test."""
    from authvault.web import create_app
    return create_app(settings, {"TESTING": True})


class Api:
    """A browser-like client of the JSON API: keeps cookies and sends the CSRF header."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.csrf = ""

    def refresh(self) -> dict[str, Any]:
        """GET /api/session and remember the CSRF token."""
        data = self.client.get("/api/session").get_json()
        self.csrf = data["csrf_token"]
        return data

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        """Send a request with the CSRF header (fetching a token first if needed)."""
        if not self.csrf:
            self.refresh()
        headers = {"X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("PATCH", path, json=json, **kw)

    def delete(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.call("DELETE", path, **kw)

    def setup(self, name: str = "iPhone", passphrase: str = PASSPHRASE):  # type: ignore[no-untyped-def]
        """Set up the first device (unlocked)."""
        resp = self.post("/api/setup", {"setup_token": SETUP_TOKEN, "device_name": name, "passphrase": passphrase})
        assert resp.status_code == 201, resp.get_json()
        self.csrf = resp.get_json()["csrf_token"]
        return resp


@pytest.fixture
def api(app) -> Api:  # type: ignore[no-untyped-def]
    """A fresh browser talking to the app."""
    return Api(app.test_client())


@pytest.fixture
def unlocked(api: Api) -> Api:
    """A browser that has set up the first device and is unlocked."""
    api.setup()
    return api


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every log record at DEBUG and above."""
    caplog.set_level(logging.DEBUG)
    yield caplog
