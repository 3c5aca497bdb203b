"""The server's own disk and data folder (issue 12, item 7), with real gunicorn processes.

- The data folder is 0700 and its files (database, WAL, SHM, secret key) 0600, and a folder made
  with looser modes is fixed at start.
- A read-only data folder (a real read-only mount) stops the server with one line, no traceback.
- A full disk (a real 4 MiB tmpfs, filled up) answers "the server's disk is full" (507), locking
  still works, and nothing acknowledged is lost.
- An idle session's wrapped key leaves the database on time, with no request coming in.

Mounting needs root (CAP_SYS_ADMIN); where it is refused those tests skip and say so.
"""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from authvault.config import Settings
from tests.browser.gunicorn_server import PASSPHRASE, SETUP_TOKEN, GunicornServer

URI = "otpauth://totp/Bank{n}:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bank{n}"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Browser:
    """A requests session that keeps cookies and the CSRF token, like a page's script."""

    def __init__(self, server: GunicornServer) -> None:
        self.server, self.s, self.csrf = server, requests.Session(), ""
        self.csrf = self.s.get(server.url + "/api/session", timeout=30).json()["csrf_token"]

    def call(self, method: str, path: str, json: object = None) -> requests.Response:
        r = self.s.request(method, self.server.url + path, json=json, headers={"X-CSRFToken": self.csrf}, timeout=60)
        if r.headers.get("content-type", "").startswith("application/json") and "csrf_token" in r.json():
            self.csrf = r.json()["csrf_token"]
        return r

    def setup(self) -> None:
        r = self.call("POST", "/api/setup", {"setup_token": SETUP_TOKEN, "device_name": "iPhone",
                                            "passphrase": PASSPHRASE})
        assert r.status_code == 201, r.text


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)  # the usual umask: files 0644, folders 0755 unless AuthVault says otherwise
    yield
    os.umask(old)


# --- modes ------------------------------------------------------------------------------------------

def test_data_folder_and_its_files_are_private(tmp_path: Path, umask_022: None) -> None:
    data = tmp_path / "data"
    with GunicornServer.start(data, workers=2) as server:
        browser = Browser(server)
        browser.setup()
        assert browser.call("POST", "/api/accounts", {"uri": URI.format(n=1)}).status_code == 201
        files = {p.name: mode(p) for p in data.rglob("*") if p.is_file()}
        assert {"authvault.sqlite3", "authvault.sqlite3-wal", "authvault.sqlite3-shm", "secret_key"} <= set(files)
        assert mode(data) == 0o700
        assert files == {name: 0o600 for name in files}, files


def test_loose_modes_of_an_existing_folder_are_fixed_at_start(tmp_path: Path, umask_022: None) -> None:
    from authvault.web import create_app
    settings = Settings(data_dir=tmp_path / "data", setup_token=SETUP_TOKEN, host_name=None, rp_id="localhost",
                        origin="http://localhost", scrypt_n=2**4)
    create_app(settings)
    (tmp_path / "data" / "tls").mkdir()
    (tmp_path / "data" / "tls" / "ca.pem").write_text("x")
    for p in [tmp_path / "data", *(tmp_path / "data").rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)  # as an older version (or a copy) left them
    (tmp_path / "elsewhere").write_text("not ours")
    (tmp_path / "elsewhere").chmod(0o644)
    (tmp_path / "data" / "link").symlink_to(tmp_path / "elsewhere")
    create_app(settings)
    assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "tls") == 0o700
    for p in (tmp_path / "data").rglob("*"):
        if not p.is_symlink():
            assert mode(p) == (0o700 if p.is_dir() else 0o600), p
    assert mode(tmp_path / "elsewhere") == 0o644  # a symlink's target is not ours to change


# --- mounts -----------------------------------------------------------------------------------------

def mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB file system for the data folder."""
    data = tmp_path / "data"
    mount_tmpfs(data, "4m")
    yield data
    umount(data)


def fill(disk: Path) -> Path:
    """Fill the file system to the last byte; return the filler file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass
    return filler


def test_read_only_data_folder_stops_the_server_with_one_line(small_disk: Path) -> None:
    from authvault.web import create_app
    settings = Settings(data_dir=small_disk, setup_token=SETUP_TOKEN, host_name=None, origin="http://localhost",
                        scrypt_n=2**4)
    create_app(settings)  # a data folder in use, with its database
    done = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with pytest.raises(SystemExit) as exc:
        create_app(settings)
    assert "read-only" in str(exc.value) and str(small_disk) in str(exc.value)
    with pytest.raises(RuntimeError) as err:  # gunicorn exits instead of becoming ready
        GunicornServer.start(small_disk, workers=2, timeout=20)
    log = str(err.value)
    assert "Traceback" not in log, log
    lines = [line for line in log.splitlines() if "AuthVault cannot start" in line]
    assert lines == [f"AuthVault cannot start: it cannot write to its data folder {small_disk} (it is on a "
                     "read-only file system). Make the folder writable, or set AUTHVAULT_DATA_DIR to one that is."], log


def test_full_disk_says_so_and_lock_still_works(small_disk: Path) -> None:
    with GunicornServer.start(small_disk, workers=2) as server:
        browser = Browser(server)
        browser.setup()
        filler = fill(small_disk)
        saved, refusal = [], None
        for n in range(300):  # each account makes the vault longer: the disk refuses soon
            r = browser.call("POST", "/api/accounts", {"uri": URI.format(n=n)})
            assert r.status_code in (201, 507), r.text
            if r.status_code == 507:
                refusal = r.json()["error"]
                break
            saved.append(f"Bank{n}")
        assert refusal is not None, "the disk never filled up"
        assert refusal["code"] == "disk_full" and "The server's disk is full" in refusal["message"]
        # locking works on a full disk, and the session is then really gone
        r = browser.call("POST", "/api/lock")
        assert r.status_code == 200 and r.json()["state"] == "locked", r.text
        assert browser.call("GET", "/api/codes").status_code == 401
        r = browser.call("POST", "/api/unlock", {"passphrase": PASSPHRASE})
        assert r.status_code in (200, 507), r.text
        if r.status_code == 507:
            assert r.json()["error"]["code"] == "disk_full"
        assert "internal_error" not in server.log_text() and "unexpected" not in server.log_text()
        # space again: unlock, and every account that was acknowledged is there
        filler.unlink()
        r = browser.call("POST", "/api/unlock", {"passphrase": PASSPHRASE})
        assert r.status_code == 200, r.text
        issuers = [a["issuer"] for a in browser.call("GET", "/api/codes").json()["accounts"]]
        assert issuers == saved


# --- idle sessions ------------------------------------------------------------------------------------

def test_an_idle_session_is_purged_on_time_without_any_request(tmp_path: Path) -> None:
    with GunicornServer.start(tmp_path / "data", workers=2) as server:
        browser = Browser(server)
        browser.setup()
        db = sqlite3.connect(server.data_dir / "authvault.sqlite3", timeout=30)
        try:
            assert db.execute("SELECT COUNT(*) FROM unlock_sessions").fetchone()[0] == 1
            # The phone went away six minutes ago (lock time 5 minutes) and never comes back.
            with db:
                db.execute("UPDATE unlock_sessions SET last_seen_at = last_seen_at - 360")
            deadline = time.monotonic() + 25
            while time.monotonic() < deadline:
                if db.execute("SELECT COUNT(*) FROM unlock_sessions").fetchone()[0] == 0:
                    break
                time.sleep(0.5)
            assert db.execute("SELECT COUNT(*) FROM unlock_sessions").fetchone()[0] == 0
        finally:
            db.close()
