"""The backup story in a real browser (Chromium + virtual authenticators, three devices).

The phone turns backup on and stores its recovery key; the tablet, enrolled from the phone, meets
the conflict message with the phone's name, date and count and chooses Replace; the phone is then
told its backup was taken over; a third device restores with the recovery key and sees "Action
required" for an account that was kept on its device only. Screenshots at 390x844.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSPHRASE, TABLET, Device, new_device
from .test_passkeys_e2e import add_authenticator, setup_with_passkey

pytestmark = pytest.mark.browser


def add_account(device: Device, issuer: str, secret: str, *, device_only: bool = False) -> None:
    acc = device.api("POST", "/api/accounts", {"issuer": issuer, "name": "me", "secret": secret})["added"][0]
    if device_only:  # through the edit page, as a person marks it
        device.goto(f"/accounts/{acc['id']}")
        device.page.check("#device_only")
        device.page.click("#edit-form button[type=submit]")
        device.page.wait_for_url(device.origin + "/")


def enroll(phone: Device, other: Device, name: str, passphrase: str) -> None:
    """Add a device from the phone's add-a-device link (the new device adds its own passkey)."""
    link = phone.api("POST", "/api/devices/enroll")["url"]
    other.page.goto(link)
    other.page.fill("#device_name", name)
    other.page.fill("#passphrase", passphrase)
    other.page.fill("#passphrase2", passphrase)
    other.page.click("#enroll-form button[type=submit]")
    other.page.wait_for_selector("#passkey-step", state="visible")
    other.page.click("#passkey-add-btn")
    other.page.wait_for_url(other.origin + "/")


def turn_on(device: Device, folder: Path) -> None:
    device.goto("/backup")
    device.page.wait_for_selector("#enable-form:not([hidden])")
    device.page.fill("#enable-form input[name=path]", str(folder))
    device.page.click("#enable-form button[type=submit]")


def store_recovery_key(device: Device) -> str:
    page = device.page
    page.wait_for_selector("#recovery:not([hidden])")
    key = page.inner_text("#recovery-key").strip()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){12}", key), key
    assert page.locator("#recovery-qr svg").count() == 1
    assert page.is_disabled("#key-done")
    page.check("#stored-key")
    page.click("#key-done")
    page.wait_for_selector("#recovery", state="hidden")
    assert key not in page.content()  # shown once: gone from the page when done
    return key


