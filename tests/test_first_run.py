"""The first start in a terminal: the setup address, a QR code of it a phone can scan, and plain
words (with the exact command) when the address works only on this computer.

The QR codes are read back the way a phone's camera would see them: the printed block characters
are drawn as pixels (each character cell is two modules high) and zxing-cpp decodes the picture.
The server tests start gunicorn exactly as scripts/run does, its output on a pseudo-terminal.
"""
from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from authvault import first_run
from tests.browser.gunicorn_server import GUNICORN, free_port
from tests.paths import REPO

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TOP, BOTTOM = {"█", "▀"}, {"█", "▄"}  # which half of a character cell a block character fills


def qr_lines(text: str) -> list[str]:
    """The lines of the QR code in a terminal text (the ones made of block characters)."""
    plain = ANSI.sub("", text).replace("\r", "")
    return [line for line in plain.split("\n") if line and set(line) <= {"█", "▀", "▄", " ", "\xa0"}
            and set(line) & {"█", "▀", "▄"}]


def picture(lines: list[str], *, blocks_are_dark: bool, scale: int = 8) -> Image.Image:
    """Draw block characters as an image: each cell is one module wide and two high."""
    width = max(len(line) for line in lines)
    img = Image.new("L", (width, 2 * len(lines)), 255 if blocks_are_dark else 0)
    ink = 0 if blocks_are_dark else 255
    for y, line in enumerate(lines):
        for x, ch in enumerate(line):
            if ch in TOP:
                img.putpixel((x, 2 * y), ink)
            if ch in BOTTOM:
                img.putpixel((x, 2 * y + 1), ink)
    framed = Image.new("L", (width + 8, 2 * len(lines) + 8), 255)  # a light quiet zone around it
    framed.paste(img, (4, 4))
    return framed.resize((framed.width * scale, framed.height * scale), Image.Resampling.NEAREST)


def decode(lines: list[str], *, blocks_are_dark: bool) -> list[str]:
    img = picture(lines, blocks_are_dark=blocks_are_dark)
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


URL = "https://nas.local:8443/setup?token=Zk3vQ8y1Xr7mW2pL9aN4bT6cE0dH5jU"


@pytest.mark.parametrize("ansi", [False, True])
def test_terminal_qr_reads_back_as_the_address(ansi: bool) -> None:
    text = first_run.terminal_qr(URL, ansi=ansi)
    lines = qr_lines(text)
    assert len(lines) >= 12
    # Plain: the blocks are the dark modules (a light terminal). With colours: black background
    # for dark modules, white blocks for light ones, on any terminal.
    assert decode(lines, blocks_are_dark=not ansi) == [URL]
    assert ("\x1b[" in text) == ansi


def test_a_wrongly_drawn_picture_does_not_decode() -> None:
    """The reader is not fooled: the same characters with dark and light swapped and the colours
    ignored give no code, so the tests above really check how the terminal shows it."""
    lines = qr_lines(first_run.terminal_qr(URL, ansi=False))
    mangled = [line.replace("▀", "▄") for line in lines]  # the halves in the wrong order
    assert decode(mangled, blocks_are_dark=True) != [URL]


def test_with_a_host_name_the_message_has_the_address_and_its_qr_code() -> None:
    text = first_run.setup_message(URL, host_name="nas.local", local_ca=True, ansi=False)
    assert f"\n  {URL}\n" in text
    assert decode(qr_lines(text), blocks_are_dark=True) == [URL]
    assert "open https://nas.local:8443/connect on it first" in text


def test_without_a_host_name_it_says_the_address_is_for_this_computer_and_gives_the_command() -> None:
    found = first_run.MdnsName("nas.local", "published by Avahi: avahi-resolve finds nas.local at 192.168.1.10")
    text = first_run.setup_message("http://localhost:8000/setup?token=abc", host_name=None, local_ca=False,
                                   ansi=False, mdns=found)
    assert "works only on this computer" in text
    assert "\n  AUTHVAULT_HOST_NAME=nas.local ./scripts/run\n" in text
    assert "192.168.1.10" in text  # what was detected, and how
    assert not qr_lines(text)  # no QR code of a localhost address: a phone cannot open it


