"""authvault/files.py: the one atomic write and the one file lock."""
from __future__ import annotations

import os
import re
import stat
import threading
import time
from pathlib import Path

import pytest

from authvault.files import TMP_PREFIX, atomic_write, file_lock, try_lock
from tests.paths import REPO


def test_atomic_write_replaces_whole_with_the_exact_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "cert.pem"
    target.write_bytes(b"old")
    old_umask = os.umask(0o077)
    try:
        atomic_write(target, b"new", mode=0o644)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    atomic_write(tmp_path / "key.pem", b"secret")
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)] == []


def test_a_failed_atomic_write_keeps_the_old_file_and_removes_its_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "gone" / "x"  # the rename fails: the folder does not exist
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    (tmp_path / "dir").mkdir()
    keep = tmp_path / "dir"
    with pytest.raises(OSError):
        atomic_write(keep, b"new")  # a folder cannot be replaced by a file
    assert keep.is_dir() and [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)] == []


def test_file_lock_holds_between_threads_and_gives_up_at_its_deadline(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    inside = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with file_lock(lock):
            inside.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    assert inside.wait(5)
    started = time.monotonic()
    with pytest.raises(LookupError):
        with file_lock(lock, timeout=0.2, on_timeout=LookupError):
            pass
    assert time.monotonic() - started >= 0.2
    assert try_lock(lock) is None
    release.set()
    t.join()
    fd = try_lock(lock)
    assert fd is not None
    os.close(fd)
    with file_lock(lock, timeout=0.2):
        pass


def test_no_other_module_locks_or_renames_files_itself() -> None:
    """flock and os.replace live in files.py (gates.py's N-slot gate takes one of N locks, a
    primitive files.py does not have, so it keeps its own)."""
    others = [str(p.relative_to(REPO)) for p in (REPO / "authvault").rglob("*.py")
              if p.name not in ("files.py", "gates.py")
              and re.search(r"fcntl\.flock|os\.replace\(|os\.rename\(", p.read_text())]
    assert others == []
