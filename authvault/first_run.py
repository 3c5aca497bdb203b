"""What the terminal says on the first start: where setup opens, and how a phone gets there.

Without a host name the setup address is http://localhost, which only a browser on the server
itself can open; the message says so in plain words and gives the exact command that makes the
server reachable by name, with this machine's mDNS name when one is published. With a host name
the setup address is printed with a QR code of it, drawn in the terminal, for the phone's camera.
"""
from __future__ import annotations

import io
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import qrcode

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class MdnsName:
    """A `.local` name this machine answers to, and how we know."""

    name: str
    how: str


@dataclass(frozen=True)
class NoMdnsName:
    """Why no mDNS name was found, and what would publish one."""

    reason: str
    advice: str


def _run(args: list[str], timeout: float = 3.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def detect_mdns_name(hostname: str | None = None, *, run: Runner = _run,
                     which: Callable[[str], str | None] = shutil.which) -> MdnsName | NoMdnsName:
    """This machine's published mDNS name, or why there is none.

    Avahi (Debian's mDNS responder) publishes HOSTNAME.local while it runs: `avahi-daemon --check`
    says whether it runs, and `avahi-resolve -n HOSTNAME.local` asks it for the address of that
    name, which it gives only if the name is published (on a clash Avahi picks HOSTNAME-2.local).
    """
    host = (hostname or socket.gethostname()).split(".")[0].lower() or "authvault"
    name = f"{host}.local"
    if not which("avahi-daemon"):
        return NoMdnsName("Avahi, which publishes NAME.local names, is not installed",
                          "sudo apt-get install avahi-daemon")
    try:
        if run(["avahi-daemon", "--check"]).returncode != 0:
            return NoMdnsName("Avahi is installed but not running (avahi-daemon --check)",
                              "sudo systemctl enable --now avahi-daemon")
        if not which("avahi-resolve"):
            return NoMdnsName(f"Avahi runs, but avahi-resolve is missing to check that it publishes {name}",
                              "sudo apt-get install avahi-utils")
        answer = run(["avahi-resolve", "-4", "-n", name])
    except (OSError, subprocess.SubprocessError) as exc:
        return NoMdnsName(f"asking Avahi failed ({type(exc).__name__})", "avahi-resolve -n " + name)
    fields = answer.stdout.split()
    if answer.returncode == 0 and len(fields) >= 2 and fields[0].lower().rstrip(".") == name:
        return MdnsName(name, f"published by Avahi: avahi-resolve finds {name} at {fields[1]}")
    return NoMdnsName(f"Avahi runs, but does not answer for {name} (it may have picked another name)",
                      "journalctl -u avahi-daemon")


def terminal_qr(text: str, *, ansi: bool) -> str:
    """A QR code of `text` in half-block characters, two modules a character cell high.

    With `ansi`, colours are set (dark modules black, light ones white), so it reads the same on
    a dark or a light terminal; without, the blocks are the dark modules (for a light background).
    """
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text)
    code.make(fit=True)
    out = io.StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]  # qrcode checks before writing colours
    code.print_ascii(out=out, tty=ansi)
    return out.getvalue()


def setup_message(setup_url: str, *, host_name: str | None, local_ca: bool, ansi: bool,
                  mdns: MdnsName | NoMdnsName | None = None) -> str:
    """The first-start message for the terminal (printed once, never logged: it holds the token)."""
    if host_name:
        lines = [
            "AuthVault is not set up yet. Scan this QR code with your phone's camera, or open this address",
            "on the phone (it works once, for the first device):",
            "",
            f"  {setup_url}",
            "",
            terminal_qr(setup_url, ansi=ansi).rstrip("\n"),
            "",
        ]
        if local_ca:
            origin = setup_url.split("/setup", 1)[0]
            lines += [
                "The phone will warn that the connection is not private until it trusts AuthVault's own",
                f"certificate: open {origin}/connect on it first and follow the steps there, then scan again.",
            ]
        return "\n".join(lines) + "\n"
    found = mdns if mdns is not None else detect_mdns_name()
    lines = [
        "AuthVault is not set up yet. To set it up in a browser on this computer, open:",
        "",
        f"  {setup_url}",
        "",
        "That address works only on this computer: a phone cannot open 'localhost', and passkeys",
        "never work at an IP address. For your phone, AuthVault needs a name on your network.",
    ]
    if isinstance(found, MdnsName):
        lines += [
            f"This machine's name on the network is {found.name} ({found.how}).",
            "Stop AuthVault (Ctrl+C) and start it with that name:",
            "",
            f"  AUTHVAULT_HOST_NAME={found.name} ./scripts/run",
            "",
            "It then prints the setup address and a QR code to scan with the phone.",
        ]
    else:
        host = socket.gethostname().split(".")[0].lower() or "authvault"
        lines += [
            f"No mDNS name was found for this machine: {found.reason}.",
            f"To make it reachable as {host}.local: {found.advice}; then start AuthVault with that name:",
            "",
            f"  AUTHVAULT_HOST_NAME={host}.local ./scripts/run",
            "",
            "Or use a DNS name you own (README, 'Reaching it from a phone').",
        ]
    return "\n".join(lines) + "\n"
