"""Passkeys in a real browser: Debian Chromium + Playwright + the DevTools virtual authenticator.

Each page gets its own virtual platform authenticator (they belong to a page, not to a context: a
second page without its own hangs in navigator.credentials.get). UV-negative tests use an
authenticator without PRF: with PRF, Chromium's virtual authenticator keeps answering
NotAllowedError after one failed verification, even after setUserVerified(true) or a reload.
Screenshots of setup, unlock and the devices page are taken at 390x844 and 820x1180.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSPHRASE, PHONE, SETUP_TOKEN, TABLET, Device, new_device

pytestmark = pytest.mark.browser

URI_PHONE = "otpauth://totp/PhoneBank:alice?secret=JBSWY3DPEHPK3PXP&issuer=PhoneBank"
URI_TABLET = "otpauth://totp/TabletMail:bob?secret=GEZDGNBVGY3TQOJQ&issuer=TabletMail"


def add_authenticator(device: Device, *, prf: bool = True) -> tuple[Any, str]:
    """A virtual platform authenticator (UV, resident keys, optionally PRF) on this device's page."""
    cdp = device.context.new_cdp_session(device.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    aid = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True, "hasPrf": prf}})["authenticatorId"]
    return cdp, aid


def setup_with_passkey(device: Device, name: str = "iPhone", shots: Path | None = None, tag: str = "") -> None:
    """Set up through the setup page, then add a passkey at the offered step."""
    page = device.page
    device.goto(f"/setup?token={SETUP_TOKEN}")
    page.wait_for_function("!!(window.AuthVault && window.AuthVault.afterSetup)")  # both scripts wired
    page.fill("#device_name", name)
    page.fill("#passphrase", PASSPHRASE)
    page.fill("#passphrase2", PASSPHRASE)
    if shots:
        page.screenshot(path=str(shots / f"setup-{tag}.png"), full_page=True)
    page.click("#setup-form button[type=submit]")
    page.wait_for_selector("#passkey-step", state="visible")
    if shots:
        page.screenshot(path=str(shots / f"setup-passkey-{tag}.png"), full_page=True)
    page.click("#passkey-add-btn")
    page.wait_for_url(device.origin + "/")
    page.wait_for_selector("#accounts[data-started]", state="attached")


def lock(device: Device) -> None:
    """Lock with the bar's lock button and wait for the unlock page."""
    device.page.click("#lock-btn")
    device.page.wait_for_selector("#unlock-form")


def unlock_with_passkey(device: Device) -> None:
    """One tap on "Unlock with passkey", no typing."""
    page = device.page
    page.wait_for_selector("#passkey-unlock-btn", state="visible")
    page.click("#passkey-unlock-btn")
    page.wait_for_selector("#accounts[data-started]", state="attached")


def state(device: Device) -> str:
    return device.context.request.get(device.origin + "/api/session").json()["state"]


def issuers(device: Device) -> list[str]:
    return [a["issuer"] for a in device.api("GET", "/api/codes")["accounts"]]


@pytest.mark.parametrize("form", ["phone", "tablet"])
def test_setup_with_passkey_then_unlock_with_prf(browser: Any, fresh_server: Any, screenshot_dir: Path,
                                                 form: str) -> None:
    device = new_device(browser, fresh_server.origin, **(PHONE if form == "phone" else TABLET))
    try:
        add_authenticator(device, prf=True)
        setup_with_passkey(device, "iPhone" if form == "phone" else "iPad", screenshot_dir, form)
        device.api("POST", "/api/accounts", {"uri": URI_PHONE})
        assert device.api("GET", "/api/passkeys")["unlock_mode"] == "passkey_prf"
        device.goto("/")
        lock(device)
        device.page.wait_for_selector("#passkey-unlock-btn", state="visible")
        device.page.screenshot(path=str(screenshot_dir / f"unlock-{form}.png"), full_page=True)
        unlock_with_passkey(device)
        assert state(device) == "unlocked"
        assert device.page.locator(".acct .issuer").first.inner_text() == "PhoneBank"
        device.goto("/devices")
        assert "holds the key to this device's vault" in device.page.inner_text("#unlock-mode-text")
        device.page.screenshot(path=str(screenshot_dir / f"devices-{form}.png"), full_page=True)
        assert device.errors == []
    finally:
        device.close()


