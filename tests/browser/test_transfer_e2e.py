"""Import and export in a real browser at a phone's size (issue 5).

Import the encrypted Aegis fixture through the import page with its password, see the preview,
confirm, see the codes; export Google Authenticator transfer codes and read them back from
screenshots of the page with zxing-cpp; download an encrypted export and read it back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from authvault.interop import importers
from authvault.interop.google_migration import parse_migration_uri
from authvault.qr import decode_image

from ..paths import FIXTURES
from .conftest import PASSPHRASE, Device, open_with_script_held

pytestmark = pytest.mark.browser

ENCRYPTED = FIXTURES / "importers" / "aegis-fixtures" / "aegis_encrypted.json"
PASSWORD = "test"


def expected_entries() -> list[dict[str, Any]]:
    """The entries the encrypted Aegis fixture must yield (the shared fixtures' expected.json)."""
    doc = json.loads((FIXTURES / "importers" / "expected.json").read_text())
    (fixture,) = [f for f in doc["fixtures"] if f["file"] == "aegis-fixtures/aegis_encrypted.json"]
    return fixture["expected_entries"]


def totp(secret_b32: str, at: float, period: int = 30, digits: int = 6) -> str:
    """RFC 6238, written here with hmac (not the app's otp module)."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // period)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def page_errors(device: Device) -> list[str]:
    """Script errors on the page; the refused requests the test makes on purpose (a 400 asking for
    the file's password, a 401 for a wrong passphrase) are logged by Chromium too and left out."""
    return [e for e in device.errors if "Failed to load resource" not in e]


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def google_holds(entry: dict[str, Any]) -> bool:
    """What Google Authenticator can hold: TOTP (30 s) or HOTP, 6 or 8 digits, SHA1/256/512."""
    if entry["type"] not in ("totp", "hotp") or entry["digits"] not in (6, 8):
        return False
    return entry["type"] == "hotp" or entry.get("period", 30) == 30


def import_through_the_page(phone: Device, shots: Path) -> None:
    page = phone.page
    phone.goto("/settings")
    page.click("#import-link")
    page.wait_for_url("**/import")  # loaded, scripts run (a person is not faster than that)
    page.set_input_files("#import-file", str(ENCRYPTED))
    # The server answers password_required: the page asks for the file's password.
    page.wait_for_selector("#password-box:not([hidden])")
    assert "encrypted" in page.inner_text("#password-why")
    page.fill("#import-password", "wrong password")
    page.click("#preview-btn")
    page.wait_for_selector("#import-error:not(:empty)")  # (wait_for_function would need eval: CSP)
    assert "password" in page.inner_text("#import-error").lower()
    assert page.is_hidden("#preview")
    page.fill("#import-password", PASSWORD)
    page.click("#preview-btn")
    page.wait_for_selector("#preview:not([hidden])")
    entries = expected_entries()
    assert page.inner_text("#preview-title") == f"{len(entries)} accounts will be added"
    shown = page.locator("#preview-add > li").all_inner_texts()
    assert len(shown) == len(entries)
    for entry in entries:
        assert any(entry["issuer"] in s and entry["name"] in s for s in shown), entry["issuer"]
    assert page.inner_text("#confirm-btn") == f"Import {len(entries)} accounts"
    page.screenshot(path=str(shots / "import-preview.png"))
    page.click("#confirm-btn")
    page.wait_for_selector("#import-done:not([hidden])")
    assert page.inner_text("#done-title") == f"{len(entries)} accounts added"
    page.screenshot(path=str(shots / "import-done.png"))
    page.click("#see-codes")
    page.wait_for_selector("#accounts[data-started]", state="attached")


def test_a_file_picked_before_the_page_script_ran_is_still_read(phone: Device) -> None:
    """On a slow phone the file picker works before the page's script has arrived: the file
    chosen then must still be read when the script runs (here the script is held back until the
    file is picked; before the fix, nothing happened and CI once timed out on it)."""
    page = phone.page
    script = open_with_script_held(phone, "/import", "js/moving.js")
    page.set_input_files("#import-file", str(ENCRYPTED))
    assert page.is_hidden("#password-box")  # no script yet: nothing has happened
    script.continue_()
    page.wait_for_selector("#password-box:not([hidden])")
    assert "encrypted" in page.inner_text("#password-why")


def test_import_encrypted_aegis_then_export_google_codes(phone: Device, screenshot_dir: Path) -> None:
    page = phone.page
    import_through_the_page(phone, screenshot_dir)

    # The codes are on the list, right by an independent RFC 6238 computation.
    entries = expected_entries()
    assert page.locator(".acct").count() == len(entries)
    deno = next(e for e in entries if e["issuer"] == "Deno")
    for _ in range(3):  # a code may flip between reading the clock and reading the page
        now = time.time()
        code = page.locator(".acct", has_text="Deno").locator(".code").get_attribute("data-code")
        if code == totp(deno["secret"], now, deno["period"], deno["digits"]):
            break
        time.sleep(1)
    else:
        pytest.fail("the Deno code on the list is not the RFC 6238 code")

    # Nine more accounts, so that the export needs two QR codes (10 accounts a code).
    extra = []
    for i in range(9):
        secret = b32(f"extra-secret-{i:04d}".encode())
        extra.append({"issuer": f"Extra{i}", "name": f"user{i}", "type": "totp", "secret": secret})
        phone.api("POST", "/api/accounts",
                  {"uri": f"otpauth://totp/Extra{i}:user{i}?secret={secret}&issuer=Extra{i}"})

    phone.goto("/settings")
    page.click("#export-link")
    page.wait_for_selector("#export-form")
    page.click("input[name=format][value=google]")
    assert page.is_hidden("#password-fields")
    page.fill("#export-passphrase", "not my passphrase")
    page.click("#export-btn")
    page.wait_for_selector("#export-error:not(:empty)")
    assert page.is_hidden("#qr-viewer")
    page.fill("#export-passphrase", PASSPHRASE)
    page.click("#export-btn")
    page.wait_for_selector("#qr-viewer:not([hidden])")
    assert page.inner_text("#qr-count") == "Code 1 of 2"
    left_out = page.locator("#not-exportable-list li").all_inner_texts()
    assert len(left_out) == len([e for e in entries if not google_holds(e)])

    uris = []
    for index in range(2):
        if index:
            page.click("#qr-next")
            expect(page.locator("#qr-count")).to_have_text("Code 2 of 2")
        page.locator("#qr-box").scroll_into_view_if_needed()
        png = page.screenshot(path=str(screenshot_dir / f"export-google-{index + 1}.png"))
        texts = decode_image(png)
        assert len(texts) == 1, texts
        uris.append(texts[0])
    assert page.is_disabled("#qr-next") and not page.is_disabled("#qr-prev")

    batches = [parse_migration_uri(u) for u in uris]
    assert [(b.batch_index, b.batch_size) for b in batches] == [(0, 2), (1, 2)]
    assert [len(b.accounts) for b in batches] == [10, 2]
    got = {(a.issuer, a.name, a.type, b32(a.secret), a.digits) for b in batches for a in b.accounts}
    want = {(e["issuer"], e["name"], e["type"], e["secret"].rstrip("="), e["digits"])
            for e in entries if google_holds(e)}
    want |= {(e["issuer"], e["name"], "totp", e["secret"], 6) for e in extra}
    assert got == want

    page.click("#qr-close")
    assert page.locator("#qr-box svg").count() == 0
    assert page_errors(phone) == []


def test_encrypted_export_downloads_and_reads_back(phone: Device, screenshot_dir: Path) -> None:
    page = phone.page
    secret = b32(b"download-secret-0001")
    phone.api("POST", "/api/accounts", {"uri": f"otpauth://totp/Shop:me?secret={secret}&issuer=Shop"})
    phone.goto("/export")
    page.fill("#export-password", "export password 1")
    page.fill("#export-password2", "export password 1")
    page.fill("#export-passphrase", PASSPHRASE)
    with page.expect_download() as info:
        page.click("#export-btn")
    download = info.value
    assert download.suggested_filename.startswith("authvault-export-")
    data = Path(download.path()).read_bytes()
    result = importers.import_file(data, password="export password 1")
    assert [(a.issuer, a.name, b32(a.secret)) for a in result.accounts] == [("Shop", "me", secret)]
    page.wait_for_selector("#export-done:not([hidden])")

    # The unencrypted kinds need the box ticked first.
    page.click("input[name=format][value=uris]")
    page.wait_for_selector("#unencrypted-box:not([hidden])")
    page.fill("#export-passphrase", PASSPHRASE)
    page.click("#export-btn")
    assert "Tick the box" in page.inner_text("#export-error")
    page.screenshot(path=str(screenshot_dir / "export-unencrypted.png"), full_page=True)
    page.check("#i-understand")
    with page.expect_download() as info:
        page.click("#export-btn")
    assert info.value.suggested_filename.endswith(".txt")
    assert page_errors(phone) == []


def test_one_accounts_qr_code_from_its_edit_page(phone: Device, screenshot_dir: Path) -> None:
    page = phone.page
    secret = b32(b"single-account-qr-01")
    uri = f"otpauth://totp/Shop:me%40example.com?secret={secret}&issuer=Shop"
    added = phone.api("POST", "/api/accounts", {"uri": uri})["added"][0]
    phone.goto(f"/accounts/{added['id']}")
    page.click("#show-qr-link")
    page.wait_for_selector("#qr-form")
    page.fill("#qr-passphrase", "not my passphrase")
    page.click("#qr-form button[type=submit]")
    page.wait_for_selector("#qr-error:not(:empty)")
    page.fill("#qr-passphrase", PASSPHRASE)
    page.click("#qr-form button[type=submit]")
    page.wait_for_selector("#qr-shown:not([hidden]) svg")
    png = page.screenshot(path=str(screenshot_dir / "account-qr.png"))
    (text,) = decode_image(png)
    assert text.startswith("otpauth://totp/") and f"secret={secret}" in text
    (back,) = importers.import_file(text.encode()).accounts
    assert (back.issuer, back.name, b32(back.secret)) == ("Shop", "me@example.com", secret)
    page.click("#qr-hide")
    assert page.locator("#account-qr-box svg").count() == 0
    assert page_errors(phone) == []


def test_send_from_phone_to_tablet(browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    from .conftest import TABLET, new_device, setup_device

    phone = new_device(browser, fresh_server.origin)
    tablet = new_device(browser, fresh_server.origin, **TABLET)
    try:
        setup_device(phone, fresh_server)
        for i, issuer in enumerate(["GitHub", "Mastodon", "Bank"]):
            secret = b32(f"send-secret-{i:08d}".encode())
            phone.api("POST", "/api/accounts", {"uri": f"otpauth://totp/{issuer}:me?secret={secret}&issuer={issuer}"})
        token = phone.api("POST", "/api/devices/enroll")["token"]
        tablet.api("POST", "/api/enroll", {"token": token, "device_name": "iPad", "passphrase": "ipad passphrase 1"})

        page = phone.page
        phone.goto("/settings")
        page.click("#send-link")
        page.wait_for_selector("#device-choices input[name=device]")
        assert page.is_checked("#device-choices input[name=device]")  # the only device that can receive
        assert page.is_disabled("#send-btn")
        page.check("#send-form label:has-text('GitHub') input")
        page.check("#send-form label:has-text('Bank') input")
        assert page.inner_text("#send-btn") == "Send 2 to iPad"
        page.screenshot(path=str(screenshot_dir / "send.png"))
        page.click("#send-btn")
        page.wait_for_selector("#outbox:not([hidden])")
        assert "2 to iPad" in page.inner_text("#outbox-list")

        # The iPad opens its list: what arrived is shown first.
        tablet.goto("/")
        tablet.page.wait_for_selector("#inbox-list .transfer")
        assert tablet.page.url.endswith("/inbox")
        card = tablet.page.locator("#inbox-list .transfer")
        assert card.locator("h2").inner_text() == "2 accounts arrived from iPhone"
        tablet.page.uncheck("#inbox-list label:has-text('Bank') input")
        assert card.locator(".keep-btn").inner_text() == "Keep 1"
        tablet.page.screenshot(path=str(screenshot_dir / "inbox.png"))
        card.locator(".keep-btn").click()
        tablet.page.wait_for_selector("#inbox-list .ok-text")
        assert tablet.page.inner_text("#inbox-list .ok-text") == "Kept 1. Declined 1."
        tablet.page.click("#inbox-later")
        tablet.page.wait_for_selector("#accounts[data-started]", state="attached")
        assert tablet.page.locator(".acct .issuer").all_inner_texts() == ["GitHub"]

        phone.goto("/send")
        page.wait_for_selector("#device-choices input[name=device]")
        assert page.is_hidden("#outbox")
        assert page_errors(phone) == [] and page_errors(tablet) == []
    finally:
        phone.close()
        tablet.close()


STEAM_QR = "otpauth://totp/Steam:gaben?secret=FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW&issuer=Steam"


@pytest.mark.parametrize(("size", "scheme", "locale"), [
    ({"width": 390, "height": 844}, "light", "en-US"), ({"width": 390, "height": 844}, "dark", "ja-JP"),
    ({"width": 820, "height": 1180}, "light", "ja-JP"), ({"width": 820, "height": 1180}, "dark", "en-US"),
])
def test_import_preview_says_what_was_recognised_before_confirming(
    browser: Any, fresh_server: Any, screenshot_dir: Path, tmp_path: Path, size: dict[str, int], scheme: str,
    locale: str,
) -> None:
    """Issue 15: a Steam QR code, an HOTP at counter 5 and a label split at %3A, each with its note."""
    from .conftest import new_device, setup_device
    device = new_device(browser, fresh_server.origin, viewport=size, color_scheme=scheme, locale=locale)
    try:
        setup_device(device, fresh_server)
        file = tmp_path / "uris.txt"
        file.write_text(STEAM_QR + "\n"
                        "otpauth://hotp/Bank:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=5\n"
                        "otpauth://totp/example%20finance%3Aee%40ff.gg?secret=JBSWY3DPEHPK3PXP\n")
        page = device.page
        device.goto("/import")
        page.set_input_files("#import-file", str(file))
        page.wait_for_selector("#preview:not([hidden])")
        notes = page.locator("#preview-add .import-notes li").all_inner_texts()
        if locale == "en-US":
            assert notes == ["Recognised as Steam Guard from its issuer “Steam”.", "HOTP counter 5",
                             "The issuer “example finance” was taken from the label."]
        else:
            assert len(notes) == 3 and "Steam Guard と認識" in notes[0] and "HOTP カウンター 5" == notes[1]
        page.screenshot(path=str(screenshot_dir / f"import-notes-{size['width']}-{scheme}.png"), full_page=True)
        page.click("#confirm-btn")
        page.wait_for_selector("#import-done:not([hidden])")
        assert page_errors(device) == []
    finally:
        device.close()
