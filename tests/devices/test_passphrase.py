"""Changing the passphrase (issue 14, item 6): POST /api/passphrase {current, new}.

The passphrase slot is re-wrapped: the entries' ciphertext stays byte for byte, passkeys keep
unlocking, the old passphrase stops, the device's other sessions end, a wrong current passphrase
counts as a failed unlock, and the offline copy handed out afterwards carries the new slot."""
from __future__ import annotations

import sqlite3

import pytest

from authvault.vault import envelope, slots
from authvault.vault.errors import WrongPassphrase
from authvault.web import session as web_session
from tests.conftest import PASSPHRASE, Api
from tests.devices.test_passkeys import envelope_of, lock, login, register
from tests.soft_authenticator import SoftAuthenticator

NEW = "purple otter paints the quiet harbour"
URI = "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"


@pytest.fixture
def minute_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last unlock of this browser was more than a minute ago (it no longer counts as re-auth)."""
    monkeypatch.setattr(web_session, "REAUTH_SECONDS", 0)


def device_id(api: Api) -> str:
    return api.refresh()["device"]["id"]


def second_browser_session(app, api: Api) -> Api:  # type: ignore[no-untyped-def]
    """Another unlock session of the same device (its cookie, unlocked with the passphrase)."""
    other = Api(app.test_client())
    other.client.set_cookie("authvault_device", api.client.get_cookie("authvault_device").value)
    assert other.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
    assert other.get("/api/codes").status_code == 200
    return other


def failures(app, dev: str) -> int:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(app.config["AUTHVAULT"].db_path)
    try:
        row = conn.execute("SELECT failures FROM unlock_failures WHERE key = ?", (f"device:{dev}",)).fetchone()
        return row[0] if row else 0
    finally:
        conn.close()


def test_the_new_passphrase_unlocks_the_old_one_no_longer_and_the_entries_stay_byte_for_byte(
        unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    assert unlocked.post("/api/accounts", {"uri": URI}).status_code == 201
    dev = device_id(unlocked)
    before = envelope_of(app, dev)
    resp = unlocked.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"changed": True, "sessions_ended": 0}
    after = envelope_of(app, dev)
    # the entries are not re-encrypted: the ciphertext and its nonce and tag are the same bytes
    assert after["db"] == before["db"] and after["header"]["params"] == before["header"]["params"]
    old_slot = [s for s in envelope.slots_of(before) if s.type == "passphrase"]
    new_slot = [s for s in envelope.slots_of(after) if s.type == "passphrase"]
    assert len(old_slot) == len(new_slot) == 1 and new_slot[0].salt != old_slot[0].salt
    assert after["authvault"]["header_mac"] != before["authvault"]["header_mac"]
    # known answer: scrypt of the new passphrase under the new slot's salt opens it; the old does not
    key = slots.unwrap_with_kek(new_slot[0], slots.derive_passphrase_kek(new_slot[0], NEW))
    assert envelope.open_db(after, key)["entries"]
    with pytest.raises(WrongPassphrase):
        envelope.unlock_with_passphrase(after, PASSPHRASE)
    # this browser stays unlocked
    assert unlocked.get("/api/codes").status_code == 200
    lock(unlocked)
    resp = unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "wrong_passphrase"
    assert unlocked.post("/api/unlock", {"passphrase": NEW}).status_code == 200
    assert [a["issuer"] for a in unlocked.get("/api/codes").get_json()["accounts"]] == ["Example"]
    kinds = [e["kind"] for e in unlocked.get("/api/devices/events").get_json()["events"]]
    assert "passphrase_changed" in kinds


def test_passkeys_keep_unlocking_and_can_stand_in_for_the_current_passphrase(
        unlocked: Api, app, minute_passed: None) -> None:  # type: ignore[no-untyped-def]
    assert unlocked.post("/api/accounts", {"uri": URI}).status_code == 201
    prf, plain = SoftAuthenticator(), SoftAuthenticator(prf=False)
    assert register(unlocked, prf).status_code == 201
    assert register(unlocked, plain).status_code == 201  # a device-key passkey (no PRF)
    dev = device_id(unlocked)
    passkey_slots = [s.to_json() for s in envelope.slots_of(envelope_of(app, dev)) if s.type == "passkey"]
    assert len(passkey_slots) == 2
    # no current passphrase and no recent passkey: refused, nothing written
    resp = unlocked.post("/api/passphrase", {"new": NEW})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "reauth_required"
    assert failures(app, dev) == 0
    assert login(unlocked, prf).status_code == 200  # the passkey prompt the page makes
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(web_session, "REAUTH_SECONDS", 60)
        resp = unlocked.post("/api/passphrase", {"current": "", "new": NEW})
    assert resp.status_code == 200, resp.get_json()
    # both passkey slots are kept exactly as they were, and both still unlock
    assert [s.to_json() for s in envelope.slots_of(envelope_of(app, dev)) if s.type == "passkey"] == passkey_slots
    for auth in (prf, plain):
        lock(unlocked)
        resp = login(unlocked, auth)
        assert resp.status_code == 200, resp.get_json()
        assert [a["issuer"] for a in unlocked.get("/api/codes").get_json()["accounts"]] == ["Example"]
    lock(unlocked)
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 401
    assert unlocked.post("/api/unlock", {"passphrase": NEW}).status_code == 200


def test_other_sessions_of_this_device_end(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    other = second_browser_session(app, unlocked)
    third = second_browser_session(app, unlocked)
    resp = unlocked.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW})
    assert resp.status_code == 200 and resp.get_json()["sessions_ended"] == 2
    assert other.get("/api/codes").status_code == 401
    assert third.get("/api/codes").status_code == 401
    assert unlocked.get("/api/codes").status_code == 200  # the one that changed it stays unlocked
    assert other.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 401
    assert other.post("/api/unlock", {"passphrase": NEW}).status_code == 200


def test_another_devices_sessions_and_passphrase_are_untouched(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    from tests.devices.test_passkeys import enroll_new
    tablet = enroll_new(app, unlocked, "iPad")
    assert unlocked.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW}).status_code == 200
    assert tablet.get("/api/codes").status_code == 200
    tablet.post("/api/lock")
    assert tablet.post("/api/unlock", {"passphrase": PASSPHRASE + "!"}).status_code == 200


def test_a_wrong_current_passphrase_counts_as_a_failed_unlock(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    dev = device_id(unlocked)
    before = envelope_of(app, dev)
    other = second_browser_session(app, unlocked)
    resp = unlocked.post("/api/passphrase", {"current": "not the passphrase", "new": NEW})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "wrong_passphrase"
    assert failures(app, dev) == 1
    assert envelope_of(app, dev) == before
    events = unlocked.get("/api/devices/events").get_json()["events"]
    assert events[0]["kind"] == "unlock_failed"
    # the tenth failure ends the device's sessions, as ten wrong unlocks do; then it waits
    codes = [unlocked.post("/api/passphrase", {"current": f"guess {i}", "new": NEW}).status_code for i in range(9)]
    assert codes == [401] * 9
    assert other.get("/api/codes").status_code == 401
    assert unlocked.get("/api/codes").status_code == 401
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 429
    assert envelope_of(app, dev) == before


def test_a_right_current_passphrase_clears_earlier_failures(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    dev = device_id(unlocked)
    assert unlocked.post("/api/passphrase", {"current": "nope nope", "new": NEW}).status_code == 401
    assert unlocked.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW}).status_code == 200
    assert failures(app, dev) == 0


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"current": PASSPHRASE, "new": "short"}, 400, "passphrase_too_short"),
    ({"current": PASSPHRASE, "new": "x" * 1025}, 400, "passphrase_too_long"),
    ({"current": PASSPHRASE}, 400, "passphrase_too_short"),
    ({"current": PASSPHRASE, "new": 12345678}, 400, "passphrase_too_short"),
    ({"current": ["a"], "new": NEW}, 400, "invalid_field"),
    ({"current": PASSPHRASE, "new": PASSPHRASE}, 400, "passphrase_unchanged"),
])
def test_refusals_change_nothing(unlocked: Api, app, body: dict, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    dev = device_id(unlocked)
    before = envelope_of(app, dev)
    resp = unlocked.post("/api/passphrase", body)
    assert resp.status_code == status and resp.get_json()["error"]["code"] == code
    assert envelope_of(app, dev) == before
    assert failures(app, dev) == 0


def test_locked_or_without_a_body_is_refused(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    resp = unlocked.call("POST", "/api/passphrase", data="not json", content_type="text/plain")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "json_required"
    lock(unlocked)
    assert unlocked.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW}).status_code == 401


def test_no_passphrase_in_the_database_logs_or_answers(unlocked: Api, app, all_logs) -> None:  # type: ignore[no-untyped-def]
    resp = unlocked.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW})
    assert NEW not in resp.get_data(as_text=True)
    dump = "\n".join(sqlite3.connect(app.config["AUTHVAULT"].db_path).iterdump())
    for secret in (PASSPHRASE, NEW):
        assert secret not in dump and secret not in all_logs.text


def test_the_offline_copy_handed_out_afterwards_carries_the_new_slot(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    first = unlocked.get("/api/offline-copy").get_json()
    assert unlocked.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW}).status_code == 200
    again = unlocked.get("/api/offline-copy?have=" + first["generation"]).get_json()
    assert not again.get("unchanged") and again["generation"] != first["generation"]
    assert again["envelope"] == envelope_of(app, device_id(unlocked))
    assert envelope.unlock_with_passphrase(again["envelope"], NEW)
    with pytest.raises(WrongPassphrase):
        envelope.unlock_with_passphrase(again["envelope"], PASSPHRASE)


def test_a_backup_made_afterwards_opens_with_the_recovery_key_and_never_with_a_passphrase(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A backup's vault has one slot, the recovery key's: the device's passphrase, old or new, is in
    no backup, so a change needs no new backup key, and the next backup restores as before."""
    from tests.web.test_backup_api import add, make_device, read_object
    phone = make_device(tmp_path, "iPhone")
    target = {"kind": "folder", "path": str(tmp_path / "nas")}
    (tmp_path / "nas").mkdir()
    add(phone, "GitHub")
    key = phone.post("/api/backup/enable", {"target": target}).get_json()["recovery_key"]
    before = phone.get("/api/backup").get_json()["generation"]
    assert phone.post("/api/passphrase", {"current": PASSPHRASE, "new": NEW}).status_code == 200
    add(phone, "GitLab")  # a backup made after the change
    assert phone.get("/api/backup").get_json()["generation"] > before
    vault = read_object(target)["vault"]
    slots_there = vault["header"]["slots"]
    assert len(slots_there) == 1
    for passphrase in (PASSPHRASE, NEW):
        with pytest.raises(WrongPassphrase):
            envelope.read_aegis_vault(vault, passphrase)
    laptop = make_device(tmp_path, "Laptop")
    resp = laptop.post("/api/backup/restore", {"target": target, "recovery_key": key})
    assert resp.status_code == 200, resp.get_json()
    assert sorted(a["issuer"] for a in laptop.get("/api/codes").get_json()["accounts"]) == ["GitHub", "GitLab"]
