"""Codes away from home, in real Chromium with the server really stopped (issue 11).

Each test: a fresh gunicorn (one worker), a phone that sets it up and fills its vault, the list
page (service worker, offline copy), then `server.stop()`: the process is gone and the port is
closed; "back online" is a new gunicorn on the same port and data folder. Codes are checked
against the server's own code module (authvault.otp) at the time the page says it is.
"""
from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from authvault import otp
from authvault.model import Account

from .conftest import PASSPHRASE, Device, new_device, setup_device
from .gunicorn_server import GunicornServer
from .offline_helpers import offline_copy, restart, wait_for_controller, wait_for_copy

pytestmark = pytest.mark.browser

SECRETS = {  # issuer -> (base32 secret, type, algorithm, digits, period or counter)
    "Fastbank": ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "totp", "SHA1", 6, 10),
    "Mailhost": ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "totp", "SHA256", 8, 45),
    "Cloudco": ("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", "totp", "SHA512", 10, 60),
    "Oddtime": ("ONSWG4TFORZWK3DFMNZGK5DTMVRXEZLU", "totp", "SHA1", 7, 17),
    "Gamestore": ("KRUGKIDROVUWG2ZAMJZG653OEBTG66BA", "steam", "SHA1", 5, 30),
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


def shown_steady(device: Device, issuer: str) -> tuple[dict[str, str | None], float]:
    """shown_with_time, read again while `issuer`'s period ended within a second before (its new
    code may be on its way) or while reading."""
    for _ in range(20):
        codes, t = shown_with_time(device)
        codes2, t2 = shown_with_time(device)
        if codes == codes2 and expected_code(issuer, t - 1) == expected_code(issuer, t2):
            return codes, t
        device.page.wait_for_timeout(150)
    raise AssertionError("codes kept changing")


@pytest.fixture
def home(server_factory: Any) -> Iterator[list[GunicornServer]]:
    """A fresh server of this test's own; the list holds it and whatever restarted it, stopped at the end."""
    servers = [server_factory(workers=1)]
    yield servers
    for s in servers:
        s.stop()


def online_phone(browser: Any, server: GunicornServer, **kw: Any) -> Device:
    device = new_device(browser, server.origin, permissions=["clipboard-read", "clipboard-write"], service_workers="allow",
                        **kw)
    setup_device(device, server)
    add_accounts(device)
    device.goto("/")
    device.page.wait_for_selector("#accounts[data-started] .acct")
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
    """Every code on screen equals the server's code module's for that moment (retried off a boundary,
    and within a second after one: the page's new code may be on its way)."""
    for _ in range(20):
        codes, t = shown_with_time(device)
        codes2, t2 = shown_with_time(device)
        if codes == codes2 and all(expected_code(i, t - 1) == expected_code(i, t) == expected_code(i, t2)
                                   for i in SECRETS if i != "Vpnco"):
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
        # the list's own renderer, search included, works offline
        page.fill("#offline-search", "mailh")
        assert [r.inner_text() for r in page.locator("#accounts .acct:not([hidden]) .issuer").all()] == ["Mailhost"]
        page.fill("#offline-search", "")
        assert page.locator("#accounts .acct:not([hidden])").count() == len(SECRETS)
        assert device.errors == [] or all("ERR_CONNECTION_REFUSED" in e for e in device.errors), device.errors
    finally:
        device.close()


