"""Backup accounts are written by anyone with their password (issue 12, items 5 and 7).

What a backup account says is read with bounds: the holder's name shown in the conflict dialog,
the size of what the server sends, how long it may take, and what its errors may tell.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from authvault.backup import http, load, objects, reach, s3
from authvault.backup.errors import (
    BackupError,
    BackupNotAStore,
    BackupTampered,
    BackupTargetInvalid,
    BackupUnreachable,
    holder_json,
)
from authvault.backup.folder import TMP_PREFIX, content_etag
from authvault.backup.webdav import WebDavStore
from authvault.model import Account
from authvault.vault import crypto, slots
from authvault.web.errors import status_of
from tests.hostile_servers import SECRET_CODE, hostile_server
from tests.paths import REPO


def _object(device_name: str) -> bytes:
    master = crypto.new_master_key()
    slot = slots.recovery_slot(master, slots.new_recovery_key(), crypto.TEST_SCRYPT)
    holder = objects.Holder(device_id="d1", device_name="iPhone", count=1,
                            updated_at="2026-12-01T07:00:00Z", generation=1, backup_id="b1")
    data = objects.build(holder, [Account(secret=b"12345678901234567890", issuer="GitHub", name="a")],
                         master, slot)
    obj = json.loads(data)
    obj["holder"]["device_name"] = device_name
    return json.dumps(obj).encode()


def test_holder_name_is_bounded_where_it_is_read_and_shown() -> None:
    hostile = "\u202eenohPi" + "\u0007\u200b" + "Bob's iPad " * 900  # bidi override, bell, 9,900 characters
    parsed = objects.parse(_object(hostile), "etag")
    name = parsed.holder.device_name
    assert len(name) <= 60 and name.endswith("\u2026")
    assert not any(ch in name for ch in "\u202e\u0007\u200b")
    shown = holder_json(parsed.holder)
    assert shown is not None and shown["device_name"] == name


def test_holder_name_of_absurd_length_is_a_tampered_backup() -> None:
    with pytest.raises(BackupTampered):
        objects.parse(_object("x" * 1_000_000), "etag")


def test_ordinary_holder_name_is_shown_as_written() -> None:
    assert objects.parse(_object("Anna’s iPhone 15"), "etag").holder.device_name == "Anna’s iPhone 15"


# -- hostile servers on loopback -------------------------------------------------------------------

def _rss_mb() -> int:
    return int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmRSS")).split()[1]) // 1024


@pytest.fixture
def short_deadline() -> Iterator[float]:
    """Operations end after 2 s instead of 8. Still more than the trickling server's 1 s between
    bytes, so the per-read timeout never fires for it and only the deadline can end its answer."""
    http.configure(operation_seconds=2.0)
    yield http.operation_seconds()
    http.configure()


def test_an_operation_ends_8_s_after_it_began_and_tests_can_only_shorten_that() -> None:
    assert http.operation_seconds() == http.OPERATION_SECONDS == 8.0
    assert 7.0 < http.BoundedSession().deadline - time.monotonic() <= 8.0
    for longer in (8.5, 60.0, 0.0, -1.0):
        with pytest.raises(ValueError):
            http.configure(operation_seconds=longer)
    assert http.operation_seconds() == 8.0


def _webdav(url: str) -> WebDavStore:
    return WebDavStore.from_target({"kind": "webdav", "url": url + "/dav/", "username": "u", "password": "p"})


@pytest.mark.parametrize("path", ["/dav/", "/chunked/"])
def test_a_300_mb_answer_is_cut_at_the_bound(path: str) -> None:
    with hostile_server("huge") as url:
        store = WebDavStore.from_target({"kind": "webdav", "url": url + path, "username": "u", "password": "p"})
        before = _rss_mb()
        with pytest.raises(BackupNotAStore) as err:
            store.test_connection()
        assert _rss_mb() - before < 3 * http.MAX_ANSWER_BYTES // 2**20  # not 300 MB (was 1 GB)
    assert status_of(err.value) == 400 and "is not a WebDAV server" in err.value.text()


def test_a_hanging_server_ends_within_the_operation_deadline(short_deadline: float) -> None:
    with hostile_server("hang") as url:
        store = _webdav(url)
        start = time.monotonic()
        with pytest.raises(BackupUnreachable):
            store.test_connection()
            store.read("authvault-backup.json")
        assert time.monotonic() - start < short_deadline + 3


def test_a_trickling_server_ends_within_the_operation_deadline(short_deadline: float) -> None:
    # One byte a second never trips a per-read timeout; the operation's deadline stops it.
    with hostile_server("trickle") as url:
        start = time.monotonic()
        with pytest.raises(BackupUnreachable):
            _webdav(url).test_connection()
        assert time.monotonic() - start < short_deadline + 3


def test_a_web_server_that_is_not_webdav_is_named_so_without_its_status() -> None:
    with hostile_server("plain") as url:
        with pytest.raises(BackupNotAStore) as err:
            _webdav(url).test_connection()
    text = err.value.text()
    assert "answered, but it is not a WebDAV server" in text
    assert not re.search(r"\b405\b", text) and "HTTP" not in text  # the server's port may hold "405"


def _s3(url: str) -> s3.S3Store:
    return s3.S3Store.from_target({"kind": "s3", "endpoint_url": url, "bucket": "backups", "prefix": "p",
                                   "access_key_id": "k", "secret_access_key": "s", "region": "us-east-1"})


def test_s3_without_etag_is_a_clear_refusal_not_a_500() -> None:
    with hostile_server("s3_no_etag") as url:
        store = _s3(url)
        store.test_connection()
        with pytest.raises(BackupNotAStore) as err:
            store.write("authvault-backup.json", b"{}", create_only=True)
    assert status_of(err.value) == 400 and "not an S3 service AuthVault can use" in err.value.text()


def test_s3_error_code_of_an_internal_service_is_not_shown() -> None:
    with hostile_server("s3_code") as url:
        with pytest.raises(BackupError) as err:
            _s3(url).read("authvault-backup.json")
    assert SECRET_CODE not in err.value.text() and not re.search(r"\b5432\b", err.value.text())
    assert status_of(err.value) == 424  # AuthVault answered: not a 502, which the pages take for "offline"
    assert SECRET_CODE not in str(err.value.params)


def test_s3_answer_of_300_mb_is_cut_at_the_bound() -> None:
    with hostile_server("huge") as url:
        before = _rss_mb()
        with pytest.raises(BackupNotAStore):
            _s3(url + "/chunked").read("authvault-backup.json")
        assert _rss_mb() - before < 3 * http.MAX_ANSWER_BYTES // 2**20


# -- what a backup account may point at ------------------------------------------------------------

@pytest.fixture
def strict_reach(tmp_path: Path) -> Iterator[Path]:
    """The policy as shipped (loopback refused), with a data folder; restored afterwards."""
    data = tmp_path / "data"
    data.mkdir()
    reach.configure(data_dir=data, allow_loopback=False)
    yield data
    reach.configure(allow_loopback=True)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://localhost:8080/dav/", "http://[::1]:5432/", "http://127.1.2.3/",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1%25eth0]/", "http://0.0.0.0:80/",
    "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/", "http://app.localhost/",
])
def test_addresses_only_the_server_reaches_are_refused(strict_reach: Path, url: str) -> None:
    with pytest.raises(BackupTargetInvalid) as err:
        load({"kind": "webdav", "url": url, "username": "u", "password": "p"})
    assert "only the server itself can reach" in err.value.text()
    with pytest.raises(BackupTargetInvalid):
        load({"kind": "s3", "endpoint_url": url.rstrip("/").rsplit("/", 2)[0] if "meta" in url else url,
              "bucket": "backups", "access_key_id": "k", "secret_access_key": "s"})


@pytest.mark.parametrize("url", ["http://192.168.1.10/remote.php/dav/files/anna/", "https://10.0.0.5:5006/",
                                 "http://172.16.0.2/dav/", "https://[fd00::5]/dav/", "https://203.0.113.9/dav/"])
def test_lan_and_public_addresses_are_allowed(strict_reach: Path, url: str) -> None:
    # A NAS or Nextcloud on the home network is the usual backup account.
    assert load({"kind": "webdav", "url": url, "username": "u", "password": "p"}).describe()


def test_loopback_is_allowed_when_the_owner_says_so(tmp_path: Path) -> None:
    reach.configure(data_dir=tmp_path, allow_loopback=True)
    assert load({"kind": "webdav", "url": "http://127.0.0.1:8080/dav/", "username": "u", "password": "p"})


@pytest.mark.parametrize("inside", ["", "backups", "../data/./x"])
def test_the_data_folder_is_refused(strict_reach: Path, inside: str) -> None:
    with pytest.raises(BackupTargetInvalid) as err:
        load({"kind": "folder", "path": str(strict_reach / inside)})
    assert err.value.text().startswith("AuthVault cannot write there.")


@pytest.mark.parametrize("path", ["/", "/etc", "/etc/cron.d", "/usr/lib", "/proc/self", "/sys", "/dev/shm",
                                  "/boot", "/var/lib/dpkg", "/bin"])
def test_system_folders_are_refused(strict_reach: Path, path: str) -> None:
    with pytest.raises(BackupTargetInvalid) as err:
        load({"kind": "folder", "path": path})
    assert err.value.text().startswith("AuthVault cannot write there.")


def test_folder_answers_do_not_tell_which_paths_exist(strict_reach: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    answers = set()
    for path in (tmp_path / "missing", a_file, tmp_path / "missing" / "deeper", a_file / "under-a-file",
                 Path("/etc/passwd"), Path("/nonexistent-anywhere")):
        with pytest.raises(BackupError) as err:
            store = load({"kind": "folder", "path": str(path)})
            store.test_connection()
            store.read("authvault-backup.json")
        answers.add((err.value.code, err.value.text(), status_of(err.value)))
    assert answers == {("backup_target_invalid", reach.cannot_write_there().text(), 400)}


# -- a folder backup killed in the middle of a write -----------------------------------------------

_KILLED_WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from authvault.backup import load
store = load({"kind": "folder", "path": sys.argv[2]})
store.write("authvault-backup.json", b"x" * (400 * 1024 * 1024))  # killed while this is written
"""


def test_temp_file_of_a_killed_folder_backup_is_cleaned_up(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(REPO), str(folder)])
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(TMP_PREFIX) for p in folder.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, "the writer never started"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    orphans = [p for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)]
    assert orphans, "kill -9 during the write left no temp file to clean up"
    store = load({"kind": "folder", "path": str(folder)})
    store.write("authvault-backup.json", b"{}")  # the next backup
    assert [p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)] == []
    assert store.read("authvault-backup.json") == (b"{}", content_etag(b"{}"))


def test_a_name_that_turns_into_loopback_after_the_check_is_refused_at_connect(
        strict_reach: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # DNS rebinding: the name passed the check when the store was made, the connection then
    # went to 127.0.0.1. The address really connected to is checked again.
    with hostile_server("plain") as url:
        monkeypatch.setattr(reach, "check_host", lambda _host: None)
        for target in ({"kind": "webdav", "url": url + "/dav/", "username": "u", "password": "p"},
                       {"kind": "s3", "endpoint_url": url, "bucket": "backups", "access_key_id": "k",
                        "secret_access_key": "s"}):
            with pytest.raises(BackupTargetInvalid) as err:
                load(target).test_connection()
            assert "only the server itself can reach" in err.value.text()
