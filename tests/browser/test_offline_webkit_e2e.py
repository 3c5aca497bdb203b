"""The offline passphrase path in Safari's engine: Debian's WebKitGTK (MiniBrowser) driven over
WebDriver (selenium), under Xvfb, with the server really stopped (MiniBrowser has no --headless, and
without a display WebKitWebDriver never answers the new-session request).

WebKitGTK has no WebAuthn, so the passkey path is Chromium's (test_offline_e2e.py); everything
else here is real WebKit: the setup page, the service worker, IndexedDB, WebCrypto, the vendored
scrypt, the shell served with the server gone, and the codes it computes.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSPHRASE, SETUP_TOKEN
from .gunicorn_server import GunicornServer
from .test_offline_e2e import SECRETS, expected_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
WEBDRIVER = "/usr/bin/WebKitWebDriver"


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def webkit(tmp_path: Path) -> Iterator[Any]:
    """A WebKitGTK MiniBrowser under its own Xvfb display, stopped by PID at the end."""
    try:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service
    except ImportError:
        _missing("selenium is not installed: pip install -r requirements-dev.txt")
    for path in (MINIBROWSER, WEBDRIVER, shutil.which("Xvfb") or "/usr/bin/Xvfb"):
        if not os.path.exists(path):
            _missing(f"{path} is missing: apt-get install webkit2gtk-driver xvfb")
    display = None
    xvfb = None
    for n in range(90, 120):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(0.5)
            if xvfb.poll() is None:
                display = f":{n}"
                break
    assert display and xvfb, "no free X display"
    env = {**os.environ, "DISPLAY": display, "HOME": str(tmp_path)}
    options = Options()
    options.binary_location = MINIBROWSER
    options.add_argument("--automation")
    driver = None
    try:
        driver = webdriver.WebKitGTK(options=options, service=Service(WEBDRIVER, env=env))
        driver.set_script_timeout(60)
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        xvfb.terminate()
        xvfb.wait(10)


ERRORS = """window.__errors = [];
addEventListener('error', (e) => window.__errors.push(String(e.message)));
addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));"""


def wait_until(driver: Any, script: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"never true: {script}")


def api(driver: Any, method: str, path: str, body: Any = None) -> Any:
    return driver.execute_async_script("""const [method, path, body, done] = arguments;
      fetch('/api/session').then((r) => r.json()).then((s) => fetch(path, { method, headers:
        { 'Content-Type': 'application/json', 'X-CSRFToken': s.csrf_token }, body: body ? JSON.stringify(body) : undefined }))
      .then((r) => r.json()).then(done, (e) => done({ error: String(e) }));""", method, path, body)


def test_offline_passphrase_unlock_in_webkit(webkit: Any, server_factory: Any, screenshot_dir: Path) -> None:
    from selenium.webdriver.common.by import By
    server: GunicornServer = server_factory(workers=1)
    d = webkit
    d.get(f"{server.origin}/setup?token={SETUP_TOKEN}")
    wait_until(d, "return !document.querySelector('#setup-form button[type=submit]').disabled")
    d.find_element(By.ID, "device_name").send_keys("iPhone")
    d.find_element(By.ID, "passphrase").send_keys(PASSPHRASE)
    d.find_element(By.ID, "passphrase2").send_keys(PASSPHRASE)
    d.find_element(By.CSS_SELECTOR, "#setup-form button[type=submit]").click()
    wait_until(d, "return document.body.dataset.page === 'list'")
    for issuer in ("Fastbank", "Mailhost", "Gamestore"):
        secret, kind, algo, digits, n = SECRETS[issuer]
        body = {"issuer": issuer, "name": "a@example.com", "secret": secret, "type": kind, "algorithm": algo,
                "digits": digits}
        if kind == "totp":
            body["period"] = n
        assert "added" in api(d, "POST", "/api/accounts", body)
    d.get(server.origin + "/")
    wait_until(d, "return document.querySelectorAll('#accounts .acct').length === 3")
    d.execute_async_script("navigator.serviceWorker.ready.then(() => arguments[0](true))")
    d.get(server.origin + "/")
    wait_until(d, "return !!navigator.serviceWorker.controller")
    copy = d.execute_async_script("""import('/static/js/offline-store.js').then((m) => m.loadCopy())
        .then((c) => arguments[0](c && c.envelope ? c.device_id : null))""")
    assert copy, "no offline copy in WebKit's IndexedDB"
    server.stop()
    d.get(server.origin + "/")                                    # the service worker serves the shell
    d.execute_script(ERRORS)
    wait_until(d, "return !document.getElementById('offline-form').hidden")
    assert "Can't reach your AuthVault server since" in d.find_element(By.ID, "offline-banner").text
    assert not d.find_element(By.ID, "offline-passkey").is_displayed()   # no WebAuthn in WebKitGTK
    d.find_element(By.ID, "offline-passphrase").send_keys(PASSPHRASE)
    d.find_element(By.ID, "offline-submit").click()
    wait_until(d, "return document.querySelectorAll('#offline-view:not([hidden]) #accounts .acct .code').length === 3", 60)
    for _ in range(10):
        t = d.execute_script("return Date.now() / 1000")
        codes = d.execute_script("""const out = {}; for (const li of document.querySelectorAll('#accounts .acct'))
            out[li.querySelector('.issuer').textContent] = li.querySelector('.code').dataset.code; return out;""")
        if all(expected_code(i, t) == expected_code(i, t + 0.5) for i in codes):
            assert codes == {i: expected_code(i, t) for i in codes}
            break
        time.sleep(0.6)
    else:
        raise AssertionError("codes kept changing")
    d.save_screenshot(str(screenshot_dir / "offline-webkit.png"))
    assert d.execute_script("return window.__errors") == []
