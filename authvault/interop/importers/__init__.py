"""Import accounts from other authenticator apps' export files: one module per format.

Every importer implements `base.Importer` (`name`, `label`, `detect`, `parse`) and is listed once
in `IMPORTERS`, sorted by name. `import_file` picks the format from the content (or takes the
one the person chose), and returns an `ImportResult`: the accounts to add and the entries skipped
with their reasons. A file that cannot be read at all raises an `ImporterError` whose code is
`password_required`, `wrong_password`, `damaged_file`, `unknown_format`, `unsupported_file`,
`unsupported_format_version` or `file_too_large`. Whether an account is already in the vault
is the caller's call: `authvault.model.same_account` is the one rule.
"""

from __future__ import annotations

import logging

from ...model import Skipped
from .aegis import AegisImporter
from .andotp import AndOtpImporter
from .authenticator_plus import AuthenticatorPlusImporter
from .authy import AuthyImporter
from .base import (
    MAX_FILE_BYTES,
    DamagedFile,
    FileTooLarge,
    Importer,
    ImporterError,
    ImportResult,
    PasswordRequired,
    UnknownFormat,
    UnsupportedFormatVersion,
    WrongPassword,
)
from .battle_net import BattleNetImporter
from .bitwarden import BitwardenImporter
from .duo import DuoImporter
from .ente import EnteImporter
from .freeotp import FreeOtpImporter
from .freeotp_plus import FreeOtpPlusImporter
from .google_authenticator import GoogleAuthenticatorImporter
from .google_migration_image import GoogleMigrationImageImporter
from .microsoft_authenticator import MicrosoftAuthenticatorImporter
from .otpauth_text import OtpauthTextImporter
from .proton import ProtonImporter
from .recognise import UnsupportedFile, recognise, recognise_by_name
from .steam import SteamImporter
from .stratum import StratumImporter
from .support.memo import reading_once
from .totp_authenticator import TotpAuthenticatorImporter
from .twofas import TwoFasImporter
from .twofauth import TwoFAuthImporter
from .winauth import WinAuthImporter

log = logging.getLogger(__name__)

#: Every importer, sorted by `name` (a test keeps it sorted and the README in step).
IMPORTERS: tuple[Importer, ...] = (
    AegisImporter(),
    AndOtpImporter(),
    AuthenticatorPlusImporter(),
    AuthyImporter(),
    BattleNetImporter(),
    BitwardenImporter(),
    DuoImporter(),
    EnteImporter(),
    FreeOtpImporter(),
    FreeOtpPlusImporter(),
    GoogleAuthenticatorImporter(),
    GoogleMigrationImageImporter(),
    MicrosoftAuthenticatorImporter(),
    OtpauthTextImporter(),
    ProtonImporter(),
    SteamImporter(),
    StratumImporter(),
    TotpAuthenticatorImporter(),
    TwoFasImporter(),
    TwoFAuthImporter(),
    WinAuthImporter(),
)

_BY_NAME = {imp.name: imp for imp in IMPORTERS}


def get_importer(name: str) -> Importer:
    """The importer called `name` (UnknownFormat if there is none)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownFormat(supported_labels()) from None


def supported_labels() -> str:
    """The human names of all formats, for messages: "Aegis, andOTP, ..."."""
    return ", ".join(sorted({imp.label for imp in IMPORTERS}, key=str.lower))


def _safe_detect(imp: Importer, data: bytes, filename: str | None) -> bool:
    try:
        return bool(imp.detect(data, filename))
    except Exception:  # noqa: BLE001 - a detector must never decide the outcome by crashing
        log.debug("detector %s failed (%s)", imp.name, "error")
        return False


_SPECIFIC = tuple(imp for imp in IMPORTERS if not imp.generic)
_GENERIC = tuple(imp for imp in IMPORTERS if imp.generic)


def detect_format(data: bytes, filename: str | None = None) -> Importer:
    """The importer for `data`: the first specific format that claims it, else a generic one.

    Detection stops at the first importer that claims the file, and inside `import_file` the
    file's text, JSON and tables are worked out once for all detectors and the parse
    (`common.reading_once`). A file of a kind AuthVault knows but does not import (a KeePass
    database, an archive, an encrypted maFile) raises `UnsupportedFile` saying what it is; any
    other file UnknownFormat. An encrypted andOTP backup is recognised by the iteration count
    andOTP writes at its start, or (older backups have no header) by its `.aes` name.
    """
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge()
    known = recognise_by_name(data, filename)
    if known is not None:
        raise known
    for group in (_SPECIFIC, _GENERIC):
        for imp in group:
            if _safe_detect(imp, data, filename):
                return imp
    known = recognise(data, filename)
    if known is not None:
        raise known
    # A damaged file (truncated, say) of a recognisable app: let its importer say it is damaged.
    hinted = [imp for imp in IMPORTERS if imp.resembles(data)]
    if len(hinted) == 1:
        return hinted[0]
    raise UnknownFormat(supported_labels())


def import_file(
    data: bytes,
    *,
    filename: str | None = None,
    password: str | None = None,
    format: str | None = None,
) -> ImportResult:  # noqa: A002 - the API's word
    """Read an export file of any supported app; `format` (an importer name) skips detection."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("data must be bytes")
    data = bytes(data)
    with reading_once():
        importer = get_importer(format) if format else detect_format(data, filename)
        return importer.parse(data, password)


__all__ = [
    "IMPORTERS",
    "MAX_FILE_BYTES",
    "DamagedFile",
    "FileTooLarge",
    "ImportResult",
    "Importer",
    "ImporterError",
    "PasswordRequired",
    "Skipped",
    "UnknownFormat",
    "UnsupportedFile",
    "UnsupportedFormatVersion",
    "WrongPassword",
    "detect_format",
    "get_importer",
    "import_file",
    "supported_labels",
]
