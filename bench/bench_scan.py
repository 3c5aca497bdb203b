"""Live camera scanning: what one viewfinder frame costs when the server decodes it (zxing-cpp).

For camera-like frames (a grey, slightly noisy desk with a QR code filling about 60% of the short
side; the plain otpauth URI and a dense Google Authenticator export batch of 10 accounts), at the
frame sizes a page could send (longest side 480, 640, 960, 1280 px), as JPEG quality 0.8 (what
static/js/scan.js sends): the bytes per frame, and the server's decode time (qr.decode_image,
median of --runs), for a frame with the code and one without (most frames of a viewfinder hold
no readable code yet, and an empty frame is the slow case: zxing tries everything).

    .venv/bin/python bench/bench_scan.py [--runs 15] [--browser]

Prints a Markdown table. With --browser, also the add page's viewfinder in Chromium with a fake
camera (a y4m video of 640x480 frames): frames sent per second, bytes per frame and the time of one
frame's request (upload, decode, answer) over loopback while no code is in view, and the time from
the tap on "Scan with camera" to the account added and the list shown, with a code in view from
the start. The browser-side path (BarcodeDetector) costs no upload at all, so it is not measured
here; desktop Linux Chromium has no BarcodeDetector.
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

import qrcode
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from authvault import qr  # noqa: E402
from authvault.interop.google_migration import build_migration_uris  # noqa: E402
from authvault.model import Account  # noqa: E402

URI = "otpauth://totp/CameraBank:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=CameraBank"


def camera_frame(text: str | None, long_side: int) -> bytes:
    w, h = long_side, long_side * 3 // 4
    rnd = random.Random(7)
    base = Image.effect_noise((w, h), 18).point(lambda v: 110 + v // 4).convert("RGB")
    if text:
        code = qrcode.make(text, border=2).convert("RGB")
        side = int(h * 0.6)
        code = code.resize((side, side), Image.BILINEAR).filter(ImageFilter.GaussianBlur(0.6))
        base.paste(code, ((w - side) // 2 + rnd.randint(-10, 10), (h - side) // 2))
    buf = io.BytesIO()
    base.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def decode_ms(data: bytes, runs: int) -> tuple[float, bool]:
    times, ok = [], False
    for _ in range(runs):
        t0 = time.perf_counter()
        try:
            ok = bool(qr.decode_image(data))
        except qr.QrError:
            ok = False
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    accounts = [Account(secret=bytes([i + 1]) * 20, issuer=f"Service{i:02d}", name=f"user{i}@example.com")
                for i in range(10)]
    dense = build_migration_uris(accounts)[0][0]
    print("| frame (px) | code | JPEG bytes | decode (ms, median) | read |")
    print("| --- | --- | --- | --- | --- |")
    for long_side in (480, 640, 960, 1280):
        for label, text in (("otpauth URI", URI), ("export batch of 10", dense), ("none in view", None)):
            data = camera_frame(text, long_side)
            ms, ok = decode_ms(data, args.runs)
            size = f"{long_side}x{long_side * 3 // 4}"
            print(f"| {size} | {label} | {len(data):,} | {ms:.1f} | {'yes' if ok else 'no'} |")
    if args.browser:
        browser_figures()


def browser_figures() -> None:
    import tempfile

    from PIL import Image as PILImage
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, SETUP_TOKEN
    from tests.browser.gunicorn_server import PASSPHRASE, GunicornServer
    from tests.browser.test_scan_camera_e2e import H, W, qr_frame, write_y4m

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        for case in ("none in view", "code in view"):
            video = Path(tmp) / f"{case[:4]}.y4m"
            image = PILImage.new("RGB", (W, H), (150, 150, 150)) if case == "none in view" else qr_frame(URI)
            write_y4m(video, [(image, 10)])
            server = GunicornServer.start(Path(tmp) / f"data-{case[:4]}", workers=1)
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}"])
            try:
                context = browser.new_context(**PHONE)
                page = context.new_page()
                origin = server.origin
                token = context.request.get(origin + "/api/session").json()["csrf_token"]
                context.request.post(origin + "/api/setup", headers={"X-CSRFToken": token}, data={
                    "setup_token": SETUP_TOKEN, "device_name": "Bench", "passphrase": PASSPHRASE})
                page.goto(origin + "/add")
                page.wait_for_selector("#scan-camera", state="visible")
                t0 = time.perf_counter()
                page.click("#scan-camera")
                if case == "none in view":
                    page.wait_for_timeout(6000)
                    st = page.evaluate("window.AuthVault.scanStats")
                    elapsed = time.perf_counter() - t0
                    rows.append(f"| {case} | {st['mode']} | {st['frames'] / elapsed:.1f} frames/s | "
                                f"{st['bytes'] / max(1, st['frames']):,.0f} B | "
                                f"{st['request_ms'] / max(1, st['frames']):.1f} ms | |")
                else:
                    page.wait_for_url("**/?added=*", timeout=30_000)
                    page.wait_for_selector("#accounts", state="attached")
                    rows.append(f"| {case} | | | | | {(time.perf_counter() - t0) * 1000:.0f} ms |")
            finally:
                browser.close()
                server.stop()
    print()
    print("| viewfinder, Chromium, fake camera 640x480 | decoded by | rate | bytes per frame | "
          "request per frame | tap to account on the list |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
