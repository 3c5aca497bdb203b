"""QR codes: read every code in an uploaded image, tell what a code holds, and draw codes.

Decoding uses zxing-cpp on a Pillow image. Tried against pyzbar and OpenCV on phone-like images,
it was the fastest (136 ms for a 400 px code in a noisy 4000x3000 JPEG, pyzbar 528 ms, OpenCV's
classic detector failed), the only one to read inverted (light-on-dark) codes without a retry,
and it reads rotated codes and tries downscaled copies itself. Images are never downscaled here
first: shrinking a 4000x3000 photo to 2000 px made a 200 px code in it unreadable. HEIC/HEIF comes through pillow-heif, AVIF
through Pillow. Texts read from QR codes hold secrets: they are never logged and never put into
an error message.
"""
from __future__ import annotations

import ctypes
import io
import logging
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, cast

import pillow_heif
import qrcode
import qrcode.image.svg
import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from authvault import gates
from authvault.errors import N_, AuthVaultError

logger = logging.getLogger(__name__)

# Uploads above this many pixels are refused (12 MP phone photos decode in well under 200 ms with
# zxing-cpp; a 100 MP PNG can be 25 KB on disk). Pillow's own bomb check is set to the same
# limit, so Image.open() already refuses anything above twice this from the header alone.
MAX_IMAGE_PIXELS: Final[int] = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
pillow_heif.register_heif_opener()

# Memory: one decode may use at most this much (the image, its gray copy and zxing's working
# copies), estimated before any pixel is decoded from the size and what decoding that format and
# mode costs per pixel (measured, below). So a 40 MP JPEG photo and a 24 MP HEIC photo are read,
# and a 40 MP transparent PNG (11 bytes a pixel) or a 20 MP WebP (18) is refused as too large.
# With at most one decode per worker and two on the server (gates.DECODE_GATE), a worker stays
# under the ceiling the README states whatever is uploaded.
DECODE_BUDGET_BYTES: Final[int] = 256 * 1024 * 1024
_BYTES_PER_PIXEL: Final[dict[str, float]] = {
    "1": 5.0, "L": 5.0, "P": 5.0, "RGB": 10.0, "YCbCr": 10.0, "CMYK": 11.0, "LA": 11.0,
    "PA": 11.0, "RGBA": 11.0, "RGBa": 11.0, "La": 11.0, "I;16": 14.0, "I;16B": 14.0,
    "I;16L": 14.0, "I;16N": 14.0, "I": 16.0, "F": 16.0,
}
# Measured peaks (bytes a pixel, 16 MP images, 2026-12-01): gray/palette PNG and GIF 3.3, JPEG of
# any colour 3.3 (decoded straight to gray), RGB PNG 9.1, RGBA PNG 10.1, 16-bit PNG 12.1, HEIC 9.4,
# WebP 17.3 (libwebp decodes to RGBA, then Pillow copies it).
_FORMAT_BYTES_PER_PIXEL: Final[dict[str, float]] = {"JPEG": 5.0, "WEBP": 18.0}

# The formats the README documents, by Pillow's name; Image.open tries no other plugin (so no
# EPS through Ghostscript, no PSD, TIFF, ICO, SGI, ... whatever Pillow can read), and the magic
# bytes are checked before Pillow sees the data at all.
ALLOWED_FORMATS: Final[tuple[str, ...]] = ("PNG", "JPEG", "WEBP", "GIF", "HEIF")
_HEIF_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm",
                                  b"hevs", b"mif1", b"msf1", b"mif2"})


