"""Removing a device in a real browser (issue 12, item 6): the phone removes the tablet after giving its
passphrase (or its passkey) again, the tablet stops working at once, and Restore brings it back."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSPHRASE, Device, new_device
from .test_passkeys_e2e import URI_PHONE, URI_TABLET, add_authenticator, setup_with_passkey

pytestmark = pytest.mark.browser
TABLET_PASSPHRASE = PASSPHRASE + " tablet"


def open_remove_dialog(phone: Device, name: str) -> None:
    phone.goto("/devices")
    phone.page.wait_for_function("!!(window.AuthVault && window.AuthVault.passkeys)")
    phone.page.locator(f"#device-list .row[data-name='{name}'] .remove-device").click()
    phone.page.wait_for_selector("#remove-dialog[open]")


def test_remove_a_device_with_the_passphrase_then_restore_it_then_remove_with_the_passkey(
        browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    phone = new_device(browser, fresh_server.origin)
    tablet = new_device(browser, fresh_server.origin)
    try:
        add_authenticator(phone)
        setup_with_passkey(phone, "iPhone")
        phone.api("POST", "/api/accounts", {"uri": URI_PHONE})
        link = phone.api("POST", "/api/devices/enroll")
        tablet.api("POST", "/api/enroll", {"token": link["token"], "device_name": "iPad",
                                          "passphrase": TABLET_PASSPHRASE})
        tablet.api("POST", "/api/accounts", {"uri": URI_TABLET})

        open_remove_dialog(phone, "iPad")
        page = phone.page
        text = page.inner_text("#remove-dialog")
        assert "iPad" in text and "(1 account)" in text and "30 days" in text
        assert page.is_visible("#remove-passkey")  # this phone has a passkey: one prompt instead of typing
        page.screenshot(path=str(screenshot_dir / "remove-device-phone-light.png"))
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "remove-device-phone-dark.png"))
        page.set_viewport_size({"width": 820, "height": 1180})  # a tablet
        page.screenshot(path=str(screenshot_dir / "remove-device-tablet-dark.png"))
        page.emulate_media(color_scheme="light")
        page.screenshot(path=str(screenshot_dir / "remove-device-tablet-light.png"))
        page.set_viewport_size({"width": 390, "height": 844})
        # a wrong passphrase removes nothing, and says so in the dialog
        page.fill("#remove-passphrase", "not my passphrase")
        page.click("#remove-confirm")
        page.wait_for_selector("#remove-error:not(:empty)")
        assert page.is_visible("#remove-dialog")
        assert tablet.api("GET", "/api/session")["device"]["name"] == "iPad"
        # the right one removes it; the page shows it under Removed devices with Restore
        page.fill("#remove-passphrase", PASSPHRASE)
        page.click("#remove-confirm")
        page.wait_for_selector("#removed-list .row[data-name='iPad']")
        assert page.locator("#device-list .row").count() == 1
        page.screenshot(path=str(screenshot_dir / "removed-devices-phone.png"), full_page=True)
        assert tablet.api("GET", "/api/session")["device"] is None  # it stopped working at once
        # Restore: the tablet is its device again, with its accounts
        page.click("#removed-list .row[data-name='iPad'] .restore-device")
        page.wait_for_selector("#device-list .row[data-name='iPad']")
        assert page.locator("#removed-list").count() == 0
        assert tablet.api("GET", "/api/session")["state"] == "locked"
        tablet.api("POST", "/api/unlock", {"passphrase": TABLET_PASSPHRASE})
        assert [a["issuer"] for a in tablet.api("GET", "/api/codes")["accounts"]] == ["TabletMail"]
        # Removing with the passkey: one prompt, no typing
        open_remove_dialog(phone, "iPad")
        page.click("#remove-passkey")
        page.wait_for_selector("#removed-list .row[data-name='iPad']")
        assert tablet.api("GET", "/api/session")["device"] is None
        # the one console line is the browser reporting the wrong passphrase's 401
        assert [e for e in phone.errors if "status of 401" not in e] == [] and tablet.errors == []
    finally:
        phone.close()
        tablet.close()


def test_sign_back_in_with_a_prf_passkey_and_no_passphrase(browser: Any, fresh_server: Any,
                                                            screenshot_dir: Path) -> None:
    """The owner's browser data was cleared: the device name and one passkey prompt bring it back."""
    device = new_device(browser, fresh_server.origin)
    try:
        add_authenticator(device, prf=True)  # the passkey holds the vault key
        setup_with_passkey(device, "Alice phone")
        device.api("POST", "/api/accounts", {"uri": URI_PHONE})
        device.context.clear_cookies()
        device.goto("/signin")
        device.page.wait_for_selector("#signin-passkey:not([hidden])")
        device.page.click("#signin-passkey-btn")  # no name yet: it says what to do
        device.page.wait_for_selector("#form-error:not(:empty)")
        device.page.fill("#device_name", "alice  PHONE")
        device.page.screenshot(path=str(screenshot_dir / "signin-passkey-phone.png"), full_page=True)
        device.page.click("#signin-passkey-btn")
        device.page.wait_for_url(device.origin + "/")
        device.page.wait_for_selector("#accounts[data-started]", state="attached")
        assert [a["issuer"] for a in device.api("GET", "/api/codes")["accounts"]] == ["PhoneBank"]
        assert device.errors == []
    finally:
        device.close()
    # The same page in Japanese, as a stranger's browser sees it (no device named), light and dark.
    for scheme in ("light", "dark"):
        ja = new_device(browser, fresh_server.origin, locale="ja-JP", color_scheme=scheme)
        try:
            ja.goto("/signin")
            ja.page.wait_for_selector("#signin-passkey:not([hidden])")
            assert "デバイス名" in ja.page.inner_text("#signin-form") and "Alice" not in ja.page.content()
            ja.page.screenshot(path=str(screenshot_dir / f"signin-ja-phone-{scheme}.png"), full_page=True)
        finally:
            ja.close()
