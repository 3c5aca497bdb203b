"""Authenticator Plus: a password-protected ZIP (ZipCrypto) holding Accounts.txt of otpauth URIs.

Authenticator Plus's own app database is SQLCipher; its export, which is what a person can get
out of the app, is this ZIP, and that is what is read here.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from .base import DamagedFile, EntryCollector, Importer, PasswordRequired, WrongPassword
from .otpauth_text import read_uri_text

_MEMBER = "Accounts.txt"
_MAX_MEMBER = 4 * 1024 * 1024


class AuthenticatorPlusImporter(Importer):
    """Authenticator Plus."""

    name = "authenticator_plus"
    label = "Authenticator Plus"

    def detect(self, data: bytes, filename: str | None) -> bool:
        """A ZIP archive whose member list names Accounts.txt."""
        if not data.startswith(b"PK\x03\x04"):
            return False
        if _MEMBER.encode() in data[30 : 30 + 256]:  # the first local header's file name
            return True
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return any(i.filename.rsplit("/", 1)[-1] == _MEMBER for i in zf.infolist())
        except Exception:  # noqa: BLE001 - detection never raises
            return False

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise DamagedFile(self.label) from exc
        with zf:
            infos = [i for i in zf.infolist() if i.filename.rsplit("/", 1)[-1] == _MEMBER]
            if not infos:
                raise DamagedFile(self.label)
            info = infos[0]
            if info.file_size > _MAX_MEMBER:
                raise DamagedFile(self.label)
            encrypted = bool(info.flag_bits & 0x1)
            if encrypted and not password:
                raise PasswordRequired(self.label)
            try:
                pwd = password.encode("utf-8") if encrypted and password else None
                with zf.open(info, pwd=pwd) as member:
                    raw = member.read(_MAX_MEMBER + 1)
                if len(raw) > _MAX_MEMBER:
                    raise DamagedFile(self.label)
            except RuntimeError as exc:  # zipfile's "Bad password for file"
                if "password" in str(exc).lower():
                    raise WrongPassword(self.label) from exc
                raise DamagedFile(self.label) from exc
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                ValueError,
                NotImplementedError,
                OSError,
            ) as exc:
                raise DamagedFile(self.label) from exc
        read_uri_text(raw.decode("utf-8-sig"), out, self.label)
