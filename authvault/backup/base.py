"""The one small interface every kind of backup account implements, and `load` to pick one.

A `Store` is a flat namespace of named objects ("authvault-backup.json", "versions/...") at one
backup account. The public methods are final: they check the name, log, and call the kind's
private hook (`_read`, `_write`, ...), so every kind behaves the same at the edges:

- `read(name) -> (data, etag) | None`: the object and its strong ETag, or None when absent.
- `write(name, data, *, create_only=False, if_match=None) -> etag`: conditional write; a failed
  condition raises `BackupPreconditionFailed`.
- `list(prefix) -> [names]`, `delete(name, *, if_match=None)`.
- `claim(name, record) -> bool`: the atomic primitive the one-backup-per-account rule is built
  on. Exactly one of any number of concurrent callers (in any process, on any machine) gets
  True for one name: a mkdir on the folder, a WebDAV MKCOL (a mkdir on the server's disk; a
  conditional PUT is *not* atomic there), an S3 PUT with If-None-Match: *. The small `record`
  (who claimed, when) is kept with the claim and read back with `read_claim`.

Kinds are registered in `KINDS` (sorted) and chosen by `target["kind"]`.
"""
from __future__ import annotations

import builtins
import importlib
import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, final

from ..errors import N_
from .errors import BackupTargetInvalid

log = logging.getLogger(__name__)

#: Kind name -> module under authvault.backup holding a `Store` subclass named `STORE`.
KINDS: dict[str, str] = {"folder": "folder", "s3": "s3", "webdav": "webdav"}

_NAME = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
CLAIM_RECORD = "claim.json"


@dataclass(frozen=True)
class ClaimInfo:
    """What is known about one claim: whether it exists, its record, and its age if known."""

    exists: bool
    record: bytes | None = None
    age_seconds: float | None = None


def check_name(name: str, *, prefix: bool = False) -> str:
    """`name` if it is a safe relative object name (no '..', no leading '/'), else ValueError."""
    stripped = name.rstrip("/") if prefix else name
    if prefix and stripped == "":
        return ""
    if not _NAME.match(stripped) or any(part in (".", "..") for part in stripped.split("/")):
        raise ValueError(f"unsafe backup object name: {name!r}")
    return stripped


class Store(ABC):
    """One backup account. Subclasses fill in the private hooks; the public methods are final."""

    kind: ClassVar[str] = ""

    @classmethod
    @abstractmethod
    def from_target(cls, target: dict[str, Any]) -> Store:
        """Build the store from its target settings; BackupTargetInvalid if they are wrong."""

    @abstractmethod
    def identity(self) -> str:
        """A stable string naming this backup account (no credentials), for locks and logs."""

    @abstractmethod
    def describe(self) -> str:
        """Where this backup account is, for messages (never a credential)."""

    # -- the interface -----------------------------------------------------------------------

    @final
    def read(self, name: str) -> tuple[bytes, str] | None:
        """The object `name` and its ETag, or None if it does not exist."""
        found = self._read(check_name(name))
        log.debug("backup %s read %s: %s", self.kind, name, "found" if found else "absent")
        return found

    @final
    def write(self, name: str, data: bytes, *, create_only: bool = False,
              if_match: str | None = None) -> str:
        """Write `name`; only if absent (`create_only`) or unchanged (`if_match`). New ETag."""
        if create_only and if_match is not None:
            raise ValueError("create_only and if_match exclude each other")
        etag = self._write(check_name(name), data, create_only=create_only, if_match=if_match)
        log.debug("backup %s wrote %s (%d bytes)", self.kind, name, len(data))
        return etag

    @final
    def list(self, prefix: str = "") -> builtins.list[str]:
        """Names of the objects under `prefix` (a folder such as "versions/"), sorted."""
        names = sorted(self._list(check_name(prefix, prefix=True)))
        log.debug("backup %s list %s: %d", self.kind, prefix, len(names))
        return names

    @final
    def delete(self, name: str, *, if_match: str | None = None) -> None:
        """Delete `name` (no error if it is already gone); only if unchanged with `if_match`."""
        self._delete(check_name(name), if_match=if_match)
        log.debug("backup %s deleted %s", self.kind, name)

    @final
    def claim(self, name: str, record: bytes) -> bool:
        """Atomically create the claim `name`: True for exactly one caller, False for the rest."""
        won = self._claim(check_name(name), record)
        log.debug("backup %s claim %s: %s", self.kind, name, "won" if won else "lost")
        return won

    @final
    def read_claim(self, name: str) -> ClaimInfo:
        """Whether claim `name` exists, with its record and its age where the store knows it."""
        return self._read_claim(check_name(name))

    @final
    def delete_claim(self, name: str) -> None:
        """Remove claim `name` and its record (no error if it is gone)."""
        self._delete_claim(check_name(name))

    @final
    def list_claims(self, prefix: str) -> builtins.list[str]:
        """Names of the claims directly under `prefix` (e.g. "claims/" -> ["claims/7", ...])."""
        return sorted(self._list_claims(check_name(prefix, prefix=True)))

    @final
    def test_connection(self) -> None:
        """Reach the backup account with its credentials; a BackupError says what is wrong."""
        self._test_connection()
        log.info("backup %s at %s: connection tested", self.kind, self.describe())

    def close(self) -> None:  # noqa: B027  (an optional hook: most stores hold nothing to release)
        """Release connections (optional)."""

    # -- hooks -------------------------------------------------------------------------------

    @abstractmethod
    def _read(self, name: str) -> tuple[bytes, str] | None: ...

    @abstractmethod
    def _write(self, name: str, data: bytes, *, create_only: bool,
               if_match: str | None) -> str: ...

    @abstractmethod
    def _list(self, prefix: str) -> builtins.list[str]: ...

    @abstractmethod
    def _delete(self, name: str, *, if_match: str | None) -> None: ...

    @abstractmethod
    def _claim(self, name: str, record: bytes) -> bool: ...

    @abstractmethod
    def _read_claim(self, name: str) -> ClaimInfo: ...

    @abstractmethod
    def _delete_claim(self, name: str) -> None: ...

    @abstractmethod
    def _list_claims(self, prefix: str) -> builtins.list[str]: ...

    @abstractmethod
    def _test_connection(self) -> None: ...


def require(target: dict[str, Any], key: str, *, optional: bool = False) -> str:
    """target[key] as a non-empty string; BackupTargetInvalid naming the field otherwise."""
    value = target.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (not optional and not value.strip()):
        raise BackupTargetInvalid(N_("The backup account setting %(field)s is missing."),
                                  field=key)
    return value.strip()


def load(target: dict[str, Any]) -> Store:
    """The store for `target`, chosen by `target["kind"]`; BackupTargetInvalid if it is wrong."""
    if not isinstance(target, dict):
        raise BackupTargetInvalid(N_("The backup account settings are missing."))
    kind = target.get("kind")
    if kind not in KINDS:
        raise BackupTargetInvalid(
            N_("Unknown kind of backup account %(kind)s (use one of %(kinds)s)."),
            kind=str(kind), kinds=", ".join(sorted(KINDS)))
    module = importlib.import_module(f"{__package__}.{KINDS[kind]}")
    store: Store = module.STORE.from_target(target)
    return store
