"""The HTTP contract (the README's API tables): session, setup, unlock, lock, codes, accounts, errors and CSRF."""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import struct

import pytest
import qrcode

from tests.conftest import PASSPHRASE, SETUP_TOKEN, Api

RFC_SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", RFC 6238 appendix B


def rfc_totp(secret_b32: str, t: float, period: int = 30, digits: int = 6, algo: str = "sha1") -> str:
    """An independent RFC 6238 reference, written here so the server is checked against known math."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t // period)), getattr(hashlib, algo)).digest()
    off = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(value).zfill(digits)


def qr_png(text: str) -> bytes:
    """A PNG of a QR code holding `text`."""
    buf = io.BytesIO()
    qrcode.make(text).save(buf, format="PNG")
    return buf.getvalue()


def error_of(resp) -> dict:  # type: ignore[no-untyped-def]
    body = resp.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]


# --- session and setup -----------------------------------------------------------------------

def test_fresh_server_is_in_setup_state(api: Api) -> None:
    data = api.refresh()
    assert data["state"] == "setup" and data["device"] is None and data["csrf_token"]


def test_setup_creates_an_unlocked_device_once(api: Api) -> None:
    api.setup("iPhone")
    data = api.refresh()
    assert data["state"] == "unlocked" and data["device"]["name"] == "iPhone"
    second = api.post("/api/setup", {"setup_token": SETUP_TOKEN, "device_name": "iPad", "passphrase": PASSPHRASE})
    assert second.status_code == 409 and error_of(second)["code"] == "already_set_up"


def test_setup_from_a_second_browser_is_refused_after_the_first(app) -> None:  # type: ignore[no-untyped-def]
    first, second = Api(app.test_client()), Api(app.test_client())
    first.setup()
    resp = second.post("/api/setup", {"setup_token": SETUP_TOKEN, "device_name": "x", "passphrase": PASSPHRASE})
    assert resp.status_code == 409


@pytest.mark.parametrize("payload, status, code", [
    ({"setup_token": "wrong", "device_name": "iPhone", "passphrase": PASSPHRASE}, 403, "setup_token_invalid"),
    ({"setup_token": SETUP_TOKEN, "device_name": "", "passphrase": PASSPHRASE}, 400, "device_name_required"),
    ({"setup_token": SETUP_TOKEN, "device_name": "x" * 61, "passphrase": PASSPHRASE}, 400, "device_name_too_long"),
    ({"setup_token": SETUP_TOKEN, "device_name": "iPhone", "passphrase": "short"}, 400, "passphrase_too_short"),
    ({"setup_token": SETUP_TOKEN, "device_name": "iPhone"}, 400, "passphrase_too_short"),
])
def test_setup_rejects_bad_input_with_its_own_message(api: Api, payload: dict, status: int, code: str) -> None:
    resp = api.post("/api/setup", payload)
    assert resp.status_code == status and error_of(resp)["code"] == code
    assert api.refresh()["state"] == "setup"


def test_non_json_body_is_a_clear_400(api: Api) -> None:
    resp = api.call("POST", "/api/setup", data="not json", content_type="text/plain")
    assert resp.status_code == 400 and error_of(resp)["code"] == "json_required"


def test_state_changing_call_without_csrf_token_is_refused(api: Api) -> None:
    resp = api.client.post("/api/setup", json={"setup_token": SETUP_TOKEN, "device_name": "a", "passphrase": PASSPHRASE})
    assert resp.status_code == 400 and error_of(resp)["code"] == "csrf_failed"
    assert api.refresh()["state"] == "setup"


# --- lock and unlock -------------------------------------------------------------------------

def test_lock_then_unlock_with_the_passphrase(unlocked: Api) -> None:
    assert unlocked.post("/api/lock").status_code == 200
    assert unlocked.refresh()["state"] == "locked"
    resp = unlocked.get("/api/codes")
    assert resp.status_code == 401 and error_of(resp)["code"] == "locked"
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
    assert unlocked.get("/api/codes").status_code == 200


def test_wrong_passphrase_is_401_and_says_so(unlocked: Api) -> None:
    unlocked.post("/api/lock")
    resp = unlocked.post("/api/unlock", {"passphrase": "not the passphrase"})
    assert resp.status_code == 401 and error_of(resp)["code"] == "wrong_passphrase"
    assert unlocked.refresh()["state"] == "locked"


def test_unlock_is_rate_limited_per_device(unlocked: Api) -> None:
    unlocked.post("/api/lock")
    codes = [unlocked.post("/api/unlock", {"passphrase": f"guess {i}"}).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    # even the right passphrase waits now
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 429


def test_unlock_from_a_browser_that_is_no_device(app, unlocked: Api) -> None:  # type: ignore[no-untyped-def]
    stranger = Api(app.test_client())
    resp = stranger.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert resp.status_code == 401 and error_of(resp)["code"] == "unknown_device"


def test_device_cookie_is_httponly_and_samesite(api: Api) -> None:
    resp = api.setup()
    cookies = resp.headers.getlist("Set-Cookie")
    device = next(c for c in cookies if c.startswith("authvault_device="))
    session = next(c for c in cookies if c.startswith("authvault_session="))
    for c in (device, session):
        assert "HttpOnly" in c and "SameSite=Lax" in c


def test_idle_session_locks_itself(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    from authvault.db import connect
    conn = connect(app.config["AUTHVAULT"].db_path)
    conn.execute("UPDATE unlock_sessions SET last_seen_at = last_seen_at - 301")
    conn.close()
    assert unlocked.get("/api/codes").status_code == 401
    assert unlocked.refresh()["state"] == "locked"


def test_lock_minutes_setting_is_kept(unlocked: Api) -> None:
    assert unlocked.patch("/api/settings", {"lock_minutes": 1}).status_code == 200
    assert unlocked.refresh()["lock_minutes"] == 1
    bad = unlocked.patch("/api/settings", {"lock_minutes": 0})
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_lock_minutes"


# --- codes ------------------------------------------------------------------------------------

def test_codes_match_rfc6238_at_server_time(unlocked: Api) -> None:
    uri = f"otpauth://totp/RFC:alice?secret={RFC_SECRET_B32}&issuer=RFC"
    assert unlocked.post("/api/accounts", {"uri": uri}).status_code == 201
    data = unlocked.get("/api/codes").get_json()
    [acc] = data["accounts"]
    t = data["server_time"]
    assert acc["code"] == rfc_totp(RFC_SECRET_B32, t)
    assert acc["next_code"] == rfc_totp(RFC_SECRET_B32, t + 30)
    assert acc["remaining"] == 30 - int(t) % 30 or acc["remaining"] == pytest.approx(30 - t % 30, abs=1)
    assert set(acc) >= {"id", "issuer", "name", "type", "digits", "period", "code", "next_code", "remaining",
                        "action_required"}
    assert "secret" not in acc


def test_sha256_eight_digit_period_60(unlocked: Api) -> None:
    uri = f"otpauth://totp/X:y?secret={RFC_SECRET_B32}&algorithm=SHA256&digits=8&period=60"
    unlocked.post("/api/accounts", {"uri": uri})
    data = unlocked.get("/api/codes").get_json()
    [acc] = data["accounts"]
    assert acc["code"] == rfc_totp(RFC_SECRET_B32, data["server_time"], 60, 8, "sha256")


# --- adding accounts --------------------------------------------------------------------------

def test_add_by_fields_with_spaced_lowercase_secret(unlocked: Api) -> None:
    resp = unlocked.post("/api/accounts", {"issuer": "GitHub", "name": "alice", "secret": "gezd gnbv gy3t qojq gezd gnbv gy3t qojq"})
    assert resp.status_code == 201
    [added] = resp.get_json()["added"]
    assert added["issuer"] == "GitHub" and added["code"] == rfc_totp(RFC_SECRET_B32, resp.get_json()["server_time"])


@pytest.mark.parametrize("payload, code", [
    ({"issuer": "A", "secret": "not base32 !!"}, "invalid_secret"),
    ({"issuer": "A", "secret": ""}, "secret_required"),
    ({"issuer": "A", "secret": RFC_SECRET_B32, "digits": 12}, "invalid_digits"),
    ({"issuer": "A", "secret": RFC_SECRET_B32, "digits": "six"}, "invalid_number"),
    ({"issuer": "A", "secret": RFC_SECRET_B32, "algorithm": "MD5"}, "unsupported_algorithm"),
    ({"secret": RFC_SECRET_B32}, "label_required"),
    ({"uri": "https://example.com"}, None),
])
def test_add_rejects_bad_fields_with_their_own_message(unlocked: Api, payload: dict, code: str | None) -> None:
    resp = unlocked.post("/api/accounts", payload)
    assert 400 <= resp.status_code < 500
    err = error_of(resp)
    if code:
        assert err["code"] == code
    assert unlocked.get("/api/codes").get_json()["accounts"] == []


def test_adding_the_same_account_twice_is_skipped(unlocked: Api) -> None:
    uri = f"otpauth://totp/Dup:me?secret={RFC_SECRET_B32}"
    assert unlocked.post("/api/accounts", {"uri": uri}).status_code == 201
    again = unlocked.post("/api/accounts", {"uri": uri})
    assert again.status_code == 200
    body = again.get_json()
    assert body["added"] == [] and body["skipped"][0]["code"] == "duplicate"
    assert len(unlocked.get("/api/codes").get_json()["accounts"]) == 1


def test_scan_png_adds_the_account(unlocked: Api) -> None:
    png = qr_png(f"otpauth://totp/Example:alice@example.com?secret={RFC_SECRET_B32}&issuer=Example")
    resp = unlocked.post("/api/accounts/scan", data={"file": (io.BytesIO(png), "shot.png")},
                         content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    [acc] = resp.get_json()["added"]
    assert (acc["issuer"], acc["name"]) == ("Example", "alice@example.com")


def test_scan_a_web_address_qr_says_what_it_holds(unlocked: Api) -> None:
    resp = unlocked.post("/api/accounts/scan", data={"file": (io.BytesIO(qr_png("https://example.com/")), "x.png")},
                         content_type="multipart/form-data")
    assert resp.status_code in (400, 422)
    err = error_of(resp)
    assert err["code"] == "not_an_account" and "web address" in err["message"]
    assert "example.com" not in err["message"]


def test_scan_a_text_file_named_jpeg(unlocked: Api) -> None:
    resp = unlocked.post("/api/accounts/scan", data={"file": (io.BytesIO(b"just text, honestly"), "x.jpeg")},
                         content_type="multipart/form-data")
    assert resp.status_code in (400, 415, 422) and error_of(resp)["code"] == "not_an_image"


def test_scan_without_a_file(unlocked: Api) -> None:
    resp = unlocked.post("/api/accounts/scan", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and error_of(resp)["code"] == "file_required"


def test_upload_over_20_mb_is_413(unlocked: Api) -> None:
    big = io.BytesIO(b"\0" * (20 * 1024 * 1024 + 1))
    resp = unlocked.post("/api/accounts/scan", data={"file": (big, "big.png")}, content_type="multipart/form-data")
    assert resp.status_code == 413 and error_of(resp)["code"] == "file_too_large"


def test_google_migration_uri_adds_every_account(unlocked: Api) -> None:
    from authvault.interop.google_migration import build_migration_uris
    from authvault.model import Account
    accounts = [Account(secret=bytes([i]) * 10, issuer=f"Issuer{i}", name=f"user{i}") for i in range(3)]
    uris, _ = build_migration_uris(accounts)
    resp = unlocked.post("/api/accounts", {"uri": uris[0]})
    assert resp.status_code == 201
    assert sorted(a["issuer"] for a in resp.get_json()["added"]) == ["Issuer0", "Issuer1", "Issuer2"]


# --- editing, order, hotp, delete ---------------------------------------------------------------

def _add(api: Api, uri: str) -> dict:
    resp = api.post("/api/accounts", {"uri": uri})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["added"][0]


def test_edit_issuer_label_note_and_policy(unlocked: Api) -> None:
    acc = _add(unlocked, f"otpauth://totp/Old:me?secret={RFC_SECRET_B32}")
    resp = unlocked.patch(f"/api/accounts/{acc['id']}", {"issuer": "New", "name": "you", "note": "work laptop",
                                                          "backup_policy": "this-device-only"})
    assert resp.status_code == 200
    [now] = unlocked.get("/api/codes").get_json()["accounts"]
    assert (now["issuer"], now["name"]) == ("New", "you")
    assert unlocked.patch(f"/api/accounts/{acc['id']}", {"backup_policy": "cloud"}).status_code == 400
    assert unlocked.patch("/api/accounts/nope", {"issuer": "x"}).status_code == 404


def test_reorder_is_kept(unlocked: Api) -> None:
    ids = [_add(unlocked, f"otpauth://totp/I{i}:u?secret={RFC_SECRET_B32[:-2]}{c}A")["id"]
           for i, c in enumerate("ABC")]
    new_order = [ids[2], ids[0], ids[1]]
    assert unlocked.post("/api/accounts/order", {"ids": new_order}).status_code == 200
    assert [a["id"] for a in unlocked.get("/api/codes").get_json()["accounts"]] == new_order
    assert unlocked.post("/api/accounts/order", {"ids": ids[:2]}).status_code == 409


def test_hotp_next_code_saves_the_counter(unlocked: Api) -> None:
    acc = _add(unlocked, f"otpauth://hotp/H:u?secret={RFC_SECRET_B32}&counter=0")
    assert acc["code"] == "755224"  # RFC 4226 appendix D, counter 0
    nxt = unlocked.post(f"/api/accounts/{acc['id']}/next").get_json()
    assert (nxt["counter"], nxt["code"]) == (1, "287082")
    [again] = unlocked.get("/api/codes").get_json()["accounts"]
    assert (again["counter"], again["code"]) == (1, "287082")


def test_hotp_at_the_end_of_its_counter_says_so_and_keeps_working(unlocked: Api) -> None:
    """The list shows the code after the next as well, so the counter stops one short of 2^63-1."""
    acc = _add(unlocked, f"otpauth://hotp/H:end?secret={RFC_SECRET_B32}&counter={2**63 - 3}")
    assert unlocked.post(f"/api/accounts/{acc['id']}/next").get_json()["counter"] == 2**63 - 2
    resp = unlocked.post(f"/api/accounts/{acc['id']}/next")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "counter_exhausted"
    codes = unlocked.get("/api/codes")
    assert codes.status_code == 200 and codes.get_json()["accounts"][0]["counter"] == 2**63 - 2


def test_delete_removes_the_account(unlocked: Api) -> None:
    acc = _add(unlocked, f"otpauth://totp/Del:me?secret={RFC_SECRET_B32}")
    assert unlocked.delete(f"/api/accounts/{acc['id']}").status_code == 200
    assert unlocked.get("/api/codes").get_json()["accounts"] == []
    assert unlocked.delete(f"/api/accounts/{acc['id']}").status_code == 404


def test_accounts_survive_lock_and_unlock(unlocked: Api) -> None:
    _add(unlocked, f"otpauth://totp/Keep:me?secret={RFC_SECRET_B32}")
    unlocked.post("/api/lock")
    unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert [a["issuer"] for a in unlocked.get("/api/codes").get_json()["accounts"]] == ["Keep"]


def test_the_list_page_holds_the_codes_and_escapes_names(unlocked: Api) -> None:
    """Codes are in the first HTML response (the JSON the page draws from); names are escaped there.
    (The page script escapes them again when it draws the rows: tests/browser/test_list_e2e.py.)"""
    import pyotp

    _add(unlocked, f"otpauth://totp/%3Cb%3EEvil%3C%2Fscript%3E:a%40b.co?secret={RFC_SECRET_B32}")
    before = pyotp.TOTP(RFC_SECRET_B32).now()
    html = unlocked.get("/").get_data(as_text=True)
    after = pyotp.TOTP(RFC_SECRET_B32).now()
    assert f'"code":"{before}"' in html.replace(": ", ":") or f'"code":"{after}"' in html.replace(": ", ":")
    assert "<b>Evil" not in html and "</script>:" not in html and "\\u003cb\\u003eEvil" in html


def test_security_headers(unlocked: Api) -> None:
    resp = unlocked.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_unknown_api_path_is_json_404(api: Api) -> None:
    resp = api.get("/api/nothing-here")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"


def test_a_bug_is_a_json_500_whose_log_names_the_place_not_the_values(unlocked: Api, app, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    from authvault.web import views

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise ValueError("JBSWY3DPEHPK3PXP leaked?")

    monkeypatch.setattr(views, "account_view", broken)
    monkeypatch.setattr("authvault.web.api.codes_payload", lambda accounts, **_kw: {"a": [broken(a) for a in [1]]})
    caplog.set_level(logging.ERROR)
    resp = unlocked.get("/api/codes")
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "internal_error"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged and "api.py" in logged
    assert "JBSWY3DPEHPK3PXP" not in logged and "JBSWY3DPEHPK3PXP" not in resp.get_data(as_text=True)


def test_every_form_is_sent_as_post_without_its_script() -> None:
    """Forms are sent by the page's script; a form sent by the browser itself (script not run yet)
    must go as a POST body, not a GET query string holding a passphrase or secret (the browser
    test sends three of them that way)."""
    import re

    from tests.paths import REPO
    forms = [(t.name, tag) for t in sorted((REPO / "templates").rglob("*.html"))
             for tag in re.findall(r"<form\b[^>]*>", t.read_text())]
    assert len(forms) >= 15
    assert [f for f in forms if 'method="post"' not in f[1]] == []


def test_a_page_form_sent_by_the_browser_gets_a_clear_4xx(api: Api) -> None:
    resp = api.client.post("/", data={"passphrase": "x"}, headers={"Accept": "text/html"})
    assert resp.status_code == 405
    assert "had not finished loading" in resp.get_data(as_text=True)
