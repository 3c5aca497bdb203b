"""Images cost what the machine can pay (issue 12, item 4).

Only the formats the README documents are read (PNG, JPEG, WebP, GIF, HEIC/HEIF), checked by
their magic bytes before Pillow sees them; what one decode may cost is estimated from the header
and refused above the budget; decodes are bounded across threads and workers; memory comes back
after. The per-worker ceiling under gunicorn is measured by bench/bench_load.py (README).
"""
from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from authvault import gates, qr
from tests.paths import REPO

ALICE = "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"


def code_image(size: tuple[int, int] = (600, 600), mode: str = "RGB") -> Image.Image:
    code = qrcode.make(ALICE, box_size=8).get_image().convert("L").resize((500, 500))
    image = Image.new("L", size, 255)
    image.paste(code, (20, 20))
    return image.convert(mode)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def error_of(data: bytes) -> qr.QrError:
    with pytest.raises(qr.QrError) as err:
        qr.decode_image(data)
    return err.value


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "TGA", "PCX", "PPM", "SGI", "IM", "DDS", "AVIF"])
def test_undocumented_formats_are_refused_though_pillow_reads_them(fmt: str) -> None:
    data = encode(code_image(), fmt)
    assert Image.open(io.BytesIO(data)).format  # Pillow itself would read it
    assert error_of(data).code == "not_an_image"


def test_eps_never_reaches_pillow_or_ghostscript() -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n"
    assert error_of(eps).code == "not_an_image"


def test_a_file_claiming_png_but_holding_another_format_is_refused() -> None:
    # PNG magic, then a BMP: Pillow is only allowed the PNG plugin, which refuses it.
    data = b"\x89PNG\r\n\x1a\n" + encode(code_image(), "BMP")
    assert error_of(data).code in ("not_an_image", "damaged_image")


@pytest.mark.parametrize(("size", "mode", "fmt"), [
    ((6500, 4000), "RGBA", "PNG"),    # 26 MP with alpha: 11 bytes a pixel is over 256 MiB
    ((5000, 4000), "RGB", "WEBP"),    # 20 MP WebP: libwebp's RGBA plus Pillow's copy
    ((5000, 4000), "I;16", "PNG"),    # 20 MP 16-bit gray
])
def test_images_that_would_cost_more_than_the_budget_are_refused_from_the_header(
        size: tuple[int, int], mode: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(Image.new(mode, size), fmt, **({"method": 0, "quality": 10} if fmt == "WEBP" else {}))
    monkeypatch.setattr(Image.Image, "load", None)  # refused before any pixel is decoded
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", None)
    err = error_of(data)
    assert err.code == "image_too_large"
    assert int(err.params["limit"]) <= 25  # the message says what this kind of image may have


def test_a_large_jpeg_photo_is_still_read() -> None:
    # 24 MP JPEG, the size of a current phone's photo: decoded straight to gray, within budget.
    photo = code_image((6000, 4000))
    assert qr.decode_image(encode(photo, "JPEG", quality=80)) == [ALICE]


def test_decode_gate_allows_one_decode_per_process() -> None:
    inside = [0]
    peak = [0]
    lock = threading.Lock()
    original = qr._decode

    def counting(data: bytes) -> list[str]:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        try:
            time.sleep(0.05)
            return original(data)
        finally:
            with lock:
                inside[0] -= 1

    data = encode(code_image(), "PNG")
    qr._decode = counting  # type: ignore[assignment]
    try:
        threads = [threading.Thread(target=qr.decode_image, args=(data,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        qr._decode = original  # type: ignore[assignment]
    assert peak[0] == 1
    assert gates.DECODE_GATE.slots == 2


_MEMORY_SCRIPT = """
import io, sys, threading
sys.path.insert(0, sys.argv[1])
from PIL import Image
from authvault import qr
def rss():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) // 1024
image = Image.new('RGB', (4000, 3000), (200, 200, 200))
buf = io.BytesIO(); image.save(buf, 'PNG', compress_level=1); data = buf.getvalue(); del image, buf
base = rss()
def one():
    try:
        qr.decode_image(data)
    except qr.QrError:
        pass
threads = [threading.Thread(target=one) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(base, rss())
"""


@pytest.mark.slow
def test_memory_of_decodes_in_threads_comes_back() -> None:
    # Eight 12 MP decodes in eight threads (a worker's threads): each held ~110 MB while it ran.
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(REPO)], capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    base, after = int(out[0]), int(out[1])
    assert after - base < 40, f"{after - base} MB still held after the decodes"


_PEAK_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from authvault import qr
data = open(sys.argv[2], 'rb').read()
base = int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) // 1024
try:
    qr.decode_image(data)
except qr.QrError:
    pass
# VmHWM, the peak of this process image: ru_maxrss would carry the parent's size over (a fork
# of a big pytest process starts out that big).
print(base, int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) // 1024)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("size", "mode", "fmt"), [
    ((4800, 4000), "RGBA", "PNG"),  # 19 MP with alpha, just under the budget
    ((5000, 4000), "RGB", "PNG"),   # 20 MP RGB
    ((3800, 3500), "RGB", "WEBP"),  # 13 MP WebP
])
def test_peak_of_one_decode_stays_within_the_budget(tmp_path: Path, size: tuple[int, int], mode: str,
                                                    fmt: str) -> None:
    path = tmp_path / "big"
    path.write_bytes(encode(Image.new(mode, size, (200, 200, 200, 255)[:len(mode)]), fmt,
                            **({"method": 0, "quality": 10} if fmt == "WEBP" else {"compress_level": 1})))
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(REPO), str(path)], capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    base, peak = int(out[0]), int(out[1])
    assert peak - base <= 256, (base, peak)  # MB
    assert qr.DECODE_BUDGET_BYTES == 256 * 2**20
