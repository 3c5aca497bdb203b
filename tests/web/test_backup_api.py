"""The backup API: the one-backup-per-account rule as a person meets it, over HTTP.

Two AuthVault servers (each with its own data folder and lock folder, like a reinstall or a
second home server) share one backup account: a folder on disk, and a real wsgidav WebDAV
server on 127.0.0.1 (tests/backup_servers.py).
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from authvault.config import Settings
from tests.conftest import SETUP_TOKEN, Api

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def make_device(tmp_path: Path, name: str) -> Api:
    """A separate AuthVault server with one device, set up and unlocked."""
    from authvault.web import create_app
    settings = Settings(data_dir=tmp_path / f"server-{name}", setup_token=SETUP_TOKEN, rp_id="localhost",
                        origin="http://localhost", scrypt_n=2**4)
    api = Api(create_app(settings, {"TESTING": True}).test_client())
    api.setup(name)
    return api


def add(api: Api, issuer: str, *, device_only: bool = False) -> dict[str, Any]:
    resp = api.post("/api/accounts", {"issuer": issuer, "name": "me", "secret": _secret_for(issuer)})
    assert resp.status_code == 201, resp.get_json()
    acc = resp.get_json()["added"][0]
    if device_only:
        assert api.patch(f"/api/accounts/{acc['id']}", {"backup_policy": "this-device-only"}).status_code == 200
    return acc


def _secret_for(issuer: str) -> str:
    import base64
    import hashlib
    return base64.b32encode(hashlib.sha1(issuer.encode()).digest()).decode().rstrip("=")


def issuers(api: Api) -> list[str]:
    return sorted(a["issuer"] for a in api.get("/api/codes").get_json()["accounts"])


@pytest.fixture
def folder_target(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "nas"
    path.mkdir()
    return {"kind": "folder", "path": str(path)}


@pytest.fixture
def phone(tmp_path: Path) -> Api:
    return make_device(tmp_path, "iPhone")


@pytest.fixture
def tablet(tmp_path: Path) -> Api:
    return make_device(tmp_path, "iPad")


def read_object(target: dict[str, Any]) -> dict[str, Any]:
    return json.loads((Path(target["path"]) / "authvault-backup.json").read_text())


def test_backup_is_off_until_turned_on(phone: Api) -> None:
    assert phone.get("/api/backup").get_json()["state"] == "off"


def test_first_enable_shows_the_recovery_key_once_and_backs_up_changes(phone: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    resp = phone.post("/api/backup/enable", {"target": folder_target})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["state"] == "on" and body["count"] == 1
    assert len(body["recovery_key"].replace("-", "")) >= 40 and "<svg" in body["recovery_key_qr"]
    status = phone.get("/api/backup").get_json()
    assert status["state"] == "on" and "recovery_key" not in status
    first_generation = status["generation"]
    add(phone, "GitLab")  # every change is backed up without the person doing anything
    status = phone.get("/api/backup").get_json()
    assert status["count"] == 2 and status["generation"] > first_generation
    readable = read_object(folder_target)
    assert "GitLab" not in json.dumps(readable) and SECRET not in json.dumps(readable)


def test_second_device_is_told_whose_backup_is_there_and_cancel_changes_nothing(
        phone: Api, tablet: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    add(phone, "Google")
    phone.post("/api/backup/enable", {"target": folder_target})
    before = (Path(folder_target["path"]) / "authvault-backup.json").read_bytes()
    resp = tablet.post("/api/backup/enable", {"target": folder_target})
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["code"] == "backup_taken"
    assert err["holder"]["device_name"] == "iPhone" and err["holder"]["count"] == 2 and err["holder"]["updated_at"]
    assert set(err["choices"]) >= {"replace", "merge", "restore", "other", "cancel"}
    assert "iPhone" in err["message"] and "one device" in err["message"].lower()
    # Cancel is the client not calling again: nothing changed anywhere
    assert (Path(folder_target["path"]) / "authvault-backup.json").read_bytes() == before
    assert tablet.get("/api/backup").get_json()["state"] == "off"


def test_replace_keeps_the_old_backup_and_the_phone_is_told(phone: Api, tablet: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    phone_key = phone.post("/api/backup/enable", {"target": folder_target}).get_json()["recovery_key"]
    add(tablet, "Dropbox")
    resp = tablet.post("/api/backup/enable", {"target": folder_target, "resolution": "replace"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "on"
    assert resp.get_json()["recovery_key"] != phone_key
    # the phone learns it on its next backup (a change) and on opening (check=1)
    add(phone, "GitLab")
    status = phone.get("/api/backup?check=1").get_json()
    assert status["state"] == "replaced"
    assert status["holder"]["device_name"] == "iPad" and "iPad" in status["error"]["message"]
    # nothing was lost: the phone's backup is a version, restorable with the phone's key
    versions = tablet.get("/api/backup/versions").get_json()["versions"]
    assert [v["device_name"] for v in versions] == ["iPhone"]
    restored = tablet.post("/api/backup/versions/restore", {"name": versions[0]["name"], "recovery_key": phone_key})
    assert restored.status_code == 200
    assert issuers(tablet) == ["Dropbox", "GitHub"]


def test_merge_needs_the_key_and_keeps_both_devices_accounts(phone: Api, tablet: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    key = phone.post("/api/backup/enable", {"target": folder_target}).get_json()["recovery_key"]
    add(tablet, "Dropbox")
    no_key = tablet.post("/api/backup/enable", {"target": folder_target, "resolution": "merge"})
    assert no_key.status_code == 400 and no_key.get_json()["error"]["code"] == "recovery_key_required"
    wrong = tablet.post("/api/backup/enable", {"target": folder_target, "resolution": "merge",
                                               "recovery_key": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH-IIII-JJJJ-KKKK-LLLL-MMMM"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "wrong_recovery_key"
    ok = tablet.post("/api/backup/enable", {"target": folder_target, "resolution": "merge", "recovery_key": key})
    assert ok.status_code == 200, ok.get_json()
    assert issuers(tablet) == ["Dropbox", "GitHub"]
    assert tablet.get("/api/backup").get_json()["count"] == 2


def test_restore_choice_copies_accounts_and_takes_nothing_over(phone: Api, tablet: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    key = phone.post("/api/backup/enable", {"target": folder_target}).get_json()["recovery_key"]
    resp = tablet.post("/api/backup/enable", {"target": folder_target, "resolution": "restore", "recovery_key": key})
    assert resp.status_code == 200
    assert issuers(tablet) == ["GitHub"]
    assert tablet.get("/api/backup").get_json()["state"] == "off"
    assert phone.get("/api/backup?check=1").get_json()["state"] == "on"


def test_restore_on_a_new_device_lists_first_and_marks_device_only_accounts(
        tmp_path: Path, phone: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    add(phone, "Work VPN", device_only=True)
    key = phone.post("/api/backup/enable", {"target": folder_target}).get_json()["recovery_key"]
    laptop = make_device(tmp_path, "Laptop")
    seen = laptop.post("/api/backup/inspect", {"target": folder_target})
    assert seen.status_code == 200
    assert seen.get_json()["holder"]["device_name"] == "iPhone" and seen.get_json()["holder"]["count"] == 2
    assert issuers(laptop) == []  # looking wrote nothing
    resp = laptop.post("/api/backup/restore", {"target": folder_target, "recovery_key": key.lower().replace("-", " ")})
    assert resp.status_code == 200, resp.get_json()
    accounts = {a["issuer"]: a for a in laptop.get("/api/codes").get_json()["accounts"]}
    assert accounts["GitHub"]["code"] and not accounts["GitHub"]["action_required"]
    vpn = accounts["Work VPN"]
    assert vpn["action_required"] and vpn["code"] is None and vpn["name"] == "me"
    # scanning the new QR code turns the placeholder into a normal account
    fixed = laptop.post("/api/accounts", {"issuer": "Work VPN", "name": "me", "secret": _secret_for("new vpn")})
    assert fixed.status_code == 201
    vpn = next(a for a in laptop.get("/api/codes").get_json()["accounts"] if a["issuer"] == "Work VPN")
    assert not vpn["action_required"] and vpn["code"]
    assert len(laptop.get("/api/codes").get_json()["accounts"]) == 2


def test_restore_onto_a_device_with_accounts_offers_merge(tmp_path: Path, phone: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    key = phone.post("/api/backup/enable", {"target": folder_target}).get_json()["recovery_key"]
    laptop = make_device(tmp_path, "Laptop")
    add(laptop, "Mine")
    resp = laptop.post("/api/backup/restore", {"target": folder_target, "recovery_key": key})
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["code"] == "device_not_empty" and err["choices"] == ["merge", "cancel"]
    assert issuers(laptop) == ["Mine"]
    merged = laptop.post("/api/backup/restore", {"target": folder_target, "recovery_key": key, "mode": "merge"})
    assert merged.status_code == 200
    assert issuers(laptop) == ["GitHub", "Mine"]


def test_tampered_label_is_caught(phone: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    phone.post("/api/backup/enable", {"target": folder_target})
    path = Path(folder_target["path"]) / "authvault-backup.json"
    text = path.read_text()
    assert text.count('"iPhone"') >= 1
    path.write_text(text.replace('"iPhone"', '"Evil"', 1))
    status = phone.get("/api/backup?check=1").get_json()
    assert status["state"] in ("tampered", "replaced")
    assert status["state"] == "tampered" or status["holder"]["device_name"] == "Evil"


def test_disable_keeps_or_deletes_the_remote_backup(phone: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    phone.post("/api/backup/enable", {"target": folder_target})
    obj = Path(folder_target["path"]) / "authvault-backup.json"
    assert phone.post("/api/backup/disable", {"delete_remote": False}).get_json()["state"] == "off"
    assert obj.exists()
    phone.post("/api/backup/enable", {"target": folder_target, "resolution": "replace"})
    assert phone.post("/api/backup/disable", {"delete_remote": True}).status_code == 200
    assert not obj.exists()


def test_bad_targets_get_clear_4xx(phone: Api) -> None:
    for payload in ({}, {"target": {"kind": "ftp"}}, {"target": {"kind": "folder", "path": ""}},
                    {"target": {"kind": "webdav", "url": "not a url", "username": "u", "password": "p"}}):
        resp = phone.post("/api/backup/enable", payload)
        assert 400 <= resp.status_code < 500, (payload, resp.get_json())
        assert resp.get_json()["error"]["message"]


def test_webdav_wrong_password_and_unreachable(phone: Api, wsgidav_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    add(phone, "GitHub")
    target = wsgidav_server.target()
    bad = dict(target, password="wrong")
    resp = phone.post("/api/backup/enable", {"target": bad})
    assert resp.get_json()["error"]["code"] == "backup_unauthorized"
    assert resp.status_code != 500
    ok = phone.post("/api/backup/enable", {"target": target})
    assert ok.status_code == 200, ok.get_json()
    wsgidav_server.stop()
    try:
        add(phone, "GitLab")  # the change is kept; the backup says what failed and when it retries
        status = phone.get("/api/backup").get_json()
        assert status["state"] == "unreachable" and status["retry_at"] and status["error"]["message"]
        assert issuers(phone) == ["GitHub", "GitLab"]
        # until the retry time, further changes do not wait for the unreachable server again
        failed_at = status["failed_at"]
        add(phone, "Gitea")
        status = phone.get("/api/backup").get_json()
        assert status["failed_at"] == failed_at and status["waiting_changes"] is True
    finally:
        wsgidav_server.start()
    status = phone.post("/api/backup/now").get_json()
    assert status["state"] == "on" and status["count"] == 3 and "waiting_changes" not in status


class BlackHole:
    """A TCP server on a given port that accepts connections, reads, and never answers: a backup
    server that hangs (a NAS half asleep). It remembers each connection and whether the client
    has closed it."""

    def __init__(self, port: int) -> None:
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.open: list[Any] = []
        self.closed_by_client = 0
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import threading
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: Any) -> None:
        try:
            while not self.done.is_set():
                if not conn.recv(65536):  # the client gave up and closed the connection
                    self.closed_by_client += 1
                    return
        except OSError:
            return

    def close(self) -> None:
        import socket
        self.done.set()
        for conn in self.open:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close alone does not
        except OSError:
            pass
        self.sock.close()


@contextlib.contextmanager
def _device_db(api: Api):  # type: ignore[no-untyped-def]
    """A connection of its own to the server's database, and the id of its one device."""
    from authvault import db
    conn = db.connect(api.client.application.config["AUTHVAULT"].db_path)
    try:
        yield conn, conn.execute("SELECT id FROM devices").fetchone()[0]
    finally:
        conn.close()


