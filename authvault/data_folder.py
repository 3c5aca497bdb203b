"""The data folder (AUTHVAULT_DATA_DIR): private to the server's user, writable, or a one-line refusal.

The database, its WAL and SHM files, the Flask secret key and the local CA's key all live here. The
folder is made 0700 and every file in it 0600 at every start, so a folder made by an older version
(or copied in with other modes) is fixed too; SQLite gives its WAL and SHM files the mode of the
database file, which is created 0600 before SQLite first opens it. A folder the server cannot write
stops it at start with one line saying so, never a traceback. No Flask here.
"""
from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600


class DataFolderError(SystemExit):
    """The server cannot use its data folder; the message is the one line printed before exiting."""


def _why(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "it is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"the user running AuthVault (uid {os.getuid()}) may not write there"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.ENOTDIR:
        return "it is not a folder"
    return exc.strerror or type(exc).__name__


def refusal(path: Path, exc: OSError) -> DataFolderError:
    """The one line that says why the data folder cannot be used."""
    return DataFolderError(f"AuthVault cannot start: it cannot write to its data folder {path} ({_why(exc)}). "
                           "Make the folder writable, or set AUTHVAULT_DATA_DIR to one that is.")


def check_writable(path: Path) -> None:
    """Create and remove a file in the folder (DataFolderError otherwise)."""
    probe = path / f".write-check-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise refusal(path, exc) from None


def make_private(path: Path) -> int:
    """The folder 0700, every folder in it 0700 and every file 0600 (symlinks are not followed);
    returns how many modes were changed."""
    changed = 0
    for here, dirs, files in os.walk(path):  # symlinked folders are listed, not entered
        for name in [""] + dirs + files:
            target = os.path.join(here, name) if name else here
            try:
                st = os.lstat(target)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            want = FOLDER_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE
            if stat.S_IMODE(st.st_mode) != want and st.st_uid == os.getuid():
                try:
                    os.chmod(target, want)
                    changed += 1
                except OSError:
                    log.warning("could not make %s private", target)
    return changed


def create_private_file(path: Path) -> None:
    """Create an empty file 0600 if it does not exist (SQLite then gives its WAL and SHM that mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise refusal(path.parent, exc) from None
    os.close(fd)


def prepare(path: Path, db_file: Path | None = None) -> None:
    """Make the data folder exist, writable and private, or stop with one line saying why."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    except OSError as exc:
        raise refusal(path, exc) from None
    if not path.is_dir():
        raise refusal(path, OSError(errno.ENOTDIR, "not a folder"))
    check_writable(path)
    if db_file is not None:
        create_private_file(db_file)
    changed = make_private(path)
    if changed:
        log.info("data folder %s: made %d files and folders private to this user (0600/0700)", path, changed)
