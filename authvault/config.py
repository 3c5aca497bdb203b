"""Settings from environment variables, each with a default (the README lists them).

How the address settings fit together (README, "Reaching it from a phone"):

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
from urllib.parse import urlsplit

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def whole_number(name: str, default: int, *, low: int | None = None) -> int:
    """The whole number in environment variable `name` (default when unset); refuses anything else."""
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc
    if low is not None and value < low:
        raise SystemExit(f"{name} must be {low} or more, not {value}")
    return value


_int = whole_number


def env_flag(name: str) -> bool:
    """An on/off environment variable (off when unset); a value that is neither stops the start."""
    return _bool(name)


def _bool(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SystemExit(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), not {raw!r}")


def _env(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def is_ip_address(host: str) -> bool:
    """Whether `host` is an IPv4 or IPv6 literal (with or without [brackets]): never a passkey RP ID
    nor a name a certificate is made for. The one such check (tls.py and devices/passkeys.py use it)."""
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
    behind_proxy: bool = field(default_factory=lambda: _bool("AUTHVAULT_BEHIND_PROXY"))
    # A WebDAV or S3 backup account on this machine's own loopback (127.0.0.1, localhost) is
    # refused unless this is on (authvault/backup/reach.py says why).
    backup_allow_loopback: bool = field(default_factory=lambda: _bool("AUTHVAULT_BACKUP_ALLOW_LOOPBACK"))
    # TLS and listening address: see the module docstring. None means "derive it".
    bind: str | None = field(default_factory=lambda: _env("AUTHVAULT_BIND"))
    tls_cert: Path | None = field(default_factory=lambda: Path(v) if (v := _env("AUTHVAULT_TLS_CERT")) else None)
    tls_key: Path | None = field(default_factory=lambda: Path(v) if (v := _env("AUTHVAULT_TLS_KEY")) else None)
    # scrypt cost for new passphrase slots (N=2^15, r=8, p=1, as Aegis); tests lower it.
    scrypt_n: int = 2**15
    max_upload_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.host_name:
            self.host_name = self.host_name.strip().lower().rstrip(".")
            if is_ip_address(self.host_name):
                raise SystemExit(
                    f"AUTHVAULT_HOST_NAME must be a name, not the IP address {self.host_name}: passkeys "
                    "(WebAuthn) never work on an IP address. Use a DNS name pointing at it, or a .local "
                    "name such as authvault.local (see the README, 'Reaching it from a phone').")
            if "/" in self.host_name or ":" in self.host_name:
                raise SystemExit(
                    f"AUTHVAULT_HOST_NAME is a name only (like nas.local), not {self.host_name!r}: the port "
                    "goes in AUTHVAULT_BIND, a full address in AUTHVAULT_ORIGIN.")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SystemExit("Set both AUTHVAULT_TLS_CERT and AUTHVAULT_TLS_KEY, or neither.")
        if self.behind_proxy and self.tls_cert:
            raise SystemExit(
                "AUTHVAULT_BEHIND_PROXY=1 serves plain HTTP to the proxy, so AUTHVAULT_TLS_CERT and "
                "AUTHVAULT_TLS_KEY would be ignored: give the certificate to the proxy and unset them, "
                "or unset AUTHVAULT_BEHIND_PROXY to serve HTTPS with them.")
        if not 1 <= self.lock_minutes <= 1440:
            raise SystemExit(f"AUTHVAULT_LOCK_MINUTES must be 1 to 1440, not {self.lock_minutes}")
        if self.backup_versions < 0:
            raise SystemExit(f"AUTHVAULT_BACKUP_VERSIONS must be 0 or more, not {self.backup_versions}")
        if self.bind is None:
            self.bind = "0.0.0.0:8443" if self.tls_mode in ("local-ca", "provided") else "127.0.0.1:8000"
        if self.host_name:
            if self.rp_id is None:
                self.rp_id = self.host_name
            if self.origin is None:
                port = None if self.behind_proxy else bind_port(self.bind)
                self.origin = f"https://{self.host_name}" + (f":{port}" if port not in (None, 443) else "")
        self._check_origin()

    def _check_origin(self) -> None:
        """Refuse an origin and RP ID that cannot work together with how AuthVault is served."""
        if self.rp_id is not None:
            self.rp_id = self.rp_id.strip().lower().rstrip(".")
            if is_ip_address(self.rp_id):
                raise SystemExit(f"AUTHVAULT_RP_ID must be a name, not the IP address {self.rp_id}: passkeys "
                                 "never work on an IP address.")
        if self.origin is None:
            return
        self.origin = self.origin.strip().rstrip("/")
        parts = urlsplit(self.origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise SystemExit(f"AUTHVAULT_ORIGIN must be an address like https://nas.local:8443 (scheme, host "
                             f"and port only), not {self.origin!r}")
        if self.tls_mode in ("local-ca", "provided") and parts.scheme == "http":
            how = "its own local CA's certificate" if self.tls_mode == "local-ca" else "AUTHVAULT_TLS_CERT"
            raise SystemExit(
                f"AUTHVAULT_ORIGIN is {self.origin}, but AuthVault serves HTTPS here (with {how}, because "
                "AUTHVAULT_HOST_NAME is set), so that address would never open. Change AUTHVAULT_ORIGIN to "
                f"https://{parts.netloc} or unset it (it is then derived from the host name), or unset "
                "AUTHVAULT_HOST_NAME to serve plain HTTP on localhost.")
        host = parts.hostname.lower()
        if self.host_name and host != self.host_name:
            raise SystemExit(
                f"AUTHVAULT_ORIGIN {self.origin} is not at AUTHVAULT_HOST_NAME {self.host_name}: the setup address "
                "and every link would point elsewhere. Unset AUTHVAULT_ORIGIN (it is derived from the host name) "
                "or make both the same name.")
        if self.rp_id and not (host == self.rp_id or host.endswith("." + self.rp_id)):
            raise SystemExit(
                f"AUTHVAULT_RP_ID {self.rp_id} is neither the host of AUTHVAULT_ORIGIN ({host}) nor a domain "
                "above it, so browsers would refuse every passkey. Unset AUTHVAULT_RP_ID (it is then the host "
                "name) or make it the origin's host.")

    def summary(self) -> tuple[list[str], list[str]]:
        """The effective settings, one line each (no secret), and warnings about insecure ones."""
        mode = {"proxy": "behind a reverse proxy (plain HTTP to it; X-Forwarded-For/Proto/Host trusted)",
                "provided": f"HTTPS with the certificate {self.tls_cert}",
                "local-ca": f"HTTPS with a certificate for {self.host_name} from AuthVault's own CA",
                "off": "plain HTTP"}[self.tls_mode]
        lines = [
            f"data folder: {self.data_dir.resolve()}",
            f"listening on: {self.bind}; {mode}",
            "address people open: " + (self.origin or f"http://localhost:{bind_port(self.bind or '') or 8000} "
                                       "(no host name set: only a browser on this computer)"),
            f"passkeys bound to (RP ID): {self.rp_id or 'the name the page is opened at (localhost)'}",
            f"lock after: {self.lock_minutes} idle minutes (each device may choose its own)",
            f"previous backups kept: {self.backup_versions}",
            f"setup token: {'from AUTHVAULT_SETUP_TOKEN' if self.setup_token else 'random, made once in the data folder'}",
        ]
        warnings: list[str] = []
        host = (self.bind or "").removeprefix("tcp://").rpartition(":")[0].strip("[]")
        loopback = host in ("127.0.0.1", "localhost", "::1") or (self.bind or "").startswith("unix:")
        if self.tls_mode == "off" and not loopback:
            warnings.append(f"plain HTTP on {self.bind}: passphrases and codes cross the network unencrypted, "
                            "and passkeys cannot work there; set AUTHVAULT_HOST_NAME to serve HTTPS")
        if self.tls_mode == "proxy" and not loopback:
            warnings.append(f"AUTHVAULT_BEHIND_PROXY with AUTHVAULT_BIND={self.bind}: anyone who reaches that "
                            "address can forge X-Forwarded-* headers; bind 127.0.0.1 for the proxy")
        if self.origin and self.origin.startswith("http://"):
            origin_host = (urlsplit(self.origin).hostname or "").lower()
            if origin_host not in ("localhost", "127.0.0.1", "::1"):
                warnings.append(f"AUTHVAULT_ORIGIN {self.origin} is plain HTTP: passkeys work only over HTTPS "
                                "(or on localhost)")
        if self.tls_mode == "provided" and not self.host_name:
            warnings.append("AUTHVAULT_TLS_CERT is set but AUTHVAULT_HOST_NAME is not: passkeys need the host name")
        if self.lock_seconds_for_tests is not None:
            warnings.append(f"test-only lock after {self.lock_seconds_for_tests} s is in force")
        return lines, warnings

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
