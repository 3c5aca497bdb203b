"""Passkeys and devices: the domain logic (availability, slots, device keys, enrollment tokens) and the
HTTP contract, driven by a software authenticator that answers exactly as a browser's toJSON() would."""
from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import pytest

from authvault.devices import enrollment, passkeys
from authvault.vault import crypto, entries, envelope, slots
from authvault.vault.crypto import TEST_SCRYPT
from authvault.vault.errors import WrongPassphrase
from tests.conftest import PASSPHRASE, Api
from tests.soft_authenticator import SoftAuthenticator

URI = "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"


# --- helpers ------------------------------------------------------------------------------------

def error_code(resp) -> str:  # type: ignore[no-untyped-def]
    body = resp.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"]
    return body["error"]["code"]


def status(api: Api) -> dict[str, Any]:
    return api.get("/api/passkeys/status").get_json()


def register(api: Api, auth: SoftAuthenticator, **kw: Any):  # type: ignore[no-untyped-def]
    salt = status(api)["prf_salt"]
    opts = api.post("/api/passkeys/register/options")
    assert opts.status_code == 200, opts.get_json()
    return api.post("/api/passkeys/register/verify", auth.create(opts.get_json(), prf_salt=salt, **kw))


def login(api: Api, auth: SoftAuthenticator, **kw: Any):  # type: ignore[no-untyped-def]
    salt = status(api)["prf_salt"]
    opts = api.post("/api/passkeys/login/options")
    assert opts.status_code == 200, opts.get_json()
    return api.post("/api/passkeys/login/verify", auth.get(opts.get_json(), prf_salt=salt, **kw))


def lock(api: Api) -> None:
    assert api.post("/api/lock").status_code == 200
    assert api.refresh()["state"] == "locked"


def envelope_of(app, device_id: str) -> dict:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(app.config["AUTHVAULT"].db_path)
    try:
        return json.loads(conn.execute("SELECT envelope FROM vaults WHERE device_id = ?", (device_id,)).fetchone()[0])
    finally:
        conn.close()


def enroll_new(app, inviter: Api, name: str = "iPad") -> Api:  # type: ignore[no-untyped-def]
    link = inviter.post("/api/devices/enroll").get_json()
    tablet = Api(app.test_client())
    resp = tablet.post("/api/enroll", {"token": link["token"], "device_name": name, "passphrase": PASSPHRASE + "!"})
    assert resp.status_code == 201, resp.get_json()
    tablet.csrf = resp.get_json()["csrf_token"]
    return tablet


# --- availability -------------------------------------------------------------------------------

@pytest.mark.parametrize(("scheme", "host", "rp_id", "origin", "ok", "reason"), [
    ("http", "localhost:8000", None, None, True, None),
    ("http", "localhost", "localhost", "http://localhost", True, None),
    ("https", "vault.example.com", "vault.example.com", None, True, None),
    ("https", "vault.example.com", "example.com", None, True, None),
    ("https", "vault.example.com:8443", "vault.example.com", "https://vault.example.com:8443", True, None),
    ("http", "192.168.1.10:8000", None, None, False, "ip"),
    ("https", "192.168.1.10", None, None, False, "ip"),
    ("https", "[::1]:8443", None, None, False, "ip"),
    ("http", "authvault.local:8000", "authvault.local", None, False, "http"),
    ("https", "nas.lan", None, None, False, "no_name"),
    ("https", "other.example.org", "vault.example.com", None, False, "other_address"),
    ("http", "localhost:9000", None, "http://localhost:8000", False, "other_address"),
])
def test_availability_says_where_passkeys_work(scheme: str, host: str, rp_id: str | None, origin: str | None,
                                                ok: bool, reason: str | None) -> None:
    av = passkeys.availability(scheme=scheme, host=host, rp_id=rp_id, origin=origin, host_name=None)
    assert av.ok is ok
    assert av.reason == reason
    if ok:
        assert av.rp is not None and av.rp.origin == f"{scheme}://{host}"
    else:
        assert av.message