def test_offline_rows_far_from_the_screen_change_code_at_the_period_end_too(browser: Any,
                                                                            home: list[GunicornServer]) -> None:
    """150 accounts of 10 s, a list long enough to keep only some rows in the page (static/js/list.js):
    the countdown follows only the rows near the screen, and a period's end fills those first and
    the rest after; every row shows its new code, those far above the screen as those on it."""
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        setup_device(device, home[0])
        secrets = {f"Shop {i:03d}": base64.b32encode(bytes([i]) * 20).decode() for i in range(150)}
        text = "\n".join(f"otpauth://totp/{n.replace(' ', '%20')}:u%40example.com?secret={sec}"
                         f"&issuer={n.replace(' ', '%20')}&period=10" for n, sec in secrets.items())
        req = device.context.request
        token = req.get(device.origin + "/api/session").json()["csrf_token"]
        resp = req.post(device.origin + "/api/import", headers={"X-CSRFToken": token},
                        multipart={"file": {"name": "uris.txt", "mimeType": "text/plain", "buffer": text.encode()},
                                   "confirm": "true"})
        assert resp.ok, resp.text()
        device.goto("/")
        page = device.page
        page.wait_for_selector("#accounts[data-started] .acct")
        wait_for_controller(page)
        wait_for_copy(page)
        go_offline_and_reload(device, home[0])
        unlock_offline_with_passphrase(device)
        assert page.locator("#accounts .acct").count() < 150                     # the first rows only
        # scrolled to the end: every row in the page, the first ones far above the screen
        page.wait_for_function("""() => { scrollTo(0, document.documentElement.scrollHeight);
            return document.querySelectorAll('#accounts .acct').length === 150; }""", polling=100)
        assert page.locator("#accounts .acct").first.evaluate("li => li.getBoundingClientRect().bottom < -innerHeight")
        accs = {n: Account(secret=otp.decode_secret(sec), type="totp", algorithm="SHA1", digits=6, period=10)
                for n, sec in secrets.items()}
        shown = """() => Object.fromEntries([...document.querySelectorAll('#accounts .acct')].map(
                     (li) => [li.querySelector('.issuer').textContent, li.querySelector('.code').dataset.code]))"""
        # past the next period's end (and clear of the one after): every row has its new code
        t0 = page.evaluate("() => Date.now() / 1000")
        boundary = (int(t0 // 10) + 1) * 10
        page.wait_for_function(f"() => Date.now() / 1000 > {boundary + 1}", polling=100, timeout=15_000)
        want = {n: otp.code_at(acc, boundary + 1) for n, acc in accs.items()}
        assert want != {n: otp.code_at(acc, t0) for n, acc in accs.items()}
        try:
            page.wait_for_function(f"(want) => {{ const got = ({shown})(); "
                                   "return Object.keys(want).every((n) => got[n] === want[n]); }", arg=want, timeout=3_000)
        finally:
            assert page.evaluate(shown) == want
    finally:
        device.close()


def test_list_when_the_server_stops_banner_no_blank_code_no_null_copied(browser: Any, home: list[GunicornServer],
                                                                        screenshot_dir: Path) -> None:
    device = new_device(browser, home[0].origin, permissions=["clipboard-read", "clipboard-write"], service_workers="allow")
    try:
        setup_device(device, home[0])
        add_accounts(device, {"Fastbank": SECRETS["Fastbank"], "Mailhost": SECRETS["Mailhost"]})
        device.goto("/")
        page = device.page
        wait_for_controller(page)
        wait_for_copy(page)
        # The page's last codes come at a known time S: a refresh well clear of both accounts' next
        # period end (else that flip's refresh could still reach the server), then the server stops.
        # The page knows Fastbank's codes until the end of the period after S's: `known_until`.
        # (Stopping at any moment made the 45-second account flip first one time in 18: the banner
        # came, and the test took Fastbank's next flip for the one after.)
        page.wait_for_function("() => { const t = Date.now() / 1000; return t % 10 > 0.5 && t % 10 < 6 && t % 45 < 40; }",
                               polling=100, timeout=15_000)
        answered: list[Any] = []
        page.on("response", lambda r: answered.append(r) if "/api/codes" in r.url and r.ok else None)
        with page.expect_response("**/api/codes"):
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        home[0].stop()
        known_until = (int(answered[-1].json()["server_time"] // 10) + 2) * 10      # the last answer's
        # a period ends, the codes flip without the server, then the refresh fails
        page.wait_for_selector("#conn-banner:not([hidden])", timeout=15_000)
        banner = page.inner_text("#conn-banner")
        assert re.search(r"Can't reach your AuthVault server since \d\d:\d\d", banner), banner
        assert "offline copy still gives your codes" in banner and "Unlock offline" in banner
        codes, t = shown_steady(device, "Fastbank")
        assert t < known_until
        assert codes["Fastbank"] == expected_code("Fastbank", t)     # the flips go on without the server
        page.screenshot(path=str(screenshot_dir / "banner-light.png"))
        # the known codes run out: no code at all (not an old one, not blank, not null), at once
        row = page.locator(".acct", has_text="Fastbank")
        page.wait_for_function(f"() => Date.now() / 1000 >= {known_until}", polling=50, timeout=15_000)
        page.wait_for_selector(".acct.no-code", timeout=2_000)
        assert "no-code" in (row.get_attribute("class") or "")
        assert row.locator(".code").inner_text() == "—"
        # the row's countdown ring and next code are hidden too (list.js's row: .ring, .next)
        assert row.locator(".ring").count() == 1 and not row.locator(".ring").is_visible()
        assert not row.locator(".next").is_visible()
        page.evaluate("() => navigator.clipboard.writeText('before')")
        row.locator(".code").click()
        assert page.evaluate("() => navigator.clipboard.readText()") == "before"
        assert "No connection to AuthVault" in page.inner_text("#toast")
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "banner-dark.png"))
        page.emulate_media(color_scheme="light")
        # back: the next retry finds it, the banner goes and the codes come back (a tap on Retry,
        # unless the page's own retry, every 15 s, found the server first: then no banner to tap)
        home.append(restart(home[0]))
        page.evaluate("() => { const b = document.querySelector('#conn-banner:not([hidden]) .conn-retry'); if (b) b.click(); }")
        page.wait_for_selector("#conn-banner", state="hidden", timeout=10_000)
        page.wait_for_function("() => !document.querySelector('.acct.no-code')")
        codes, t = shown_steady(device, "Fastbank")
        assert codes["Fastbank"] == expected_code("Fastbank", t)
    finally:
        device.close()


def test_unlock_offline_with_the_passkey_prf(browser: Any, home: list[GunicornServer], screenshot_dir: Path) -> None:
    from .test_passkeys_e2e import add_authenticator, setup_with_passkey
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        add_authenticator(device, prf=True)
        setup_with_passkey(device)
        assert device.api("GET", "/api/passkeys")["unlock_mode"] == "passkey_prf"
        add_accounts(device)
        device.goto("/")
        page = device.page
        wait_for_controller(page)
        copy = wait_for_copy(page)
        assert copy["prf_salt"] and copy["rp_id"] == "localhost"
        go_offline_and_reload(device, home[0])
        page.wait_for_selector("#offline-passkey-btn", state="visible")
        assert page.is_hidden("#offline-passkey-note")
        page.screenshot(path=str(screenshot_dir / "offline-unlock-passkey-light.png"))
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "offline-unlock-passkey-dark.png"))
        page.emulate_media(color_scheme="light")
        page.click("#offline-passkey-btn")                       # one tap: the virtual authenticator verifies the user
        page.wait_for_selector("#offline-view:not([hidden]) #accounts .acct .code")
        check_codes(device)
        assert page.input_value("#offline-passphrase") == ""
        # the lock button drops the key: the list is gone, unlocking is needed again
        page.click("#offline-lock")
        page.wait_for_selector("#offline-form", state="visible")
        assert page.locator("#accounts .acct").count() == 0
        assert page.evaluate("() => window.AuthVaultOffline.unlocked") is False
        page.click("#offline-passkey-btn")
        page.wait_for_selector("#offline-view:not([hidden]) #accounts .acct .code")
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "offline-list-dark.png"))
    finally:
        device.close()


