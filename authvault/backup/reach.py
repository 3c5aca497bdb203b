"""Where a backup account may point (issue 12, item 5).

The rule: a WebDAV or S3 backup account may be at any address a phone on the home network could
reach itself (the LAN's private addresses, a public server), but not at an address only the
AuthVault server can reach: its own loopback (127.0.0.0/8, ::1), link-local addresses
(169.254.0.0/16, where a cloud machine's metadata service answers, and fe80::/10), the
unspecified address, multicast and reserved ranges. Why that line:

- Refusing private addresses would be wrong: a home server's WebDAV (a NAS, Nextcloud on a Pi)
  is on the LAN, and that is the common case.
- Only an unlocked device can set a backup account, and its owner can already reach the LAN
  from the phone. What the server adds is what only it can reach: services bound to its own
  loopback (a database, an admin page) and link-local ones. Those are refused, so a stolen
  unlocked phone or a script in the page cannot use AuthVault to reach them.
- The answers say no more than "cannot be reached", "answered, but it is not a WebDAV server" or
  "the password is wrong": no status, port or S3 error code, so even an allowed address tells a
  prober nothing about the services behind it (webdav.py, s3.py, errors.py).

A WebDAV server on the AuthVault machine itself is allowed with AUTHVAULT_BACKUP_ALLOW_LOOPBACK=1
(or use the machine's LAN address). Names are resolved when the store is made (each operation);
every address a name resolves to must pass, and the address each connection really reached is
checked again (backup/http.py), so a DNS answer that changes in between is caught. A name that does not resolve is left to the store to
report as unreachable.

Folder backup accounts: not the data folder (or anything inside it), and not a system folder
(/, /etc, /usr, /proc, ...). Every refusal, and every folder that is missing, is a file or cannot
be written, gets one answer, "AuthVault cannot write there", so the answer does not tell which
paths exist on the server.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
from pathlib import Path

from ..config import env_flag
from ..errors import N_
from .errors import BackupTargetInvalid

# The app sets both at start (configure); a script using the stores directly gets the variable.
_allow_loopback = env_flag("AUTHVAULT_BACKUP_ALLOW_LOOPBACK")
_data_dir: Path | None = None

#: Folders (and everything under them) a backup may never be written to.
SYSTEM_FOLDERS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                  "/run", "/sbin", "/sys", "/usr", "/var/lib", "/var/run", "/var/log", "/var/cache",
                  "/var/spool")
RESOLVE_SECONDS = 3.0


def configure(*, data_dir: Path | None = None, allow_loopback: bool = False) -> None:
    """Set the policy (the app does at start): the data folder and whether loopback is allowed."""
    global _allow_loopback, _data_dir
    _allow_loopback = allow_loopback
    _data_dir = Path(os.path.realpath(data_dir)) if data_dir is not None else None


def cannot_write_there() -> BackupTargetInvalid:
    """The one answer for a folder that cannot be used, whatever the reason."""
    return BackupTargetInvalid(N_("AuthVault cannot write there. Choose a folder the server can "
                                  "write to, such as a mounted NAS share or a second disk."))


def refused_address() -> BackupTargetInvalid:
    """The answer for an address only the server itself could reach."""
    return BackupTargetInvalid(N_("AuthVault does not send backups to that address: it is one only "
                                  "the server itself can reach. Use the backup server's address on "
                                  "your network."))


def _resolve(host: str) -> list[str]:
    out: list[str] = []

    def run() -> None:
        try:
            out.extend(str(info[4][0]) for info in socket.getaddrinfo(host, None))
        except (OSError, UnicodeError):
            pass

    thread = threading.Thread(target=run, daemon=True)  # getaddrinfo has no timeout of its own
    thread.start()
    thread.join(RESOLVE_SECONDS)
    return list(out)


def server_only(address: str) -> bool:
    """Whether a backup may not go to this IP address (loopback unless allowed, link-local, ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return not _allow_loopback
    return ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved \
        or (isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"))


def check_host(host: str) -> None:
    """BackupTargetInvalid unless every address `host` names is one a backup may go to."""
    name = host.strip("[]")
    try:
        addresses = [str(ipaddress.ip_address(name.split("%", 1)[0]))]
    except ValueError:
        if name.rstrip(".").lower() in ("localhost", "localhost.localdomain") \
                or name.rstrip(".").lower().endswith(".localhost"):
            addresses = ["127.0.0.1"]
        else:
            addresses = _resolve(name)
    if any(server_only(a) for a in addresses):
        raise refused_address()


def check_folder(path: Path) -> None:
    """`cannot_write_there()` for the data folder, anything in it, and system folders."""
    real = Path(os.path.realpath(path))
    if real == Path("/"):
        raise cannot_write_there()
    if _data_dir is not None and (real == _data_dir or _data_dir in real.parents):
        raise cannot_write_there()
    for folder in SYSTEM_FOLDERS:
        system = Path(folder)
        if real == system or system in real.parents:
            raise cannot_write_there()