def sniff_format(data: bytes) -> str | None:
    """The documented format `data` starts like (by its magic bytes), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def decode_cost(width: int, height: int, mode: str, fmt: str) -> int:
    """Estimated peak bytes to decode and read an image of this size, mode and format."""
    return int(width * height * _per_pixel(mode, fmt))


def _per_pixel(mode: str, fmt: str) -> float:
    if fmt == "JPEG" and mode not in ("L", "RGB", "YCbCr"):
        return _BYTES_PER_PIXEL.get(mode, 16.0)  # CMYK JPEGs are not decoded straight to gray
    return _FORMAT_BYTES_PER_PIXEL.get(fmt) or _BYTES_PER_PIXEL.get(mode, 16.0)


# The most one QR code holds at error correction M (version 40, byte mode): what is drawn here.
MAX_QR_BYTES: Final[int] = 2331

_FORMATS: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

# What a damaged file raises from Pillow or pillow-heif while it is being read: truncated data
# (OSError), a broken chunk (SyntaxError), bad fields (ValueError, struct.error, zlib.error),
# libheif failures (RuntimeError), a short read (EOFError), bad palette index (IndexError).
_DAMAGED_ERRORS: Final = (
    OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, RuntimeError, IndexError,
)

# Kinds of QR text that hold authenticator accounts; every other kind is `not_an_account`.
ACCOUNT_KINDS: Final[frozenset[str]] = frozenset({"otpauth", "otpauth-migration", "steam"})


class QrError(AuthVaultError):
    """A QR image or text that cannot be used; `code` says why."""


# Prefixes (lower-cased) of the kinds `classify` knows, checked in order.
_PREFIX_KINDS: Final[tuple[tuple[str, str], ...]] = (
    ("otpauth-migration:", "otpauth-migration"),
    ("otpauth://steam/", "steam"),  # Aegis, andOTP and KeePassXC write Steam Guard accounts so
    ("steam://", "steam"),          # Steam Desktop Authenticator-style exports: steam://<secret>
    ("otpauth:", "otpauth"),
    ("wifi:", "wifi"),
    ("http://", "url"),
    ("https://", "url"),
    ("www.", "url"),
    ("mailto:", "email"),
    ("matmsg:", "email"),
    ("tel:", "phone"),
    ("sms:", "sms"),
    ("smsto:", "sms"),
    ("mms:", "sms"),
    ("mmsto:", "sms"),
    ("begin:vcard", "contact"),
    ("mecard:", "contact"),
    ("begin:vevent", "event"),
    ("begin:vcalendar", "event"),
    ("geo:", "geo"),
    ("bitcoin:", "payment"),
    ("ethereum:", "payment"),
    ("litecoin:", "payment"),
    ("lightning:", "payment"),
)
_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)

_NOT_ACCOUNT_MESSAGES: Final[dict[str, str]] = {
    "url": N_("This QR code holds a web address, not an authenticator account."),
    "wifi": N_("This QR code holds a Wi-Fi network, not an authenticator account."),
    "email": N_("This QR code holds an email address, not an authenticator account."),
    "phone": N_("This QR code holds a phone number, not an authenticator account."),
    "sms": N_("This QR code holds a text message, not an authenticator account."),
    "contact": N_("This QR code holds a contact card, not an authenticator account."),
    "event": N_("This QR code holds a calendar event, not an authenticator account."),
    "geo": N_("This QR code holds a map location, not an authenticator account."),
    "payment": N_("This QR code holds a payment address, not an authenticator account."),
    "link": N_("This QR code holds a link for another app, not an authenticator account."),
    "text": N_("This QR code holds plain text, not an authenticator account."),
}


def _not_an_image() -> QrError:
    return QrError(
        "not_an_image",
        N_("This file is not an image AuthVault can read. Upload a PNG, JPEG, WebP, GIF or HEIC "
           "picture of the QR code."),
    )


def _too_large(limit: int = MAX_IMAGE_PIXELS) -> QrError:
    return QrError(
        "image_too_large",
        N_("This image has too many pixels to read safely (the limit is %(limit)d megapixels). "
           "Crop it around the QR code or take a screenshot, and try again."),
        limit=max(1, limit // 1_000_000),
    )


def _damaged() -> QrError:
    return QrError(
        "damaged_image",
        N_("This image is damaged or incomplete and cannot be read. Try saving or taking it "
           "again."),
    )


def _no_qr_code() -> QrError:
    return QrError(
        "no_qr_code",
        N_("No QR code was found in this image. Try a sharper, closer picture with the whole code "
           "in view."),
    )


@contextmanager
def _refusing_bad_images(fmt: str) -> Iterator[None]:
    """What Pillow or pillow-heif raise while an upload is opened or decoded, as what the person is
    told: too many pixels (a bomb, or no memory left for it), not an image, or damaged (logged with
    the exception's type only)."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as exc:
        raise _too_large() from exc
    except UnidentifiedImageError as exc:
        raise _not_an_image() from exc
    except _DAMAGED_ERRORS as exc:
        logger.info("unreadable %s upload: %s", fmt, type(exc).__name__)
        raise _damaged() from exc


def _open(data: bytes) -> Image.Image:
    """Open the image from its header, refusing what is not a documented image format, has too
    many pixels, or would cost more than the decode budget."""
    fmt = sniff_format(data)
    if fmt is None:
        raise _not_an_image()
    with _refusing_bad_images(fmt):
        image = Image.open(io.BytesIO(data), formats=[fmt])
    # Checked here as well, so the limit holds whatever Image.MAX_IMAGE_PIXELS is set to elsewhere.
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise _too_large()
    if decode_cost(image.width, image.height, image.mode, fmt) > DECODE_BUDGET_BYTES:
        raise _too_large(min(MAX_IMAGE_PIXELS, int(DECODE_BUDGET_BYTES / _per_pixel(image.mode, fmt))))
    return image


def _to_grayscale(image: Image.Image) -> Image.Image:
    """Load the image upright (EXIF orientation applied) as 8-bit gray, transparency on white."""
    if image.format == "JPEG":
        # Let the JPEG decoder produce grayscale at full size: skips the colour conversion of a
        # 12 MP photo. draft() never scales below the size asked for, so nothing is downscaled.
        image.draft("L", image.size)
    image.load()
    upright = ImageOps.exif_transpose(image)
    mode = upright.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit or float samples: scale to 0..255 rather than letting convert() clip them.
        low, high = cast("tuple[float, float]", upright.getextrema())
        span = (high - low) or 1.0
        return upright.convert("F").point(lambda v: (v - low) * 255.0 / span).convert("L")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in upright.info
    ) or (mode in ("L", "RGB") and "transparency" in upright.info):
        # Transparent pixels would turn black; a code drawn in black on transparency would vanish.
        # Gray and alpha one byte a pixel each, pasted on white (not three RGBA copies).
        if mode not in ("RGBA", "LA"):
            upright = upright.convert("RGBA")
        alpha = upright.getchannel("A")
        gray = upright.convert("L")
        del upright
        out = Image.new("L", gray.size, 255)
        out.paste(gray, mask=alpha)
        return out
    return upright if mode == "L" else upright.convert("L")


