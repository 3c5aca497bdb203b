"""Fixtures for real-browser tests: gunicorn servers and headless Debian Chromium (/usr/bin/chromium).

Reusable by every browser test (accounts, passkeys, backup):
- `server_factory(env=None, workers=2, ...)`: a fresh gunicorn serving AuthVault on its own temp data
  folder, stopped by PID when the test is done; `server` is one instance shared by the session.
- `browser`: headless /usr/bin/chromium through Playwright (never `playwright install`).
- `new_device(browser, origin, **context_kwargs)`: a new browser context + page, a phone by default
  (390x844, device_scale_factor 3, mobile, touch); returns a `Device` (context, page).
- `setup_device(device, server)`: set the server up from that device through the JSON API (fast);
  the setup page itself is tested in test_accounts_e2e.py.

Without Chromium (or Playwright) the tests are skipped with the reason, except when the CI
environment variable is set: then they fail, so CI cannot pass without running them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.suite import missing

from .gunicorn_server import PASSPHRASE, REPO, SETUP_TOKEN, GunicornServer

CHROMIUM = os.environ.get("AUTHVAULT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
TABLET: dict[str, Any] = {
    "viewport": {"width": 820, "height": 1180},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

__all__ = [
    "CHROMIUM",
    "PHONE",
    "TABLET",
    "PASSPHRASE",
    "SETUP_TOKEN",
    "Device",
    "new_device",
    "setup_device",
    "unlock_device",
]


_missing = missing  # skip, or fail under CI (tests/plugins/suite.py)


def compile_translations() -> None:
    """Compile the .po catalogs for the server under test (scripts/test does the same)."""
    translations = REPO / "authvault" / "translations"
    if not translations.exists():
        return
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel) if pybabel.exists() else "pybabel", "-q", "compile", "-d", str(translations)],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def _translations_compiled() -> None:
    compile_translations()


def _starter(
    tmp_path_factory: pytest.TempPathFactory, started: list[GunicornServer]
) -> Callable[..., GunicornServer]:
    def start(
        env: dict[str, str] | None = None,
        *,
        workers: int = 2,
        threads: int | None = None,
        extra_args: tuple[str, ...] = (),
        access_log: bool = False,
        app: str = "app:app",
    ) -> GunicornServer:
        base = tmp_path_factory.mktemp("server")
        server = GunicornServer.start(
            base / "data",
            workers=workers,
            threads=threads,
            env=env,
            extra_args=extra_args,
            access_log=access_log,
            app=app,
        )
        started.append(server)
        return server

    return start


@pytest.fixture
def server_factory(
    tmp_path_factory: pytest.TempPathFactory, _translations_compiled: None
) -> Iterator[Callable[..., GunicornServer]]:
    """Start gunicorn servers on demand (each with its own data folder); they stop when the test
    that started them is done, so a run never holds more than one test's servers."""
    started: list[GunicornServer] = []
    yield _starter(tmp_path_factory, started)
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, _translations_compiled: None
) -> Iterator[GunicornServer]:
    """One gunicorn with two workers, not set up yet, shared by the session."""
    started: list[GunicornServer] = []
    yield _starter(tmp_path_factory, started)()
    for one in started:
        one.stop()


@pytest.fixture
def fresh_server(server_factory: Callable[..., GunicornServer]) -> GunicornServer:
    """A gunicorn of this test's own, not set up yet (stopped when the test is done)."""
    return server_factory()


