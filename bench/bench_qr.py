"""Benchmark QR decoding: 12-megapixel photo decode times and decode rates per fixture set.

Run from the repository root: `.venv/bin/python bench/bench_qr.py [--runs N]`. Prints figures
only (Markdown tables, ready for the README); it asserts nothing about time.
"""
from __future__ import annotations

import argparse
import csv
import io
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import PIL  # noqa: E402
import zxingcpp  # noqa: E402
from PIL import Image, ImageFilter, ImageOps  # noqa: E402

from authvault import qr  # noqa: E402
from tests.paths import FIXTURES  # noqa: E402
from tests.test_qr import ALICE, encode, photo_with_code  # noqa: E402

NEGATIVE_SETS = {"falsepositives-2"}


def median_ms(action: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Median, min and max wall time of action in milliseconds, after one warm-up run."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def expect_no_qr(data: bytes) -> Callable[[], None]:
    """An action that decodes data and expects the no_qr_code refusal."""
    def run() -> None:
        try:
            qr.decode_image(data)
        except qr.QrError as exc:
            assert exc.code == "no_qr_code", exc.code
        else:
            raise AssertionError("a QR code was found where there is none")
    return run


def photo_timings(runs: int) -> None:
    """Print decode times of 12 MP photo-like images (4000x3000) with and without a code."""
    jpeg = photo_with_code(ALICE, size=(4000, 3000), code_px=400, angle=12)
    small_code = photo_with_code(ALICE, size=(4000, 3000), code_px=200, angle=25, seed=3)
    no_code = photo_with_code(ALICE, size=(4000, 3000), code_px=1, seed=4)
    assert qr.decode_image(jpeg) == [ALICE]
    assert qr.decode_image(small_code) == [ALICE]
    heic = encode(Image.open(io.BytesIO(jpeg)), "HEIF", quality=85)
    assert qr.decode_image(heic) == [ALICE]

    def jpeg_to_gray() -> None:
        image = Image.open(io.BytesIO(jpeg))
        image.draft("L", image.size)
        image.load()

    gray = Image.open(io.BytesIO(jpeg)).convert("L")
    cases: list[tuple[str, Callable[[], object]]] = [
        (f"12 MP JPEG ({len(jpeg) / 1e6:.1f} MB), 400 px code tilted 12°: decode_image",
         lambda: qr.decode_image(jpeg)),
        ("  of which: JPEG decode to grayscale (Pillow)", jpeg_to_gray),
        ("  of which: zxing-cpp on the grayscale image",
         lambda: zxingcpp.read_barcodes(gray, formats=qr._FORMATS)),
        ("12 MP JPEG, 200 px code tilted 25°: decode_image", lambda: qr.decode_image(small_code)),
        ("12 MP JPEG without a code (no_qr_code, two binarizer passes)", expect_no_qr(no_code)),
        (f"12 MP HEIC ({len(heic) / 1e6:.1f} MB), same photo: decode_image",
         lambda: qr.decode_image(heic)),
    ]
    print(f"\n### Decode time, median of {runs} runs (after one warm-up)\n")
    print("| case | median ms | min ms | max ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, action in cases:
        med, low, high = median_ms(action, runs)
        print(f"| {name} | {med:.0f} | {low:.0f} | {high:.0f} |")


Reader = Callable[[Image.Image], list[str]]


def _zx(gray: Image.Image, binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage,
        mode: zxingcpp.TextMode = zxingcpp.TextMode.Plain, **kw: object) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(gray, formats=qr._FORMATS, binarizer=binarizer,
                                                   text_mode=mode, **kw)]


def _with(first: Reader, *more: Reader) -> Reader:
    def read(gray: Image.Image) -> list[str]:
        for reader in (first, *more):
            texts = reader(gray)
            if texts:
                return texts
        return []
    return read


def _scaled(factor: float) -> Reader:
    def read(gray: Image.Image) -> list[str]:
        size = (int(gray.width * factor), int(gray.height * factor))
        if min(size) < 60 or size[0] * size[1] > 16_000_000:
            return []
        return _zx(gray.resize(size, Image.Resampling.BICUBIC), try_downscale=False)
    return read


def _wechat() -> Reader | None:
    """OpenCV's WeChat QR decoder, tried only on a symbol zxing-cpp found but could not decode."""
    try:
        import cv2  # not a dependency: pip install opencv-contrib-python-headless to measure it
        import numpy
    except ImportError:
        return None
    detector = cv2.wechat_qrcode_WeChatQRCode()

    def read(gray: Image.Image) -> list[str]:
        if not zxingcpp.read_barcodes(gray, formats=qr._FORMATS, return_errors=True):
            return []
        return [t for t in detector.detectAndDecode(numpy.asarray(gray))[0] if t]
    return read


def candidates() -> dict[str, Reader]:
    """AuthVault's reading (before issue 15 with HRI text, now with plain text) and the second
    chances measured for issue 15, each on top of AuthVault's two zxing-cpp passes."""
    global_hist = lambda g: _zx(g, zxingcpp.Binarizer.GlobalHistogram)  # noqa: E731
    base = _with(_zx, global_hist)
    out: dict[str, Reader] = {
        "before (HRI text)": _with(lambda g: _zx(g, mode=zxingcpp.TextMode.HRI),
                                   lambda g: _zx(g, zxingcpp.Binarizer.GlobalHistogram, zxingcpp.TextMode.HRI)),
        "AuthVault (plain text)": lambda g: qr._read(g),
        "+ fixed threshold": _with(base, lambda g: _zx(g, zxingcpp.Binarizer.FixedThreshold)),
        "+ scales 0.5, 0.35, 2": _with(base, _scaled(0.5), _scaled(0.35), _scaled(2)),
        "+ autocontrast": _with(base, lambda g: _zx(ImageOps.autocontrast(g, cutoff=2))),
        "+ sharpen": _with(base, lambda g: _zx(g.filter(ImageFilter.UnsharpMask(radius=2, percent=150)))),
    }
    wechat = _wechat()
    if wechat is not None:
        out["+ WeChat on a damaged symbol"] = _with(base, wechat)
    return out


def fixture_rates() -> None:
    """Print, per qr-photos set, what each reader decodes (byte-exact) and its time: the false
    positives of the negative set, the best of three passes after one warm-up."""
    root = FIXTURES / "qr-photos"
    with open(root / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    images = [(row["set"], qr._to_grayscale(qr._open((root / row["image"]).read_bytes())),
               (root / row["expected_file"]).read_bytes().decode("utf-8") if row["expected_file"] else None)
              for row in rows]
    sets = sorted({s for s, _, _ in images})
    print("\n### Decode rate per fixture set (FIXTURES/qr-photos, zxing blackbox, rotation 0)\n")
    print("| reader | " + " | ".join(sets) + " | positives | time of all images |")
    print("| --- | " + " | ".join("---:" for _ in sets) + " | ---: | ---: |")
    for name, reader in candidates().items():
        hits: dict[str, int] = defaultdict(int)
        counts: dict[str, int] = defaultdict(int)
        for set_name, gray, expected in images:
            texts = reader(gray)
            counts[set_name] += 1
            hits[set_name] += (expected in texts) if expected is not None else bool(texts)
        best = min(_timed(reader, images) for _ in range(3))
        cells = [f"{hits[s]}/{counts[s]}" + (" false" if s in NEGATIVE_SETS else "") for s in sets]
        pos = sum(hits[s] for s in sets if s not in NEGATIVE_SETS)
        total = sum(counts[s] for s in sets if s not in NEGATIVE_SETS)
        print(f"| {name} | " + " | ".join(cells) + f" | {pos}/{total} ({100 * pos / total:.1f} %) | {1000 * best:.0f} ms |")


def _timed(reader: Reader, images: list[tuple[str, Image.Image, str | None]]) -> float:
    start = time.perf_counter()
    for _, gray, _ in images:
        reader(gray)
    return time.perf_counter() - start


def main() -> None:
    """Print the environment, then the timing and decode-rate tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="timed runs per case (default 9)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, Pillow {PIL.__version__}, zxing-cpp "
          f"{getattr(zxingcpp, '__version__', '3.1.1 (pinned)')}, {platform.machine()}, "
          f"{platform.processor() or 'cpu ?'}")
    photo_timings(args.runs)
    fixture_rates()


if __name__ == "__main__":
    main()