def test_without_prf_the_page_says_passphrase_only(browser: Any, home: list[GunicornServer]) -> None:
    from .test_passkeys_e2e import add_authenticator, setup_with_passkey
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        add_authenticator(device, prf=False)
        setup_with_passkey(device)
        assert device.api("GET", "/api/passkeys")["unlock_mode"] == "passkey_device_key"
        add_accounts(device, {"Fastbank": SECRETS["Fastbank"]})
        device.goto("/")
        wait_for_controller(device.page)
        wait_for_copy(device.page)
        go_offline_and_reload(device, home[0])
        page = device.page
        assert page.is_hidden("#offline-passkey")
        assert "passphrase only" in page.inner_text("#offline-passkey-note")
        page.fill("#offline-passphrase", "wrong passphrase")
        page.click("#offline-submit")
        page.wait_for_function("() => document.getElementById('offline-error').textContent.length > 0")
        assert page.inner_text("#offline-error") == "The passphrase is not correct."
        unlock_offline_with_passphrase(device)
        check_codes(device)
    finally:
        device.close()


def test_back_online_the_list_refreshes_and_the_copy_updates(browser: Any, home: list[GunicornServer]) -> None:
    device = online_phone(browser, home[0])
    try:
        first = wait_for_copy(device.page)
        go_offline_and_reload(device, home[0])
        unlock_offline_with_passphrase(device)
        home.append(restart(home[0]))                           # the session is still unlocked on the server
        page = device.page
        page.click("#offline-retry")
        page.wait_for_selector("body[data-page=list]")             # the server's list, not the offline view
        page.wait_for_selector("#accounts[data-started] .acct")
        assert page.locator("#conn-banner:not([hidden])").count() == 0
        device.api("POST", "/api/accounts", {"uri": "otpauth://totp/Newco:new?secret=MZXW6YTBOI======&issuer=Newco"})
        device.goto("/")
        second = wait_for_copy(page, generation=first["generation"])
        assert second["generation"] != first["generation"]
        # offline again, now with the new account
        home[-1].stop()
        page.reload()
        page.wait_for_selector("#offline-form", state="visible")
        unlock_offline_with_passphrase(device)
        assert "Newco" in page.inner_text("#accounts")
    finally:
        device.close()


