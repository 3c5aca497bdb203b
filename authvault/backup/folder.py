"""Backup account kind `folder`: a directory on the server (a NAS mount, a second disk).

Writes are atomic (temp file in the same folder, fsync, rename, fsync the folder) and made under
an exclusive `flock` on a lock file in the folder, so conditional writes are real
compare-and-swap operations between processes, and between servers that share the folder
through a file system with working locks. The ETag is a hash of the content. A claim is a
`mkdir`, which the file system does atomically.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import N_
from ..files import TMP_PREFIX, atomic_write, file_lock, fsync_dir
from . import reach
from .base import CLAIM_RECORD, ClaimInfo, Store, require
from .errors import BackupError, BackupPreconditionFailed, BackupTargetInvalid, BackupUnreachable

log = logging.getLogger(__name__)

LOCK_NAME = ".authvault-lock"


def content_etag(data: bytes) -> str:
    """The strong ETag of `data`: the first 40 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:40]


class FolderStore(Store):
    """A backup account that is a directory on this server."""

    kind = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_target(cls, target: dict[str, Any]) -> FolderStore:
        """`{"kind": "folder", "path": "/absolute/path"}`."""
        path = require(target, "path")
        if not os.path.isabs(path):
            raise BackupTargetInvalid(N_("The backup folder must be an absolute path."))
        root = Path(os.path.normpath(path))
        try:
            reach.check_folder(root)  # not the data folder, not a system folder
        except OSError as exc:  # a path realpath cannot follow (too long, a loop)
            raise reach.cannot_write_there() from exc
        return cls(root)

    def identity(self) -> str:
        """folder:<real path>."""
        return f"folder:{os.path.realpath(self.root)}"

    def describe(self) -> str:
        """The folder's path."""
        return str(self.root)

    # -- helpers -----------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*name.split("/")) if name else self.root

    def _wrap(self, exc: OSError) -> BackupError:
        # Missing, not a folder, not writable: one answer, which does not tell them apart (so
        # the answer does not say which paths exist on the server: reach.py).
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR,
                         errno.EISDIR):
            return reach.cannot_write_there()
        return BackupUnreachable(self.describe())

    def _check_root(self) -> None:
        try:
            mode = self.root.stat().st_mode
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise BackupTargetInvalid(N_("The backup folder's path is too long.")) from exc
            raise self._wrap(exc) from exc
        if not stat.S_ISDIR(mode):
            raise reach.cannot_write_there()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive flock on the folder's lock file (across processes and threads)."""
        self._check_root()
        with ExitStack() as held:
            try:
                held.enter_context(file_lock(self.root / LOCK_NAME))
            except OSError as exc:
                raise self._wrap(exc) from exc
            self._sweep()
            yield

    def _sweep(self) -> None:
        """Remove temp files a killed writer left (kill -9 between create and rename). Called
        under the folder's lock: writes to the folder and versions/ happen only under it, so any
        temp file there is an orphan. Claim records are written without the lock, so in claim
        folders only temp files older than a minute go."""
        now = time.time()
        try:
            folders = [self.root, *(p for p in self.root.iterdir() if p.is_dir())]
            for folder in folders[:1000]:
                locked = folder == self.root or folder.name == "versions"
                for entry in folder.iterdir():
                    if not entry.name.startswith(TMP_PREFIX):
                        continue
                    try:
                        if locked or now - entry.stat().st_mtime > 60:
                            entry.unlink()
                            log.info("removed a temp file a stopped backup left in %s", folder)
                    except FileNotFoundError:
                        pass
        except OSError:
            pass  # the write itself reports what is wrong with the folder

    # -- hooks -------------------------------------------------------------------------------

    def _read(self, name: str) -> tuple[bytes, str] | None:
        self._check_root()
        try:
            data = self._path(name).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise self._wrap(exc) from exc
        return data, content_etag(data)

    def _write(self, name: str, data: bytes, *, create_only: bool,
               if_match: str | None) -> str:
        path = self._path(name)
        with self._locked():
            try:
                if create_only or if_match is not None:
                    try:
                        current: bytes | None = path.read_bytes()
                    except FileNotFoundError:
                        current = None
                    if create_only and current is not None:
                        raise BackupPreconditionFailed(name)
                    if if_match is not None and (current is None
                                                 or content_etag(current) != if_match):
                        raise BackupPreconditionFailed(name)
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, data)
            except OSError as exc:
                raise self._wrap(exc) from exc
        return content_etag(data)

    def _list(self, prefix: str) -> list[str]:
        self._check_root()
        base = self._path(prefix)
        if not base.is_dir():
            return []
        out = []
        for entry in base.iterdir():
            if entry.is_file() and not entry.name.startswith((TMP_PREFIX, LOCK_NAME)):
                out.append(f"{prefix}/{entry.name}" if prefix else entry.name)
        return out

    def _delete(self, name: str, *, if_match: str | None) -> None:
        path = self._path(name)
        with self._locked():
            try:
                if if_match is not None:
                    try:
                        current = path.read_bytes()
                    except FileNotFoundError:
                        raise BackupPreconditionFailed(name) from None
                    if content_etag(current) != if_match:
                        raise BackupPreconditionFailed(name)
                if path.exists():
                    path.unlink()
                    fsync_dir(path.parent)
            except OSError as exc:
                raise self._wrap(exc) from exc

    def _claim(self, name: str, record: bytes) -> bool:
        self._check_root()
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(path)  # atomic: exactly one creator succeeds
        except FileExistsError:
            return False
        except OSError as exc:
            raise self._wrap(exc) from exc
        try:
            atomic_write(path / CLAIM_RECORD, record)
            fsync_dir(path.parent)
        except OSError as exc:
            raise self._wrap(exc) from exc
        return True

    def _read_claim(self, name: str) -> ClaimInfo:
        self._check_root()
        path = self._path(name)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return ClaimInfo(False)
        except OSError as exc:
            raise self._wrap(exc) from exc
        try:
            record: bytes | None = (path / CLAIM_RECORD).read_bytes()
        except FileNotFoundError:
            record = None
        return ClaimInfo(True, record, max(0.0, time.time() - stat.st_mtime))

    def _delete_claim(self, name: str) -> None:
        path = self._path(name)
        try:
            for child in path.iterdir():
                child.unlink(missing_ok=True)
            path.rmdir()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._wrap(exc) from exc

    def _list_claims(self, prefix: str) -> list[str]:
        self._check_root()
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return [f"{prefix}/{e.name}" if prefix else e.name for e in base.iterdir() if e.is_dir()]

    def _test_connection(self) -> None:
        self._check_root()
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise reach.cannot_write_there()
        with self._locked():
            pass


STORE = FolderStore
