"""The one interface every importer implements, its result types and its exception family.

An importer turns the bytes of another app's export file into `Account`s. The public
`Importer.parse` is final: it checks the size, calls the format's `_parse` hook and turns any
unexpected failure of a damaged file into `DamagedFile`, so a caller only ever sees an
`ImporterError` (or a result). Inside `_parse`, each entry goes through `EntryCollector.add`, so
one bad entry is skipped with a reason instead of sinking the whole file (as in Aegis).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from ...errors import N_, AuthVaultError
from ...model import Account, Skipped
from ...otp import Note, OtpError, validate

log = logging.getLogger(__name__)

#: The largest export file we read (the biggest real exports are well under 1 MiB).
MAX_FILE_BYTES = 16 * 1024 * 1024


class ImporterError(AuthVaultError):
    """A file that cannot be imported at all; `code` says why (see the subclasses)."""


class PasswordRequired(ImporterError):
    """The file is encrypted and no password was given."""

    def __init__(self, label: str) -> None:
        super().__init__(
            "password_required",
            N_("This %(format)s file is encrypted: enter its password."),
            format=label,
        )


class WrongPassword(ImporterError):
    """The password does not open the file.

    `or_damaged` is for formats whose only check is the authentication tag of the data itself
    (andOTP, Stratum, TOTP Authenticator): there, damaged data cannot be told from a wrong
    password, and the message says so.
    """

    def __init__(self, label: str, *, or_damaged: bool = False) -> None:
        if or_damaged:
            super().__init__(
                "wrong_password",
                N_(
                    "The password is wrong for this %(format)s file, or the file is "
                    "damaged (this format cannot tell the two apart)."
                ),
                format=label,
            )
        else:
            super().__init__(
                "wrong_password",
                N_("The password is wrong for this %(format)s file."),
                format=label,
            )


class DamagedFile(ImporterError):
    """The file looks like the format but cannot be read: truncated, changed or corrupted."""

    def __init__(self, label: str, detail: str = "") -> None:
        if detail:
            super().__init__(
                "damaged_file",
                N_("This %(format)s file is damaged and cannot be read (%(detail)s)."),
                format=label,
                detail=detail,
            )
        else:
            super().__init__(
                "damaged_file",
                N_("This %(format)s file is damaged and cannot be read."),
                format=label,
            )


class UnknownFormat(ImporterError):
    """No importer recognises the file (or the named format does not exist)."""

    def __init__(self, supported: str) -> None:
        super().__init__(
            "unknown_format",
            N_("AuthVault could not recognise this file. Supported: %(supported)s."),
            supported=supported,
        )


class UnsupportedFormatVersion(ImporterError):
    """The file is of a known app, but of a version or variant we cannot read."""

    def __init__(self, label: str, detail: str) -> None:
        super().__init__(
            "unsupported_format_version",
            N_("This %(format)s file is of a version AuthVault cannot read: %(detail)s."),
            format=label,
            detail=detail,
        )


class CostTooHigh(ImporterError):
    """The file asks for more key derivation than AuthVault computes for one import."""

    def __init__(self, label: str) -> None:
        super().__init__(
            "kdf_cost_too_high",
            N_("This %(format)s file asks for more password-key computation than AuthVault does "
               "for one import. Export it again from the app with its usual settings."),
            format=label,
        )


class KdfCostRefused(ValueError):
    """Raised inside a parser when the file asks for a key-derivation cost beyond our bounds;
    `Importer.parse` turns it into `CostTooHigh` for the format."""


class DatabaseLimit(ValueError):
    """Raised while reading an SQLite file that goes over a bound (value length, rows, data, time);
    `Importer.parse` turns it into `DatabaseTooLarge` for the format."""


class DatabaseTooLarge(ImporterError):
    """An app database holds more (or asks more work) than any real authenticator database."""

    def __init__(self, label: str) -> None:
        super().__init__(
            "database_too_large",
            N_("This %(format)s database holds more than any authenticator's database (too many "
               "rows, too long values, or too much work to read). It was not imported."),
            format=label,
        )


class FileTooLarge(ImporterError):
    """The file is larger than any real export file."""

    def __init__(self) -> None:
        super().__init__(
            "file_too_large",
            N_("This file is too large to be an authenticator export (limit %(mib)s MiB)."),
            mib=MAX_FILE_BYTES // (1024 * 1024),
        )


@dataclass
class ImportResult:
    """What a file yields: the accounts to add and the entries skipped with their reasons.

    `notes` says, per account, what the importer recognised or guessed on the way ("Recognised
    as Steam Guard"), for the preview; `notes_for` finds them.
    """

    format: str
    accounts: list[Account] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: dict[int, list[Note]] = field(default_factory=dict)  # id(account) -> notes

    def notes_for(self, acc: Account) -> list[Note]:
        """The notes of one account of this result (an account object of `accounts`)."""
        return self.notes.get(id(acc), [])


class EntryRejected(Exception):
    """Raised inside an entry's conversion: the entry is skipped, the file goes on."""

    def __init__(self, reason: str, code: str = "damaged_entry", **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.params = params


def unsupported_type(kind: str) -> EntryRejected:
    """The rejection for an entry whose OTP type AuthVault does not generate codes for."""
    return EntryRejected(
        N_("Accounts of type %(type)s are not supported."), "unsupported_type", type=kind[:20]
    )


#: OtpError codes that mean "a kind of account we do not do" rather than "a broken entry".
_UNSUPPORTED_OTP_CODES = frozenset({"unsupported_type", "unsupported_algorithm"})


class EntryCollector:
    """Builds an `ImportResult` one entry at a time; a failing entry is skipped, not fatal."""

    def __init__(self, fmt: str) -> None:
        self.result = ImportResult(format=fmt)

    def add(
        self,
        issuer: Any,
        name: Any,
        build: Callable[[], Account | tuple[Account, list[Note]]],
        notes: list[Note] | None = None,
    ) -> Account | None:
        """Run `build` for one entry; keep its account if it is valid, else record a skip.

        `build` returns the account, or the account and notes of what was recognised or guessed
        while reading it; `notes` adds the caller's own.
        """
        # Names for the preview of a skipped entry: text only, and never unbounded.
        issuer_s = issuer.strip()[:200] if isinstance(issuer, str) else ""
        name_s = name.strip()[:200] if isinstance(name, str) else ""
        try:
            built = build()
            found: list[Note] = []
            if isinstance(built, tuple):
                built, found = built
            account = validate(built)  # the shared rules for a usable account
        except EntryRejected as exc:
            self.skip(issuer_s, name_s, exc.reason, exc.code, **exc.params)
            return None
        except OtpError as exc:
            code = "unsupported_type" if exc.code in _UNSUPPORTED_OTP_CODES else "damaged_entry"
            self.skip(issuer_s, name_s, exc.message, code, **exc.params)
            return None
        except Exception as exc:  # noqa: BLE001 - a malformed entry of untrusted input
            # The exception text may quote the entry (and so its secret): log the type only.
            log.debug("skipping a damaged %s entry (%s)", self.result.format, type(exc).__name__)
            self.skip(issuer_s, name_s, N_("This entry is damaged."), "damaged_entry")
            return None
        self.result.accounts.append(account)
        all_notes = [*found, *(notes or [])]
        if all_notes:
            self.result.notes[id(account)] = all_notes
        return account

    def note(self, account: Account, note: Note) -> None:
        """Add a note to an account already collected."""
        self.result.notes.setdefault(id(account), []).append(note)

    def skip(
        self, issuer: str, name: str, reason: str, code: str = "damaged_entry", **params: Any
    ) -> None:
        """Record an entry that is not imported (`reason` a msgid filled from `params`)."""
        self.result.skipped.append(
            Skipped(issuer=issuer, name=name, reason=reason, code=code, params=params)
        )


class Importer:
    """One export format. Subclasses set `name` and `label` and implement `detect` and `_parse`.

    `generic` importers (a plain list of otpauth URIs, a random-looking encrypted blob) are only
    chosen by detection when no specific importer recognises the file.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    generic: ClassVar[bool] = False
    #: Sets of byte strings; when every string of one set appears in a file that no importer
    #: recognises (a truncated file, say), the file is taken as a damaged file of this format
    #: and reported so, rather than as an unknown file.
    hints: ClassVar[tuple[tuple[bytes, ...], ...]] = ()

    def resembles(self, data: bytes) -> bool:
        """Whether `data` holds one of this format's `hints` sets (for damaged files)."""
        return any(all(h in data for h in hint) for hint in self.hints)

    def detect(self, data: bytes, filename: str | None) -> bool:
        """Whether `data` looks like this format (cheap, from the content; never raises)."""
        raise NotImplementedError

    def parse(self, data: bytes, password: str | None = None) -> ImportResult:
        """Read `data`; raise an `ImporterError` if the file as a whole cannot be read."""
        if len(data) > MAX_FILE_BYTES:
            raise FileTooLarge()
        collector = EntryCollector(self.name)
        try:
            self._parse(data, password or None, collector)
        except ImporterError:
            raise
        except KdfCostRefused as exc:
            raise CostTooHigh(self.label) from exc
        except DatabaseLimit as exc:
            raise DatabaseTooLarge(self.label) from exc
        except (MemoryError, RecursionError) as exc:
            raise DamagedFile(self.label) from exc
        except Exception as exc:  # noqa: BLE001 - untrusted input: any fault is a damaged file
            log.debug("cannot read a %s file (%s)", self.name, type(exc).__name__)
            raise DamagedFile(self.label) from exc
        return collector.result

    def _parse(self, data: bytes, password: str | None, out: EntryCollector) -> None:
        """Fill `out` with the file's entries (the per-format hook of `parse`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<importer {self.name}>"