def test_availability_points_to_the_configured_name() -> None:
    av = passkeys.availability(scheme="http", host="192.168.1.10:8000", rp_id=None, origin=None,
                               host_name="authvault.local")
    assert av.reason == "ip" and av.better_url == "https://authvault.local"


# --- slots and device keys ----------------------------------------------------------------------

def _vault() -> tuple[dict, bytes]:
    key = crypto.new_master_key()
    env = envelope.seal(entries.db_from_accounts([]), key, [slots.passphrase_slot(key, "pass phrase", TEST_SCRYPT)],
                        "dev1")
    return env, key


def test_prf_slot_opens_with_the_prf_output_only() -> None:
    env, key = _vault()
    prf = b"\x11" * 32
    env = passkeys.add_unlock_slot(env, key, "cred1", "prf", prf)
    pk = _pk("cred1", "prf")
    assert passkeys.unlock_vault(env, pk, prf) == key
    with pytest.raises(passkeys.PasskeyError) as exc:
        passkeys.unlock_vault(env, pk, b"\x22" * 32)
    assert exc.value.code == "passkey_key_mismatch"


def test_device_key_slot_is_separate_from_prf_and_replaced_on_upgrade() -> None:
    env, key = _vault()
    device_key = passkeys.new_device_key()
    env = passkeys.add_unlock_slot(env, key, "cred1", "device_key", device_key)
    assert [s.credential_id for s in envelope.slots_of(env) if s.type == "passkey"] == ["device-key:cred1"]
    assert passkeys.unlock_vault(env, _pk("cred1", "device_key"), device_key) == key
    env = passkeys.add_unlock_slot(env, key, "cred1", "prf", b"\x33" * 32)  # the upgrade
    assert [s.credential_id for s in envelope.slots_of(env) if s.type == "passkey"] == ["cred1"]


def test_removing_passkey_slots_keeps_the_passphrase() -> None:
    env, key = _vault()
    env = passkeys.add_unlock_slot(env, key, "a", "prf", b"\x01" * 32)
    env = passkeys.add_unlock_slot(env, key, "b", "device_key", b"\x02" * 32)
    env = passkeys.remove_unlock_slots(env, key, "a")
    env = passkeys.remove_device_key_slots(env, key)
    assert [s.type for s in envelope.slots_of(env)] == ["passphrase"]
    assert envelope.unlock_with_passphrase(env, "pass phrase") == key


def test_database_alone_does_not_open_a_device_key_slot() -> None:
    env, key = _vault()
    env = passkeys.add_unlock_slot(env, key, "cred1", "device_key", passkeys.new_device_key())
    with pytest.raises(WrongPassphrase):
        envelope.unlock_with_passkey(env, "device-key:cred1", b"\x00" * 32)


@pytest.mark.parametrize(("value", "device", "ok"), [
    (None, "d1", False), ("", "d1", False), ("d1.", "d1", False), ("d2." + "A" * 43, "d1", False),
    ("d1." + "A" * 43, "d1", True), ("d1.short", "d1", False), ("no-dot", "d1", False),
])
def test_device_key_cookie_belongs_to_one_device(value: str | None, device: str, ok: bool) -> None:
    assert (passkeys.parse_device_key_cookie(value, device) is not None) is ok


def test_prf_output_is_read_from_client_extension_results() -> None:
    cred = {"id": "x", "clientExtensionResults": {"prf": {"enabled": True, "results": {"first": "A" * 43}}}}
    assert passkeys.prf_output(cred) == b"\x00" * 32
    assert passkeys.prf_enabled(cred)
    assert passkeys.prf_output({"clientExtensionResults": {"prf": {"enabled": False}}}) is None
    assert passkeys.prf_output({}) is None


def _pk(cid: str, mode: passkeys.UnlockMode) -> passkeys.Passkey:
    return passkeys.Passkey(id=cid, device_id="dev1", name="p", public_key=b"", sign_count=0, transports=[],
                            unlock_mode=mode, device_type="single_device", backed_up=False, created_at=0,
                            last_used_at=None)