def test_back_online_with_the_session_lapsed_the_offline_view_stays(browser: Any, home: list[GunicornServer],
                                                                   screenshot_dir: Path) -> None:
    device = online_phone(browser, home[0])
    try:
        go_offline_and_reload(device, home[0])
        unlock_offline_with_passphrase(device)
        home.append(restart(home[0]))
        device.api("POST", "/api/lock")                          # the server's session is gone meanwhile
        page = device.page
        page.click("#offline-retry")
        page.wait_for_selector("#offline-online-box:not([hidden])")
        assert "reachable again" in page.inner_text("#offline-reach")
        assert "still the offline copy" in page.inner_text("#offline-banner")
        check_codes(device)                                        # the codes stay
        page.screenshot(path=str(screenshot_dir / "offline-back-locked-light.png"))
        page.click("#offline-online-link")
        page.wait_for_selector("#unlock-form")
        page.fill("#passphrase", PASSPHRASE)
        page.click("#unlock-form button[type=submit]")
        page.wait_for_selector("#accounts[data-started] .acct")
    finally:
        device.close()


def test_hotp_offline_never_reuses_a_counter_and_never_moves_the_server_back(browser: Any,
                                                                            home: list[GunicornServer]) -> None:
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        setup_device(device, home[0])
        add_accounts(device, {"Vpnco": SECRETS["Vpnco"], "Fastbank": SECRETS["Fastbank"]})
        device.goto("/")
        page = device.page
        hotp = page.locator(".acct[data-type=hotp]")
        hotp.locator(".next-hotp").click()                        # online: counter 0 -> 1
        page.wait_for_function("() => document.querySelector('.acct[data-type=hotp] .counter')?.textContent === '#1'")
        wait_for_controller(page)
        page.wait_for_function("""async () => { const { loadCopy } = await import('/static/js/offline-store.js');
            const c = await loadCopy(); return !!c && !!c.envelope; }""")
        # the copy knows counter 1 (it was refreshed right after the online "next")
        go_offline_and_reload(device, home[0])
        unlock_offline_with_passphrase(device)
        shown = []
        for _ in range(3):
            shown.append(page.locator(".acct[data-type=hotp] .code").get_attribute("data-code"))
            page.locator(".acct[data-type=hotp] .next-hotp").click()
            page.wait_for_function(f"() => document.querySelector('.acct[data-type=hotp] .code').dataset.code !== '{shown[-1]}'")
        shown.append(page.locator(".acct[data-type=hotp] .code").get_attribute("data-code"))
        assert shown == [expected_code("Vpnco", 0, c) for c in (1, 2, 3, 4)]
        # a reload offline (the key is gone, the counter is not): still at 4, never back to 1
        page.reload()
        page.wait_for_selector("#offline-form", state="visible")
        unlock_offline_with_passphrase(device)
        assert page.locator(".acct[data-type=hotp] .code").get_attribute("data-code") == expected_code("Vpnco", 0, 4)
        assert page.inner_text(".acct[data-type=hotp] .counter") == "#4"
        # back: meanwhile the server moved on by itself to 6 (another tab of this device): it keeps 6
        home.append(restart(home[0]))
        hid = device.api("GET", "/api/codes")["accounts"][0]["id"]
        for _ in range(5):
            device.api("POST", f"/api/accounts/{hid}/next")
        assert device.api("GET", "/api/codes")["accounts"][0]["counter"] == 6
        page.click("#offline-retry")
        page.wait_for_selector("body[data-page=list]")             # the server's list, not the offline view
        page.wait_for_function("() => document.querySelector('.acct[data-type=hotp] .counter')?.textContent === '#6'")
        assert device.api("GET", "/api/codes")["accounts"][0]["counter"] == 6
        page.wait_for_function("""async () => { const { loadCopy } = await import('/static/js/offline-store.js');
            const c = await loadCopy(); return !!c && Object.keys(c.hotp_used || {}).length === 0; }""")   # reported, cleared
        page.wait_for_function("() => !document.documentElement.classList.contains('hotp-pending')")
        # and the other way: used offline beyond the server's counter, the server takes it
        home[-1].stop()
        page.reload()
        page.wait_for_selector("#offline-form", state="visible")
        unlock_offline_with_passphrase(device)
        for _ in range(3):
            before = page.locator(".acct[data-type=hotp] .code").get_attribute("data-code")
            page.locator(".acct[data-type=hotp] .next-hotp").click()
            page.wait_for_function(f"() => document.querySelector('.acct[data-type=hotp] .code').dataset.code !== '{before}'")
        assert page.inner_text(".acct[data-type=hotp] .counter") == "#9"
        home.append(restart(home[-1]))
        page.click("#offline-retry")
        page.wait_for_selector("body[data-page=list]")             # the server's list, not the offline view
        page.wait_for_function("() => document.querySelector('.acct[data-type=hotp] .counter')?.textContent === '#9'")
        assert device.api("GET", "/api/codes")["accounts"][0]["counter"] == 9
        assert page.locator(".acct[data-type=hotp] .code").get_attribute("data-code") == expected_code("Vpnco", 0, 9)
        page.locator(".acct[data-type=hotp] .next-hotp").click()
        page.wait_for_function("() => document.querySelector('.acct[data-type=hotp] .counter')?.textContent === '#10'")
    finally:
        device.close()


