"""Scanning live with the camera (issue 14, item 5), in Chromium with a fake camera: a .y4m video
made here from QR codes drawn with the qrcode package (`--use-fake-device-for-media-stream
--use-fake-ui-for-media-stream --use-file-for-fake-video-capture=FILE.y4m`), one browser launched
per video. The add page's "Scan with camera" reads the code by itself and adds it; a Google
Authenticator export of three codes is read batch after batch ("Batch 2 of 3 read"); without a
camera the page says so and offers the file picker."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qrcode
from PIL import Image

from authvault.interop.google_migration import build_migration_uris
from authvault.model import Account

from .conftest import CHROMIUM, CHROMIUM_ARGS, Device, new_device, setup_device

pytestmark = pytest.mark.browser
W, H = 640, 480
URI = "otpauth://totp/CameraBank:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=CameraBank"


def qr_frame(text: str, *, offset: int = 0) -> Image.Image:
    """A camera-like frame: a grey desk with the code a little off centre."""
    code = qrcode.make(text, border=2, box_size=6).convert("L")
    side = min(H - 40, code.width)
    code = code.resize((side, side), Image.NEAREST)
    frame = Image.new("L", (W, H), 150)
    frame.paste(code, ((W - side) // 2 + offset, (H - side) // 2))
    return frame.convert("RGB")


def write_y4m(path: Path, frames: list[tuple[Image.Image, int]], fps: int = 10) -> None:
    """A YUV4MPEG2 file (text header, then raw I420 frames): each image repeated `count` times."""
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image, count in frames:
            y, u, v = image.convert("YCbCr").split()
            raw = (y.tobytes() + u.resize((W // 2, H // 2)).tobytes() + v.resize((W // 2, H // 2)).tobytes())
            for _ in range(count):
                out.write(b"FRAME\n" + raw)


@pytest.fixture
def camera_browser(playwright_sync: Any, tmp_path: Path) -> Iterator[Any]:
    """Launch Chromium with a fake camera playing the video the test writes to `video` first."""
    launched: list[Any] = []

    def launch(video: Path, *, grant: bool = True) -> Any:
        # Without --use-fake-ui-for-media-stream the permission prompt is dismissed (headless): denied.
        b = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
            *(["--use-fake-ui-for-media-stream"] if grant else []),
            f"--use-file-for-fake-video-capture={video}"])
        launched.append(b)
        return b

    yield launch
    for b in launched:
        b.close()


def open_add(device: Device) -> None:
    device.goto("/add")
    device.page.wait_for_selector("#scan-camera", state="visible")


def test_the_viewfinder_reads_one_code_by_itself_and_adds_it(
        camera_browser: Any, fresh_server: Any, tmp_path: Path, screenshot_dir: Path) -> None:
    video = tmp_path / "one.y4m"
    blank = Image.new("RGB", (W, H), (150, 150, 150))
    write_y4m(video, [(blank, 10), (qr_frame(URI), 30)])  # one second of nothing, then the code
    phone = new_device(camera_browser(video), fresh_server.origin)
    try:
        setup_device(phone, fresh_server)
        open_add(phone)
        page = phone.page
        page.screenshot(path=str(screenshot_dir / "add-scan-button-phone.png"))
        page.click("#scan-camera")
        page.wait_for_url("**/?added=*", timeout=30_000)  # read, added, back on the list
        page.wait_for_selector("#accounts[data-started]", state="attached")
        codes = phone.api("GET", "/api/codes")["accounts"]
        assert [(a["issuer"], a["name"]) for a in codes] == [("CameraBank", "alice@example.com")]
        assert phone.errors == []
    finally:
        phone.close()


def test_a_google_export_is_read_batch_after_batch(
        camera_browser: Any, fresh_server: Any, tmp_path: Path, screenshot_dir: Path) -> None:
    accounts = [Account(secret=bytes([i + 1]) * 10, issuer=f"Service{i:02d}", name=f"user{i}@example.com")
                for i in range(25)]
    uris, left_out = build_migration_uris(accounts)
    assert len(uris) == 3 and not left_out  # 10 + 10 + 5
    video = tmp_path / "export.y4m"
    # each code of the export in view for 2 s, one after another, as a person flips the other phone
    write_y4m(video, [(qr_frame(u, offset=10 * i), 20) for i, u in enumerate(uris)])
    phone = new_device(camera_browser(video), fresh_server.origin)
    try:
        setup_device(phone, fresh_server)
        open_add(phone)
        page = phone.page
        page.click("#scan-camera")
        page.wait_for_selector("#scanner", state="visible")
        page.wait_for_function("() => /Batch \\d of 3 read/.test(document.getElementById('scan-status').textContent)",
                               timeout=30_000)
        page.screenshot(path=str(screenshot_dir / "scan-batch-phone.png"))
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshot_dir / "scan-batch-phone-dark.png"))
        page.wait_for_url("**/?added=*", timeout=60_000)
        got = sorted(a["issuer"] for a in phone.api("GET", "/api/codes")["accounts"])
        assert got == [f"Service{i:02d}" for i in range(25)]
        assert phone.errors == []
    finally:
        phone.close()


def test_frames_go_to_the_server_downscaled(camera_browser: Any, fresh_server: Any, tmp_path: Path) -> None:
    """Without BarcodeDetector (desktop Linux Chromium), frames of at most 640 px go to the server."""
    video = tmp_path / "blank.y4m"
    write_y4m(video, [(Image.new("RGB", (W, H), (150, 150, 150)), 10)])
    phone = new_device(camera_browser(video), fresh_server.origin)
    try:
        setup_device(phone, fresh_server)
        open_add(phone)
        page = phone.page
        page.click("#scan-camera")
        page.wait_for_function("() => window.AuthVault.scanStats.frames >= 3", timeout=20_000)
        stats = page.evaluate("window.AuthVault.scanStats")
        has_detector = page.evaluate("'BarcodeDetector' in window")
        assert stats["mode"] == ("browser" if has_detector else "server")
        assert stats["bytes"] / stats["frames"] < 60_000
        assert page.inner_text("#scan-status") == "Looking for a QR code…"
        page.click("#scan-stop")
        assert page.is_hidden("#scanner")
        assert page.evaluate("document.getElementById('scan-video').srcObject") is None
    finally:
        phone.close()


def test_without_a_camera_the_page_says_so_and_offers_the_file_picker(
        browser: Any, fresh_server: Any, screenshot_dir: Path) -> None:
    phone = new_device(browser, fresh_server.origin, locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
    try:
        setup_device(phone, fresh_server)
        open_add(phone)
        page = phone.page
        assert page.inner_text("#scan-camera").strip() == "カメラでスキャン"
        page.click("#scan-camera")
        page.wait_for_selector("#scan-error:not(:empty)")
        text = page.inner_text("#scan-error")
        assert text in ("このデバイスには AuthVault が使えるカメラがありません。代わりに QR コードの画像を選んでください。",
                        "AuthVault にカメラの使用が許可されていません。ブラウザーの設定でこのサイトにカメラを許可するか、"
                        "QR コードの画像を選んでください。"), text
        assert "primary" in (page.get_attribute("#file-label", "class") or "")
        assert "primary" not in (page.get_attribute("#scan-camera", "class") or "")
        assert page.is_hidden("#scanner")
        page.screenshot(path=str(screenshot_dir / "scan-no-camera-phone-ja.png"))
        # the file picker still adds from a screenshot
        png = qr_frame(URI)
        path = screenshot_dir / "screenshot.png"
        png.save(path)
        page.set_input_files("#file", str(path))
        page.wait_for_url("**/?added=*")
        assert [a["issuer"] for a in phone.api("GET", "/api/codes")["accounts"]] == ["CameraBank"]
    finally:
        phone.close()


def test_camera_permission_refused_is_said_plainly(camera_browser: Any, fresh_server: Any, tmp_path: Path) -> None:
    video = tmp_path / "one.y4m"
    write_y4m(video, [(qr_frame(URI), 5)])
    phone = new_device(camera_browser(video, grant=False), fresh_server.origin)
    try:
        setup_device(phone, fresh_server)
        open_add(phone)
        page = phone.page
        page.click("#scan-camera")
        page.wait_for_selector("#scan-error:not(:empty)")
        assert page.inner_text("#scan-error").startswith("AuthVault may not use the camera.")
        assert page.is_hidden("#scanner") and phone.api("GET", "/api/codes")["accounts"] == []
    finally:
        phone.close()


def test_png_helper_is_a_real_qr_code() -> None:
    """The frames the videos are made of decode with the server's reader (so a failure above is the page's)."""
    import io

    from authvault import qr
    buf = io.BytesIO()
    qr_frame(URI).save(buf, "PNG")
    assert qr.decode_image(buf.getvalue()) == [URI]
