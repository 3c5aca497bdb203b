"""The HTTP side of moving in and out: /api/import, /api/export, one account's QR code, /api/send*."""
from __future__ import annotations

import base64
import functools
import io
import json
import os
import random
from collections.abc import Callable
from typing import Any

import pytest

from authvault import qr
from authvault.db import connect, transaction
from authvault.devices import registry
from authvault.interop import google_migration, importers
from authvault.model import Account
from authvault.otp import to_uri
from authvault.vault import store as accts
from authvault.vault.crypto import ScryptParams
from tests.conftest import PASSPHRASE, Api
from tests.paths import FIXTURES

AEGIS = FIXTURES / "importers" / "aegis-fixtures"


@functools.cache
def fixture_bytes(name: str) -> bytes:
    """An Aegis fixture file, read when a test needs it (without the fixture folder only those
    tests are skipped, tests/plugins/suite.py)."""
    return (AEGIS / name).read_bytes()


def plain() -> bytes:
    return fixture_bytes("aegis_plain.json")


def encrypted() -> bytes:
    return fixture_bytes("aegis_encrypted.json")

FIXTURE_COUNT = 7


def upload(api: Api, data: bytes, filename: str = "export.json", **fields: Any):  # type: ignore[no-untyped-def]
    """POST /api/import with a file and form fields."""
    form: dict[str, Any] = {"file": (io.BytesIO(data), filename)}
    form.update({k: str(v).lower() if isinstance(v, bool) else v for k, v in fields.items()})
    return api.post("/api/import", json=None, data=form, content_type="multipart/form-data")


def codes(api: Api) -> list[dict[str, Any]]:
    resp = api.get("/api/codes")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["accounts"]


