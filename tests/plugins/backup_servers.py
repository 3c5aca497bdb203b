"""pytest plugin: the real backup servers (wsgidav, Apache mod_dav, moto's S3 emulator) as fixtures.

Registered for the whole suite by tests/conftest.py, so a test names a fixture and gets a server,
with no import:

- `wsgidav_server`, `apache_server`, `moto_server`: one server per test module, started on first
  use and stopped when the module's last test is done.
- `kind` (parametrized over KINDS_UNDER_TEST) and `new_target()`: a fresh, empty backup account
  of each kind, starting that kind's server on first use.
- `require_server(name)`: for a test that starts and stops a server itself (to stop it mid-test).

A server that is not installed skips its tests with the reason, except under CI=true, where it
fails: CI installs every one (scripts/test), so it cannot pass without running them.
"""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backup_servers import (
    DavServer,
    S3Server,
    apache_available,
    moto_available,
    start_apache,
    start_moto,
    start_wsgidav,
)
from tests.plugins.suite import missing

KINDS_UNDER_TEST = ("folder", "wsgidav", "apache", "s3")

_NOT_INSTALLED = {
    "apache": "Debian's apache2-bin (httpd with mod_dav_fs) is not installed: ./scripts/test installs it",
    "s3": "moto[server] and boto3 are not installed: pip install -r requirements-dev.txt",
}
_AVAILABLE: dict[str, Callable[[], bool]] = {"apache": apache_available, "s3": moto_available}


def require_server(name: str) -> None:
    """Skip (or, under CI, fail) the calling test when the server `name` ("wsgidav", "apache", "s3")
    cannot run here."""
    available = _AVAILABLE.get(name)
    if available is not None and not available():
        missing(_NOT_INSTALLED[name])


@pytest.fixture(scope="module")
def wsgidav_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    """wsgidav in process on 127.0.0.1 (content-hash ETags, basic auth)."""
    server = start_wsgidav(tmp_path_factory.mktemp("wsgidav"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def apache_server() -> Iterator[DavServer]:
    """Debian Apache httpd + mod_dav_fs with its own config, on 127.0.0.1."""
    require_server("apache")
    server = start_apache()
    yield server
    server.stop()
    shutil.rmtree(server.extra["base"], ignore_errors=True)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[S3Server]:
    """moto's server: an S3 emulator (not AWS) on 127.0.0.1."""
    require_server("s3")
    server = start_moto()
    yield server
    server.stop()


def make_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path, **kwargs: Any) -> dict[str, Any]:
    """A fresh, empty backup account of `kind` (starting its server on first use)."""
    if kind == "folder":
        path = tmp_path / f"acct-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return {"kind": "folder", "path": str(path)}
    fixture = {"wsgidav": "wsgidav_server", "apache": "apache_server", "s3": "moto_server"}[kind]
    target: dict[str, Any] = request.getfixturevalue(fixture).target(**kwargs)
    return target


@pytest.fixture(params=KINDS_UNDER_TEST)
def kind(request: pytest.FixtureRequest) -> str:
    """Each kind of backup account under test (apache, s3: skipped where not installed, but in CI)."""
    return str(request.param)


@pytest.fixture
def new_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """A factory of fresh, empty backup accounts of the current kind."""
    return lambda **kwargs: make_target(kind, request, tmp_path, **kwargs)
