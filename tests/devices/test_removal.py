"""Removing a device (issue 12, item 6): this device's passphrase or passkey is asked again, and the
removed device is kept 30 days, restorable with its vault; nothing is lost by one tap."""
from __future__ import annotations

import sqlite3
import time

import pytest

from authvault import db
from authvault.devices import registry
from authvault.web import session as web_session
from tests.conftest import PASSPHRASE, Api
from tests.devices.test_passkeys import enroll_new, lock, login, register
from tests.soft_authenticator import SoftAuthenticator

TAB_URI = "otpauth://totp/Tab:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Tab"
TABLET_PASSPHRASE = PASSPHRASE + "!"  # enroll_new's


@pytest.fixture
def minute_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last unlock of this browser was more than a minute ago (it no longer counts as re-auth)."""
    monkeypatch.setattr(web_session, "REAUTH_SECONDS", 0)


def tablet_of(unlocked: Api, app) -> tuple[Api, str]:  # type: ignore[no-untyped-def]
    tablet = enroll_new(app, unlocked, "iPad")
    assert tablet.post("/api/accounts", {"uri": TAB_URI}).status_code == 201
    return tablet, tablet.refresh()["device"]["id"]


def test_removing_another_device_asks_this_devices_passphrase_again(unlocked: Api, app, minute_passed: None) -> None:  # type: ignore[no-untyped-def]
    tablet, ipad = tablet_of(unlocked, app)
    resp = unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "reauth_required"
    assert "iPad" in resp.get_json()["error"]["message"]
    resp = unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": "not it at all"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "wrong_passphrase"
    resp = unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": TABLET_PASSPHRASE})
    assert resp.status_code == 401  # the passphrase of the device being removed is not this device's
    assert tablet.get("/api/codes").status_code == 200  # nothing happened yet
    resp = unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": PASSPHRASE})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["deleted"] == ipad and body["this_device"] is False
    assert 30 * 86400 - 60 < body["recoverable_until"] - time.time() <= 30 * 86400
    # it stops working at once
    assert tablet.get("/api/codes").status_code == 401
    assert tablet.refresh()["device"] is None
    listed = unlocked.get("/api/devices").get_json()
    assert [d["name"] for d in listed["devices"]] == ["iPhone"]
    assert [(d["id"], d["name"], d["account_count"]) for d in listed["removed"]] == [(ipad, "iPad", 1)]


def test_a_passkey_confirms_the_removal(unlocked: Api, app, minute_passed: None) -> None:  # type: ignore[no-untyped-def]
    _tablet, ipad = tablet_of(unlocked, app)
    auth = SoftAuthenticator()
    assert register(unlocked, auth).status_code == 201
    assert unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad"}).status_code == 401
    assert login(unlocked, auth).status_code == 200  # one passkey prompt, as the page does
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(web_session, "REAUTH_SECONDS", 60)
        assert unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad"}).status_code == 200


def test_a_removed_device_is_restored_with_its_vault(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    tablet, ipad = tablet_of(unlocked, app)
    assert unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": PASSPHRASE}).status_code == 200
    assert tablet.refresh()["device"] is None
    resp = unlocked.post(f"/api/devices/{ipad}/restore")
    assert resp.status_code == 200 and resp.get_json()["name"] == "iPad"
    assert unlocked.post(f"/api/devices/{ipad}/restore").get_json()["error"]["code"] == "not_removed"
    # the tablet's own browser is its device again; it unlocks with its passphrase and has its account
    assert tablet.refresh()["device"]["id"] == ipad
    assert tablet.get("/api/codes").status_code == 401  # its sessions ended with the removal
    assert tablet.post("/api/unlock", {"passphrase": TABLET_PASSPHRASE}).status_code == 200
    assert [a["issuer"] for a in tablet.get("/api/codes").get_json()["accounts"]] == ["Tab"]
    kinds = [e["kind"] for e in unlocked.get("/api/devices/events").get_json()["events"]]
    assert "device_removed" in kinds and "device_restored" in kinds


def test_a_removed_device_cannot_sign_back_in_or_receive_accounts(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    _tablet, ipad = tablet_of(unlocked, app)
    assert unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": PASSPHRASE}).status_code == 200
    cleared = Api(app.test_client())
    resp = cleared.post("/api/devices/signin", {"device_name": "iPad", "passphrase": TABLET_PASSPHRASE})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "signin_failed"
    # the last device left cannot be removed, and a removed one does not count
    me = unlocked.refresh()["device"]["id"]
    resp = unlocked.delete(f"/api/devices/{me}", json={"confirm_name": "iPhone", "passphrase": PASSPHRASE})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "last_device"


def test_removed_devices_are_deleted_for_good_after_30_days(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    _tablet, ipad = tablet_of(unlocked, app)
    assert unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": PASSPHRASE}).status_code == 200
    conn = db.connect(app.config["AUTHVAULT"].db_path)
    try:
        removed_at = conn.execute("SELECT removed_at FROM devices WHERE id = ?", (ipad,)).fetchone()[0]
        with db.transaction(conn):
            assert registry.purge_removed(conn, now=removed_at + 30 * 86400 - 1) == 0
        assert conn.execute("SELECT COUNT(*) FROM vaults WHERE device_id = ?", (ipad,)).fetchone()[0] == 1
        with db.transaction(conn):
            assert registry.purge_removed(conn, now=removed_at + 30 * 86400 + 1) == 1
        assert conn.execute("SELECT COUNT(*) FROM vaults WHERE device_id = ?", (ipad,)).fetchone()[0] == 0
    finally:
        conn.close()
    assert unlocked.get("/api/devices").get_json()["removed"] == []


def test_a_database_made_before_removal_was_kept_gets_the_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE devices (id TEXT PRIMARY KEY, name TEXT NOT NULL, cookie_hash TEXT NOT NULL "
                      "UNIQUE, created_at REAL NOT NULL, last_used_at REAL);"
                      "INSERT INTO devices VALUES ('d1', 'iPhone', 'h', 1.0, NULL);")
    old.close()
    conn = db.connect(path)
    db.init_schema(conn)
    db.init_schema(conn)  # twice (every worker does it at start): no error
    assert [d.name for d in registry.list_devices(conn)] == ["iPhone"]
    conn.close()


def test_the_device_removing_itself_is_kept_too(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    tablet, ipad = tablet_of(unlocked, app)
    resp = tablet.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": TABLET_PASSPHRASE})
    assert resp.status_code == 200 and resp.get_json()["this_device"] is True
    lock(unlocked)
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
    assert [d["name"] for d in unlocked.get("/api/devices").get_json()["removed"]] == ["iPad"]
