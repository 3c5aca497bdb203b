"""Codes away from home, in real Chromium with the server really stopped (issue 11).

Each test: a fresh gunicorn (one worker), a phone that sets it up and fills its vault, the list
page (service worker, offline copy), then `server.stop()`: the process is gone and the port is
closed; "back online" is a new gunicorn on the same port and data folder. Codes are checked
against the server's own code module (authvault.otp) at the time the page says it is.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from authvault import otp
from authvault.otp import Account

from .conftest import PASSPHRASE, Device, new_device, setup_device
from .gunicorn_server import GunicornServer
from .offline_helpers import restart, wait_for_controller, wait_for_copy

pytestmark = pytest.mark.browser

SECRETS = {  # issuer -> (base32 secret, type, algorithm, digits, period or counter)
    "Fastbank": ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "totp", "SHA1", 6, 10),
    "Mailhost": ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "totp", "SHA256", 8, 45),
    "Cloudco": ("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", "totp", "SHA512", 10, 60),
    "Oddtime": ("ONSWG4TFORZWK3DFMNZGK5DTMVRXEZLU", "totp", "SHA1", 7, 17),
    "Steam": ("KRUGKIDROVUWG2ZAMJZG653OEBTG66BA", "steam", "SHA1", 5, 30),
    "Vpnco": ("NB2HI4DTHIXS6ZLYMFWXA3DFFZRW63JP", "hotp", "SHA1", 6, 0),
}


def add_accounts(device: Device, which: dict[str, tuple[str, str, str, int, int]] = SECRETS) -> None:
    for issuer, (secret, kind, algo, digits, n) in which.items():
        body: dict[str, Any] = {"issuer": issuer, "name": f"{issuer.lower()}@example.com", "secret": secret,
                                "type": kind, "algorithm": algo, "digits": digits}
        body["counter" if kind == "hotp" else "period"] = n
        if kind == "steam":
            body.pop("period")
        device.api("POST", "/api/accounts", body)


def account_of(issuer: str) -> Account:
    secret, kind, algo, digits, n = SECRETS[issuer]
    acc = Account(secret=otp.decode_secret(secret), type=kind, algorithm=algo, digits=digits)  # type: ignore[arg-type]
    if kind == "hotp":
        acc.counter = n
    elif kind == "totp":
        acc.period = n
    return otp.validate(acc)


def expected_code(issuer: str, at: float, counter: int | None = None) -> str:
    acc = account_of(issuer)
    if acc.type == "hotp":
        return otp.hotp_code(acc, acc.counter if counter is None else counter)
    return otp.code_at(acc, at)


SHOWN = """() => {
  const out = {};
  for (const li of document.querySelectorAll('#accounts .acct')) {
    const issuer = li.querySelector('.issuer').textContent;
    const code = li.querySelector('.code');
    out[issuer] = code ? (code.dataset.code || null) : null;
  }
  return out;
}"""


def shown_with_time(device: Device) -> tuple[dict[str, str | None], float]:
    """The codes on screen and the corrected time the page computed them for."""
    t = device.page.evaluate("() => Date.now() / 1000")
    codes = device.page.evaluate(SHOWN)
    return codes, t


@pytest.fixture
def home(server_factory: Any) -> Iterator[list[GunicornServer]]:
    """A fresh server of this test's own; the list holds it and whatever restarted it, stopped at the end."""
    servers = [server_factory(workers=1)]
    yield servers
    for s in servers:
        s.stop()


def online_phone(browser: Any, server: GunicornServer, **kw: Any) -> Device:
    device = new_device(browser, server.origin, permissions=["clipboard-read", "clipboard-write"], **kw)
    setup_device(device, server)
    add_accounts(device)
    device.goto("/")
    device.page.wait_for_selector("#accounts .acct")
    wait_for_controller(device.page)
    wait_for_copy(device.page)
    return device


def go_offline_and_reload(device: Device, server: GunicornServer) -> None:
    server.stop()
    device.page.reload()
    device.page.wait_for_selector("#offline-form", state="visible")


def unlock_offline_with_passphrase(device: Device, passphrase: str = PASSPHRASE) -> None:
    page = device.page
    page.fill("#offline-passphrase", passphrase)
    page.click("#offline-submit")
    page.wait_for_selector("#offline-view:not([hidden]) #accounts .acct .code")


def check_codes(device: Device) -> dict[str, str | None]:
    """Every code on screen equals the server's code module's for that moment (retried off a boundary)."""
    for _ in range(20):
        codes, t = shown_with_time(device)
        codes2, t2 = shown_with_time(device)
        if codes == codes2 and all(expected_code(i, t) == expected_code(i, t2) for i in SECRETS if i != "Vpnco"):
            for issuer, code in codes.items():
                if issuer != "Vpnco":
                    assert code == expected_code(issuer, t), (issuer, code, t)
            return codes
        device.page.wait_for_timeout(150)
    raise AssertionError("codes kept changing")