@pytest.fixture(scope="session")
def playwright_sync() -> Iterator[Any]:
    """The Playwright driver (sync API)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed: pip install -r requirements-dev.txt")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_sync: Any) -> Iterator[Any]:
    """Headless Debian Chromium (never a browser downloaded by `playwright install`)."""
    if not os.path.exists(CHROMIUM):
        _missing(f"Debian chromium is not installed at {CHROMIUM}: apt-get install chromium")
    b = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@dataclass
class Device:
    """One browser on one phone or tablet: its own context (cookies) and one page."""

    context: Any
    page: Any
    origin: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught page errors
    scripts: bool = True                              # False: a context with JavaScript off

    def goto(self, path: str = "/") -> Any:
        """Open a path of the app. The list's first rows come drawn by the server and list.js takes
        them over a frame later: on the list, return once it has (a tap before does nothing)."""
        resp = self.page.goto(self.origin + path)
        if self.scripts:
            self.page.wait_for_function("() => { const l = document.getElementById('accounts'); "
                                        "return !l || !l.dataset.first || !!l.dataset.started; }")
        return resp

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the JSON API with this device's cookies and CSRF token; return the parsed body."""
        req = self.context.request
        token = req.get(self.origin + "/api/session").json()["csrf_token"]
        resp = req.fetch(
            self.origin + path,
            method=method,
            data=body,
            headers={"X-CSRFToken": token, "Accept": "application/json"},
        )
        assert resp.ok, f"{method} {path}: {resp.status} {resp.text()}"
        return resp.json()

    def close(self) -> None:
        """Close the context (and its page)."""
        self.context.close()


def new_device(browser: Any, origin: str, **context_kwargs: Any) -> Device:
    """A new browser context and page: a phone (390x844 at 3x, mobile, touch) unless told otherwise.

    Context options (locale, color_scheme, permissions, viewport...) override the phone defaults.
    Console errors and uncaught page errors are collected in `device.errors` for the test to check.
    The app's service worker is blocked unless a test asks for it (`service_workers="allow"`, the
    offline tests): a page it controls fetches through it, where `page.route` cannot hold a request.
    """
    options = {**PHONE, "service_workers": "block", **context_kwargs}
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    device = Device(context, context.new_page(), origin, scripts=context_kwargs.get("java_script_enabled", True))
    device.page.on("pageerror", lambda exc: device.errors.append(str(exc)))
    device.page.on("console", lambda msg: msg.type == "error" and device.errors.append(msg.text))
    return device


def setup_device(
    device: Device, server: GunicornServer, name: str = "iPhone", passphrase: str = PASSPHRASE
) -> None:
    """Set the server up from this device through the API (the device is then unlocked)."""
    device.api(
        "POST",
        "/api/setup",
        {"setup_token": SETUP_TOKEN, "device_name": name, "passphrase": passphrase},
    )


def unlock_device(device: Device, passphrase: str = PASSPHRASE) -> None:
    """Unlock through the unlock page, as a person does."""
    page = device.page
    device.goto("/")
    page.fill("#passphrase", passphrase)
    page.click("#unlock-form button[type=submit]")
    page.wait_for_selector("#accounts[data-started]", state="attached")


def open_with_script_held(device: Device, path: str, script: str) -> Any:
    """Open `path` with its static `script` held back (a slow phone); return the held request, to
    `continue_()` when the test is ready. Later pages get the script as usual."""
    page = device.page
    held: list[Any] = []
    page.route(f"**/static/{script}*", lambda route: route.continue_() if held else held.append(route))
    page.goto(device.origin + path, wait_until="commit")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    assert held, f"the page never asked for {script}"
    return held[0]


@pytest.fixture
def phone(browser: Any, fresh_server: GunicornServer) -> Iterator[Device]:
    """A phone (clipboard permitted) set up on a fresh server, on the empty list, unlocked."""
    device = new_device(
        browser, fresh_server.origin, permissions=["clipboard-read", "clipboard-write"]
    )
    setup_device(device, fresh_server)
    device.goto("/")
    # The list's own calls (the backup check, the offline copy) done: a test that then locks
    # through the API would otherwise have one of them answered 401 (a console error), the cause
    # of a flaky unlock test (reproduced by holding the offline-copy call past an API lock).
    device.page.wait_for_load_state("networkidle")
    yield device
    device.close()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $AUTHVAULT_SCREENSHOTS, else this test's temp folder."""
    path = Path(os.environ.get("AUTHVAULT_SCREENSHOTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path