def test_turning_the_copy_off_or_removing_the_device_deletes_it(browser: Any, home: list[GunicornServer]) -> None:
    device = online_phone(browser, home[0])
    other = new_device(browser, home[0].origin, service_workers="allow")
    try:
        page = device.page
        device.goto("/settings")
        box = page.locator("#offline-copy-toggle")
        page.wait_for_function("() => !document.getElementById('offline-copy-toggle').disabled")
        assert box.is_checked()
        box.uncheck()
        page.wait_for_function("() => document.getElementById('offline-copy-state').textContent.length > 0")
        assert offline_copy(page) is None
        device.goto("/")                                           # stays off: no copy comes back
        page.wait_for_timeout(1000)
        assert offline_copy(page) is None
        device.goto("/settings")
        page.wait_for_function("() => !document.getElementById('offline-copy-toggle').disabled")
        page.locator("#offline-copy-toggle").check()
        page.wait_for_function("() => document.getElementById('offline-copy-state').textContent.length > 0")
        assert offline_copy(page)["envelope"]
        # removed from another device: the next page this browser opens deletes its copy
        enroll = device.api("POST", "/api/devices/enroll")
        other.api("POST", "/api/enroll", {"token": enroll["token"], "device_name": "Tablet", "passphrase": PASSPHRASE})
        me = device.api("GET", "/api/session")["device"]
        other.api("DELETE", f"/api/devices/{me['id']}", {"confirm_name": me["name"]})
        device.goto("/")
        page.wait_for_function("""async () => { const { loadCopy } = await import('/static/js/offline-store.js');
            return (await loadCopy()) === null; }""")
    finally:
        other.close()
        device.close()


