"""Settings from environment variables, each with a default (the README lists them).

How the address settings fit together (design.md, "Reaching it from a phone"):

- `AUTHVAULT_HOST_NAME` (e.g. `authvault.local`, `vault.example.com`) is the name phones open. It
  must be a name, never an IP address: WebAuthn refuses IP addresses as RP IDs.
- `AUTHVAULT_RP_ID` defaults to the host name. Passkeys are bound to it: pick it once.
- `AUTHVAULT_ORIGIN` defaults to `https://HOST_NAME:PORT`, the port taken from `AUTHVAULT_BIND`
  (left out when it is 443); behind a reverse proxy it defaults to `https://HOST_NAME` (the proxy
  answers on 443). Without a host name there is no default (plain HTTP on localhost).
- How HTTPS is served (`tls_mode`): behind a proxy (`AUTHVAULT_BEHIND_PROXY=1`) gunicorn speaks
  plain HTTP on 127.0.0.1:8000 and trusts the proxy's X-Forwarded-* headers; with
  `AUTHVAULT_TLS_CERT` and `AUTHVAULT_TLS_KEY` (a real certificate, e.g. Let's Encrypt DNS-01) it
  serves those; with only a host name it serves a certificate from its own local CA
  (`authvault/tls.py`); with none of these, plain HTTP on 127.0.0.1:8000.
- `AUTHVAULT_BIND` defaults to `0.0.0.0:8443` when AuthVault serves HTTPS itself, else
  `127.0.0.1:8000`.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


def _env(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def bind_port(bind: str) -> int | None:
    """The TCP port of a gunicorn bind address ("0.0.0.0:8443", "[::]:8443"); None for a unix socket."""
    if bind.startswith(("unix:", "fd://")):
        return None
    host_port = bind.removeprefix("tcp://")
    _, sep, port = host_port.rpartition(":")
    if not sep or not port.isdigit() or host_port.endswith("]"):
        return 8000  # gunicorn's own default port when only a host is given
    return int(port)


@dataclass
class Settings:
    """What the app needs to know about where it runs; tests build their own."""

    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("AUTHVAULT_DATA_DIR", "instance")))
    setup_token: str | None = field(default_factory=lambda: os.environ.get("AUTHVAULT_SETUP_TOKEN") or None)
    host_name: str | None = field(default_factory=lambda: _env("AUTHVAULT_HOST_NAME"))
    rp_id: str | None = field(default_factory=lambda: os.environ.get("AUTHVAULT_RP_ID") or None)
    origin: str | None = field(default_factory=lambda: os.environ.get("AUTHVAULT_ORIGIN") or None)
    lock_minutes: int = field(default_factory=lambda: _int("AUTHVAULT_LOCK_MINUTES", 5))
    # Tests only: lock after this many seconds, instead of lock_minutes and each device's own
    # choice, so a test need not sit out a minute. No environment variable or page sets it; only
    # code that builds Settings itself (tests/browser/apps.py) can.
    lock_seconds_for_tests: float | None = None
    # How many superseded backups a backup account keeps under versions/ (Aegis keeps 5 too).
    backup_versions: int = field(default_factory=lambda: _int("AUTHVAULT_BACKUP_VERSIONS", 5))
    behind_proxy: bool = field(default_factory=lambda: os.environ.get("AUTHVAULT_BEHIND_PROXY", "") in ("1", "true", "yes"))
    # TLS and listening address: see the module docstring. None means "derive it".
    bind: str | None = field(default_factory=lambda: _env("AUTHVAULT_BIND"))
    tls_cert: Path | None = field(default_factory=lambda: Path(v) if (v := _env("AUTHVAULT_TLS_CERT")) else None)
    tls_key: Path | None = field(default_factory=lambda: Path(v) if (v := _env("AUTHVAULT_TLS_KEY")) else None)
    # scrypt cost for new passphrase slots; tests lower it (design.md fixes N=2^15, r=8, p=1).
    scrypt_n: int = 2**15
    max_upload_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.host_name:
            self.host_name = self.host_name.strip().lower().rstrip(".")
            if _is_ip(self.host_name):
                raise SystemExit(
                    f"AUTHVAULT_HOST_NAME must be a name, not the IP address {self.host_name}: passkeys "
                    "(WebAuthn) never work on an IP address. Use a DNS name pointing at it, or a .local "
                    "name such as authvault.local (see the README, 'Reaching it from a phone').")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SystemExit("Set both AUTHVAULT_TLS_CERT and AUTHVAULT_TLS_KEY, or neither.")
        if self.bind is None:
            self.bind = "0.0.0.0:8443" if self.tls_mode in ("local-ca", "provided") else "127.0.0.1:8000"
        if self.host_name:
            if self.rp_id is None:
                self.rp_id = self.host_name
            if self.origin is None:
                port = None if self.behind_proxy else bind_port(self.bind)
                self.origin = f"https://{self.host_name}" + (f":{port}" if port not in (None, 443) else "")

    @property
    def tls_mode(self) -> str:
        """How HTTPS is served: "proxy", "provided" (own certificate files), "local-ca" or "off"."""
        if self.behind_proxy:
            return "proxy"
        if self.tls_cert and self.tls_key:
            return "provided"
        if self.host_name:
            return "local-ca"
        return "off"

    @property
    def db_path(self) -> Path:
        """The SQLite database file inside the data folder."""
        return self.data_dir / "authvault.sqlite3"
