"""A data folder made before issue 10's layout still opens, unlocks and backs up.

`tests/data/old-data-folder.sql` is the database (schema and rows, `sqlite3 .dump` style) of a
data folder made with the code of commit 4fd2391 (main before issue 10) by `build` below: one
device with a passphrase, an HOTP account with RFC 4226's secret, a TOTP, a Steam and a
this-device-only account, settings, security events, and backup on at a folder. The envelope
text in it is byte for byte what that code wrote. `tests/data/old-backup-folder/` is what the
folder held.

To make them again (only if the old shape must be recorded anew), from a checkout of that
commit: `python tests/test_old_data_folder.py OUT_DIR` with PYTHONPATH at that checkout.
"""
from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
DUMP = DATA / "old-data-folder.sql"
OLD_BACKUP = DATA / "old-backup-folder"
# The folder backup's path is inside the encrypted vault, so it is fixed: the test puts the old
# backup back there before the server opens the folder.
BACKUP_PATH = Path("/tmp/authvault-test-old-data-folder-backup")
PASSPHRASE = "old folder passphrase"
SETUP_TOKEN = "old-data-folder-setup-token-0123"
RFC4226_SECRET = base64.b32encode(b"12345678901234567890").decode()  # GEZDGNBVGY3TQOJQ...
RFC4226_CODES = ["755224", "287082", "359152"]  # RFC 4226, appendix D: counters 0, 1, 2


def build(out: Path) -> None:
    """Make the data folder with whatever code is importable (run with the old commit's code)."""
    from authvault.config import Settings
    from authvault.web import create_app
    from tests.conftest import Api

    if BACKUP_PATH.exists():
        shutil.rmtree(BACKUP_PATH)
    BACKUP_PATH.mkdir()
    settings = Settings(data_dir=out / "data", setup_token=SETUP_TOKEN, origin="http://localhost",
                        rp_id="localhost", scrypt_n=2**4)
    api = Api(create_app(settings, {"TESTING": True}).test_client())
    resp = api.post("/api/setup", {"setup_token": SETUP_TOKEN, "device_name": "Old phone", "passphrase": PASSPHRASE})
    assert resp.status_code == 201, resp.get_json()
    api.csrf = resp.get_json()["csrf_token"]
    for fields in (
        {"issuer": "RFC 4226", "name": "hotp@example.com", "secret": RFC4226_SECRET, "type": "hotp", "counter": 0},
        {"issuer": "Example", "name": "totp@example.com", "secret": "JBSWY3DPEHPK3PXP"},
        {"issuer": "Steam", "name": "gamer", "secret": "JBSWY3DPEHPK3PXQ", "type": "steam"},
        {"issuer": "Work", "name": "me@work.example", "secret": "JBSWY3DPEHPK3PXR"},
    ):
        assert api.post("/api/accounts", fields).status_code == 201
    work = [a for a in api.get("/api/codes").get_json()["accounts"] if a["issuer"] == "Work"][0]
    assert api.patch(f"/api/accounts/{work['id']}", {"backup_policy": "this-device-only"}).status_code == 200
    assert api.patch("/api/settings", {"lock_minutes": 10, "language": "en"}).status_code == 200
    resp = api.post("/api/backup/enable", {"target": {"kind": "folder", "path": str(BACKUP_PATH)}})
    assert resp.status_code in (200, 201), resp.get_json()
    conn = sqlite3.connect(out / "data" / "authvault.sqlite3")
    DATA.mkdir(exist_ok=True)
    DUMP.write_text("\n".join(conn.iterdump()) + "\n")
    conn.close()
    if OLD_BACKUP.exists():
        shutil.rmtree(OLD_BACKUP)
    shutil.copytree(BACKUP_PATH, OLD_BACKUP)
    (OLD_BACKUP / "recovery-key.txt").write_text(resp.get_json()["recovery_key"] + "\n")
    cookie = api.client.get_cookie("authvault_device")
    (DATA / "old-device-cookie.txt").write_text(cookie.value + "\n")


