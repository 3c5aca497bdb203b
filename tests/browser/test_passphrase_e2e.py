"""Changing the passphrase in a real browser (issue 14, item 6): Settings › This device, with the
current passphrase or with the passkey (Chromium's virtual authenticator with PRF), the strength
meter of the setup page (the add-a-device page has it too), then the new passphrase unlocks through
the unlock page and the old one fails; the passkey still unlocks; the browser's offline copy holds
the envelope with the new slot."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSPHRASE, Device, new_device, setup_device
from .test_passkeys_e2e import URI_PHONE, add_authenticator, lock, setup_with_passkey, unlock_with_passkey

pytestmark = pytest.mark.browser
NEW = "purple otter paints the quiet harbour"
NEWER = "seven blue kites over a sleeping town"

COPY_GENERATION = """async () => {
  const store = await import('/static/js/offline-store.js');
  const copy = await store.loadCopy();
  return copy ? copy.generation : null;
}"""


def open_settings(device: Device) -> None:
    device.goto("/settings")
    device.page.wait_for_function("!!(window.AuthVault && window.AuthVault.passkeys)")
    device.page.wait_for_selector("#passphrase-submit:not([disabled])")


def unlock_fails(device: Device, passphrase: str) -> None:
    page = device.page
    device.goto("/")
    page.fill("#passphrase", passphrase)
    page.click("#unlock-form button[type=submit]")
    page.wait_for_selector("#form-error:not(:empty)")
    assert page.locator("#unlock-form").is_visible()


def unlock_with(device: Device, passphrase: str) -> None:
    page = device.page
    device.goto("/")
    page.fill("#passphrase", passphrase)
    page.click("#unlock-form button[type=submit]")
    page.wait_for_selector("#accounts[data-started]", state="attached")


def test_change_the_passphrase_on_the_settings_page_then_unlock_with_the_new_one(
        browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    phone = new_device(browser, fresh_server.origin)
    try:
        add_authenticator(phone)
        setup_with_passkey(phone, "iPhone")
        phone.api("POST", "/api/accounts", {"uri": URI_PHONE})
        page = phone.page
        open_settings(phone)
        assert page.is_visible("#passphrase-passkey")  # this phone has a passkey: it may stand in
        for _ in range(100):  # connection.js saves the copy on every unlocked page
            old_generation = page.evaluate(COPY_GENERATION)
            if old_generation:
                break
            page.wait_for_timeout(100)
        assert old_generation

        # a wrong current passphrase changes nothing and says so (and counts as a failed unlock)
        page.fill("#current_passphrase", "not my passphrase")
        page.fill("#new_passphrase", NEW)
        page.fill("#new_passphrase2", NEW)
        page.click("#passphrase-submit")
        page.wait_for_selector("#passphrase-error:not(:empty)")
        assert page.inner_text("#passphrase-error") == "The passphrase is not correct."
        events = phone.api("GET", "/api/devices/events")["events"]
        assert events[0]["kind"] == "unlock_failed"

        # the two new ones must match; the meter is the setup page's
        page.fill("#new_passphrase", "abcdefgh")
        assert page.locator("#new-strength").evaluate("m => m.value") <= 1
        assert page.inner_text("#new-strength-text").startswith("Weak")
        page.fill("#new_passphrase", NEW)
        assert page.locator("#new-strength").evaluate("m => m.value") == 3
        assert page.inner_text("#new-strength-text") == "Strong"
        page.fill("#new_passphrase2", NEW + "x")
        page.fill("#current_passphrase", PASSPHRASE)
        page.click("#passphrase-submit")
        assert "not the same" in page.inner_text("#passphrase-error")
        page.fill("#new_passphrase2", NEW)
        page.locator("#passphrase-form").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "passphrase-phone-light.png"))
        page.click("#passphrase-submit")
        page.wait_for_selector("#passphrase-done", state="visible")
        assert "Passphrase changed" in page.inner_text("#passphrase-done")
        assert page.input_value("#current_passphrase") == "" and page.input_value("#new_passphrase") == ""
        page.screenshot(path=str(screenshot_dir / "passphrase-done-phone-light.png"))
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "passphrase-done-phone-dark.png"))
        page.set_viewport_size({"width": 820, "height": 1180})
        page.screenshot(path=str(screenshot_dir / "passphrase-done-tablet-dark.png"))
        page.emulate_media(color_scheme="light")
        page.screenshot(path=str(screenshot_dir / "passphrase-done-tablet-light.png"))
        page.set_viewport_size({"width": 390, "height": 844})

        # the offline copy in this browser was refreshed: it is the envelope with the new slot
        server_copy = phone.api("GET", "/api/offline-copy")
        assert server_copy["generation"] != old_generation
        assert page.evaluate(COPY_GENERATION) == server_copy["generation"]

        # the old passphrase no longer unlocks; the new one does, through the unlock page
        lock(phone)
        unlock_fails(phone, PASSPHRASE)
        assert page.inner_text("#form-error") == "The passphrase is not correct."
        unlock_with(phone, NEW)
        page.wait_for_function("document.querySelector('#accounts').innerText.includes('PhoneBank')")

        # the passkey still unlocks (its slot was kept) ...
        lock(phone)
        unlock_with_passkey(phone)
        # ... and stands in for the current passphrase: one prompt, nothing typed but the new one
        open_settings(phone)
        page.fill("#new_passphrase", NEWER)
        page.fill("#new_passphrase2", NEWER)
        page.click("#passphrase-passkey")
        page.wait_for_selector("#passphrase-done", state="visible")
        lock(phone)
        unlock_fails(phone, NEW)
        unlock_with(phone, NEWER)
        kinds = [e["kind"] for e in phone.api("GET", "/api/devices/events")["events"]]
        assert kinds.count("passphrase_changed") == 2
        # the console lines are the browser reporting the wrong passphrases' 401s
        assert [e for e in phone.errors if "status of 401" not in e] == []
    finally:
        phone.close()


def test_the_passphrase_card_and_the_add_a_device_meter_in_japanese(
        browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    phone = new_device(browser, fresh_server.origin, locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
    tablet = new_device(browser, fresh_server.origin, locale="ja-JP", extra_http_headers={"Accept-Language": "ja"},
                        color_scheme="dark")
    try:
        setup_device(phone, fresh_server)
        open_settings(phone)
        page = phone.page
        assert page.inner_text("#passphrase-form h2") == "パスフレーズを変更"
        assert page.is_hidden("#passphrase-passkey")  # no passkey on this device: the passphrase only
        page.fill("#new_passphrase", NEW)
        assert page.inner_text("#new-strength-text") == "強い"
        page.click("#passphrase-submit")
        assert page.inner_text("#passphrase-error") == "現在のパスフレーズを入力してください。"
        page.locator("#passphrase-form").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "passphrase-phone-ja.png"))
        # the add-a-device page has the same meter
        link = phone.api("POST", "/api/devices/enroll")
        tablet.page.goto(link["url"].replace(link["url"].split("/enroll")[0], fresh_server.origin))
        tablet.page.wait_for_selector("#enroll-form button[type=submit]:not([disabled])")
        tablet.page.fill("#passphrase", "abcdefgh")
        assert tablet.page.locator("#strength").evaluate("m => m.value") <= 1
        tablet.page.fill("#passphrase", NEW)
        assert tablet.page.locator("#strength").evaluate("m => m.value") == 3
        assert tablet.page.inner_text("#strength-text") == "強い"
        tablet.page.screenshot(path=str(screenshot_dir / "enroll-meter-phone-ja-dark.png"))
        assert phone.errors == [] and tablet.errors == []
    finally:
        phone.close()
        tablet.close()
