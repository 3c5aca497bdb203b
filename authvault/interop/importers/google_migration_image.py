"""A Google Authenticator transfer QR code as an image (a screenshot or photo of "Export").

Every QR code in the image is read (`authvault.qr.decode_image`); `otpauth-migration://` codes
yield their accounts, plain `otpauth://` codes one account each. An image without any such code
is refused with the QR reader's own reason.
"""

from __future__ import annotations

from ...errors import N_
from ...qr import QrError, decode_image
from .base import DamagedFile, EntryCollector, Importer, ImporterError
from .support.uris import add_uri

_IMAGE_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def is_image(data: bytes) -> bool:
    """Whether `data` starts like a PNG, JPEG, GIF, BMP, WebP or HEIF image."""
    if data.startswith(_IMAGE_MAGICS):
        return True
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"heif", b"avif")


class GoogleMigrationImageImporter(Importer):
    """Google Authenticator transfer QR image."""

    name = "google_migration_image"
    label = "Google Authenticator transfer QR code (image)"

    def detect(self, data: bytes, filename: str | None) -> bool:
        """An image file."""
        return is_image(data)

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        try:
            texts = decode_image(data)
        except QrError as exc:
            raise ImporterError(exc.code, exc.message, **exc.params) from exc
        uris = [
            t.strip()
            for t in texts
            if t.strip().lower().startswith(("otpauth-migration://", "otpauth://"))
        ]
        if not uris:
            raise DamagedFile(self.label, N_("no account QR code in the image"))
        for uri in uris:
            add_uri(out, uri)