@pytest.fixture
def old_folder(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The old data folder's database in a fresh data folder, and the old backup back in place."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    conn = sqlite3.connect(data / "authvault.sqlite3")
    conn.executescript(DUMP.read_text())
    conn.close()
    if BACKUP_PATH.exists():
        shutil.rmtree(BACKUP_PATH)
    shutil.copytree(OLD_BACKUP, BACKUP_PATH, ignore=shutil.ignore_patterns("recovery-key.txt"))
    yield data
    shutil.rmtree(BACKUP_PATH, ignore_errors=True)


def _api(data: Path):  # type: ignore[no-untyped-def]
    """The same browser after the upgrade: it still holds the device cookie the old code set."""
    from authvault.config import Settings
    from authvault.web import create_app
    from tests.conftest import Api
    settings = Settings(data_dir=data, setup_token=SETUP_TOKEN, origin="http://localhost", rp_id="localhost",
                        scrypt_n=2**4)
    api = Api(create_app(settings, {"TESTING": True}).test_client())
    api.client.set_cookie("authvault_device", (DATA / "old-device-cookie.txt").read_text().strip())
    return api


def _unlock(api) -> None:  # type: ignore[no-untyped-def]
    assert api.refresh()["state"] == "locked"
    resp = api.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert resp.status_code == 200, resp.get_json()
    api.refresh()


def test_the_recorded_envelope_is_the_old_shape() -> None:
    """The fixture really is the old shape: one vault row whose envelope has the format and slot
    of the code that made it (so the tests below read old bytes, not a re-encoding)."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(DUMP.read_text())
    (text,) = conn.execute("SELECT envelope FROM vaults").fetchone()
    env = json.loads(text)
    assert [slot["type"] for slot in env["header"]["slots"]] == ["passphrase"]
    assert env["version"] == 1 and env["authvault"]["format"] == 1 and isinstance(env["db"], str)
    names = {r[0] for r in conn.execute("SELECT key FROM device_settings")}
    assert "backup_status" in names and "backup_position" not in names  # made before the position row


def test_an_old_data_folder_opens_and_unlocks_with_its_passphrase(old_folder: Path) -> None:
    api = _api(old_folder)
    _unlock(api)
    codes = api.get("/api/codes").get_json()["accounts"]
    assert sorted(a["issuer"] for a in codes) == ["Example", "RFC 4226", "Steam", "Work"]
    hotp = next(a for a in codes if a["issuer"] == "RFC 4226")
    assert (hotp["code"], hotp["next_code"]) == (RFC4226_CODES[0], RFC4226_CODES[1])  # RFC 4226 known answers
    assert api.post(f"/api/accounts/{hotp['id']}/next").get_json()["code"] == RFC4226_CODES[1]
    assert api.get("/api/settings").get_json()["lock_minutes"] == 10


def test_an_old_data_folder_backs_up_where_it_left_off(old_folder: Path) -> None:
    before = json.loads((BACKUP_PATH / "authvault-backup.json").read_text())
    api = _api(old_folder)
    _unlock(api)
    assert api.get("/api/backup").get_json()["state"] == "on"
    codes = api.get("/api/codes").get_json()["accounts"]
    example = next(a for a in codes if a["issuer"] == "Example")
    assert api.patch(f"/api/accounts/{example['id']}", {"note": "changed after the upgrade"}).status_code == 200
    status = api.get("/api/backup").get_json()
    assert status["state"] == "on", status
    after = json.loads((BACKUP_PATH / "authvault-backup.json").read_text())
    assert after["generation"] == before["generation"] + 1
    assert after["holder"]["device_name"] == "Old phone" and after["backup_id"] == before["backup_id"]
    assert status["count"] == after["count"] == 4
    # the recovery key shown when the old code turned backup on still restores this backup
    key = (OLD_BACKUP / "recovery-key.txt").read_text().strip()
    resp = api.post("/api/backup/inspect", {"target": {"kind": "folder", "path": str(BACKUP_PATH)}})
    assert resp.status_code == 200, resp.get_json()
    from authvault.backup import BackupService, load
    service = BackupService(old_folder / "restore-locks")
    _holder, accounts = service.restore(load({"kind": "folder", "path": str(BACKUP_PATH)}), key)
    assert sorted(a.issuer for a in accounts) == ["Example", "RFC 4226", "Steam", "Work"]
    assert next(a for a in accounts if a.issuer == "Example").note == "changed after the upgrade"
    work = next(a for a in accounts if a.issuer == "Work")  # this-device-only: a placeholder, no secret
    assert work.action_required and not work.secret
    hotp = next(a for a in accounts if a.issuer == "RFC 4226")
    assert bytes(hotp.secret) == b"12345678901234567890"


if __name__ == "__main__":
    build(Path(sys.argv[1]))