# --- enrollment tokens --------------------------------------------------------------------------

@pytest.fixture
def conn(tmp_path):  # type: ignore[no-untyped-def]
    from authvault import db
    c = db.connect(tmp_path / "t.sqlite3")
    db.init_schema(c)
    c.execute("INSERT INTO devices(id, name, cookie_hash, created_at) VALUES ('d1', 'iPhone', 'h', 0)")
    yield c
    c.close()


def test_enroll_token_works_once(conn) -> None:  # type: ignore[no-untyped-def]
    tok = enrollment.create_token(conn, "d1", now=1000.0)
    assert tok.expires_at == 1600.0
    assert enrollment.check_token(conn, tok.token, now=1001.0) == 1600.0
    enrollment.use_token(conn, tok.token, "d2", now=1002.0)
    with pytest.raises(enrollment.EnrollmentError) as exc:
        enrollment.use_token(conn, tok.token, "d3", now=1003.0)
    assert exc.value.code == "enroll_token_used"


@pytest.mark.parametrize(("token", "at", "code"), [
    ("nope", 1001.0, "enroll_token_invalid"), (None, 1001.0, "enroll_token_invalid"),
    ("REAL", 1601.0, "enroll_token_expired"),
])
def test_enroll_token_refusals(conn, token: str | None, at: float, code: str) -> None:  # type: ignore[no-untyped-def]
    tok = enrollment.create_token(conn, "d1", now=1000.0)
    with pytest.raises(enrollment.EnrollmentError) as exc:
        enrollment.check_token(conn, tok.token if token == "REAL" else token, now=at)
    assert exc.value.code == code


def test_enroll_token_is_stored_hashed(conn) -> None:  # type: ignore[no-untyped-def]
    tok = enrollment.create_token(conn, "d1")
    stored = conn.execute("SELECT token_hash FROM enroll_tokens").fetchone()[0]
    assert tok.token not in stored


# --- HTTP: registration and unlock --------------------------------------------------------------

def test_options_are_options_to_json_with_uv_required(unlocked: Api) -> None:
    opts = unlocked.post("/api/passkeys/register/options").get_json()
    assert opts["rp"] == {"name": "AuthVault", "id": "localhost"}
    assert opts["authenticatorSelection"]["userVerification"] == "required"
    assert {"challenge", "user", "pubKeyCredParams", "timeout", "excludeCredentials", "attestation"} <= set(opts)
    assert "extensions" not in opts  # PRF is added by the page with this device's salt


def test_register_with_prf_then_unlock_with_the_passkey(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    unlocked.post("/api/accounts", {"uri": URI})
    auth = SoftAuthenticator()
    resp = register(unlocked, auth)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["unlock_mode"] == "prf" and body["prf_pending"] is False
    device_id = unlocked.refresh()["device"]["id"]
    assert any(s.type == "passkey" and s.credential_id == auth.id for s in envelope.slots_of(envelope_of(app, device_id)))
    lock(unlocked)
    assert unlocked.get("/api/codes").status_code == 401
    resp = login(unlocked, auth)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "unlocked" and resp.get_json()["unlock_mode"] == "prf"
    assert [a["issuer"] for a in unlocked.get("/api/codes").get_json()["accounts"]] == ["Example"]


def test_register_without_prf_uses_a_device_key_cookie(unlocked: Api) -> None:
    auth = SoftAuthenticator(prf=False)
    resp = register(unlocked, auth)
    assert resp.status_code == 201 and resp.get_json()["unlock_mode"] == "device_key"
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("authvault_device_key="))
    assert "HttpOnly" in header and "Path=/api/passkeys/" in header and "SameSite=Strict" in header
    lock(unlocked)
    resp = login(unlocked, auth)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["unlock_mode"] == "device_key"
    # Without the cookie (browser data cleared), the passkey is verified but opens nothing.
    lock(unlocked)
    unlocked.client.delete_cookie("authvault_device_key", path="/api/passkeys/")
    resp = login(unlocked, auth)
    assert resp.status_code == 401 and error_code(resp) == "device_key_missing"