def test_backup_conflict_takeover_and_restore(browser: Any, fresh_server: Any, tmp_path: Path,
                                              screenshot_dir: Path) -> None:
    folder = tmp_path / "nas"
    folder.mkdir()
    phone = new_device(browser, fresh_server.origin)
    tablet = new_device(browser, fresh_server.origin, **TABLET)
    laptop = new_device(browser, fresh_server.origin)
    try:
        for device in (phone, tablet, laptop):
            add_authenticator(device)
        setup_with_passkey(phone, "iPhone")
        add_account(phone, "GitHub", "JBSWY3DPEHPK3PXP")
        add_account(phone, "Google", "GEZDGNBVGY3TQOJQ")

        # 1. The phone turns backup on and stores the recovery key.
        turn_on(phone, folder)
        store_recovery_key(phone)
        phone.page.wait_for_function("document.getElementById('status-text').textContent.includes('2')")
        assert (folder / "authvault-backup.json").exists()

        # 2. The tablet (enrolled from the phone) tries the same folder and is told whose backup it is.
        enroll(phone, tablet, "iPad", PASSPHRASE + " tablet")
        add_account(tablet, "Slack", "MFRGGZDFMZTWQ2LK")
        add_account(tablet, "Corp SSO", "KRUGKIDROVUWG2ZA", device_only=True)
        turn_on(tablet, folder)
        tablet.page.wait_for_selector("#conflict:not([hidden])")
        conflict = tablet.page.inner_text("#conflict")
        text = tablet.page.inner_text("#conflict-text")
        assert "iPhone" in text and "2 accounts" in text and str(datetime.now().year) in text
        for choice in ("Cancel", "Replace", "Merge", "Restore onto this device", "Use another backup account"):
            assert choice in conflict
        tablet.page.set_viewport_size({"width": 390, "height": 844})
        tablet.page.locator("#conflict").screenshot(path=str(screenshot_dir / "backup-conflict-390.png"))
        tablet.page.screenshot(path=str(screenshot_dir / "backup-conflict-page-390.png"))

        # 3. Replace: the tablet now holds the backup and gets its own recovery key.
        tablet.page.click(".choice[data-choice=replace]")
        tablet_key = store_recovery_key(tablet)
        assert tablet.api("GET", "/api/backup")["state"] == "on"

        # 4. The phone, opened again, is told the iPad took the backup over.
        phone.goto("/")
        phone.page.wait_for_selector("#backup-banner:not([hidden])")
        banner = phone.page.inner_text("#backup-banner")
        assert "iPad" in banner and "no longer backed up" in banner
        phone.page.screenshot(path=str(screenshot_dir / "backup-replaced-phone-390.png"))
        status = phone.api("GET", "/api/backup")
        assert status["state"] == "replaced" and status["holder"]["device_name"] == "iPad"

        # 5. A third device restores with the recovery key; the device-only account needs a new QR code.
        enroll(phone, laptop, "Laptop", PASSPHRASE + " laptop")
        laptop.goto("/backup/restore")
        laptop.page.fill("#restore-form input[name=path]", str(folder))
        laptop.page.click("#restore-form button[type=submit]")
        laptop.page.wait_for_selector("#found:not([hidden])")
        found = laptop.page.inner_text("#found-text")
        assert "iPad" in found and "2 accounts" in found
        assert laptop.api("GET", "/api/codes")["accounts"] == []  # looking wrote nothing
        laptop.page.fill("#key", tablet_key.lower())
        laptop.page.screenshot(path=str(screenshot_dir / "backup-restore-390.png"), full_page=True)
        laptop.page.click("#restore-btn")
        laptop.page.wait_for_selector("#done:not([hidden])")
        laptop.goto("/")
        laptop.page.wait_for_selector(".acct.needs-action")
        action = laptop.page.inner_text(".acct.needs-action")
        assert "Action required: scan a new QR code from Corp SSO" in action
        slack = laptop.page.locator(".acct", has_text="Slack")
        assert re.fullmatch(r"\d{3} \d{3}", slack.locator(".code").inner_text().strip())
        laptop.page.screenshot(path=str(screenshot_dir / "backup-restored-list-390.png"))
        # the only console error allowed is the expected 409 of the conflict
        assert phone.errors == [] and laptop.errors == []
        assert [e for e in tablet.errors if "409" not in e] == []
    finally:
        for device in (phone, tablet, laptop):
            device.close()


def test_rolled_back_and_removed_backups_offer_a_way_on(phone: Device, tmp_path: Path) -> None:
    """After rolled-back (an old copy put back) or a removed backup, the page offers Replace and
    another backup account, not only text that names choices with no buttons for them."""
    folder = tmp_path / "nas"
    folder.mkdir()
    add_account(phone, "GitHub", "JBSWY3DPEHPK3PXP")
    turn_on(phone, folder)
    store_recovery_key(phone)
    obj = folder / "authvault-backup.json"
    old = obj.read_bytes()
    add_account(phone, "Google", "GEZDGNBVGY3TQOJQ")  # generation 2
    obj.write_bytes(old)  # somebody puts generation 1 back
    for state in ("rolled-back", "replaced"):
        phone.goto("/backup")
        phone.page.wait_for_selector("#status-actions button")  # the page has rendered the state
        assert phone.api("GET", "/api/backup")["state"] == state
        actions = phone.page.inner_text("#status-actions")
        assert "Replace" in actions and "Use another backup account" in actions, (state, actions)
        phone.page.click("#status-actions button:has-text('Replace')")
        store_recovery_key(phone)
        status = phone.api("GET", "/api/backup")
        assert status["state"] == "on" and status["count"] == 2
        obj.unlink()  # next round: the backup was removed (replaced, by nobody)
        phone.api("POST", "/api/backup/now")
    assert phone.errors == []