def test_unlock_without_prf(browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    device = new_device(browser, fresh_server.origin)
    try:
        add_authenticator(device, prf=False)
        setup_with_passkey(device)
        assert device.api("GET", "/api/passkeys")["unlock_mode"] == "passkey_device_key"
        lock(device)
        unlock_with_passkey(device)
        assert state(device) == "unlocked"
        device.goto("/devices")
        assert "kept in this browser's private cookie" in device.page.inner_text("#unlock-mode-text")
        device.page.screenshot(path=str(screenshot_dir / "devices-no-prf-phone.png"), full_page=True)
        assert device.errors == []
    finally:
        device.close()


def test_phone_enrolls_tablet_each_with_own_accounts(browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    phone = new_device(browser, fresh_server.origin, **PHONE)
    tablet = new_device(browser, fresh_server.origin, **TABLET)
    try:
        add_authenticator(phone)
        add_authenticator(tablet)
        setup_with_passkey(phone, "iPhone")
        phone.api("POST", "/api/accounts", {"uri": URI_PHONE})
        # The phone makes an add-a-device link on its devices page (QR code + link).
        phone.goto("/devices")
        phone.page.click("#enroll-btn")
        phone.page.wait_for_selector("#enroll-panel", state="visible")
        url = phone.page.input_value("#enroll-url")
        assert url.startswith(fresh_server.origin + "/enroll#token=")
        assert phone.page.get_attribute("#enroll-qr", "src").startswith("data:image/svg+xml;base64,")
        phone.page.screenshot(path=str(screenshot_dir / "devices-enroll-phone.png"), full_page=True)
        # The tablet opens it, names itself, chooses its passphrase, adds its own passkey.
        tablet.page.goto(url)
        tablet.page.wait_for_function("document.getElementById('enroll-expiry').textContent.length > 0")
        tablet.page.fill("#device_name", "iPad")
        tablet.page.fill("#passphrase", PASSPHRASE + " tablet")
        tablet.page.fill("#passphrase2", PASSPHRASE + " tablet")
        tablet.page.click("#enroll-form button[type=submit]")
        tablet.page.wait_for_selector("#passkey-step", state="visible")
        tablet.page.click("#passkey-add-btn")
        tablet.page.wait_for_url(tablet.origin + "/")
        assert issuers(tablet) == []
        tablet.api("POST", "/api/accounts", {"uri": URI_TABLET})
        assert issuers(phone) == ["PhoneBank"] and issuers(tablet) == ["TabletMail"]
        # The link worked once.
        third = new_device(browser, fresh_server.origin)
        try:
            third.page.goto(url)
            third.page.wait_for_selector("#form-error:not(:empty)")
            assert "already used" in third.page.inner_text("#form-error")
        finally:
            third.close()
        # Each unlocks with its own passkey.
        for device in (phone, tablet):
            device.goto("/")
            lock(device)
            unlock_with_passkey(device)
        assert issuers(phone) == ["PhoneBank"] and issuers(tablet) == ["TabletMail"]
        names = {d["name"]: d for d in phone.api("GET", "/api/devices")["devices"]}
        assert set(names) == {"iPhone", "iPad"} and names["iPhone"]["this_device"]
        assert phone.errors == [] and tablet.errors == []
    finally:
        phone.close()
        tablet.close()


def test_authenticator_that_does_not_verify_the_user_is_refused(browser: Any, fresh_server: Any) -> None:
    device = new_device(browser, fresh_server.origin)
    try:
        cdp, aid = add_authenticator(device, prf=False)  # no PRF: see the Chromium quirk in the module doc
        setup_with_passkey(device)
        lock(device)
        cdp.send("WebAuthn.setUserVerified", {"authenticatorId": aid, "isUserVerified": False})
        device.page.click("#passkey-unlock-btn")
        device.page.wait_for_selector("#form-error:not(:empty)")
        assert state(device) == "locked"
        cdp.send("WebAuthn.setUserVerified", {"authenticatorId": aid, "isUserVerified": True})
        device.page.click("#passkey-unlock-btn")
        device.page.wait_for_selector("#accounts[data-started]", state="attached")
        assert state(device) == "unlocked"
    finally:
        device.close()


def test_ip_address_hides_passkeys_and_says_why(browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    by_ip = new_device(browser, fresh_server.url)  # http://127.0.0.1:PORT
    try:
        add_authenticator(by_ip)
        by_ip.goto(f"/setup?token={SETUP_TOKEN}")
        by_ip.page.fill("#device_name", "Laptop")
        by_ip.page.fill("#passphrase", PASSPHRASE)
        by_ip.page.fill("#passphrase2", PASSPHRASE)
        by_ip.page.click("#setup-form button[type=submit]")
        by_ip.page.wait_for_url(fresh_server.url + "/")  # no passkey offer where passkeys cannot work
        by_ip.page.wait_for_selector("#accounts[data-started]", state="attached")
        note = by_ip.page.inner_text("#connect-banner")
        assert "IP address" in note and "passphrase" in note
        assert by_ip.page.get_attribute("#connect-banner a[href='/connect']", "href") == "/connect"
        by_ip.page.screenshot(path=str(screenshot_dir / "list-by-ip-phone.png"), full_page=True)
        by_ip.goto("/devices")
        assert by_ip.page.is_hidden("#passkey-add-btn") and by_ip.page.is_visible("#connect-banner")
        by_ip.page.click("#lock-btn")
        by_ip.page.wait_for_selector("#unlock-form")
        assert by_ip.page.is_hidden("#passkey-unlock") and by_ip.page.is_visible("#connect-banner")
    finally:
        by_ip.close()


def test_sign_back_in_after_browser_data_is_cleared(browser: Any, fresh_server: Any) -> None:
    device = new_device(browser, fresh_server.origin)
    try:
        add_authenticator(device, prf=False)  # its device key goes with the cleared cookies
        setup_with_passkey(device)
        device.api("POST", "/api/accounts", {"uri": URI_PHONE})
        device.context.clear_cookies()
        device.goto("/")
        device.page.click("a[href='/signin']")
        device.page.fill("#device_name", "iphone")  # typed, as a person would: case does not matter
        device.page.fill("#passphrase", PASSPHRASE)
        device.page.click("#signin-form button[type=submit]")
        device.page.wait_for_selector("#passkey-step", state="visible")
        device.page.click("#passkey-add-btn")
        device.page.wait_for_url(device.origin + "/")
        assert issuers(device) == ["PhoneBank"]
        lock(device)
        unlock_with_passkey(device)
        assert state(device) == "unlocked"
    finally:
        device.close()


def test_works_without_the_webauthn_json_helpers(browser: Any, fresh_server: Any) -> None:
    """Older Safari has no parseCreationOptionsFromJSON / parseRequestOptionsFromJSON / toJSON."""
    device = new_device(browser, fresh_server.origin)
    try:
        device.context.add_init_script("""
            delete PublicKeyCredential.parseCreationOptionsFromJSON;
            delete PublicKeyCredential.parseRequestOptionsFromJSON;
            delete PublicKeyCredential.prototype.toJSON;""")
        add_authenticator(device, prf=True)
        setup_with_passkey(device)
        assert device.page.evaluate("typeof PublicKeyCredential.parseCreationOptionsFromJSON") == "undefined"
        assert device.page.evaluate("typeof PublicKeyCredential.prototype.toJSON") == "undefined"
        assert device.api("GET", "/api/passkeys")["unlock_mode"] == "passkey_prf"  # PRF bytes encoded by hand
        lock(device)
        unlock_with_passkey(device)
        assert state(device) == "unlocked"
        assert device.errors == []
    finally:
        device.close()


def test_export_confirmed_with_a_passkey_instead_of_the_passphrase(browser: Any, fresh_server: Any) -> None:
    phone = new_device(browser, fresh_server.origin, **PHONE)
    try:
        cdp, aid = add_authenticator(phone)
        setup_with_passkey(phone, "iPhone")
        phone.api("POST", "/api/accounts", {"uri": URI_PHONE})
        count = lambda: cdp.send("WebAuthn.getCredentials", {"authenticatorId": aid})["credentials"][0]["signCount"]  # noqa: E731
        before = count()
        phone.goto("/export")
        page = phone.page
        page.check('input[name="format"][value="google"]')
        page.wait_for_selector("#export-passkey-btn", state="visible")
        page.click("#export-passkey-btn")  # one prompt, no typing
        page.wait_for_selector("#qr-viewer", state="visible")
        assert page.locator("#qr-box svg").count() == 1
        assert count() == before + 1  # the passkey really signed
        assert page.input_value("#export-passphrase") == ""
        assert phone.errors == []
    finally:
        phone.close()