def test_install_criteria_manifest_icons_and_a_controlling_service_worker(browser: Any, home: list[GunicornServer]) -> None:
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        setup_device(device, home[0])
        device.goto("/")
        page = device.page
        wait_for_controller(page)
        cdp = device.context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        # Chromium's own "can install" check; a test context is incognito, which is no fault of the app
        assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [] and '"standalone"' in manifest["data"]
        assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL") == home[0].origin + "/sw.js"
        keys = page.evaluate("async () => { const out = []; for (const n of await caches.keys()) { const c = await caches.open(n);"
                             " for (const r of await c.keys()) out.push(new URL(r.url).pathname); } return out; }")
        assert "/offline" in keys and all(k == "/offline" or k.startswith("/static/") for k in keys), keys
        # an update (any shell file changes): a new worker, a new cache holding the new file, the old one deleted
        names = page.evaluate("() => caches.keys()")
        assert len(names) == 1
        from tests.paths import REPO
        css = REPO / "static" / "offline.css"
        before = css.read_bytes()
        try:
            css.write_bytes(before + b"\n/* an update */\n")
            page.reload()
            page.wait_for_function("""async (old) => { const k = await caches.keys(); if (k.length !== 1 || k[0] === old) return false;
                const c = await caches.open(k[0]);
                for (const r of await c.keys()) if (r.url.includes('/static/offline.css'))
                  return (await (await c.match(r)).text()).endsWith('/* an update */\\n');
                return false; }""", arg=names[0], timeout=20_000)
        finally:
            css.write_bytes(before)
    finally:
        device.close()


