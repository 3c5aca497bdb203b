"""QR codes: read every code in an uploaded image, tell what a code holds, and draw codes.

Decoding uses zxing-cpp on a Pillow image (recipes.md, section 2): it is fast on big phone
photos, reads inverted (light-on-dark) codes and rotated codes, and tries downscaled copies
itself, so images are never downscaled here first. HEIC/HEIF comes through pillow-heif, AVIF
through Pillow. Texts read from QR codes hold secrets: they are never logged and never put into
an error message.
"""
from __future__ import annotations

import io
import logging
import re
import struct
import warnings
import zlib
from typing import Final, cast

import pillow_heif
import qrcode
import qrcode.image.svg
import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from authvault.errors import N_, AuthVaultError

logger = logging.getLogger(__name__)

# Uploads above this many pixels are refused (recipes.md, section 2: 12 MP phone photos decode in
# well under 200 ms; a 100 MP PNG can be 25 KB on disk). Pillow's own bomb check is set to the same
# limit, so Image.open() already refuses anything above twice this from the header alone.
MAX_IMAGE_PIXELS: Final[int] = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
pillow_heif.register_heif_opener()

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
        N_("This file is not an image AuthVault can read. Upload a PNG, JPEG, WebP, GIF, HEIC or "
           "AVIF picture of the QR code."),
    )


def _too_large() -> QrError:
    return QrError(
        "image_too_large",
        N_("This image has too many pixels to read safely (the limit is %(limit)d megapixels). "
           "Crop it around the QR code or take a screenshot, and try again."),
        limit=MAX_IMAGE_PIXELS // 1_000_000,
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


def _open(data: bytes) -> Image.Image:
    """Open the image from its header, refusing what is not an image or has too many pixels."""
    if not data:
        raise _not_an_image()
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _too_large() from exc
    except Image.DecompressionBombWarning as exc:
        raise _too_large() from exc
    except UnidentifiedImageError as exc:
        raise _not_an_image() from exc
    except _DAMAGED_ERRORS as exc:
        raise _damaged() from exc
    # Checked here as well, so the limit holds whatever Image.MAX_IMAGE_PIXELS is set to elsewhere.
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise _too_large()
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
        rgba = upright.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
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


def _read(gray: Image.Image) -> list[zxingcpp.Barcode]:
    """Find QR codes; if none, try once more with a global threshold (helps low-contrast shots)."""
    found = zxingcpp.read_barcodes(gray, formats=_FORMATS)
    if not found:
        found = zxingcpp.read_barcodes(
            gray, formats=_FORMATS, binarizer=zxingcpp.Binarizer.GlobalHistogram
        )
    return list(found)


def decode_image(data: bytes) -> list[str]:
    """Return the text of every QR code in an image, in reading order; raise QrError otherwise."""
    with warnings.catch_warnings():
        # Only here: Pillow's bomb warning (above MAX_IMAGE_PIXELS) becomes an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)
        try:
            gray = _to_grayscale(image)
        except Image.DecompressionBombError as exc:
            raise _too_large() from exc
        except Image.DecompressionBombWarning as exc:
            raise _too_large() from exc
        except MemoryError as exc:
            raise _too_large() from exc
        except _DAMAGED_ERRORS as exc:
            logger.info("unreadable %s upload: %s", image.format, type(exc).__name__)
            raise _damaged() from exc
    texts = [barcode.text for barcode in _reading_order(_read(gray))]
    # Counts and sizes only: the texts themselves hold secrets.
    logger.debug("found %d QR code(s) in a %s image of %dx%d",
                 len(texts), image.format, gray.width, gray.height)
    if not texts:
        raise _no_qr_code()
    return texts


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
