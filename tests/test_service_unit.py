"""contrib/authvault.service: valid for systemd, hardened, and its command serves AuthVault as an
unprivileged user from a data folder only that user can open."""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.gunicorn_server import free_port
from tests.paths import REPO
from tests.plugins.suite import missing

UNIT = REPO / "contrib" / "authvault.service"


def settings() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def installed_here(tmp_path: Path) -> Path:
    """The unit as it would be installed from this checkout (its paths pointed at this checkout)."""
    path = tmp_path / "authvault.service"
    path.write_text(UNIT.read_text().replace("/opt/authvault", str(REPO)))
    return path


def test_runs_unprivileged_with_a_private_data_folder_and_restarts() -> None:
    s = settings()
    assert s["User"] == ["authvault"] and s["Group"] == ["authvault"]
    assert s["StateDirectory"] == ["authvault"] and s["StateDirectoryMode"] == ["0700"]
    assert "AUTHVAULT_DATA_DIR=/var/lib/authvault" in s["Environment"]
    assert s["Restart"] == ["on-failure"] and s["UMask"] == ["0077"]
    assert s["NoNewPrivileges"] == ["yes"] and s["CapabilityBoundingSet"] == [""]
    assert s["ExecStart"] == ["/opt/authvault/.venv/bin/gunicorn -c gunicorn.conf.py app:app"]


def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    if not (REPO / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("no .venv in this checkout: systemd-analyze checks that ExecStart exists")
    proc = subprocess.run([analyze, "verify", str(installed_here(tmp_path))], capture_output=True, text=True,
                          timeout=60)
    # verify reports a misspelt setting on stderr and still exits 0: both must be clean
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def test_systemd_analyze_security_rates_it_well_protected(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    proc = subprocess.run([analyze, "security", "--offline=true", str(installed_here(tmp_path))],
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", proc.stdout)
    assert found, proc.stdout + proc.stderr
    assert float(found.group(1)) <= 2.0, proc.stdout  # "OK" is below 3.9 on systemd's scale of 10


def test_its_command_serves_as_an_unprivileged_user(tmp_path: Path) -> None:
    """What ExecStart does, as systemd would start it: another user, umask 077, the data folder made
    0700 for that user, the checkout read-only to it."""
    if os.geteuid() != 0:
        missing("needs root, to start the command as another user")
    user = pwd.getpwnam("nobody")
    state = Path(tempfile.mkdtemp(prefix="authvault-state-"))  # pytest's own folders are root's only
    os.chmod(state, 0o755)
    data = state / "authvault"
    data.mkdir()
    os.chown(data, user.pw_uid, user.pw_gid)
    os.chmod(data, 0o700)
    s = settings()
    command = s["ExecStart"][0].replace("/opt/authvault", str(REPO)).split()
    if not Path(command[0]).exists():
        pytest.skip("no .venv in this checkout")
    python = (REPO / ".venv" / "bin" / "python").resolve()
    closed = [p for p in (*python.parents, REPO, *REPO.parents) if p.stat().st_mode & 0o001 == 0]
    if closed:  # e.g. a pyenv Python under /root: a real installation makes .venv from /usr/bin/python3
        pytest.skip(f"this checkout or its .venv's {python} is out of another user's reach ({closed[0]} is closed)")
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "AUTHVAULT_DATA_DIR": str(data),
           "AUTHVAULT_BIND": f"127.0.0.1:{port}", "AUTHVAULT_WORKERS": "1"}

    def as_service_user() -> None:
        os.setgid(user.pw_gid)
        os.setgroups([])
        os.setuid(user.pw_uid)
        os.umask(0o077)

    log = tmp_path / "log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=as_service_user, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/session", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
        made = [p for p in data.rglob("*")]
        assert made, "nothing written to the data folder"
        for p in made:
            assert p.stat().st_uid == user.pw_uid
            assert p.stat().st_mode & 0o077 == 0, (p, oct(p.stat().st_mode))
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(state, ignore_errors=True)