def _reading_order(barcodes: list[zxingcpp.Barcode]) -> list[zxingcpp.Barcode]:
    """Sort codes into reading order: rows top to bottom, left to right within a row."""
    boxes = []
    for barcode in barcodes:
        p = barcode.position
        xs = (p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x)
        ys = (p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y)
        boxes.append((min(ys), max(ys), min(xs), barcode))
    boxes.sort(key=lambda box: (box[0] + box[1], box[2]))
    rows: list[list[tuple[int, int, int, zxingcpp.Barcode]]] = []
    for box in boxes:
        # A code whose vertical centre lies within the span of the current row joins that row.
        centre = (box[0] + box[1]) / 2
        if rows and min(b[0] for b in rows[-1]) <= centre <= max(b[1] for b in rows[-1]):
            rows[-1].append(box)
        else:
            rows.append([box])
    return [box[3] for row in rows for box in sorted(row, key=lambda b: b[2])]


def _zxing(gray: Image.Image, binarizer: zxingcpp.Binarizer) -> list[zxingcpp.Barcode]:
    # TextMode.Plain: the text exactly as the code holds it (the default HRI mode renders control
    # characters as "<SOH>" and formats GS1 data).
    return list(zxingcpp.read_barcodes(gray, formats=_FORMATS, binarizer=binarizer,
                                       text_mode=zxingcpp.TextMode.Plain))


def _read(gray: Image.Image) -> list[str]:
    """The texts of the QR codes found, in reading order: zxing-cpp with its local binarizer, then
    once more with a global threshold (helps low-contrast shots).

    Other second chances were measured on zxing's photo sets (README, "QR decode rate"): other
    binarizers, scales, contrast stretching, sharpening and blurring read nothing more; OpenCV's
    WeChat decoder, tried only on a symbol zxing-cpp found but could not decode, read one more
    image with no false positive, but at three to six times the time, so it is not used.
    """
    found = _zxing(gray, zxingcpp.Binarizer.LocalAverage)
    if not found:
        found = _zxing(gray, zxingcpp.Binarizer.GlobalHistogram)
    return [barcode.text for barcode in _reading_order(found)]