def test_no_secret_in_any_browser_store_or_the_profile_folder(playwright_sync: Any, home: list[GunicornServer],
                                                             tmp_path: Path) -> None:
    """A vault of known secrets, used online and offline (unlock, codes, copy, HOTP next, lock):
    afterwards no secret, code, issuer, label, passphrase or master key is in IndexedDB, Cache
    Storage, localStorage, sessionStorage, cookies, or anywhere in the browser's profile on disk."""
    from authvault.vault import unlock_with_passphrase
    from authvault.vault.store import read_envelope

    from .conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
    profile = tmp_path / "profile"
    context = playwright_sync.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        permissions=["clipboard-read", "clipboard-write"], **PHONE)
    context.set_default_timeout(10_000)
    device = Device(context, context.pages[0] if context.pages else context.new_page(), home[0].origin)
    labels = {issuer: f"{issuer.lower()}@example.com" for issuer in SECRETS}
    try:
        setup_device(device, home[0])
        add_accounts(device)
        me = device.api("GET", "/api/session")["device"]["id"]
        device.goto("/")
        page = device.page
        page.wait_for_selector("#accounts[data-started] .acct")
        wait_for_controller(page)
        wait_for_copy(page)
        page.click(".acct[data-type=totp] .code")
        page.click(".acct[data-type=hotp] .next-hotp")
        page.wait_for_timeout(500)
        go_offline_and_reload(device, home[0])
        unlock_offline_with_passphrase(device)
        seen_codes = {c for c in check_codes(device).values() if c}
        page.click(".acct[data-type=hotp] .next-hotp")
        page.click(".acct[data-type=totp] .code")
        seen_codes |= {c for c in page.evaluate(SHOWN).values() if c}
        page.click("#offline-lock")
        page.wait_for_selector("#offline-form", state="visible")
        stores = page.evaluate("""async () => {
          const out = { idb: [], caches: [], local: {}, session: {} };
          for (const info of await indexedDB.databases()) {
            const db = await new Promise((ok, no) => { const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = no; });
            for (const name of db.objectStoreNames) {
              const all = await new Promise((ok) => { const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result); });
              out.idb.push(JSON.stringify(all));
            }
            db.close();
          }
          for (const n of await caches.keys()) {
            const c = await caches.open(n);
            for (const r of await c.keys()) out.caches.push(r.url + "\\n" + await (await c.match(r)).text());
          }
          for (let i = 0; i < localStorage.length; i++) out.local[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
          for (let i = 0; i < sessionStorage.length; i++) out.session[sessionStorage.key(i)] = sessionStorage.getItem(sessionStorage.key(i));
          return out;
        }""")
        cookies = context.cookies()
    finally:
        context.close()                                            # flushes the profile to disk
    from authvault.db import connect
    conn = connect(home[0].data_dir / "authvault.sqlite3")
    master_key = unlock_with_passphrase(read_envelope(conn, me), PASSPHRASE)
    needles: dict[str, bytes] = {"passphrase": PASSPHRASE.encode(), "master key": master_key,
                                 "master key hex": master_key.hex().encode(),
                                 "master key b64": base64.b64encode(master_key)}
    for issuer, (secret, *_rest) in SECRETS.items():
        raw = otp.decode_secret(secret)
        needles[f"{issuer} secret"] = secret.encode()
        needles[f"{issuer} secret bytes"] = raw
        needles[f"{issuer} secret hex"] = raw.hex().encode()
        needles[f"{issuer} issuer"] = issuer.encode()
        needles[f"{issuer} issuer utf-16"] = issuer.encode("utf-16-le")
        needles[f"{issuer} label"] = labels[issuer].encode()
    for code in seen_codes:
        if len(code) >= 7:                                         # shorter ones turn up by chance in binary files
            needles[f"code {code}"] = code.encode()
    assert len(seen_codes) >= 5 and stores["idb"] and stores["caches"]
    text = "\n".join([*stores["idb"], *stores["caches"], json.dumps(stores["local"]), json.dumps(stores["session"]),
                      json.dumps(cookies)]).encode()
    found = [name for name, needle in needles.items() if needle in text]
    assert found == [], f"in browser storage: {found}"
    # besides the HOTP flag, only the list's options and its "recently used" times (account ids and
    # numbers, issue 14): no names, no codes (checked above with the rest of the stores)
    local = dict(stores["local"])
    assert local.pop("authvault-hotp-pending", "1") == "1"
    used = json.loads(local.pop("authvault.used", "{}"))
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) and isinstance(v, int) for k, v in used.items()), used
    assert set(json.loads(local.pop("authvault.list", "{}"))) <= {"layout", "showNext", "hideCodes", "sort"}
    assert local == {} and stores["session"] == {}
    on_disk = []
    files = [p for p in profile.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        on_disk += [f"{name} in {path.relative_to(profile)}" for name, needle in needles.items() if needle in data]
    assert on_disk == [], on_disk


@pytest.mark.slow
def test_offline_view_locks_itself_after_the_idle_time(browser: Any, home: list[GunicornServer]) -> None:
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        setup_device(device, home[0])
        device.api("PATCH", "/api/settings", {"lock_minutes": 1})
        add_accounts(device, {"Fastbank": SECRETS["Fastbank"]})
        device.goto("/")
        wait_for_controller(device.page)
        assert wait_for_copy(device.page)["lock_minutes"] == 1
        go_offline_and_reload(device, home[0])
        unlock_offline_with_passphrase(device)
        started = time.monotonic()
        device.page.wait_for_selector("#offline-form", state="visible", timeout=90_000)
        assert 55 <= time.monotonic() - started <= 75
        assert device.page.locator("#accounts .acct").count() == 0
        assert "Fastbank" not in device.page.content()
        assert device.page.evaluate("() => window.AuthVaultOffline.unlocked") is False
    finally:
        device.close()


def test_offline_page_in_japanese(browser: Any, home: list[GunicornServer], screenshot_dir: Path) -> None:
    device = new_device(browser, home[0].origin, service_workers="allow", locale="ja-JP",
                        extra_http_headers={"Accept-Language": "ja"})
    try:
        setup_device(device, home[0])
        add_accounts(device, {"Fastbank": SECRETS["Fastbank"]})
        device.goto("/")
        wait_for_controller(device.page)
        wait_for_copy(device.page)
        go_offline_and_reload(device, home[0])
        page = device.page
        assert "AuthVault サーバーに接続できません" in page.inner_text("#offline-banner")
        assert "オフラインでロック解除" in page.inner_text("#offline-form")
        page.screenshot(path=str(screenshot_dir / "offline-unlock-ja-light.png"))
        unlock_offline_with_passphrase(device)
        check_codes(device)
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "offline-list-ja-dark.png"))
    finally:
        device.close()


