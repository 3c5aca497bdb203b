"""Static file versions: the first 12 hex digits of the file's SHA-256, new when the file changes."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from authvault.web.static_files import file_version


def test_the_version_is_the_files_hash_and_follows_a_change(tmp_path: Path) -> None:
    path = tmp_path / "app.css"
    path.write_bytes(b"body { color: black }")
    assert file_version(str(tmp_path), "app.css") == hashlib.sha256(b"body { color: black }").hexdigest()[:12]
    path.write_bytes(b"body { color: white }")
    os.utime(path, ns=(1, 1))  # a different modification time even on a coarse clock
    assert file_version(str(tmp_path), "app.css") == hashlib.sha256(b"body { color: white }").hexdigest()[:12]
    assert file_version(str(tmp_path), "missing.css") is None