class FakeRun:
    """Stand-in for Avahi's command-line tools: a test cannot start the system mDNS responder
    (it needs the system D-Bus and announces on the LAN). Records the commands asked."""

    def __init__(self, running: bool, resolve: str, code: int = 0) -> None:
        self.running, self.resolve, self.code, self.calls = running, resolve, code, []

    def __call__(self, args: list[str], timeout: float = 3.0) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        if args[:2] == ["avahi-daemon", "--check"]:
            return subprocess.CompletedProcess(args, 0 if self.running else 1, "", "")
        return subprocess.CompletedProcess(args, self.code, self.resolve, "")


def test_mdns_name_is_the_one_avahi_answers_for() -> None:
    run = FakeRun(True, "nas.local\t192.168.1.10\n")
    found = first_run.detect_mdns_name("NAS", run=run, which=lambda _: "/usr/bin/x")
    assert found == first_run.MdnsName("nas.local", "published by Avahi: avahi-resolve finds nas.local at 192.168.1.10")
    assert run.calls == [["avahi-daemon", "--check"], ["avahi-resolve", "-4", "-n", "nas.local"]]


@pytest.mark.parametrize("run, which, reason", [
    (FakeRun(False, ""), lambda _: "/x", "not running"),
    (FakeRun(True, "", code=1), lambda _: "/x", "does not answer for nas.local"),
    (FakeRun(True, "nas-2.local\t192.168.1.10\n"), lambda _: "/x", "does not answer for nas.local"),
    (FakeRun(True, ""), lambda _: None, "not installed"),
])
def test_no_mdns_name_says_why(run: FakeRun, which: object, reason: str) -> None:
    found = first_run.detect_mdns_name("nas", run=run, which=which)  # type: ignore[arg-type]
    assert isinstance(found, first_run.NoMdnsName) and reason in found.reason


def test_this_machine_is_detected_as_it_is() -> None:
    """No stand-ins: whatever this machine runs, the answer is consistent with it."""
    found = first_run.detect_mdns_name()
    running = subprocess.run(["avahi-daemon", "--check"], capture_output=True).returncode == 0 \
        if Path("/usr/sbin/avahi-daemon").exists() else False
    assert isinstance(found, first_run.MdnsName) == running or (running and "does not answer" in found.reason)


def start_like_scripts_run(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn -c gunicorn.conf.py app:app (what scripts/run execs), its output on a terminal."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("AUTHVAULT_")}
    full.update(AUTHVAULT_DATA_DIR=str(tmp_path / "data"), AUTHVAULT_BIND=f"127.0.0.1:{port}",
                AUTHVAULT_WORKERS="1", TERM="xterm", **env)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([str(GUNICORN) if GUNICORN.exists() else "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
                            cwd=REPO, env=full, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
                            start_new_session=True)
    os.close(terminal)
    proc.controller = controller  # type: ignore[attr-defined]
    return proc, port


def read_until(proc: subprocess.Popen[bytes], pattern: str, timeout: float = 30) -> str:
    controller = proc.controller  # type: ignore[attr-defined]
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not re.search(pattern, ANSI.sub("", out.decode(errors="replace"))):
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                out += os.read(controller, 65536)
            except OSError:
                break
    return out.decode(errors="replace")


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    os.close(proc.controller)  # type: ignore[attr-defined]


def test_first_start_with_a_name_prints_a_qr_code_of_the_setup_address(tmp_path: Path) -> None:
    proc, port = start_like_scripts_run(tmp_path, AUTHVAULT_HOST_NAME="authvault.local")
    try:
        text = read_until(proc, r"scan again")
    finally:
        stop(proc)
    token = (tmp_path / "data" / "setup_token").read_text().strip()
    url = f"https://authvault.local:{port}/setup?token={token}"
    assert f"  {url}" in ANSI.sub("", text).replace("\r", "")
    assert "\x1b[" in text  # a terminal: drawn with colours, so it reads on dark and light themes
    assert decode(qr_lines(text), blocks_are_dark=False) == [url]


def test_first_start_without_a_name_says_who_can_open_the_address(tmp_path: Path) -> None:
    proc, port = start_like_scripts_run(tmp_path)
    try:
        text = ANSI.sub("", read_until(proc, r"Or use a DNS name you own|It then prints the setup address")).replace("\r", "")
    finally:
        stop(proc)
    token = (tmp_path / "data" / "setup_token").read_text().strip()
    assert f"  http://localhost:{port}/setup?token={token}\n" in text
    assert "That address works only on this computer" in text
    assert re.search(r"\n  AUTHVAULT_HOST_NAME=[a-z0-9-]+\.local \./scripts/run\n", text), text
    assert not qr_lines(text)