def decode_image(data: bytes) -> list[str]:
    """Return the text of every QR code in an image, in reading order; raise QrError otherwise.

    At most one decode per worker process and two on the server run at once (gates.DECODE_GATE;
    a person gets "busy, try again" after 20 s rather than a wait without end), and the memory
    of the decode goes back to the system when it is done.
    """
    with gates.DECODE_GATE.hold():
        try:
            return _decode(data)
        finally:
            release_memory()


def _decode(data: bytes) -> list[str]:
    with warnings.catch_warnings():
        # Only here: Pillow's bomb warning (above MAX_IMAGE_PIXELS) becomes an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)
        with _refusing_bad_images(str(image.format)):
            gray = _to_grayscale(image)
    fmt, width, height = image.format, gray.width, gray.height
    image.close()
    del image
    texts = _read(gray)
    del gray
    # Counts and sizes only: the texts themselves hold secrets.
    logger.debug("found %d QR code(s) in a %s image of %dx%d", len(texts), fmt, width, height)
    if not texts:
        raise _no_qr_code()
    return texts


# glibc keeps freed memory of big allocations in its heaps once its mmap threshold has grown
# (it does after the first big free), and threads each get a heap: 8 decodes in 8 threads held
# gigabytes. A fixed threshold makes every block over 1 MiB (Pillow allocates images in 16 MiB
# blocks) its own mapping, returned when freed; malloc_trim gives back what the heaps still hold.
_M_MMAP_THRESHOLD: Final = -3
try:
    _glibc = ctypes.CDLL("libc.so.6")
    _glibc.mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)
    _libc: ctypes.CDLL | None = _glibc
except (OSError, AttributeError):  # not glibc: nothing to tune
    _libc = None


def release_memory() -> None:
    """Give memory freed by a decode back to the operating system (glibc), now."""
    if _libc is not None:
        _libc.malloc_trim(0)


def classify(text: str) -> str:
    """Say what a QR text holds: otpauth, otpauth-migration, steam, url, wifi, ... or text."""
    head = text.strip()[:32].lower()
    for prefix, kind in _PREFIX_KINDS:
        if head.startswith(prefix):
            return kind
    if _SCHEME.match(head) and "://" in head:
        return "link"  # some other app's link (e.g. phonefactor://, a deep link)
    return "text"


def is_account(text: str) -> bool:
    """True when a QR text holds authenticator accounts (an otpauth, migration or Steam URI)."""
    return classify(text) in ACCOUNT_KINDS


def not_account_error(text: str) -> QrError:
    """The `not_an_account` QrError that tells a person what this QR code holds instead."""
    kind = classify(text)
    if kind in ACCOUNT_KINDS:
        raise ValueError("this QR text holds an account")
    return QrError("not_an_account", _NOT_ACCOUNT_MESSAGES[kind], kind=kind)


def _make_qr(text: str, box_size: int) -> qrcode.QRCode:
    """A QR code for text: error correction M, quiet zone of 4 modules as the standard asks."""
    if len(text.encode("utf-8")) > MAX_QR_BYTES:
        raise QrError(
            "too_long_for_qr",
            N_("This is too long to fit in one QR code: shorten the account's issuer or name and "
               "try again."),
        )
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4
    )
    code.add_data(text)
    code.make(fit=True)
    return code


def make_qr_png(text: str, *, box_size: int = 8) -> bytes:
    """Draw text as a black-on-white QR code and return the PNG bytes."""
    if box_size < 1:
        raise ValueError("box_size must be at least 1")
    image = _make_qr(text, box_size).make_image().get_image().convert("L")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def make_qr_svg(text: str) -> str:
    """Draw text as a QR code and return a standalone SVG document (one path, scalable)."""
    image = _make_qr(text, 10).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    return str(image.to_string(encoding="unicode"))


__all__ = [
    "ACCOUNT_KINDS", "MAX_IMAGE_PIXELS", "MAX_QR_BYTES", "QrError", "classify", "decode_image", "is_account",
    "make_qr_png", "make_qr_svg", "not_account_error",
]