def test_reload_offline_unlock_with_passphrase_codes_across_a_boundary(browser: Any, home: list[GunicornServer],
                                                                       screenshot_dir: Path) -> None:
    device = online_phone(browser, home[0])
    try:
        server_codes = device.api("GET", "/api/codes")
        go_offline_and_reload(device, home[0])
        page = device.page
        assert "Can't reach your AuthVault server since" in page.inner_text("#offline-banner")
        assert page.is_hidden("#offline-passkey")                # no passkey on this device
        page.screenshot(path=str(screenshot_dir / "offline-unlock-light.png"))
        unlock_offline_with_passphrase(device)
        codes = check_codes(device)
        assert set(codes) == set(SECRETS)
        assert codes["Vpnco"] == expected_code("Vpnco", 0, 0)
        # the server's own codes of a moment ago: the same accounts give the same codes for that step
        for a in server_codes["accounts"]:
            if a["type"] != "hotp" and int(server_codes["server_time"] // a["period"]) == int(time.time() // a["period"]):
                assert codes[a["issuer"]] == a["code"], a["issuer"]
        # across a period boundary of the 10-second account: the next code, on time
        before = page.evaluate("() => document.querySelector('.acct[data-id] .code').dataset.code")
        t0 = page.evaluate("() => Date.now() / 1000")
        boundary = (int(t0 // 10) + 1) * 10
        page.wait_for_timeout(int((boundary - t0) * 1000) + 400)
        after, t1 = shown_with_time(device)
        assert after["Fastbank"] == expected_code("Fastbank", t1) != before
        check_codes(device)
        page.click(".acct[data-type=totp] .code")
        assert page.evaluate("() => navigator.clipboard.readText()") == page.evaluate(
            "() => document.querySelector('.acct[data-type=totp] .code').dataset.code")
        page.screenshot(path=str(screenshot_dir / "offline-list-light.png"))
        assert device.errors == [] or all("ERR_CONNECTION_REFUSED" in e for e in device.errors), device.errors
    finally:
        device.close()


def test_list_when_the_server_stops_banner_no_blank_code_no_null_copied(browser: Any, home: list[GunicornServer],
                                                                        screenshot_dir: Path) -> None:
    device = new_device(browser, home[0].origin, permissions=["clipboard-read", "clipboard-write"])
    try:
        setup_device(device, home[0])
        add_accounts(device, {"Fastbank": SECRETS["Fastbank"], "Mailhost": SECRETS["Mailhost"]})
        device.goto("/")
        page = device.page
        wait_for_controller(page)
        wait_for_copy(page)
        home[0].stop()
        # the 10-second account flips to its next code (known already), then the refresh fails
        page.wait_for_selector("#conn-banner:not([hidden])", timeout=15_000)
        banner = page.inner_text("#conn-banner")
        assert re.search(r"Can't reach your AuthVault server since \d\d:\d\d", banner), banner
        assert "offline copy still gives your codes" in banner and "Unlock offline" in banner
        codes, t = shown_with_time(device)
        assert codes["Fastbank"] == expected_code("Fastbank", t)     # the flip went on without the server
        page.screenshot(path=str(screenshot_dir / "banner-light.png"))
        # one more boundary: no fresher code known, so no code at all (not an old one, not blank, not null)
        t0 = page.evaluate("() => Date.now() / 1000")
        page.wait_for_timeout(int(((int(t0 // 10) + 1) * 10 - t0) * 1000) + 400)
        row = page.locator(".acct", has_text="Fastbank")
        assert "no-code" in (row.get_attribute("class") or "")
        assert row.locator(".code").inner_text() == "—"
        assert not row.locator(".countdown").is_visible() and not row.locator(".bar-track").is_visible()
        page.evaluate("() => navigator.clipboard.writeText('before')")
        row.locator(".code").click()
        assert page.evaluate("() => navigator.clipboard.readText()") == "before"
        assert "No connection to AuthVault" in page.inner_text("#toast")
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "banner-dark.png"))
        page.emulate_media(color_scheme="light")
        # back: the next retry finds it, the banner goes and the codes come back
        home.append(restart(home[0]))
        page.click("#conn-banner .conn-retry")
        page.wait_for_selector("#conn-banner", state="hidden", timeout=10_000)
        page.wait_for_function("() => !document.querySelector('.acct.no-code')")
        codes, t = shown_with_time(device)
        assert codes["Fastbank"] == expected_code("Fastbank", t)
    finally:
        device.close()