def test_prf_enabled_without_results_is_upgraded_by_the_next_login(unlocked: Api) -> None:
    auth = SoftAuthenticator()
    salt = status(unlocked)["prf_salt"]
    opts = unlocked.post("/api/passkeys/register/options").get_json()
    body = unlocked.post("/api/passkeys/register/verify",
                         auth.create(opts, prf_salt=salt, prf_results_at_create=False)).get_json()
    assert body["unlock_mode"] == "device_key" and body["prf_pending"] is True
    assert login(unlocked, auth).get_json()["unlock_mode"] == "prf"
    assert unlocked.get("/api/passkeys").get_json()["passkeys"][0]["unlock_mode"] == "prf"
    lock(unlocked)
    unlocked.client.delete_cookie("authvault_device_key", path="/api/passkeys/")
    assert login(unlocked, auth).status_code == 200  # the passkey itself holds the key now


def test_prf_output_is_never_stored_or_logged(unlocked: Api, app, all_logs) -> None:  # type: ignore[no-untyped-def]
    auth = SoftAuthenticator()
    register(unlocked, auth)
    lock(unlocked)
    salt = status(unlocked)["prf_salt"]
    login(unlocked, auth)
    secret = auth.prf_value(salt)
    raw = b"".join(p.read_bytes() for p in app.config["AUTHVAULT"].data_dir.iterdir() if p.is_file())
    assert secret.encode() not in raw
    from tests.soft_authenticator import unb64u
    assert unb64u(secret) not in raw and unb64u(secret).hex().encode() not in raw
    assert secret not in all_logs.text and unb64u(secret).hex() not in all_logs.text


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"origin": "http://evil.example"}, "passkey_wrong_origin"),
    ({"rp_id": "evil.example"}, "passkey_wrong_rp_id"),
    ({"uv": False}, "passkey_user_not_verified"),
])
def test_registration_refusals(unlocked: Api, kwargs: dict, code: str) -> None:
    resp = register(unlocked, SoftAuthenticator(), **kwargs)
    assert resp.status_code == 400 and error_code(resp) == code
    assert unlocked.get("/api/passkeys").get_json()["passkeys"] == []


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"origin": "http://evil.example"}, "passkey_wrong_origin"),
    ({"rp_id": "evil.example"}, "passkey_wrong_rp_id"),
    ({"uv": False}, "passkey_user_not_verified"),
    ({"sign_count": 1}, "passkey_counter_mismatch"),
])
def test_login_refusals_are_audited(unlocked: Api, kwargs: dict, code: str) -> None:
    auth = SoftAuthenticator()
    register(unlocked, auth)
    lock(unlocked)
    assert login(unlocked, auth).status_code == 200  # sign count now 1
    lock(unlocked)
    resp = login(unlocked, auth, **kwargs)
    assert resp.status_code == 401 and error_code(resp) == code
    assert unlocked.refresh()["state"] == "locked"
    unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    events = unlocked.get("/api/devices/events").get_json()["events"]
    assert any(e["kind"] == "unlock_failed" and e["detail"] == code for e in events)


def test_replayed_assertion_is_refused(unlocked: Api) -> None:
    auth = SoftAuthenticator()
    register(unlocked, auth)
    lock(unlocked)
    salt = status(unlocked)["prf_salt"]
    answer = auth.get(unlocked.post("/api/passkeys/login/options").get_json(), prf_salt=salt)
    assert unlocked.post("/api/passkeys/login/verify", answer).status_code == 200
    lock(unlocked)
    resp = unlocked.post("/api/passkeys/login/verify", answer)
    assert resp.status_code == 400 and error_code(resp) == "passkey_challenge_invalid"