def audit_kinds(app, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    conn = connect(app.config["AUTHVAULT"].db_path)
    try:
        return [r["detail"] for r in conn.execute("SELECT detail FROM audit_events WHERE kind = ?", (kind,))]
    finally:
        conn.close()


def add_uri(api: Api, uri: str) -> dict[str, Any]:
    resp = api.post("/api/accounts", {"uri": uri})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["added"][0]


def secret_uri(n: int, issuer: str = "Service") -> str:
    secret = base64.b32encode(f"secret-number-{n:06d}".encode()).decode().rstrip("=")
    return f"otpauth://totp/{issuer}{n}:user{n}?secret={secret}&issuer={issuer}{n}"


# --- import ----------------------------------------------------------------------------------------

def test_import_previews_without_writing(unlocked: Api) -> None:
    resp = upload(unlocked, plain())
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["preview"] is True and body["format"] == "aegis" and body["count"] == FIXTURE_COUNT
    assert {(a["issuer"], a["name"], a["type"]) for a in body["add"]} >= {("Deno", "Mason", "totp"),
                                                                           ("Boeing", "Sophia", "steam")}
    assert all("secret" not in a for a in body["add"])
    assert body["skipped"] == []
    assert codes(unlocked) == []
    assert audit_kinds(unlocked.client.application, "import") == []


def test_import_confirm_adds_and_twice_adds_nothing(unlocked: Api) -> None:
    first = upload(unlocked, plain(), confirm=True)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["count"] == FIXTURE_COUNT
    assert len(codes(unlocked)) == FIXTURE_COUNT
    again_preview = upload(unlocked, plain()).get_json()
    assert again_preview["count"] == 0 and len(again_preview["skipped"]) == FIXTURE_COUNT
    assert {s["code"] for s in again_preview["skipped"]} == {"duplicate"}
    second = upload(unlocked, plain(), confirm=True)
    assert second.status_code == 200 and second.get_json()["count"] == 0
    assert len(codes(unlocked)) == FIXTURE_COUNT
    assert audit_kinds(unlocked.client.application, "import") == [
        "aegis: 7 added, 0 skipped", "aegis: 0 added, 7 skipped"]


def test_import_encrypted_needs_its_password(unlocked: Api) -> None:
    resp = upload(unlocked, encrypted())
    assert resp.status_code == 400
    err = resp.get_json()["error"]
    assert err["code"] == "password_required" and "Aegis" in err["message"]
    wrong = upload(unlocked, encrypted(), password="not-the-password")
    assert wrong.status_code == 400 and wrong.get_json()["error"]["code"] == "wrong_password"
    ok = upload(unlocked, encrypted(), password="test")
    assert ok.status_code == 200 and ok.get_json()["count"] == FIXTURE_COUNT
    assert codes(unlocked) == []
    # the confirm call carries the file and its password again: the server kept nothing
    assert upload(unlocked, encrypted(), confirm=True).get_json()["error"]["code"] == "password_required"
    done = upload(unlocked, encrypted(), password="test", confirm=True)
    assert done.status_code == 201 and len(codes(unlocked)) == FIXTURE_COUNT


def test_import_preview_names_duplicates_unsupported_and_damaged_entries(unlocked: Api) -> None:
    doc = json.loads(plain())
    entries = doc["db"]["entries"]
    motp = dict(entries[0], type="motp", name="Motp")
    broken = dict(entries[1], name="Broken")
    broken["info"] = dict(entries[1]["info"], secret="not base32 !!")
    doc["db"]["entries"] = entries + [motp, broken]
    first = entries[0]
    add_uri(unlocked, f"otpauth://totp/{first['issuer']}:{first['name']}?secret={first['info']['secret']}"
                      f"&issuer={first['issuer']}")
    body = upload(unlocked, json.dumps(doc).encode()).get_json()
    assert body["count"] == FIXTURE_COUNT - 1
    reasons = {(s["name"], s["code"]) for s in body["skipped"]}
    assert reasons == {(first["name"], "duplicate"), ("Motp", "unsupported_type"), ("Broken", "damaged_entry")}
    assert all(s["reason"] for s in body["skipped"])


BAD_FILES: dict[str, Callable[[], bytes]] = {
    "half-an-encrypted-vault": lambda: encrypted()[: len(encrypted()) // 2],
    "start-of-a-plain-vault": lambda: plain()[:200],
    "text": lambda: b"hello, world\n",
    "noise": lambda: bytes(random.Random(5).randrange(256) for _ in range(3000)),
}


@pytest.mark.parametrize("bad", sorted(BAD_FILES))
def test_import_of_a_bad_file_is_a_clear_error_and_adds_nothing(unlocked: Api, bad: str) -> None:
    data = BAD_FILES[bad]()
    for confirm in (False, True):
        resp = upload(unlocked, data, password="test", confirm=confirm)
        assert 400 <= resp.status_code < 500, resp.get_json()
        assert resp.get_json()["error"]["code"] in {"damaged_file", "unknown_format", "wrong_password"}
    assert codes(unlocked) == []


def test_import_every_fixture_truncated_never_500(unlocked: Api) -> None:
    fixtures = json.loads((FIXTURES / "importers" / "expected.json").read_text())["fixtures"]
    for f in {f["file"] for f in fixtures}:
        data = (FIXTURES / "importers" / f).read_bytes()
        for cut in (len(data) // 3, len(data) - 7):
            resp = upload(unlocked, data[:cut], filename=os.path.basename(f), password="test", confirm=True)
            assert resp.status_code != 500, f
    # some truncated files still hold whole entries (text lists): nothing else may have been written
    assert all(not a["action_required"] for a in codes(unlocked))


def test_import_a_google_transfer_qr_image(unlocked: Api) -> None:
    accs = [Account(secret=f"google-secret-{i:04d}".encode(), issuer=f"G{i}", name=f"me{i}") for i in range(3)]
    uris, _ = google_migration.build_migration_uris(accs)
    png = qr.make_qr_png(uris[0])
    body = upload(unlocked, png, filename="screenshot.png").get_json()
    assert body["format"] == "google_migration_image" and body["count"] == 3
    assert codes(unlocked) == []
    assert upload(unlocked, png, filename="screenshot.png", confirm=True).status_code == 201
    assert sorted(a["issuer"] for a in codes(unlocked)) == ["G0", "G1", "G2"]


def test_import_with_a_chosen_format(unlocked: Api) -> None:
    assert upload(unlocked, plain(), format="aegis").get_json()["count"] == FIXTURE_COUNT
    resp = upload(unlocked, plain(), format="no-such-app")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "unknown_format"


def test_import_refuses_no_file_and_a_locked_device(unlocked: Api) -> None:
    resp = unlocked.post("/api/import", json=None, data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "file_required"
    unlocked.post("/api/lock")
    assert upload(unlocked, plain()).status_code == 401


def test_import_formats_lists_every_importer(unlocked: Api) -> None:
    names = {f["name"] for f in unlocked.get("/api/import/formats").get_json()["formats"]}
    assert names == {imp.name for imp in importers.IMPORTERS}


# --- export ----------------------------------------------------------------------------------------

@pytest.fixture
def stocked(unlocked: Api) -> Api:
    """An unlocked device holding the 7 accounts of the Aegis fixture."""
    assert upload(unlocked, plain(), confirm=True).status_code == 201
    return unlocked


def export(api: Api, **body: Any):  # type: ignore[no-untyped-def]
    return api.post("/api/export", {"passphrase": PASSPHRASE, **body})


def data_files(api: Api) -> set[str]:
    root = api.client.application.config["AUTHVAULT"].data_dir
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "sqlite3" not in p.name}


def age_reauth(api: Api, seconds: float = 61) -> None:
    """Let time pass since this browser last proved the person (unlock, passkey or passphrase)."""
    with api.client.session_transaction() as sess:
        if "reauth" in sess:
            sess["reauth"] = dict(sess["reauth"], at=sess["reauth"]["at"] - seconds)


def test_a_fresh_unlock_counts_as_reauthentication_for_a_minute(stocked: Api) -> None:
    assert stocked.post("/api/lock").status_code == 200
    assert stocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
    assert stocked.post("/api/export", {"format": "google"}).status_code == 200  # just proved it is them
    age_reauth(stocked)
    resp = stocked.post("/api/export", {"format": "google"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "passphrase_required"


def test_export_needs_the_passphrase(stocked: Api) -> None:
    age_reauth(stocked)
    resp = stocked.post("/api/export", {"format": "aegis", "password": "export-password"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "passphrase_required"
    resp = export(stocked, format="aegis", password="export-password", passphrase="wrong passphrase")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "wrong_passphrase"
    assert audit_kinds(stocked.client.application, "unlock_failed") == ["wrong_passphrase"]
    assert audit_kinds(stocked.client.application, "export") == []


def test_ten_wrong_export_passphrases_lock_the_device(stocked: Api) -> None:
    """Export failures count like unlock failures: a stranger at an unlocked phone guessing the
    passphrase at export gets it locked, and unlocking waits out the window (README, Locking)."""
    for _ in range(10):
        assert export(stocked, format="google", passphrase="wrong passphrase").status_code == 401
    assert stocked.refresh()["state"] == "locked"
    assert stocked.get("/api/codes").status_code == 401
    resp = stocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert resp.status_code == 429  # and the real passphrase has to wait out the window too


def test_export_encrypted_aegis_reads_back(stocked: Api) -> None:
    before = data_files(stocked)
    resp = export(stocked, format="aegis", password="export-password")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="authvault-export-')
    assert resp.headers["Cache-Control"] == "no-store"
    assert b"Deno" not in resp.data  # encrypted
    back = importers.import_file(resp.data, password="export-password")
    expected = {(a["issuer"], a["name"], a["type"], a["digits"]) for a in codes(stocked)}
    assert {(a.issuer, a.name, a.type, a.digits) for a in back.accounts} == expected
    assert data_files(stocked) == before  # nothing of the export stays on the server
    assert audit_kinds(stocked.client.application, "export") == ["aegis"]


def test_export_encrypted_needs_a_password(stocked: Api) -> None:
    assert export(stocked, format="aegis").get_json()["error"]["code"] == "password_required"
    assert export(stocked, format="aegis", password="short").get_json()["error"]["code"] == "password_too_short"


@pytest.mark.parametrize("fmt", ["aegis-plain", "uris", "2fauth"])
def test_export_unencrypted_needs_an_explicit_yes(stocked: Api, fmt: str) -> None:
    resp = export(stocked, format=fmt)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "unencrypted_not_confirmed"
    resp = export(stocked, format=fmt, i_understand_unencrypted="yes")  # only a JSON true counts
    assert resp.status_code == 400
    resp = export(stocked, format=fmt, i_understand_unencrypted=True)
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    back = importers.import_file(resp.data)
    assert len(back.accounts) == FIXTURE_COUNT
    assert audit_kinds(stocked.client.application, "export") == [fmt]


def test_export_google_codes_decode_to_the_same_accounts(unlocked: Api) -> None:
    for i in range(25):
        add_uri(unlocked, secret_uri(i))
    add_uri(unlocked, "otpauth://totp/Odd:me?secret=JBSWY3DPEHPK3PXP&issuer=Odd&period=60")
    resp = export(unlocked, format="google")
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body["uris"]) == 3 == len(body["qr_svgs"])
    assert body["not_exportable"] == [{"issuer": "Odd", "name": "me",
                                       "reason": "Google Authenticator only uses codes that change every 30 seconds."}]
    batches = [google_migration.parse_migration_uri(u) for u in body["uris"]]
    assert [len(b.accounts) for b in batches] == [10, 10, 5]
    assert [b.batch_index for b in batches] == [0, 1, 2] and {b.batch_size for b in batches} == {3}
    got = {(a.issuer, a.name, a.secret) for b in batches for a in b.accounts}
    want = set()
    for i in range(25):
        want.add((f"Service{i}", f"user{i}", f"secret-number-{i:06d}".encode()))
    assert got == want
    assert all(svg.lstrip().startswith(("<?xml", "<svg")) for svg in body["qr_svgs"])
    assert body["qr_svgs"][0] == qr.make_qr_svg(body["uris"][0])


def test_export_of_an_empty_vault_and_unknown_format(unlocked: Api) -> None:
    assert export(unlocked, format="google").get_json()["error"]["code"] == "nothing_to_export"
    assert export(unlocked, format="csv").get_json()["error"]["code"] == "unknown_export_format"


def test_account_qr_after_the_passphrase(stocked: Api) -> None:
    acc = next(a for a in codes(stocked) if a["issuer"] == "Deno")
    url = f"/api/accounts/{acc['id']}/qr"
    age_reauth(stocked)
    assert stocked.get(url).get_json()["error"]["code"] == "reauth_required"
    assert stocked.post(url, {"passphrase": "nope nope nope"}).status_code == 401
    resp = stocked.post(url, {"passphrase": PASSPHRASE})
    assert resp.status_code == 200
    body = resp.get_json()
    conn = connect(stocked.client.application.config["AUTHVAULT"].db_path)
    try:
        device = registry.list_devices(conn)[0]
    finally:
        conn.close()
    assert body["label"] == "Deno (Mason)" and device.name == "iPhone"
    # the QR code holds exactly the account's otpauth URI
    uri = to_uri(Account(secret=base64.b32decode("4SJHB4GSD43FZBAI7C2HLRJGPQ======"), issuer="Deno", name="Mason"))
    assert body["svg"] == qr.make_qr_svg(uri)
    svg = stocked.get(url)  # within two minutes of the passphrase: as an image
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and svg.data.decode() == body["svg"]
    assert stocked.post("/api/accounts/nope/qr", {"passphrase": PASSPHRASE}).status_code == 404


# --- pages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, marker", [("/import", 'id="import-form"'), ("/export", 'id="export-form"'),
                                          ("/send", 'id="send-form"'), ("/inbox", 'id="inbox-list"')])
def test_pages(unlocked: Api, path: str, marker: str) -> None:
    resp = unlocked.get(path)
    assert resp.status_code == 200 and marker in resp.get_data(as_text=True)
    assert "<script>" not in resp.get_data(as_text=True)  # CSP: no inline scripts


def test_pages_need_an_unlocked_device(api: Api) -> None:
    api.setup()
    api.post("/api/lock")
    for path in ("/import", "/export", "/send", "/inbox"):
        assert api.get(path).status_code == 302


def test_settings_and_edit_link_here(stocked: Api) -> None:
    page = stocked.get("/settings").get_data(as_text=True)
    assert 'href="/import"' in page and 'href="/export"' in page and 'href="/send"' in page
    acc = codes(stocked)[0]
    edit = stocked.get(f"/accounts/{acc['id']}").get_data(as_text=True)
    assert f'href="/accounts/{acc["id"]}/qr"' in edit
    assert stocked.get(f"/accounts/{acc['id']}/qr").status_code == 200


# --- sending to another own device --------------------------------------------------------------------

def enroll(app, phone: Api, name: str = "iPad") -> Api:  # type: ignore[no-untyped-def]
    """A second device, enrolled through the add-a-device link (unlocked)."""
    link = phone.post("/api/devices/enroll")
    assert link.status_code == 201, link.get_json()
    pad = Api(app.test_client())
    resp = pad.post("/api/enroll", {"token": link.get_json()["token"], "device_name": name,
                                    "passphrase": "ipad passphrase 123"})
    assert resp.status_code == 201, resp.get_json()
    pad.csrf = resp.get_json()["csrf_token"]
    return pad


@pytest.fixture
def two(app, stocked: Api) -> tuple[Api, Api]:  # type: ignore[no-untyped-def]
    return stocked, enroll(app, stocked)


def device_id(api: Api) -> str:
    return api.refresh()["device"]["id"]


def test_enrolled_device_can_receive_at_once(two: tuple[Api, Api]) -> None:
    phone, pad = two
    devices = phone.get("/api/send/devices").get_json()["devices"]
    assert [(d["name"], d["can_receive"]) for d in devices] == [("iPad", True)]


def test_send_keep_and_decline(app, two: tuple[Api, Api]) -> None:  # type: ignore[no-untyped-def]
    phone, pad = two
    mine = codes(phone)
    ids = [mine[0]["id"], mine[1]["id"], mine[2]["id"]]
    resp = phone.post("/api/send", {"device_id": device_id(pad), "account_ids": ids})
    assert resp.status_code == 201, resp.get_json()
    tid = resp.get_json()["transfer"]["id"]
    assert phone.get("/api/send").get_json()["transfers"][0]["count"] == 3

    # the server holds only ciphertext
    conn = connect(app.config["AUTHVAULT"].db_path)
    try:
        sealed = conn.execute("SELECT sealed FROM transfers").fetchone()[0]
    finally:
        conn.close()
    assert mine[0]["issuer"] not in sealed

    inbox = pad.get("/api/send/inbox").get_json()["transfers"]
    assert len(inbox) == 1 and inbox[0]["from"]["name"] == "iPhone" and inbox[0]["count"] == 3
    assert [(a["issuer"], a["name"]) for a in inbox[0]["accounts"]] == [(m["issuer"], m["name"]) for m in mine[:3]]
    assert not any(a["already_here"] for a in inbox[0]["accounts"])
    # the sender cannot keep what was sent to the iPad
    assert phone.post(f"/api/send/inbox/{tid}", {"keep": [0]}).status_code == 404

    kept = pad.post(f"/api/send/inbox/{tid}", {"keep": [0, 2]})
    assert kept.status_code == 201, kept.get_json()
    assert kept.get_json()["declined"] == 1
    assert sorted(a["issuer"] for a in codes(pad)) == sorted([mine[0]["issuer"], mine[2]["issuer"]])
    assert pad.get("/api/send/inbox").get_json()["transfers"] == []
    assert pad.post(f"/api/send/inbox/{tid}", {"keep": [0]}).status_code == 404  # once only
    assert phone.get("/api/send").get_json()["transfers"] == []

    # sent again: what is already there is marked, and keeping it adds nothing
    tid2 = phone.post("/api/send", {"device_id": device_id(pad), "account_ids": [ids[0]]}).get_json()["transfer"]["id"]
    assert pad.get("/api/send/inbox").get_json()["transfers"][0]["accounts"][0]["already_here"] is True
    again = pad.post(f"/api/send/inbox/{tid2}", {"keep": [0]})
    assert again.status_code == 200 and again.get_json()["skipped"][0]["code"] == "duplicate"
    assert len(codes(pad)) == 2

    # declined: nothing added, the row is gone
    tid3 = phone.post("/api/send", {"device_id": device_id(pad), "account_ids": [ids[1]]}).get_json()["transfer"]["id"]
    assert pad.delete(f"/api/send/inbox/{tid3}").status_code == 200
    assert len(codes(pad)) == 2 and pad.get("/api/send/inbox").get_json()["transfers"] == []

    assert audit_kinds(app, "transfer_sent") == ["3 to iPad", "1 to iPad", "1 to iPad"]
    assert audit_kinds(app, "transfer_received")[0].startswith("2 kept, 1 declined")
    assert audit_kinds(app, "transfer_declined") == ["1 from iPhone"]


def test_sender_takes_a_transfer_back(two: tuple[Api, Api]) -> None:
    phone, pad = two
    tid = phone.post("/api/send", {"device_id": device_id(pad),
                                   "account_ids": [codes(phone)[0]["id"]]}).get_json()["transfer"]["id"]
    assert pad.delete(f"/api/send/{tid}").status_code == 404  # only the sender takes it back
    assert phone.delete(f"/api/send/{tid}").status_code == 200
    assert pad.get("/api/send/inbox").get_json()["transfers"] == []


def test_send_refusals(two: tuple[Api, Api]) -> None:
    phone, pad = two
    acc = codes(phone)[0]["id"]
    cases = [({"account_ids": [acc]}, 400, "device_required"),
             ({"device_id": device_id(pad), "account_ids": []}, 400, "nothing_to_send"),
             ({"device_id": "nope", "account_ids": [acc]}, 404, "device_not_found"),
             ({"device_id": device_id(pad), "account_ids": ["nope"]}, 404, "account_not_found"),
             ({"device_id": device_id(phone), "account_ids": [acc]}, 400, "same_device")]
    for body, status, code in cases:
        resp = phone.post("/api/send", body)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (status, code), body
    assert pad.post("/api/send/inbox/nope", {"keep": []}).status_code == 404


def test_inbox_keep_validation(two: tuple[Api, Api]) -> None:
    phone, pad = two
    tid = phone.post("/api/send", {"device_id": device_id(pad),
                                   "account_ids": [codes(phone)[0]["id"]]}).get_json()["transfer"]["id"]
    assert pad.post(f"/api/send/inbox/{tid}", {"keep": [5]}).get_json()["error"]["code"] == "keep_out_of_range"
    assert pad.post(f"/api/send/inbox/{tid}", {"keep": "all"}).get_json()["error"]["code"] == "keep_required"
    assert pad.post(f"/api/send/inbox/{tid}", {"keep": []}).status_code == 200  # keep none = decline
    assert codes(pad) == []


def test_a_tampered_transfer_is_refused_not_imported(app, two: tuple[Api, Api]) -> None:  # type: ignore[no-untyped-def]
    phone, pad = two
    tid = phone.post("/api/send", {"device_id": device_id(pad),
                                   "account_ids": [codes(phone)[0]["id"]]}).get_json()["transfer"]["id"]
    conn = connect(app.config["AUTHVAULT"].db_path)
    try:
        sealed = json.loads(conn.execute("SELECT sealed FROM transfers").fetchone()[0])
        ct = bytearray(base64.b64decode(sealed["ct"]))
        ct[3] ^= 1
        sealed["ct"] = base64.b64encode(bytes(ct)).decode()
        with transaction(conn):
            conn.execute("UPDATE transfers SET sealed = ?", (json.dumps(sealed),))
    finally:
        conn.close()
    item = pad.get("/api/send/inbox").get_json()["transfers"][0]
    assert item["error"]["code"] == "transfer_damaged" and item["accounts"] == []
    resp = pad.post(f"/api/send/inbox/{tid}", {"keep": [0]})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "transfer_damaged"
    assert codes(pad) == []
    assert pad.delete(f"/api/send/inbox/{tid}").status_code == 200  # it can still be declined


def test_a_device_without_a_key_gets_one_at_its_next_unlock(app, stocked: Api) -> None:  # type: ignore[no-untyped-def]
    """A device made before sending existed has no key: "Send to" explains; its next unlock makes one."""
    conn = connect(app.config["AUTHVAULT"].db_path)
    try:
        with transaction(conn):
            device, cookie = registry.create_device(conn, "Old iPad")
            accts.create_vault(conn, device.id, "old ipad passphrase", ScryptParams(2**4, 8, 1))
    finally:
        conn.close()
    devices = stocked.get("/api/send/devices").get_json()["devices"]
    assert [(d["name"], d["can_receive"]) for d in devices] == [("Old iPad", False)]
    resp = stocked.post("/api/send", {"device_id": device.id, "account_ids": [codes(stocked)[0]["id"]]})
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["code"] == "receiver_not_ready" and "unlock it once" in err["message"]

    pad = Api(app.test_client())
    pad.client.set_cookie("authvault_device", cookie)
    assert pad.refresh()["state"] == "locked"
    assert pad.post("/api/unlock", {"passphrase": "old ipad passphrase"}).status_code == 200
    assert stocked.get("/api/send/devices").get_json()["devices"][0]["can_receive"] is True
    assert stocked.post("/api/send", {"device_id": device.id,
                                      "account_ids": [codes(stocked)[0]["id"]]}).status_code == 201


def test_the_list_shows_what_arrived_once_per_unlock(two: tuple[Api, Api]) -> None:
    phone, pad = two
    assert pad.get("/").status_code == 200
    phone.post("/api/send", {"device_id": device_id(pad), "account_ids": [codes(phone)[0]["id"]]})
    pad.post("/api/lock")
    assert pad.post("/api/unlock", {"passphrase": "ipad passphrase 123"}).status_code == 200
    first = pad.get("/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/inbox")
    assert pad.get("/").status_code == 200  # "decide later": the list opens as usual
    page = pad.get("/settings").get_data(as_text=True)
    assert 'id="inbox-link"' in page and "1 account arrived" in page


def test_send_endpoints_need_an_unlocked_device(two: tuple[Api, Api]) -> None:
    phone, pad = two
    pad.post("/api/lock")
    for method, path in [("GET", "/api/send/devices"), ("GET", "/api/send/inbox"), ("POST", "/api/send"),
                         ("GET", "/api/send")]:
        assert pad.call(method, path, json={}).status_code == 401, path


def test_import_an_image_without_a_qr_code(unlocked: Api) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(out, format="PNG")
    resp = upload(unlocked, out.getvalue(), filename="photo.png")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "no_qr_code"
    assert codes(unlocked) == []


def test_import_fills_an_action_required_placeholder(app, unlocked: Api) -> None:  # type: ignore[no-untyped-def]
    """An account waiting for a new QR code (as a restore leaves it) is completed by an import, not doubled."""
    first = json.loads(plain())["db"]["entries"][0]
    conn = connect(app.config["AUTHVAULT"].db_path)
    try:
        device = registry.list_devices(conn)[0]
        key = accts.unlock_with_passphrase(conn, device.id, PASSPHRASE)
        placeholder = Account(secret=b"", issuer=first["issuer"], name=first["name"], action_required=True,
                              backup_policy="this-device-only", note="work phone")
        accts.change_accounts(conn, device.id, key, lambda existing: existing + [placeholder])
    finally:
        conn.close()
    preview = upload(unlocked, plain()).get_json()
    (item,) = [a for a in preview["add"] if a["issuer"] == first["issuer"]]
    assert item["completes_action_required"] is True
    assert upload(unlocked, plain(), confirm=True).status_code == 201
    listed = codes(unlocked)
    assert len(listed) == FIXTURE_COUNT and not any(a["action_required"] for a in listed)
    (done,) = [a for a in listed if a["issuer"] == first["issuer"]]
    assert done["id"] == placeholder.id and done["code"]


def test_banner_partial_names_what_arrived(app, two: tuple[Api, Api]) -> None:  # type: ignore[no-untyped-def]
    from flask import render_template_string

    phone, pad = two
    phone.post("/api/send", {"device_id": device_id(pad), "account_ids": [a["id"] for a in codes(phone)[:2]]})
    cookie = "; ".join(f"{name}={pad.client.get_cookie(name).value}"
                       for name in ("authvault_device", "authvault_session"))
    with app.test_request_context("/", headers={"Cookie": cookie}):
        html = render_template_string('{% include "sending/_inbox_banner.html" %}')
    assert 'id="transfer-banner"' in html and "2 accounts arrived from iPhone" in html
    with app.test_request_context("/"):
        assert "transfer-banner" not in render_template_string('{% include "sending/_inbox_banner.html" %}')


# --- odd input: a clear 4xx, never a 500 ---------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"secret": "JBSWY3DPEHPK3PXP", "issuer": "X", "digits": Infinity}',
                                 '{"secret": "JBSWY3DPEHPK3PXP", "issuer": "X", "period": 1e400}',
                                 '{"secret": "JBSWY3DPEHPK3PXP", "issuer": "X", "period": -Infinity}',
                                 '{"secret": "JBSWY3DPEHPK3PXP", "issuer": "X", "digits": 6.9}',
                                 '{"secret": "JBSWY3DPEHPK3PXP", "issuer": "X", "period": true}'])
def test_add_account_fields_of_the_wrong_kind_are_refused(unlocked: Api, raw: str) -> None:
    resp = unlocked.call("POST", "/api/accounts", data=raw, content_type="application/json")
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["code"] == "invalid_number"
    assert codes(unlocked) == []


@pytest.mark.parametrize("body", [{"secret": "JBSWY3DPEHPK3PXP", "issuer": "Bank\ud800"},
                                  {"uri": "otpauth://totp/Bank:me\udfff?secret=JBSWY3DPEHPK3PXP"}])
def test_add_account_with_a_lone_surrogate_is_refused(unlocked: Api, body: dict[str, Any]) -> None:
    resp = unlocked.post("/api/accounts", body)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_text"
    assert codes(unlocked) == []


def test_import_entry_with_a_lone_surrogate_is_skipped_not_a_failed_confirm(unlocked: Api) -> None:
    doc = json.loads(plain())
    doc["db"]["entries"][0]["issuer"] = "Bad\ud800"
    data = json.dumps(doc).encode()  # ASCII JSON with a "\ud800" escape, as any JSON tool writes it
    preview = upload(unlocked, data).get_json()
    assert preview["count"] == FIXTURE_COUNT - 1
    assert [s["code"] for s in preview["skipped"]] == ["damaged_entry"]
    done = upload(unlocked, data, confirm=True)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["count"] == preview["count"] == len(codes(unlocked))


@pytest.mark.parametrize("fmt", [["aegis"], {"aegis": 1}])
def test_export_format_of_the_wrong_type_is_refused(stocked: Api, fmt: Any) -> None:
    resp = export(stocked, format=fmt, password="export-password")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "unknown_export_format"


def long_named(api: Api, count: int) -> None:
    """Accounts whose issuer and name are as long as the API allows, in a script of 3 UTF-8 bytes."""
    for i in range(count):
        secret = base64.b32encode(f"long-named-secret-{i:04d}".encode()).decode().rstrip("=")
        resp = api.post("/api/accounts", {"secret": secret, "issuer": "日" * 198 + f"{i:02d}",
                                          "name": "本" * 198 + f"{i:02d}"})
        assert resp.status_code == 201, resp.get_json()


def test_account_qr_of_a_long_named_account_is_a_clear_error(unlocked: Api) -> None:
    long_named(unlocked, 1)
    (acc,) = codes(unlocked)
    resp = unlocked.post(f"/api/accounts/{acc['id']}/qr", {"passphrase": PASSPHRASE})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "too_long_for_qr"
    resp = unlocked.get(f"/api/accounts/{acc['id']}/qr")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "too_long_for_qr"
    assert audit_kinds(unlocked.client.application, "account_qr_shown") == []


def test_export_google_of_long_named_accounts_splits_codes_and_drops_none(unlocked: Api) -> None:
    long_named(unlocked, 12)
    resp = export(unlocked, format="google")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["not_exportable"] == [] and body["count"] == 12
    batches = [google_migration.parse_migration_uri(u) for u in body["uris"]]
    assert sum(len(b.accounts) for b in batches) == 12
    assert {b.batch_size for b in batches} == {len(batches)}
    assert [b.batch_index for b in batches] == list(range(len(batches)))
    assert len(body["qr_svgs"]) == len(body["uris"])
    assert all(len(u.encode()) <= qr.MAX_QR_BYTES for u in body["uris"])


def test_an_hotp_counter_without_a_next_code_is_refused_before_it_is_stored(unlocked: Api) -> None:
    add_uri(unlocked, "otpauth://totp/Kept:me?secret=JBSWY3DPEHPK3PXP&issuer=Kept")
    resp = unlocked.post("/api/accounts", {"uri": f"otpauth://hotp/Max:me?secret=GEZDGNBVGY3TQOJQ&counter={2**63 - 1}"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_counter"
    assert [a["issuer"] for a in codes(unlocked)] == ["Kept"]  # the list still shows (nothing half-added)
    doc = json.loads(plain())
    entry = dict(doc["db"]["entries"][0], type="hotp", name="Max counter")
    entry["info"] = {"secret": "GEZDGNBVGY3TQOJQ", "algo": "SHA1", "digits": 6, "counter": 2**63 - 1}
    doc["db"]["entries"].append(entry)
    preview = upload(unlocked, json.dumps(doc).encode()).get_json()
    assert [(s["name"], s["code"]) for s in preview["skipped"]] == [("Max counter", "damaged_entry")]
    done = upload(unlocked, json.dumps(doc).encode(), confirm=True)
    assert done.status_code == 201 and done.get_json()["count"] == FIXTURE_COUNT
    assert len(codes(unlocked)) == FIXTURE_COUNT + 1


# --- issue 15: the preview says what was recognised or guessed; confirming computes no codes --------

def test_import_preview_notes_what_was_recognised_or_guessed(unlocked: Api) -> None:
    steam = "FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW"
    text = (f"otpauth://totp/Steam:gaben?secret={steam}&issuer=Steam\n"  # Steam's own QR code
            "otpauth://hotp/Bank:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=5\n"
            "otpauth://totp/example%20finance%3Aee%40ff.gg?secret=JBSWY3DPEHPK3PXP\n").encode()
    body = upload(unlocked, text, filename="uris.txt").get_json()
    notes = {(a["issuer"], a["type"]): a["notes"] for a in body["add"]}
    assert notes[("Steam", "steam")] == ["Recognised as Steam Guard from its issuer “Steam”."]
    assert notes[("Bank", "hotp")] == ["HOTP counter 5"]
    assert notes[("example finance", "totp")] == ["The issuer “example finance” was taken from the label."]
    # The same notes in Japanese for a Japanese browser.
    ja = unlocked.post("/api/import", json=None, data={"file": (io.BytesIO(text), "uris.txt")},
                       content_type="multipart/form-data", headers={"Accept-Language": "ja"}).get_json()
    assert any("Steam Guard と認識" in n for a in ja["add"] for n in a["notes"])
    done = upload(unlocked, text, filename="uris.txt", confirm=True).get_json()
    assert done["count"] == 3
    assert all(a["code"] is None for a in done["added"])  # the list fetches the codes it shows
    by_issuer = {a["issuer"]: a for a in codes(unlocked)}
    assert by_issuer["Steam"]["type"] == "steam" and len(by_issuer["Steam"]["code"]) == 5


@pytest.mark.parametrize(("secret", "ok"), [
    ("gezd gnbv-gy3t qojq gezd gnbv gy3t qojq", True), ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====", True),
    ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA", False), ("GEZDGNBVGY3TQOJ1", False), ("GEZDG", False),
])
def test_the_account_form_takes_exactly_what_the_importers_take(unlocked: Api, secret: str, ok: bool) -> None:
    """The same table as tests/interop/test_import_readings.py's importer test: one decoder, one rule."""
    resp = unlocked.post("/api/accounts", {"secret": secret, "issuer": "ACME", "name": "alice"})
    assert (resp.status_code == 201) is ok, resp.get_json()
    if not ok:
        assert resp.status_code == 400
    via_import = upload(unlocked, f"otpauth://totp/ACME2:alice?secret={secret.replace(' ', '%20')}\n".encode(),
                        filename="uris.txt").get_json()
    taken = via_import["count"] == 1 or [s["code"] for s in via_import["skipped"]] == ["duplicate"]
    assert taken is ok  # (a duplicate of the account just added counts as read)
