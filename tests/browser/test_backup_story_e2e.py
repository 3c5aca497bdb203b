"""Issue 13's story in a real browser: an iPhone and an iPad (two browser contexts, each with its
own virtual authenticator and passkey) of one server on one real folder backup account.

The iPhone turns backup on; the iPad meets the conflict and replaces; then, in two orders:
- "taker_again": the displaced iPhone chooses Merge and types the iPad's key while the iPad backs
  up again; the 409 keeps the typed key and says what changed; one tap merges.
- "displaced_first": the iPhone merges at once; then the iPad, displaced in turn, sees the mark on
  its list, taps it, and takes the backup back with Replace (a new key, shown with its sheet).
Both in English and Japanese, asserting the words a person reads. Screenshots at 390x844, light
and dark, of the conflict screens.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSPHRASE, Device, new_device
from .test_backup_e2e import add_account, enroll, turn_on
from .test_passkeys_e2e import add_authenticator, setup_with_passkey

WORDS = {
    "en": {
        "taken_title": "This backup account already holds iPhone's backup",
        "replaced_title_ipad": "iPad took over this device's backup account",
        "replaced_title_iphone": "iPhone took over this device's backup account",
        "replace_both": "iPad will no longer be backed up here; it will be told, and can choose again.",
        "replace_both_iphone": "iPhone will no longer be backed up here; it will be told, and can choose again.",
        "key_label_ipad": "Recovery key from iPad's recovery sheet, made on",
        "changed": "iPad backed up again",
        "changed_count": "4 accounts now. Merge again?",
        "again": "Merge again",
        "merged": "Merged: 4 accounts of iPad added to this device. This device now backs up 7 accounts here. "
                  "iPad will be told it is no longer backed up here. The recovery key did not change: it is "
                  "still the recovery key on iPad's recovery sheet of",
        "merged_first": "Merged: 2 accounts of iPad added to this device. This device now backs up 5 accounts here.",
        "mark_ipad": "Backup taken over by iPhone",
        "new_key": "Replace made a new recovery key for this backup account: the sheet of iPad no longer opens it.",
        "sheet_device": "Device",
    },
    "ja": {
        "taken_title": "このバックアップ先にはすでに iPhone のバックアップがあります",
        "replaced_title_ipad": "iPadがこのデバイスのバックアップ先を引き継ぎました",
        "replaced_title_iphone": "iPhoneがこのデバイスのバックアップ先を引き継ぎました",
        "replace_both": "iPadはここにバックアップされなくなります。",
        "replace_both_iphone": "iPhoneはここにバックアップされなくなります。",
        "key_label_ipad": "に作成されたiPadの回復シートの回復キー",
        "changed": "iPadが",
        "changed_count": "現在アカウント 4 件です。もう一度統合しますか？",
        "again": "もう一度統合",
        "merged": "統合しました。iPadの4件のアカウントをこのデバイスに追加しました。このデバイスは今、アカウント 7 件をここにバックアップしています。",
        "merged_first": "統合しました。iPadの2件のアカウントをこのデバイスに追加しました。",
        "mark_ipad": "iPhoneがバックアップを引き継ぎました",
        "new_key": "置き換えにより、このバックアップ先の新しい回復キーが作られました。iPadのシートではもう開けません。",
        "sheet_device": "デバイス",
    },
}
KEY_RE = r"[A-Z2-7]{4}(-[A-Z2-7]{4}){12}"


def read_sheet(device: Device, shots: Path | None = None, name: str = "") -> dict[str, str]:
    """The recovery sheet as shown: key, device, backup account, date; then stored and closed."""
    page = device.page
    page.wait_for_selector("#recovery:not([hidden])")
    if shots:
        page.locator("#recovery").scroll_into_view_if_needed()
        shoot(device, shots, name)
    sheet = {"key": page.inner_text("#recovery-key").strip(), "device": page.inner_text("#sheet-device"),
             "where": page.inner_text("#sheet-where"), "date": page.inner_text("#sheet-date"),
             "why": page.inner_text("#recovery-why"), "facts": page.inner_text(".sheet-facts")}
    assert re.fullmatch(KEY_RE, sheet["key"]), sheet
    assert page.locator("#recovery-qr svg").count() == 1
    page.check("#stored-key")
    page.click("#key-done")
    page.wait_for_selector("#recovery", state="hidden")
    return sheet


def shoot(device: Device, shots: Path, name: str) -> None:
    page = device.page
    page.set_viewport_size({"width": 390, "height": 844})
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(shots / f"{name}-{scheme}-390.png"))
    page.emulate_media(color_scheme="light")


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("order", ["taker_again", "displaced_first"])
def test_the_story_of_issue_13(browser: Any, fresh_server: Any, tmp_path: Path, screenshot_dir: Path,
                               order: str, lang: str) -> None:
    W = WORDS[lang]
    locale = {"en": "en-US", "ja": "ja-JP"}[lang]
    folder = tmp_path / "nas"
    folder.mkdir()
    iphone = new_device(browser, fresh_server.origin, locale=locale)
    ipad = new_device(browser, fresh_server.origin, locale=locale)
    tag = f"{order}-{lang}"
    try:
        for device in (iphone, ipad):
            add_authenticator(device)
        setup_with_passkey(iphone, "iPhone")
        for issuer, secret in (("GitHub", "JBSWY3DPEHPK3PXP"), ("Google", "GEZDGNBVGY3TQOJQ"),
                               ("Slack", "MFRGGZDFMZTWQ2LK")):
            add_account(iphone, issuer, secret)
        turn_on(iphone, folder)
        first = read_sheet(iphone)
        assert first["device"] == "iPhone" and str(folder) in first["where"]
        assert str(datetime.now().year) in first["date"]

        enroll(iphone, ipad, "iPad", PASSPHRASE + " tablet")
        add_account(ipad, "Dropbox", "KRUGKIDROVUWG2ZA")
        add_account(ipad, "Notion", "ONSWG4TFOQYTEMZU")
        turn_on(ipad, folder)
        ipad.page.wait_for_selector("#conflict:not([hidden])")
        assert ipad.page.inner_text("#conflict-title") == W["taken_title"]
        ipad.page.click(".choice[data-choice=replace]")
        ipad_sheet = read_sheet(ipad)
        assert ipad_sheet["device"] == "iPad" and str(folder) in ipad_sheet["where"]

        # The iPhone opens its backup page: the iPad, as it is now, and what each way on does.
        iphone.goto("/backup")
        iphone.page.wait_for_selector("#conflict:not([hidden])")
        assert iphone.page.inner_text("#conflict-title") == W["replaced_title_ipad"]
        assert W["replace_both"] in iphone.page.inner_text("#replace-hint")
        assert W["replace_both"] in iphone.page.inner_text("#merge-hint")
        shoot(iphone, screenshot_dir, f"backup-displaced-{tag}")

        iphone.page.click(".choice[data-choice=merge]")
        label = iphone.page.inner_text("#conflict-key-label")
        assert W["key_label_ipad"] in label and str(datetime.now().year) in label
        assert iphone.page.get_attribute("#conflict-key", "type") == "password"  # masked
        iphone.page.fill("#conflict-key", ipad_sheet["key"].lower())

        if order == "taker_again":
            # Meanwhile the iPad backs up again, twice.
            add_account(ipad, "Figma", "ORSXG5BAMJ2WIZLS")
            add_account(ipad, "Linear", "NFXGQZLSMVXGK3TU")
            iphone.page.click("#key-submit")
            iphone.page.wait_for_selector("#conflict-changed:not([hidden])")
            changed = iphone.page.inner_text("#changed-text")
            assert W["changed"] in changed and W["changed_count"] in changed, changed
            # the typed key is still there
            assert iphone.page.input_value("#conflict-key") == ipad_sheet["key"].lower()
            assert iphone.page.inner_text("#again-btn") == W["again"]
            shoot(iphone, screenshot_dir, f"backup-changed-{tag}")
            iphone.page.click("#again-btn")
            iphone.page.wait_for_function("() => document.getElementById('status-result').textContent.length > 0")
            result = iphone.page.inner_text("#status-result")
            assert W["merged"] in result, result
            assert len(iphone.api("GET", "/api/codes")["accounts"]) == 7
            # The iPad, displaced now, is asked for its own sheet's key.
            ipad.goto("/backup")
            ipad.page.wait_for_selector("#conflict:not([hidden])")
            assert ipad.page.inner_text("#conflict-title") == W["replaced_title_iphone"]
            ipad.page.click(".choice[data-choice=merge]")
            assert W["key_label_ipad"] in ipad.page.inner_text("#conflict-key-label")
        else:
            iphone.page.click("#key-submit")
            iphone.page.wait_for_function("() => document.getElementById('status-result').textContent.length > 0")
            assert W["merged_first"] in iphone.page.inner_text("#status-result")
            # The iPad's list marks the backup as taken over; one tap leads to what to do.
            ipad.goto("/")
            mark = ipad.page.wait_for_selector("#backup-mark")
            assert W["mark_ipad"] in mark.inner_text()
            shoot(ipad, screenshot_dir, f"list-mark-{tag}")
            mark.click()
            ipad.page.wait_for_url(re.compile(r".*/backup#status-card$"))
            ipad.page.wait_for_selector("#conflict:not([hidden])")
            assert ipad.page.inner_text("#conflict-title") == W["replaced_title_iphone"]
            assert W["replace_both_iphone"] in ipad.page.inner_text("#replace-hint")
            shoot(ipad, screenshot_dir, f"backup-displaced-ipad-{tag}")
            ipad.page.click(".choice[data-choice=replace]")
            sheet = read_sheet(ipad, screenshot_dir, f"backup-new-key-{tag}")
            assert sheet["why"] == W["new_key"], sheet["why"]
            assert sheet["device"] == "iPad" and W["sheet_device"] in sheet["facts"]
            assert sheet["key"] != ipad_sheet["key"]
            assert ipad.api("GET", "/api/backup")["count"] == len(ipad.api("GET", "/api/codes")["accounts"])
        for device in (iphone, ipad):
            status = device.api("GET", "/api/backup")
            if status["state"] == "on":
                assert status["count"] == len(device.api("GET", "/api/codes")["accounts"])
        # the only console errors allowed are the expected 409s of the conflicts
        for device in (iphone, ipad):
            assert [e for e in device.errors if "409" not in e] == []
    finally:
        for device in (iphone, ipad):
            device.close()


def test_previous_versions_restore_through_a_masked_form_and_turning_off_asks(
        phone: Device, tmp_path: Path, screenshot_dir: Path) -> None:
    folder = tmp_path / "nas"
    folder.mkdir()
    page = phone.page
    add_account(phone, "GitHub", "JBSWY3DPEHPK3PXP")
    add_account(phone, "Google", "GEZDGNBVGY3TQOJQ")
    turn_on(phone, folder)
    first = read_sheet(phone)
    # Off, keeping the backup there: the page asks, and says what each answer means.
    page.click("#disable-btn")
    page.wait_for_selector("#disable-ask:not([hidden])")
    ask = page.inner_text("#disable-ask")
    assert "Keep it there" in ask and "Any device can restore it with its recovery key" in ask
    assert "Delete it" in ask and "Your accounts stay on this device" in ask
    shoot(phone, screenshot_dir, "backup-off-ask")
    page.click("#off-keep")
    page.wait_for_function("() => document.getElementById('status-result').textContent.length > 0")
    assert page.inner_text("#status-result") == "Backup is off. The backup stays at the backup account."
    assert (folder / "authvault-backup.json").exists()
    # On again at the same folder: its own old backup is there; Replace keeps it as a version.
    page.fill("#enable-form input[name=path]", str(folder))
    page.click("#enable-form button[type=submit]")
    page.wait_for_selector("#conflict:not([hidden])")
    page.click(".choice[data-choice=replace]")
    read_sheet(phone)
    page.click("#status-actions button:has-text('Previous versions')")
    page.click("#versions-list button")
    page.wait_for_selector("#version-form:not([hidden])")
    assert "Recovery key from iPhone's recovery sheet, made on" in page.inner_text("#version-key-label")
    assert page.get_attribute("#version-key", "type") == "password"
    page.fill("#version-key", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH-IIII-JJJJ-KKKK-LLLL-MMMM")
    page.click("#version-submit")
    page.wait_for_function("() => document.querySelector('#version-form .error').textContent.length > 0")
    assert "does not open this backup" in page.inner_text("#version-form .error")
    assert page.input_value("#version-key").startswith("AAAA-")  # kept, to correct
    page.click("#version-form .show-key")
    assert page.get_attribute("#version-key", "type") == "text"
    page.fill("#version-key", first["key"])
    page.click("#version-submit")
    page.wait_for_function("() => document.getElementById('status-result').textContent.length > 0")
    assert page.inner_text("#status-result") == "All 2 accounts of this backup are already on this device."
    # Off, deleting it.
    page.click("#disable-btn")
    page.click("#off-delete")
    page.wait_for_function("() => document.getElementById('status-result').textContent.includes('deleted')")
    assert not (folder / "authvault-backup.json").exists()
    assert [e for e in phone.errors if "409" not in e and "401" not in e] == []