def test_expired_challenge_is_refused(unlocked: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = SoftAuthenticator()
    register(unlocked, auth)
    lock(unlocked)
    monkeypatch.setattr(passkeys, "CHALLENGE_SECONDS", -1)
    resp = login(unlocked, auth)
    assert resp.status_code == 400 and error_code(resp) == "passkey_challenge_invalid"


@pytest.mark.parametrize("value", ["x", [1], 5])
def test_malformed_registration_json_is_a_clear_400(unlocked: Api, value: Any) -> None:
    auth = SoftAuthenticator()
    salt = status(unlocked)["prf_salt"]
    cred = auth.create(unlocked.post("/api/passkeys/register/options").get_json(), prf_salt=salt)
    cred["clientExtensionResults"] = value
    resp = unlocked.post("/api/passkeys/register/verify", cred)
    assert resp.status_code == 400 and error_code(resp) == "passkey_invalid"
    assert register(unlocked, auth).status_code == 201  # nothing half-stored: the passkey can still be added


@pytest.mark.parametrize("value", [5, True, "internal"])
def test_transports_that_are_no_list_are_ignored(unlocked: Api, value: Any) -> None:
    """Transports are only a hint for later prompts: a browser sending something odd still adds its passkey."""
    auth = SoftAuthenticator()
    salt = status(unlocked)["prf_salt"]
    cred = auth.create(unlocked.post("/api/passkeys/register/options").get_json(), prf_salt=salt)
    cred["response"]["transports"] = value
    assert unlocked.post("/api/passkeys/register/verify", cred).status_code == 201
    opts = unlocked.post("/api/passkeys/register/options").get_json()
    assert [c.get("transports") for c in opts["excludeCredentials"]] == [None]


@pytest.mark.parametrize("value", ["x", [1], 5, True])
def test_malformed_login_json_is_a_clear_4xx_and_counts_as_a_failure(unlocked: Api, value: Any) -> None:
    auth = SoftAuthenticator()
    register(unlocked, auth)
    lock(unlocked)
    cred = auth.get(unlocked.post("/api/passkeys/login/options").get_json(), prf_salt=status(unlocked)["prf_salt"])
    cred["clientExtensionResults"] = value
    resp = unlocked.post("/api/passkeys/login/verify", cred)
    assert 400 <= resp.status_code < 500 and error_code(resp)
    assert unlocked.refresh()["state"] == "locked"
    assert login(unlocked, auth).status_code == 200
    events = unlocked.get("/api/devices/events").get_json()["events"]
    assert any(e["kind"] == "unlock_failed" for e in events)


def test_registration_needs_an_unlocked_device(api: Api) -> None:
    api.setup()
    lock(api)
    assert api.post("/api/passkeys/register/options").status_code == 401


def test_login_without_passkeys_says_so(unlocked: Api) -> None:
    lock(unlocked)
    resp = unlocked.post("/api/passkeys/login/options")
    assert resp.status_code == 409 and error_code(resp) == "no_passkeys"


class IpApi(Api):
    """A browser that opened AuthVault by IP address over plain HTTP."""

    def refresh(self) -> dict[str, Any]:
        data = self.client.get("/api/session", base_url=IP_BASE).get_json()
        self.csrf = data["csrf_token"]
        return data

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return super().call(method, path, json=json, base_url=IP_BASE, **kwargs)


IP_BASE = "http://192.168.1.10:8000"


def test_passkeys_refused_where_webauthn_cannot_work(app) -> None:  # type: ignore[no-untyped-def]
    by_ip = IpApi(app.test_client())
    by_ip.setup()
    resp = by_ip.post("/api/passkeys/register/options")
    assert resp.status_code == 400 and error_code(resp) == "passkeys_unavailable"
    st = by_ip.get("/api/passkeys/status").get_json()
    assert st["available"] is False and st["reason"] == "ip" and st["connect_url"] == "/connect"


def test_failed_passkey_unlocks_are_rate_limited(unlocked: Api) -> None:
    auth = SoftAuthenticator()
    register(unlocked, auth)
    lock(unlocked)
    for _ in range(10):
        assert login(unlocked, auth, uv=False).status_code == 401
    resp = unlocked.post("/api/passkeys/login/options")
    assert resp.status_code == 429 and error_code(resp) == "too_many_attempts"


# --- HTTP: several devices ------------------------------------------------------------------------

def test_another_devices_passkey_is_refused_and_not_listed(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    phone_key, tablet_key = SoftAuthenticator(), SoftAuthenticator()
    register(unlocked, phone_key)
    tablet = enroll_new(app, unlocked)
    register(tablet, tablet_key)
    lock(tablet)
    opts = tablet.post("/api/passkeys/login/options").get_json()
    assert [c["id"] for c in opts["allowCredentials"]] == [tablet_key.id]
    # A synced passkey of the phone answering the tablet's challenge: valid signature, wrong device.
    resp = tablet.post("/api/passkeys/login/verify", phone_key.get(opts, prf_salt=status(tablet)["prf_salt"]))
    assert resp.status_code == 403 and error_code(resp) == "passkey_other_device"
    assert tablet.refresh()["state"] == "locked"
    assert login(tablet, tablet_key).status_code == 200


def test_each_device_sees_only_its_own_accounts(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    unlocked.post("/api/accounts", {"uri": URI})
    tablet = enroll_new(app, unlocked)
    assert tablet.get("/api/codes").get_json()["accounts"] == []
    tablet.post("/api/accounts", {"uri": "otpauth://totp/Tab:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Tab"})
    assert [a["issuer"] for a in unlocked.get("/api/codes").get_json()["accounts"]] == ["Example"]
    assert [a["issuer"] for a in tablet.get("/api/codes").get_json()["accounts"]] == ["Tab"]


def test_enroll_link_shape_and_single_use(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    resp = unlocked.post("/api/devices/enroll")
    assert resp.status_code == 201
    link = resp.get_json()
    assert link["url"] == f"http://localhost/enroll#token={link['token']}"
    assert 590 < link["expires_at"] - time.time() <= 600
    first = Api(app.test_client())
    assert first.post("/api/enroll", {"token": link["token"], "device_name": "iPad",
                                      "passphrase": PASSPHRASE}).status_code == 201
    second = Api(app.test_client())
    resp = second.post("/api/enroll", {"token": link["token"], "device_name": "Mac", "passphrase": PASSPHRASE})
    assert resp.status_code == 410 and error_code(resp) == "enroll_token_used"


def test_removing_a_device_revokes_its_add_a_device_links(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    """A phone taken while unlocked makes a link, then is removed from another device: the link dies with it,
    or whoever holds it becomes one of the devices again (and could remove the others)."""
    tablet = enroll_new(app, unlocked, "iPad")
    link = tablet.post("/api/devices/enroll").get_json()
    ipad = tablet.refresh()["device"]["id"]
    assert unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad", "passphrase": PASSPHRASE}).status_code == 200
    stranger = Api(app.test_client())
    resp = stranger.post("/api/enroll/check", {"token": link["token"]})
    assert resp.status_code == 410 and error_code(resp) == "enroll_token_invalid"
    resp = stranger.post("/api/enroll", {"token": link["token"], "device_name": "Thief", "passphrase": PASSPHRASE})
    assert resp.status_code == 410 and error_code(resp) == "enroll_token_invalid"
    assert [d["name"] for d in unlocked.get("/api/devices").get_json()["devices"]] == ["iPhone"]


def test_enroll_needs_an_unlocked_device_to_make_links(api: Api) -> None:
    api.setup()
    lock(api)
    assert api.post("/api/devices/enroll").status_code == 401


def test_devices_list_rename_and_remove(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    tablet = enroll_new(app, unlocked, "iPad")
    tablet.post("/api/accounts", {"uri": URI})
    listed = unlocked.get("/api/devices").get_json()
    names = {d["name"]: d for d in listed["devices"]}
    assert names["iPhone"]["this_device"] and not names["iPad"]["this_device"]
    assert names["iPad"]["account_count"] == 1
    ipad = names["iPad"]["id"]
    assert unlocked.patch(f"/api/devices/{ipad}", {"name": "Kitchen iPad"}).get_json()["name"] == "Kitchen iPad"
    resp = unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "iPad"})
    assert resp.status_code == 400 and error_code(resp) == "confirm_name_required"
    assert unlocked.delete(f"/api/devices/{ipad}", json={"confirm_name": "Kitchen iPad", "passphrase": PASSPHRASE}).status_code == 200
    assert tablet.refresh()["device"] is None  # its cookie names no device any more
    me = unlocked.refresh()["device"]["id"]
    resp = unlocked.delete(f"/api/devices/{me}", json={"confirm_name": "iPhone"})
    assert resp.status_code == 409 and error_code(resp) == "last_device"
    kinds = [e["kind"] for e in unlocked.get("/api/devices/events").get_json()["events"]]
    assert {"device_enrolled", "device_removed", "device_renamed"} <= set(kinds)


@pytest.mark.parametrize("payload", [[1], "iPad", 5, ["iPad"]])
def test_remove_device_with_a_body_that_is_no_object_is_a_clear_400(unlocked: Api, app, payload: Any) -> None:  # type: ignore[no-untyped-def]
    enroll_new(app, unlocked, "iPad")
    ipad = next(d["id"] for d in unlocked.get("/api/devices").get_json()["devices"] if d["name"] == "iPad")
    resp = unlocked.delete(f"/api/devices/{ipad}", json=payload)
    assert resp.status_code == 400 and error_code(resp) == "confirm_name_required"
    assert len(unlocked.get("/api/devices").get_json()["devices"]) == 2


def test_remove_passkey_removes_its_slot(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    auth = SoftAuthenticator()
    register(unlocked, auth)
    device_id = unlocked.refresh()["device"]["id"]
    resp = unlocked.delete(f"/api/passkeys/{auth.id}")
    assert resp.status_code == 200 and resp.get_json()["passkeys_left"] == 0
    assert [s.type for s in envelope.slots_of(envelope_of(app, device_id))] == ["passphrase"]
    lock(unlocked)
    assert unlocked.post("/api/passkeys/login/options").status_code == 409
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
    kinds = [e["kind"] for e in unlocked.get("/api/devices/events").get_json()["events"]]
    assert "passkey_added" in kinds and "passkey_removed" in kinds


def test_rename_passkey(unlocked: Api) -> None:
    auth = SoftAuthenticator()
    register(unlocked, auth)
    assert unlocked.patch(f"/api/passkeys/{auth.id}", {"name": "Face ID"}).get_json()["name"] == "Face ID"
    assert unlocked.patch("/api/passkeys/nope", {"name": "x"}).status_code == 404


# --- HTTP: signing back in ----------------------------------------------------------------------

def test_sign_back_in_gives_a_new_cookie_and_drops_lost_device_keys(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    unlocked.post("/api/accounts", {"uri": URI})
    register(unlocked, SoftAuthenticator(prf=False))
    prf_key = SoftAuthenticator()
    register(unlocked, prf_key)
    device_id = unlocked.refresh()["device"]["id"]
    old_cookie = unlocked.client.get_cookie("authvault_device")
    cleared = Api(app.test_client())  # the same phone after its browser data was cleared
    assert cleared.refresh()["device"] is None
    assert cleared.get("/api/devices/signin").get_json() == {"fields": ["device_name", "passphrase"], "retry_after": 0}
    resp = cleared.post("/api/devices/signin", {"device_name": "iPhone", "passphrase": "wrong passphrase"})
    assert resp.status_code == 401
    resp = cleared.post("/api/devices/signin", {"device_name": "iPhone", "passphrase": PASSPHRASE})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["device"]["id"] == device_id
    assert resp.get_json()["removed_passkeys"] == 1
    cleared.csrf = resp.get_json()["csrf_token"]
    assert [a["issuer"] for a in cleared.get("/api/codes").get_json()["accounts"]] == ["Example"]
    assert [p["unlock_mode"] for p in cleared.get("/api/passkeys").get_json()["passkeys"]] == ["prf"]
    assert unlocked.refresh()["device"] is None  # the old cookie no longer names the device
    assert old_cookie is not None
    lock(cleared)
    assert login(cleared, prf_key).status_code == 200  # a PRF passkey still works after signing in


def test_sign_back_in_is_rate_limited(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    other = Api(app.test_client())
    for _ in range(5):  # per address: 5, then a wait (tests/devices/test_unlock.py has the rest)
        assert other.post("/api/devices/signin", {"device_name": "iPhone", "passphrase": "nope nope"}).status_code == 401
    resp = other.post("/api/devices/signin", {"device_name": "iPhone", "passphrase": PASSPHRASE})
    assert resp.status_code == 429 and error_code(resp) == "too_many_attempts"


def test_pages_render(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    page = unlocked.client.get("/devices")
    assert page.status_code == 200 and b"Devices and passkeys" in page.data
    assert b"Unlocks with its passphrase only" in page.data
    fresh = app.test_client()
    assert b"Sign back in" in fresh.get("/signin").data
    assert b"Add this device" in fresh.get("/enroll").data
    note = fresh.get("/signin", base_url="http://192.168.1.10:8000").data
    assert b'id="connect-banner"' in note and b"IP address" in note and b'href="/connect"' in note
    assert b'id="connect-banner"' not in fresh.get("/signin").data  # http://localhost: passkeys work


def test_enroll_check_and_refusals(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    link = unlocked.post("/api/devices/enroll").get_json()
    new = Api(app.test_client())
    check = new.post("/api/enroll/check", {"token": link["token"]})
    assert check.status_code == 200 and check.get_json()["expires_at"] == pytest.approx(link["expires_at"])
    resp = new.post("/api/enroll/check", {"token": "forged"})
    assert resp.status_code == 410 and error_code(resp) == "enroll_token_invalid"
    # A browser that already is a device does not silently become another one.
    resp = unlocked.post("/api/enroll", {"token": link["token"], "device_name": "Again", "passphrase": PASSPHRASE})
    assert resp.status_code == 409 and error_code(resp) == "already_a_device"
    resp = new.post("/api/enroll", {"token": link["token"], "device_name": "", "passphrase": PASSPHRASE})
    assert resp.status_code == 400 and error_code(resp) == "device_name_required"
    resp = new.post("/api/enroll", {"token": link["token"], "device_name": "iPad", "passphrase": "short"})
    assert resp.status_code == 400 and error_code(resp) == "passphrase_too_short"
    # Refused attempts did not use the link up.
    assert new.post("/api/enroll", {"token": link["token"], "device_name": "iPad",
                                    "passphrase": PASSPHRASE}).status_code == 201


def test_a_passkey_confirms_an_export_like_the_passphrase(unlocked: Api) -> None:
    """Export asks to unlock again: a passkey prompt is as good as typing the passphrase."""
    from tests.web.test_transfer_api import age_reauth
    auth = SoftAuthenticator()
    assert register(unlocked, auth).status_code == 201
    unlocked.post("/api/accounts", {"uri": URI})
    age_reauth(unlocked)
    refused = unlocked.post("/api/export", {"format": "google"})
    assert refused.status_code == 401 and error_code(refused) == "passphrase_required"
    assert login(unlocked, auth).status_code == 200  # one biometric prompt on the export page
    ok = unlocked.post("/api/export", {"format": "google"})
    assert ok.status_code == 200 and len(ok.get_json()["uris"]) == 1


def test_a_new_passkey_unlocks_with_prf_else_the_browsers_device_key_else_a_fresh_one() -> None:
    assert passkeys.unlock_secret(b"p" * 32, b"k" * 32) == ("prf", b"p" * 32, None)
    assert passkeys.unlock_secret(None, b"k" * 32) == ("device_key", b"k" * 32, None)
    mode, secret, fresh = passkeys.unlock_secret(None, None)
    assert mode == "device_key" and fresh == secret and len(secret) == passkeys.DEVICE_KEY_BYTES
