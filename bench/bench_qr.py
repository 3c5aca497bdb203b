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
from PIL import Image  # noqa: E402

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


def fixture_rates() -> None:
    """Print the decode rate of each qr-photos set (byte-exact text) and the false positives."""
    root = FIXTURES / "qr-photos"
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    with open(root / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        data = (root / row["image"]).read_bytes()
        start = time.perf_counter()
        try:
            texts = qr.decode_image(data)
        except qr.QrError:
            texts = []
        elapsed = time.perf_counter() - start
        entry = stats[row["set"]]
        entry[1] += 1
        entry[2] += elapsed
        if row["expected_file"]:
            expected = (root / row["expected_file"]).read_bytes().decode("utf-8")
            entry[0] += expected in texts
        else:
            entry[0] += bool(texts)
    print("\n### Decode rate per fixture set (FIXTURES/qr-photos, zxing blackbox, rotation 0)\n")
    print("| set | decoded (byte-exact) | rate | mean ms per image |")
    print("| --- | ---: | ---: | ---: |")
    total = [0, 0]
    for name in sorted(stats):
        hits, count, seconds = stats[name]
        if name in NEGATIVE_SETS:
            print(f"| {name} (negatives) | {int(hits)} of {int(count)} gave any text | "
                  f"{100 * hits / count:.1f} % false positives | {1000 * seconds / count:.1f} |")
            continue
        total[0] += int(hits)
        total[1] += int(count)
        print(f"| {name} | {int(hits)}/{int(count)} | {100 * hits / count:.1f} % | "
              f"{1000 * seconds / count:.1f} |")
    print(f"| all positive sets | {total[0]}/{total[1]} | {100 * total[0] / total[1]:.1f} % | |")


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
