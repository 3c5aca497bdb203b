"""Settings from environment variables, each with a default (the README lists them)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


@dataclass
class Settings:
    """What the app needs to know about where it runs; tests build their own."""

    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("AUTHVAULT_DATA_DIR", "instance")))
    setup_token: str | None = field(default_factory=lambda: os.environ.get("AUTHVAULT_SETUP_TOKEN") or None)
    host_name: str | None = field(default_factory=lambda: os.environ.get("AUTHVAULT_HOST_NAME") or None)
    rp_id: str | None = field(default_factory=lambda: os.environ.get("AUTHVAULT_RP_ID") or None)
    origin: str | None = field(default_factory=lambda: os.environ.get("AUTHVAULT_ORIGIN") or None)
    lock_minutes: int = field(default_factory=lambda: _int("AUTHVAULT_LOCK_MINUTES", 5))
    behind_proxy: bool = field(default_factory=lambda: os.environ.get("AUTHVAULT_BEHIND_PROXY", "") in ("1", "true", "yes"))
    # scrypt cost for new passphrase slots; tests lower it (design.md fixes N=2^15, r=8, p=1).
    scrypt_n: int = 2**15
    max_upload_bytes: int = 20 * 1024 * 1024

    @property
    def db_path(self) -> Path:
        """The SQLite database file inside the data folder."""
        return self.data_dir / "authvault.sqlite3"