def _make_retry_due(api: Api) -> None:
    from authvault.backup import device as dbk
    with _device_db(api) as (conn, device_id):
        status = dbk.read_status(conn, device_id)
        status.retry_at = 0
        status.retry_started_at = None
        dbk.write_status(conn, device_id, status)


def _claim_retry(api: Api) -> bool:
    from authvault.backup import device as dbk
    with _device_db(api) as (conn, device_id):
        return dbk.claim_retry(conn, device_id)


def _wait_for(predicate, what: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_a_hanging_backup_server_never_holds_back_the_codes(phone: Api, wsgidav_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The code list polls /api/codes, which retries a failed backup when its time has come. The
    retry runs in the background: the poll answers while the backup server still hangs, and when
    the server is back the retry carries the change made while it was down."""
    from urllib.parse import urlsplit
    add(phone, "GitHub")
    target = wsgidav_server.target()
    assert phone.post("/api/backup/enable", {"target": target}).status_code == 200
    wsgidav_server.stop()
    try:
        add(phone, "GitLab")  # made while the server is down
        first = phone.get("/api/backup").get_json()
        assert first["state"] == "unreachable"
        hole = BlackHole(urlsplit(target["url"]).port)
        try:
            _make_retry_due(phone)
            codes = phone.get("/api/codes")
            assert codes.status_code == 200 and len(codes.get_json()["accounts"]) == 2
            # The retry has reached the hanging server and is still waiting on it after the poll
            # answered (a poll that waited would have given up and closed its connection).
            _wait_for(lambda: hole.open, "the retry connects to the backup server")
            assert hole.closed_by_client == 0
            # Another poll, here or in another worker, does not start a second retry meanwhile.
            assert phone.get("/api/codes").status_code == 200
            assert not _claim_retry(phone)
            assert len(hole.open) == 1
        finally:
            hole.close()
        failed = _wait_for(lambda: (st := phone.get("/api/backup").get_json())["failed_at"] != first["failed_at"] and st,
                           "the background retry records its failure")
        assert failed["state"] == "unreachable" and failed["retry_at"] > failed["failed_at"]
    finally:
        wsgidav_server.start()
    _make_retry_due(phone)
    assert phone.get("/api/codes").status_code == 200
    done = _wait_for(lambda: (st := phone.get("/api/backup").get_json())["state"] == "on" and st,
                     "the background retry backs up once the server is back")
    assert done["count"] == 2


def test_odd_targets_get_clear_4xx_not_500(phone: Api, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    s3 = {"kind": "s3", "bucket": "abc", "access_key_id": "AK", "secret_access_key": "SK",
          "endpoint_url": "http://127.0.0.1:1"}
    for target in ({"kind": ["folder"]}, {"kind": {}},
                   {"kind": "folder", "path": "/" + "a" * 1990},  # ENAMETOOLONG
                   {"kind": "folder", "path": "/tmp/nul\x00here"},
                   {"kind": "folder", "path": "/tmp/\udcff"},
                   {"kind": "folder", "path": str(a_file)},  # a file, not a folder: 400, not "retry"
                   {"kind": "webdav", "url": "http://[::1/dav", "username": "u", "password": "p"},
                   {"kind": "webdav", "url": "https://" + "a" * 300 + ".com/dav"},
                   {"kind": "webdav", "url": "http://example.com:99999/dav"},
                   {"kind": "webdav", "url": "http://exa mple.com/dav"},
                   dict(s3, endpoint_url="http://exa mple.com"),
                   dict(s3, region="bad region!"), dict(s3, bucket="a b/c")):
        for path in ("/api/backup/enable", "/api/backup/test", "/api/backup/inspect"):
            resp = phone.post(path, {"target": target})
            assert 400 <= resp.status_code < 500, (path, target, resp.status_code, resp.get_json())
            assert resp.get_json()["error"]["message"]


def test_a_push_that_waited_for_the_lock_does_not_back_up_an_older_list(
        phone: Api, folder_target: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two changes on one device, two requests: the second one's push gets the backup lock first.

    The first push read the accounts before it waited; it must not then write that older list
    over the newer backup (the second change would be missing from the backup while the page
    says "Backed up").
    """
    import threading

    from authvault.backup import BackupService
    add(phone, "GitHub")
    assert phone.post("/api/backup/enable", {"target": folder_target}).status_code == 200
    original = BackupService.push
    calls: list[int] = []

    def push(self, store, state, accounts):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:  # the first push waits while another request changes and backs up
            other = threading.Thread(target=add, args=(phone, "Dropbox"))
            other.start()
            other.join(30)
        return original(self, store, state, accounts)

    monkeypatch.setattr(BackupService, "push", push)
    add(phone, "GitLab")
    monkeypatch.undo()
    assert len(calls) == 2
    assert issuers(phone) == ["Dropbox", "GitHub", "GitLab"]
    assert phone.get("/api/backup").get_json()["count"] == 3
    assert read_object(folder_target)["count"] == 3


def test_odd_version_names_are_404_not_500(phone: Api, folder_target: dict) -> None:
    add(phone, "GitHub")
    key = phone.post("/api/backup/enable", {"target": folder_target}).get_json()["recovery_key"]
    for name in ("versions/../authvault-backup.json", "versions/a b", "versions/" + "a" * 5000,
                 "versions/", "authvault-backup.json"):
        resp = phone.post("/api/backup/versions/restore", {"name": name, "recovery_key": key})
        assert resp.status_code == 404, (name[:40], resp.status_code, resp.get_json())
        assert resp.get_json()["error"]["code"] == "backup_missing"


def test_s3_endpoint_with_credentials_in_it_is_refused_and_never_echoed(
        phone: Api, caplog: pytest.LogCaptureFixture) -> None:
    """Like a WebDAV address, an S3 endpoint must not carry a key: it would be shown on the page,
    kept in the clear in the backup status and written to logs (describe() names the endpoint)."""
    import logging
    caplog.set_level(logging.DEBUG)
    target = {"kind": "s3", "endpoint_url": "http://AKIDEXAMPLE:s3cr3t-k3y@127.0.0.1:1", "bucket": "abc",
              "access_key_id": "AK", "secret_access_key": "SK"}
    for path in ("/api/backup/enable", "/api/backup/test", "/api/backup/inspect"):
        resp = phone.post(path, {"target": target})
        assert resp.status_code == 400, resp.get_json()
        assert resp.get_json()["error"]["code"] == "backup_target_invalid"
        assert "s3cr3t" not in resp.get_data(as_text=True)
    assert "s3cr3t" not in caplog.text
    assert "s3cr3t" not in phone.get("/api/backup").get_data(as_text=True)


def test_deleting_my_backup_keeps_the_backup_i_replaced(phone: Api, tablet: Api, folder_target: dict) -> None:
    """Replace keeps the other device's backup as a version ("nothing is lost by a choice made in
    a conflict dialog"); turning backup off with "delete" removes this device's backup, never the
    other device's."""
    add(phone, "GitHub")
    phone_key = phone.post("/api/backup/enable", {"target": folder_target}).get_json()["recovery_key"]
    add(tablet, "Dropbox")
    assert tablet.post("/api/backup/enable", {"target": folder_target, "resolution": "replace"}).status_code == 200
    add(tablet, "Slack")
    assert tablet.post("/api/backup/disable", {"delete_remote": True}).status_code == 200
    assert not (Path(folder_target["path"]) / "authvault-backup.json").exists()
    # the phone's backup, kept when the tablet replaced it, is still there and opens with its key
    laptop = make_device(Path(folder_target["path"]).parent, "Laptop")
    assert laptop.post("/api/backup/enable", {"target": folder_target}).status_code == 200
    versions = laptop.get("/api/backup/versions").get_json()["versions"]
    assert [v["device_name"] for v in versions] == ["iPhone"]
    restored = laptop.post("/api/backup/versions/restore", {"name": versions[0]["name"], "recovery_key": phone_key})
    assert restored.status_code == 200 and issuers(laptop) == ["GitHub"]


def test_a_backup_from_a_newer_authvault_is_a_clear_4xx(phone: Api, folder_target: dict) -> None:
    """Not a 502 (nothing is wrong with the backup account): update AuthVault to use it."""
    add(phone, "GitHub")
    assert phone.post("/api/backup/enable", {"target": folder_target}).status_code == 200
    path = Path(folder_target["path"]) / "authvault-backup.json"
    obj = json.loads(path.read_text())
    obj["format_version"] = 99
    path.write_text(json.dumps(obj))
    resp = phone.post("/api/backup/inspect", {"target": folder_target})
    assert 400 <= resp.status_code < 500 and resp.get_json()["error"]["code"] == "backup_format_unsupported"
    assert "99" in resp.get_json()["error"]["message"]