@pytest.mark.slow
def test_offline_view_frozen_longer_than_the_lock_time_is_locked_when_back(browser: Any,
                                                                           home: list[GunicornServer]) -> None:
    """A phone puts a page in the background and freezes it (timers stop); back after the lock time,
    it is locked at once, before any code is drawn again (Chromium's page lifecycle: frozen, then
    active). Headless Chromium cannot hide a page, so the visibilitychange path is not driven here;
    the check it makes is the same."""
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        setup_device(device, home[0])
        device.api("PATCH", "/api/settings", {"lock_minutes": 1})
        add_accounts(device, {"Fastbank": SECRETS["Fastbank"]})
        device.goto("/")
        wait_for_controller(device.page)
        wait_for_copy(device.page)
        go_offline_and_reload(device, home[0])
        unlock_offline_with_passphrase(device)
        page = device.page
        cdp = device.context.new_cdp_session(page)
        cdp.send("Page.setWebLifecycleState", {"state": "frozen"})
        time.sleep(62)
        cdp.send("Page.setWebLifecycleState", {"state": "active"})
        page.wait_for_selector("#offline-form", state="visible", timeout=5_000)
        assert page.locator("#accounts .acct").count() == 0
        assert page.evaluate("() => window.AuthVaultOffline.unlocked") is False
    finally:
        device.close()


def test_offline_clock_offset_is_applied_and_said_and_a_damaged_copy_is_refused(browser: Any,
                                                                                 home: list[GunicornServer]) -> None:
    """The phone's clock corrected by the offset last learned from the server (here: the server 90 s
    ahead, learned ten days ago), said on the page; a copy changed in storage is refused in words."""
    device = new_device(browser, home[0].origin, service_workers="allow")
    try:
        setup_device(device, home[0])
        add_accounts(device, {"Fastbank": SECRETS["Fastbank"], "Mailhost": SECRETS["Mailhost"]})
        device.goto("/")
        page = device.page
        wait_for_controller(page)
        wait_for_copy(page)
        home[0].stop()
        page.evaluate("""async () => { const { updateCopy } = await import('/static/js/offline-store.js');
            await updateCopy((r) => Object.assign(r, { offset: 90, offset_at: Date.now() - 10 * 86400000,
                                                        saved_at: Date.now() - 10 * 86400000 })); }""")
        page.reload()
        page.wait_for_selector("#offline-form", state="visible")
        unlock_offline_with_passphrase(device)
        for _ in range(20):
            t = page.evaluate("() => Date.now() / 1000") + 90
            codes = page.evaluate(SHOWN)
            if all(expected_code(i, t) == expected_code(i, t + 0.5) for i in codes):
                assert codes == {i: expected_code(i, t) for i in codes}
                break
            page.wait_for_timeout(300)
        else:
            raise AssertionError("codes kept changing")
        status = page.inner_text("#offline-status")
        assert "90 seconds off the server's" in status and "last refreshed on" in status and "last compared" in status
        # a copy changed in storage (one byte of its header MAC): refused, nothing shown
        page.click("#offline-lock")
        page.evaluate("""async () => { const { updateCopy } = await import('/static/js/offline-store.js');
            await updateCopy((r) => { const m = r.envelope.authvault.header_mac;
              r.envelope.authvault.header_mac = (m[0] === '0' ? '1' : '0') + m.slice(1); return r; }); }""")
        page.reload()
        page.wait_for_selector("#offline-form", state="visible")
        page.fill("#offline-passphrase", PASSPHRASE)
        page.click("#offline-submit")
        page.wait_for_function("() => document.getElementById('offline-error').textContent.length > 0", timeout=20_000)
        assert "damaged or was changed outside AuthVault" in page.inner_text("#offline-error")
        assert page.locator("#accounts .acct").count() == 0
    finally:
        device.close()
