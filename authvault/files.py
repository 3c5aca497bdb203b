"""Files in the data folder and in folder backup accounts: the one atomic write and the one lock.

- `atomic_write`: a temp file in the same folder, fsync, rename over the target, fsync the folder,
  so a crash leaves the old file or the new one, never half of one.
- `fsync_dir`: make a rename or mkdir in a folder survive a crash.
- `create_once`: a file made once and shared by every worker (the first to link it wins).
- `file_lock`: an exclusive flock on a lock file, held across processes and threads, waited for
  (optionally up to a deadline); `try_lock` takes one without waiting and keeps it.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_PREFIX = ".tmp-"


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename or mkdir in it survives a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, prefix: str = TMP_PREFIX) -> None:
    """Write `path` atomically with exactly `mode`: temp file (`prefix` + random) in the same
    folder, fsync, rename, fsync the folder. The temp file is removed if anything fails."""
    tmp = path.parent / f"{prefix}{uuid.uuid4().hex}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode != 0o600:
            os.chmod(tmp, mode)  # O_CREAT's mode is reduced by the umask: set it exactly
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def create_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """The content of a file that is made once and shared by every worker. Workers start at the
    same moment, so the file is written whole under a temporary name and then linked into place:
    whoever links first wins, and no one ever reads a file that is still empty or half written."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(make())
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


@contextmanager
def file_lock(path: Path, *, timeout: float | None = None,
              on_timeout: Callable[[], Exception] | None = None) -> Iterator[None]:
    """Hold an exclusive flock on `path` (made 0600 if missing) on a descriptor of its own, so it
    holds between threads of one process too. Without `timeout` it waits as long as it takes;
    with one, `on_timeout()` is raised (TimeoutError by default) when the lock is still held by
    someone else at the deadline. Closing the descriptor releases the lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise (on_timeout() if on_timeout else TimeoutError(str(path))) from None
                    time.sleep(0.005)
        yield
    finally:
        os.close(fd)


def try_lock(path: Path) -> int | None:
    """Take an exclusive flock on `path` without waiting and keep it: the descriptor (close it
    to release), or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
