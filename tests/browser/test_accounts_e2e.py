"""The account list in a real browser at a phone's size: setup, adding from QR images, live codes.

Every code the page shows is checked against an RFC 6238 / RFC 4226 computation written here
with hmac, not against the app's own otp module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import random
import struct
import time
from pathlib import Path
from typing import Any

import pytest
import qrcode
from PIL import Image, ImageDraw, ImageFilter

from authvault.interop.google_migration import build_migration_uris
from authvault.model import Account

from .conftest import (
    PASSPHRASE,
    PHONE,
    SETUP_TOKEN,
    TABLET,
    Device,
    new_device,
    open_with_script_held,
    setup_device,
    unlock_device,
)
from .gunicorn_server import GunicornServer

pytestmark = pytest.mark.browser

GITHUB_SECRET = "JBSWY3DPEHPK3PXP"
GITHUB_URI = f"otpauth://totp/GitHub:alice%40example.com?secret={GITHUB_SECRET}&issuer=GitHub"
HOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


# --- an independent RFC 4226 / 6238 implementation ---------------------------------------------


def hotp(secret_b32: str, counter: int, digits: int = 6, digest: str = "sha1") -> str:
    """RFC 4226: HMAC of the 8-byte counter, dynamic truncation, last `digits` decimal digits."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(secret_b32: str, at: float, period: int = 30, digits: int = 6) -> str:
    """RFC 6238: HOTP of the number of whole periods since the Unix epoch."""
    return hotp(secret_b32, int(at // period), digits)


def test_independent_totp_matches_rfc6238_vectors() -> None:
    """The reference implementation itself passes RFC 6238's SHA1 vectors (appendix B)."""
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, 59, digits=8) == "94287082"
    assert totp(secret, 1111111109, digits=8) == "07081804"
    assert totp(secret, 2000000000, digits=8) == "69279037"


# --- images ---------------------------------------------------------------------------------------


def qr_png(text: str, path: Path) -> Path:
    """A clean QR code PNG, like a screenshot of a service's setup page."""
    qrcode.make(text, box_size=8, border=4).save(path, format="PNG")
    return path


def qr_photo_jpeg(text: str, path: Path) -> Path:
    """A phone-photo-like JPEG: 12 MP-ish frame, uneven light, tilted code, blur, sensor noise."""
    rng = random.Random(7)
    code = qrcode.make(text, box_size=14, border=4).convert("L")
    width, height = 3000, 2250
    light = Image.linear_gradient("L").resize((width, height)).point(lambda v: 95 + v // 3)
    photo = Image.merge("RGB", (light, light.point(lambda v: v - 4), light.point(lambda v: v - 12)))
    draw = ImageDraw.Draw(photo)
    draw.rectangle(
        (600, 300, 2500, 2000), fill=(226, 224, 216)
    )  # the screen or paper holding the code
    tilted = code.rotate(9, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    tilted = tilted.resize(
        (tilted.width * 3 // 2, tilted.height * 3 // 2), Image.Resampling.BICUBIC
    )
    mask = Image.new("L", tilted.size, 0)
    ImageDraw.Draw(mask).polygon(_rotated_square(tilted.size, code.size[0] * 3 // 2, 9), fill=255)
    photo.paste(Image.merge("RGB", (tilted.point(lambda v: 30 + v * 0.78),) * 3), (900, 420), mask)
    photo = photo.filter(ImageFilter.GaussianBlur(1.6))
    noise = Image.effect_noise((width, height), 18).convert("RGB")
    photo = Image.blend(photo, noise, 0.08)
    for _ in range(40):  # specks of dust and glare
        x, y = rng.randrange(width), rng.randrange(height)
        draw = ImageDraw.Draw(photo)
        draw.ellipse(
            (x, y, x + rng.randrange(3, 12), y + rng.randrange(3, 12)), fill=(250, 250, 245)
        )
    photo.save(path, format="JPEG", quality=82)
    return path


def _rotated_square(size: tuple[int, int], side: int, degrees: float) -> list[tuple[float, float]]:
    """The corners of a square of `side` rotated by `degrees` about the centre of `size`."""
    cx, cy, half, a = size[0] / 2, size[1] / 2, side / 2, math.radians(-degrees)
    corners = [(-half, -half), (half, -half), (half, half), (-half, half)]
    return [
        (cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a))
        for x, y in corners
    ]


MIGRATION_ACCOUNTS = [
    Account(secret=base64.b32decode("JBSWY3DPEHPK3PXQ"), issuer="Google", name="alice@gmail.com"),
    Account(secret=base64.b32decode("KRSXG5CTMVRXEZLU"), issuer="Dropbox", name="alice"),
    Account(
        secret=base64.b32decode(HOTP_SECRET), type="hotp", counter=5, issuer="Bank", name="alice"
    ),
]

UPLOADS = {
    "png": (
        lambda tmp: qr_png(GITHUB_URI, tmp / "github.png"),
        [("GitHub", "alice@example.com", GITHUB_SECRET, "totp", 0)],
    ),
    "jpeg-photo": (
        lambda tmp: qr_photo_jpeg(GITHUB_URI, tmp / "photo.jpg"),
        [("GitHub", "alice@example.com", GITHUB_SECRET, "totp", 0)],
    ),
    "google-migration": (
        lambda tmp: qr_png(build_migration_uris(MIGRATION_ACCOUNTS)[0][0], tmp / "export.png"),
        [
            ("Google", "alice@gmail.com", "JBSWY3DPEHPK3PXQ", "totp", 0),
            ("Dropbox", "alice", "KRSXG5CTMVRXEZLU", "totp", 0),
            ("Bank", "alice", HOTP_SECRET, "hotp", 5),
        ],
    ),
}


# --- page helpers -------------------------------------------------------------------------------


def card(device: Device, issuer: str) -> Any:
    """The list card of the account whose issuer line is exactly `issuer`."""
    page = device.page
    return page.locator(".acct").filter(has=page.locator(".issuer").get_by_text(issuer, exact=True))


def codes_data(device: Device) -> dict[str, Any]:
    """The codes the server put into the first HTML response (with its server_time)."""
    return json.loads(device.page.locator("#codes-data").text_content())


def shown(device: Device, issuer: str) -> dict[str, Any]:
    """What one card shows right now, read in one go, with the browser's clock at that moment."""
    return card(device, issuer).evaluate("""li => ({
        code: li.querySelector('.code').dataset.code,
        text: li.querySelector('.code').textContent.trim(),
        next: (li.querySelector('.next-code') || {}).textContent || '',
        secs: (li.querySelector('.secs') || {}).textContent || '',
        counter: (li.querySelector('.counter') || {}).textContent || '',
        t: Date.now() / 1000 })""")


def grouped(code: str) -> str:
    """How the page groups a code: 123 456, 1234 5678."""
    return f"{code[:len(code) // 2]} {code[len(code) // 2:]}" if len(code) in (6, 8) else code


def add_uri(device: Device, uri: str) -> dict[str, Any]:
    """Add an account through the API (the add page is tested separately)."""
    return device.api("POST", "/api/accounts", {"uri": uri})


def skip_passkey_offer(device: Device) -> None:
    """After setup the page may offer to add a passkey: answer "Not now" (passkeys have their own tests)."""
    page = device.page
    page.wait_for_selector("#passkey-step:not([hidden]), .empty")
    if page.locator("#passkey-step:not([hidden])").count():
        page.click("#passkey-skip-btn")


def real_errors(device: Device) -> list[str]:
    """Console errors other than expected failed requests (a 401 after locking, say)."""
    return [e for e in device.errors if "Failed to load resource" not in e]


# --- tests ----------------------------------------------------------------------------------------


def test_setup_page_at_phone_size_lands_on_empty_list(
    browser: Any, fresh_server: GunicornServer, screenshot_dir: Path
) -> None:
    device = new_device(browser, fresh_server.origin)
    page = device.page
    device.goto(f"/setup?token={SETUP_TOKEN}")
    assert page.viewport_size == {"width": 390, "height": 844}
    assert page.evaluate("window.isSecureContext")
    hint = page.locator("#strength-text")
    initial_hint = hint.text_content()
    assert "cannot be recovered" in page.locator("#setup-form .warning").text_content()

    page.fill("#device_name", "iPhone")
    page.fill("#passphrase", "abcdefgh")
    assert hint.text_content() != initial_hint and hint.text_content().startswith("Weak")
    assert page.locator("#strength").evaluate("m => m.value") <= 1
    page.fill("#passphrase", PASSPHRASE)
    assert hint.text_content() == "Strong"
    assert page.locator("#strength").evaluate("m => m.value") == 3
    page.screenshot(path=str(screenshot_dir / "setup-390x844.png"))

    page.fill("#passphrase2", PASSPHRASE + "x")
    page.click("#setup-form button[type=submit]")
    assert "not the same" in page.locator("#form-error").text_content()
    page.fill("#passphrase2", PASSPHRASE)
    page.click("#setup-form button[type=submit]")
    skip_passkey_offer(device)
    page.wait_for_url(fresh_server.origin + "/")
    page.wait_for_selector(".empty")
    assert "No accounts yet" in page.locator(".empty").text_content()
    assert page.locator("#accounts .acct").count() == 0
    session = device.context.request.get(fresh_server.origin + "/api/session").json()
    assert session["state"] == "unlocked" and session["device"]["name"] == "iPhone"
    assert real_errors(device) == []
    device.close()


def test_an_image_picked_before_the_page_script_ran_is_still_uploaded(phone: Device, tmp_path: Path) -> None:
    """On a slow phone the photo picker works before accounts.js has arrived: the image picked then
    is uploaded when the script runs (held back here until the image is picked)."""
    make_image, expected = UPLOADS["png"]
    image = make_image(tmp_path)
    page = phone.page
    script = open_with_script_held(phone, "/add", "js/accounts.js")
    page.set_input_files("#file", str(image))
    with page.expect_response("**/api/accounts/scan") as response:
        script.continue_()
    assert response.value.status == 201, response.value.text()
    # everything was added: back on the list, the new account marked
    page.wait_for_selector("#accounts .acct.new")
    assert expected[0][0] in page.locator("#accounts .acct.new").first.text_content()


@pytest.mark.parametrize("path, script_name, form, field, value", [
    ("/", "js/unlock.js", "#unlock-form", "#passphrase", "correct horse battery staple"),
    ("/add", "js/accounts.js", "#manual-form", "#secret", "JBSWY3DPEHPK3PXP"),
    ("/add", "js/accounts.js", "#uri-form", "#uri", "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP"),
])
def test_a_form_cannot_be_sent_before_the_page_script_ran(
    phone: Device, path: str, script_name: str, form: str, field: str, value: str
) -> None:
    """Before its script has run (a slow phone), a form sent by the browser itself would go to the
    server without the page's handling; as a GET it would put the passphrase or secret in the
    address (history, proxy logs, Referer). Its submit button is disabled until the script has
    wired the page, so neither a tap nor Enter sends it; forms are POST besides (test_web_api)."""
    if path == "/":
        phone.api("POST", "/api/lock")
    page = phone.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url)
            if r.is_navigation_request() or value in (r.post_data or "") else None)
    script = open_with_script_held(phone, path, script_name)
    submit = page.locator(f"{form} button[type=submit]")
    assert submit.is_disabled()
    page.fill(field, value)
    sent.clear()
    page.press(field, "Enter")
    assert page.evaluate("1") == 1  # let the page act on the key press
    script.continue_()
    page.wait_for_selector(f"{form} button[type=submit]:not([disabled])")
    assert sent == [], "the form was sent before the page's script ran"
    assert page.url == phone.origin + path


@pytest.mark.parametrize("kind", list(UPLOADS))
def test_upload_qr_image_through_add_page_shows_its_codes(
    phone: Device, tmp_path: Path, kind: str
) -> None:
    make_image, expected = UPLOADS[kind]
    image = make_image(tmp_path)
    page = phone.page
    phone.goto("/add")
    with page.expect_response("**/api/accounts/scan") as response:
        page.set_input_files("#file", str(image))
    assert response.value.status == 201, response.value.text()
    page.wait_for_selector("#accounts .acct.new")
    added_text = " ".join(page.locator("#accounts .acct.new").all_text_contents())
    for issuer, name, *_ in expected:
        assert issuer in added_text and name in added_text

    before = time.time()
    phone.goto("/")
    after = time.time()
    data = codes_data(phone)
    assert before - 1 <= data["server_time"] <= after + 1
    by_id = {a["id"]: a for a in data["accounts"]}
    for issuer, name, secret, kind_, counter in expected:
        li = card(phone, issuer)
        assert li.locator(".label").text_content() == name
        account = by_id[li.get_attribute("data-id")]
        if kind_ == "hotp":
            assert account["code"] == hotp(secret, counter)
            assert account["next_code"] == hotp(secret, counter + 1)
            assert shown(phone, issuer)["code"] == hotp(secret, counter)
            continue
        # The first HTML response carries the code for the server's time ...
        assert account["code"] == totp(secret, data["server_time"])
        assert account["next_code"] == totp(secret, data["server_time"] + 30)
        # ... and the page shows the code of the current window (read between two clock readings).
        # A flip may come up to 0.5 s after the boundary (the flip test holds it to that): read
        # outside that half second, so any other code here is a wrong one.
        into = time.time() % 30
        if into < 0.5:
            time.sleep(0.5 - into)
        t0 = time.time()
        now = shown(phone, issuer)
        t1 = time.time()
        assert now["code"] in {totp(secret, t0), totp(secret, t1)}
        assert now["text"] == grouped(now["code"])
        assert 1 <= int(now["secs"]) <= 30
    assert real_errors(phone) == []


def test_code_flips_at_period_boundary_without_reload(phone: Device) -> None:
    period = 3
    secret = "KRUGS4ZANFZSAYLOEBSXQYLNOBWGK==="  # "This is an example"
    page = phone.page
    phone.goto("/add")
    uri = f"otpauth://totp/Flip:fast?secret={secret.rstrip('=')}&period={period}&issuer=Flip"
    page.fill("#uri", uri)
    page.click("#uri-form button[type=submit]")
    page.wait_for_selector("#accounts .acct.new")
    page.evaluate("localStorage.setItem('authvault.list', JSON.stringify({showNext: true}))")  # a setting
    # Load the list just after a boundary: the page must then wait almost a whole period for its
    # first flip, which shows whether it counts from the exact boundary or from a rounded time.
    time.sleep((0.05 - time.time()) % period)
    phone.goto("/")
    page.evaluate("window.__sameDocument = true")
    # Every change of the shown code, with the browser's clock (the same machine's clock).
    page.evaluate("""() => {
        const btn = document.querySelector('.acct .code');
        window.__flips = [];
        let last = btn.dataset.code;
        new MutationObserver(() => {
            if (btn.dataset.code !== last) { last = btn.dataset.code; window.__flips.push({t: Date.now() / 1000, code: last}); }
        }).observe(btn, {attributes: true, attributeFilter: ['data-code']});
    }""")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    def read_inside_window() -> tuple[int, dict[str, Any]]:
        """Read the card at least 0.7 s into a window (after the flip and its refetch) and before its end."""
        while True:
            into = time.time() % period
            if into < 0.7:
                time.sleep(0.7 - into)
            elif into > period - 0.2:
                time.sleep(period - into + 0.7)
            page.wait_for_function(
                "() => document.querySelector('.acct .next-code').textContent.trim() !== ''",
                timeout=2000,
            )
            got = shown(phone, "Flip")
            if 0.6 <= got["t"] % period <= period - 0.1:
                return int(got["t"] // period), got

    window, first = read_inside_window()
    previous_next: str | None = None
    flips_seen = 0
    for _ in range(6):
        assert first["code"] == hotp(secret, window), (
            f"{first['t'] % period:.2f} s into window {window} the page shows {first['code']}, expected "
            f"{hotp(secret, window)} (previous window: {hotp(secret, window - 1)}): the flip is late or wrong")
        assert first["next"].replace(" ", "") == hotp(secret, window + 1), "the shown next code is wrong"
        assert 1 <= int(first["secs"]) <= period
        if previous_next is not None:
            assert first["code"] == previous_next, "the next code did not become the code"
            flips_seen += 1
            if flips_seen == 3:
                break
        # Wait for the boundary: the page must flip by itself, by the server's clock.
        time.sleep(period - time.time() % period)
        new_window, following = read_inside_window()
        # On a very busy machine a whole window may pass unseen: then only the codes are checked.
        previous_next = first["next"].replace(" ", "") if new_window == window + 1 else None
        window, first = new_window, following
    assert flips_seen >= 2, "too few consecutive windows observed"
    flips = page.evaluate("window.__flips")
    assert len(flips) >= 3, flips
    for flip in flips:
        window_of_flip = int(flip["t"] // period)
        late = flip["t"] - window_of_flip * period
        assert flip["code"] == hotp(secret, window_of_flip), f"flipped to a code that is not the window's: {flip}"
        # Flips have a timer of their own on the boundary and a clock taken from the page's arrival:
        # 5 ms late on an idle machine (about 100 ms with the 250 ms countdown tick and the
        # script-run clock before). 0.5 s is slack for a busy CI machine, not the aim.
        assert late < 0.5, f"the code flipped {late:.2f} s after the period boundary"
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert navigations == []
    assert real_errors(phone) == []


def test_tap_code_copies_it_and_says_so(phone: Device) -> None:
    add_uri(phone, GITHUB_URI)
    page = phone.page
    phone.goto("/")
    code_button = card(phone, "GitHub").locator(".code")
    code_button.tap()
    toast = page.locator("#toast")
    page.wait_for_function("() => document.getElementById('toast').classList.contains('show')")
    assert toast.text_content() == "Copied GitHub"
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code_button.get_attribute("data-code")
    assert copied.isdigit() and len(copied) == 6
    assert copied in {totp(GITHUB_SECRET, time.time() - 2), totp(GITHUB_SECRET, time.time())}


def test_hotp_next_code_increments_and_is_saved(phone: Device) -> None:
    add_uri(phone, f"otpauth://hotp/Bank:me?secret={HOTP_SECRET}&counter=3&issuer=Bank")
    page = phone.page
    phone.goto("/")
    assert shown(phone, "Bank")["code"] == hotp(HOTP_SECRET, 3)
    assert shown(phone, "Bank")["counter"] == "#3"
    with page.expect_response("**/api/accounts/*/next"):
        card(phone, "Bank").locator(".next-hotp").tap()
    page.wait_for_function("() => document.querySelector('.acct .counter').textContent === '#4'")
    assert shown(phone, "Bank")["code"] == hotp(HOTP_SECRET, 4)
    page.reload()
    assert shown(phone, "Bank")["counter"] == "#4"
    assert shown(phone, "Bank")["code"] == hotp(HOTP_SECRET, 4)


def test_edit_then_delete_with_confirmation(phone: Device) -> None:
    add_uri(phone, GITHUB_URI)
    add_uri(phone, "otpauth://totp/Other:bob?secret=KRSXG5CTMVRXEZLU&issuer=Other")
    page = phone.page
    phone.goto("/")
    card(phone, "GitHub").locator(".edit-link").click()
    page.wait_for_selector("#edit-form")
    page.fill("#issuer", "GitHub Work")
    page.fill("#name", "alice@work.example")
    page.fill("#note", "recovery codes in the safe")
    page.click("#edit-form button[type=submit]")
    page.wait_for_url(phone.origin + "/")
    assert card(phone, "GitHub Work").locator(".label").text_content() == "alice@work.example"
    assert card(phone, "GitHub").count() == 0

    card(phone, "GitHub Work").locator(".edit-link").click()
    page.wait_for_selector("#edit-form")
    assert page.input_value("#note") == "recovery codes in the safe"
    messages: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        messages.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))  # Cancel: nothing happens
    page.click("#delete-btn")
    page.wait_for_timeout(300)
    assert page.url.startswith(phone.origin + "/accounts/")
    page.once("dialog", lambda d: answer(d, True))
    page.click("#delete-btn")
    page.wait_for_url(phone.origin + "/")
    assert len(messages) == 2
    assert "GitHub Work" in messages[0] and "alice@work.example" in messages[0]
    assert card(phone, "GitHub Work").count() == 0
    assert card(phone, "Other").count() == 1


def issuers_in_order(device: Device) -> list[str]:
    return device.page.locator(".acct .issuer").all_text_contents()


def test_reorder_is_kept_after_reload(phone: Device) -> None:
    for issuer, secret in (
        ("Alpha", "JBSWY3DPEHPK3PXP"),
        ("Bravo", "KRSXG5CTMVRXEZLU"),
        ("Charlie", HOTP_SECRET),
    ):
        add_uri(phone, f"otpauth://totp/{issuer}:me?secret={secret}&issuer={issuer}")
    page = phone.page
    phone.goto("/")
    assert issuers_in_order(phone) == ["Alpha", "Bravo", "Charlie"]
    page.click("#reorder-btn")
    assert page.get_attribute("#reorder-btn", "aria-pressed") == "true"
    with page.expect_response("**/api/accounts/order") as resp:
        card(phone, "Alpha").locator(".move-down").tap()
    assert resp.value.status == 200
    with page.expect_response("**/api/accounts/order"):
        card(phone, "Charlie").locator(".move-up").tap()
    assert issuers_in_order(phone) == ["Bravo", "Charlie", "Alpha"]
    page.reload()
    assert issuers_in_order(phone) == ["Bravo", "Charlie", "Alpha"]


def test_lock_shows_nothing_then_unlock_with_passphrase(phone: Device) -> None:
    add_uri(phone, GITHUB_URI)
    add_uri(phone, f"otpauth://hotp/Bank:bob%20smith?secret={HOTP_SECRET}&counter=3&issuer=Bank")
    page = phone.page
    phone.goto("/")
    t = time.time()
    secrets_shown = {hotp(HOTP_SECRET, 3), hotp(HOTP_SECRET, 4)}
    secrets_shown |= {totp(GITHUB_SECRET, t + d) for d in (-30, 0, 30, 60)}
    page.click("#lock-btn")
    page.wait_for_selector("#unlock-form")
    assert page.url == phone.origin + "/"
    html = page.content()
    served = phone.context.request.get(phone.origin + "/").text()
    for text in (html, served):
        for word in (
            "GitHub",
            "alice@example.com",
            "alice%40example.com",
            "Bank",
            "bob smith",
            "bob%20smith",
        ):
            assert word not in text, f"{word!r} is on the locked page"
        for code in secrets_shown:
            assert code not in text and grouped(code) not in text, "a code is on the locked page"
    assert page.locator(".acct").count() == 0
    locked = phone.context.request.get(phone.origin + "/api/codes")
    assert locked.status == 401 and locked.json()["error"]["code"] == "locked"

    page.fill("#passphrase", "wrong passphrase")
    page.click("#unlock-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('form-error').textContent.trim() !== ''")
    assert "not correct" in page.locator("#form-error").text_content()
    unlock_device(phone, PASSPHRASE)
    assert shown(phone, "GitHub")["code"] in {
        totp(GITHUB_SECRET, time.time() - 2),
        totp(GITHUB_SECRET, time.time()),
    }
    assert shown(phone, "Bank")["code"] == hotp(HOTP_SECRET, 3)


def test_japanese_interface_from_browser_language(
    browser: Any, fresh_server: GunicornServer, screenshot_dir: Path
) -> None:
    device = new_device(
        browser,
        fresh_server.origin,
        locale="ja-JP",
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = device.page
    device.goto(f"/setup?token={SETUP_TOKEN}")
    assert page.get_attribute("html", "lang") == "ja"
    text = page.locator("main").inner_text()
    assert "パスフレーズ" in text and "passphrase" not in text.lower()
    page.fill("#device_name", "iPhone")
    page.fill("#passphrase", PASSPHRASE)
    assert page.locator("#strength-text").text_content() == "強い"
    page.fill("#passphrase2", PASSPHRASE)
    page.click("#setup-form button[type=submit]")
    skip_passkey_offer(device)
    page.wait_for_selector(".empty")
    assert "アカウントを追加" in page.locator("main").inner_text()
    add_uri(device, GITHUB_URI)
    device.goto("/")
    card(device, "GitHub").locator(".code").tap()
    page.wait_for_function("() => document.getElementById('toast').classList.contains('show')")
    assert page.locator("#toast").text_content() == "GitHub のコードをコピーしました"
    page.screenshot(path=str(screenshot_dir / "list-ja-390x844.png"))
    page.click("#lock-btn")
    page.wait_for_selector("#unlock-form")
    assert "ロック" in page.locator("main").inner_text()
    assert page.locator("#unlock-form button[type=submit]").text_content().strip() == "ロック解除"
    device.close()


def test_list_screenshots_phone_and_tablet_light_and_dark(
    browser: Any, fresh_server: GunicornServer, screenshot_dir: Path
) -> None:
    """Screenshots for a person to look at (390x844 and 820x1180, light and dark)."""
    owner = new_device(browser, fresh_server.origin)
    setup_device(owner, fresh_server)
    for uri in (
        GITHUB_URI,
        "otpauth://totp/Google:alice.longname.example%40gmail.com?secret=KRSXG5CTMVRXEZLU&issuer=Google",
        f"otpauth://hotp/Bank:bob?secret={HOTP_SECRET}&counter=3&issuer=Bank",
        "otpauth://totp/Steam:gamer?secret=JBSWY3DPEHPK3PXQ&issuer=Steam&encoder=steam",
        "otpauth://totp/Example%20Corporation%20Cloud%20Console:a.very.long.account.name%40example.org"
        "?secret=MFRGGZDFMZTWQ2LK&issuer=Example%20Corporation%20Cloud%20Console&digits=8",
        "otpauth://totp/Microsoft:alice%40outlook.com?secret=ONSWG4TFOQ&issuer=Microsoft",
    ):
        add_uri(owner, uri)
    state = owner.context.storage_state()  # the same device (cookies) in other window sizes
    owner.close()
    shots = []
    for size_name, size in (("390x844", PHONE), ("820x1180", TABLET)):
        for scheme in ("light", "dark"):
            device = new_device(
                browser, fresh_server.origin, storage_state=state, color_scheme=scheme, **size
            )
            device.goto("/")
            device.page.wait_for_selector(".acct")
            path = screenshot_dir / f"list-{size_name}-{scheme}.png"
            device.page.screenshot(path=str(path))
            shots.append(path)
            if size_name == "390x844" and scheme == "light":
                device.page.screenshot(
                    path=str(screenshot_dir / "list-390x844-light-full.png"), full_page=True
                )
                device.page.click("#reorder-btn")
                device.page.screenshot(path=str(screenshot_dir / "list-390x844-reorder.png"))
                device.goto("/add")
                device.page.screenshot(path=str(screenshot_dir / "add-390x844.png"), full_page=True)
            # Nothing may stick out sideways at this width.
            assert (
                device.page.evaluate("document.documentElement.scrollWidth")
                <= size["viewport"]["width"]
            )
            device.close()
    for path in shots:
        with Image.open(path) as img:
            assert img.size[0] in (390 * 3, 820 * 2)
