"""Files AuthVault recognises by their magic number (or name) but does not import.

Asked to import one of these, AuthVault says what the file is and what to export instead, rather
than letting a detector guess ("wrong password for this andOTP file"). A file that is neither
one of these nor claimed by an importer is answered "AuthVault could not recognise this file".
"""

from __future__ import annotations

from ...errors import N_
from .base import ImporterError

#: Magic numbers at the start of a file, and what to tell the person.
MAGICS: tuple[tuple[bytes, str], ...] = (
    # KeePass 2.x (.kdbx) and 1.x (.kdb): signature 0x9AA2D903, then 0xB54BFB67 or 0xB54BFB65.
    (b"\x03\xd9\xa2\x9a\x67\xfb\x4b\xb5", N_(
        "KeePass databases are not supported: in KeePass or KeePassXC, copy each entry's TOTP as an "
        "otpauth URI into a text file (one a line) and import that instead.")),
    (b"\x03\xd9\xa2\x9a\x65\xfb\x4b\xb5", N_(
        "KeePass databases are not supported: in KeePass or KeePassXC, copy each entry's TOTP as an "
        "otpauth URI into a text file (one a line) and import that instead.")),
    (b"ANDROID BACKUP\n", N_(
        "Android backups (.ab) are not supported: export the accounts from the authenticator app "
        "itself and import that file instead.")),
    (b"%PDF-", N_(
        "This is a PDF document, not an authenticator export. If it shows a QR code, import a "
        "screenshot of the code instead.")),
    (b"\x1f\x8b", N_("This is a compressed archive: unpack it and import the export file inside.")),
    (b"7z\xbc\xaf\x27\x1c", N_("This is a compressed archive: unpack it and import the export file inside.")),
    (b"Rar!\x1a\x07", N_("This is a compressed archive: unpack it and import the export file inside.")),
    (b"PK\x03\x04", N_(
        "This ZIP archive holds no export AuthVault reads: unpack it and import the export file "
        "inside.")),
    (b"SQLite format 3\x00", N_(
        "This database is not one AuthVault reads (it reads the app databases of Google "
        "Authenticator, Microsoft Authenticator and Stratum).")),
)


class UnsupportedFile(ImporterError):
    """A file recognised by its content (or name) that AuthVault does not import."""

    def __init__(self, message: str) -> None:
        super().__init__("unsupported_file", message)


def recognise(data: bytes, filename: str | None) -> UnsupportedFile | None:
    """The error that says what this file, claimed by no importer, is (None: not one we know)."""
    for magic, message in MAGICS:
        if data.startswith(magic):
            return UnsupportedFile(message)
    return None


def recognise_by_name(data: bytes, filename: str | None) -> UnsupportedFile | None:
    """Checked before the importers: a file whose name says more than its content can.

    An encrypted maFile is base64 text of AES-CBC data, which TOTP Authenticator's backups are
    too; only the name tells them apart.
    """
    name = (filename or "").lower()
    if name.endswith(".mafile") and not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return UnsupportedFile(N_(
            "This Steam Desktop Authenticator maFile is encrypted: in Steam Desktop Authenticator, "
            "remove the encryption (Manage Encryption), then import the maFile."))
    return None
