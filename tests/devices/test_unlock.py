"""Unlocking and signing back in with strangers on the network (issue 12, item 1; devices/unlock.py).

A stranger on the home network has no device cookie. Whatever they send to sign-in must never
lock a device, close its sessions, or make its own browser wait; it slows down the stranger's
address and network instead. Sign-in never hands out device ids or last-use times.
"""
from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from authvault.devices import unlock
from authvault.web.errors import status_of
from tests.conftest import PASSPHRASE, Api
from tests.devices.test_passkeys import enroll_new, lock, login, register
from tests.soft_authenticator import SoftAuthenticator

OWNER_ADDR = "192.168.1.20"
STRANGER_ADDR = "192.168.1.66"  # the same home network (/24) as the owner's phone


def at(api: Api, address: str) -> Api:
    """Send this browser's requests from `address`."""
    api.client.environ_base["REMOTE_ADDR"] = address
    return api


def stranger(app, address: str = STRANGER_ADDR) -> Api:  # type: ignore[no-untyped-def]
    return at(Api(app.test_client()), address)


def guess(api: Api, name: str = "iPhone", passphrase: str = "nope nope nope", **extra: Any):  # type: ignore[no-untyped-def]
    return api.post("/api/devices/signin", {"device_name": name, "passphrase": passphrase, **extra})


# --- known answers: the back-off --------------------------------------------------------------------

def test_back_off_numbers() -> None:
    """The README's figures: the device's own browser gets 10 tries, then 1, 2, 4 ... 60 minutes;
    sign-in from an address 5 tries, then 15 s doubling to an hour; a network 20 tries."""
    assert [unlock.DEVICE.delay(n) for n in (1, 9, 10, 11, 12, 15, 16, 40)] == [0, 0, 60, 120, 240, 1920, 3600, 3600]
    assert [unlock.ADDRESS.delay(n) for n in (1, 4, 5, 6, 7, 12, 13)] == [0, 0, 15, 30, 60, 1920, 3600]
    assert [unlock.NETWORK.delay(n) for n in (19, 20, 21)] == [0, 15, 30]
    assert unlock.NAME.delay(19) == 0 and unlock.NAME.delay(20) == 60


@pytest.mark.parametrize(("address", "network"), [
    ("192.168.1.66", "192.168.1.0/24"),
    ("10.0.0.1", "10.0.0.0/24"),
    ("::ffff:192.168.1.66", "192.168.1.0/24"),
    ("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::/64"),
    ("fe80::1", "fe80::/64"),
    ("", None),
    ("not an address", None),
])
def test_network_of(address: str, network: str | None) -> None:
    assert unlock.network_of(address) == network


def test_an_attempt_is_counted_before_it_is_tried_and_given_back_on_success(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from authvault import db
    conn = db.connect(tmp_path / "t.sqlite3")
    db.init_schema(conn)
    keys = unlock.device_keys("d1")
    for i in range(10):  # ten tries in flight at once: none has failed yet, all are counted
        unlock.begin(conn, keys, by_device=True, now=1000.0 + i * 0.001)
    with pytest.raises(unlock.TooManyAttempts) as err:
        unlock.begin(conn, keys, by_device=True, now=1000.5)
    assert err.value.retry_after == 60 and err.value.code == "too_many_attempts" and status_of(err.value) == 429
    # 61 s later the 11th try may go; if it succeeds, the device starts over
    attempt = unlock.begin(conn, keys, by_device=True, now=1061.0)
    with db.transaction(conn):
        unlock.give_back(conn, attempt, clear=("device:d1",))
    assert unlock.wait_for(conn, keys, now=1061.0) == 0
    # a key is forgotten a day after its last failure
    for _i in range(10):
        unlock.begin(conn, keys, by_device=True, now=2000.0)
    assert unlock.wait_for(conn, keys, now=2000.0) == 60
    assert unlock.wait_for(conn, keys, now=2000.0 + 24 * 3600 + 1) == 0


# --- HTTP: strangers cannot lock the owner out ----------------------------------------------------

def test_strangers_sign_in_failures_never_lock_the_device_or_its_browser(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    """Issue 12, item 1: ten wrong passphrases at sign-in used to close every session of the device and
    refuse its right passphrase and passkey for five minutes."""
    at(unlocked, OWNER_ADDR)
    auth = SoftAuthenticator()
    assert register(unlocked, auth).status_code == 201
    device_id = unlocked.refresh()["device"]["id"]
    intruder = stranger(app)
    codes = [guess(intruder, device_id=device_id).status_code for _ in range(40)]
    assert set(codes) <= {401, 429} and codes[:5] == [401] * 5 and 429 in codes
    # the owner's open session is untouched
    assert unlocked.get("/api/codes").status_code == 200
    # locked, the owner's browser (same network as the stranger) gets in with its passphrase and its passkey
    lock(unlocked)
    assert login(unlocked, auth).status_code == 200
    lock(unlocked)
    resp = unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert resp.status_code == 200, resp.get_json()
    # even from the very address the stranger used
    lock(at(unlocked, STRANGER_ADDR))
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200


def test_sign_in_slows_down_the_address_then_its_network(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    first = stranger(app, "10.1.2.3")
    codes = [guess(first, name="Pixel").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    resp = guess(first, passphrase=PASSPHRASE)  # even the right passphrase waits now: it is a guess from here
    body = resp.get_json()["error"]
    assert resp.status_code == 429 and body["code"] == "too_many_attempts" and 1 <= body["retry_after"] <= 15
    assert resp.headers["Retry-After"] == str(body["retry_after"])
    assert "this network" in body["message"]
    assert first.get("/api/devices/signin").get_json()["retry_after"] >= 1
    # other addresses of that /24 share the network's 20 before it waits too
    for i in range(15):  # 5 already counted from 10.1.2.3
        assert guess(stranger(app, f"10.1.2.{100 + i}"), name=f"Pixel {i}").status_code == 401
    assert guess(stranger(app, "10.1.2.200"), name="Galaxy").status_code == 429
    # another network is not slowed down, and signs in with the right name and passphrase
    other = stranger(app, "10.1.3.7")
    assert guess(other).status_code == 401
    resp = guess(other, name="  iphone ", passphrase=PASSPHRASE)
    assert resp.status_code == 200, resp.get_json()


def test_ipv6_addresses_count_by_their_64(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    for i in range(20):
        assert guess(stranger(app, f"2001:db8:0:1::{i + 1:x}"), name=f"tablet {i}").status_code == 401
    assert guess(stranger(app, "2001:db8:0:1::ffff"), name="laptop").status_code == 429
    assert guess(stranger(app, "2001:db8:0:2::1"), name="laptop").status_code == 401


def test_many_networks_guessing_one_name_slow_down_only_sign_in_to_it(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    """Behind a proxy open to the internet, guesses come from many networks: after 20 failures on one
    typed name, signing in to that name waits too. The device itself is not touched."""
    at(unlocked, OWNER_ADDR)
    for i in range(20):
        assert guess(stranger(app, f"172.16.{i}.9")).status_code == 401
    resp = guess(stranger(app, "172.17.0.9"), passphrase=PASSPHRASE)
    assert resp.status_code == 429 and resp.get_json()["error"]["retry_after"] <= 60
    assert guess(stranger(app, "172.17.0.9"), name="iPad").status_code == 401  # another name is not slowed
    assert unlocked.get("/api/codes").status_code == 200
    lock(unlocked)
    assert unlocked.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200


def test_wrong_name_and_wrong_passphrase_look_the_same(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    wrong_name = guess(stranger(app, "10.9.0.1"), name="Android", passphrase=PASSPHRASE)
    wrong_pass = guess(stranger(app, "10.9.1.1"), name="iPhone", passphrase="not it at all")
    assert wrong_name.status_code == wrong_pass.status_code == 401
    assert wrong_name.get_json() == wrong_pass.get_json()
    assert wrong_name.get_json()["error"]["code"] == "signin_failed"
    # the failure is an event without a device (it must not say whether the name was right)
    conn = sqlite3.connect(app.config["AUTHVAULT"].db_path)
    rows = conn.execute("SELECT device_id, client FROM audit_events WHERE kind = 'signin_failed'").fetchall()
    assert sorted(rows) == [(None, "10.9.0.1"), (None, "10.9.1.1")]
    # nothing typed is stored: neither the name nor the passphrase
    dump = "\n".join(conn.iterdump())
    assert "Android" not in dump and "not it at all" not in dump


def test_sign_in_hands_out_no_device_ids_or_last_use(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    device = unlocked.refresh()["device"]
    assert unlocked.patch(f"/api/devices/{device['id']}", {"name": "Alice's Pixel 8"}).status_code == 200
    unlocked.post("/api/lock")
    unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})  # sets last_used_at
    nobody = stranger(app)
    text = nobody.get("/api/devices/signin").get_data(as_text=True)
    page = nobody.client.get("/signin").get_data(as_text=True)
    for leak in (device["id"], "Alice", "Pixel 8", "last_used"):
        assert leak not in text
        assert leak not in page
    assert 'id="device_name"' in page


def test_same_name_on_two_devices_signs_in_to_the_one_whose_passphrase_it_is(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    tablet = enroll_new(app, unlocked, name="iPhone")  # its passphrase is PASSPHRASE + "!"
    tablet_id = tablet.refresh()["device"]["id"]
    cleared = stranger(app, "10.5.5.5")
    resp = guess(cleared, name="IPHONE", passphrase=PASSPHRASE + "!")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["device"]["id"] == tablet_id
    assert tablet.refresh()["device"] is None  # the tablet's old cookie stopped working


def test_ten_wrong_unlocks_in_the_devices_own_browser_still_lock_it(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    """The device's own browser (someone holding the phone) is limited per device, and the tenth
    failure ends every session of the device."""
    other = Api(app.test_client())
    other.client.set_cookie("authvault_device", unlocked.client.get_cookie("authvault_device").value)
    assert other.post("/api/unlock", {"passphrase": PASSPHRASE}).status_code == 200
    unlocked.post("/api/lock")
    codes = [unlocked.post("/api/unlock", {"passphrase": f"guess {i}"}).status_code for i in range(11)]
    assert codes == [401] * 10 + [429]
    assert other.get("/api/codes").status_code == 401
    resp = unlocked.post("/api/unlock", {"passphrase": PASSPHRASE})
    assert resp.status_code == 429 and resp.get_json()["error"]["retry_after"] <= 60


# --- signing back in with a passkey ------------------------------------------------------------------

def passkey_sign_in(api: Api, auth: SoftAuthenticator, name: str = "iPhone"):  # type: ignore[no-untyped-def]
    got = api.post("/api/devices/signin/passkey/options", {"device_name": name})
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    answer = auth.get(body["options"], prf_salt=body["prf_salt"])
    return api.post("/api/devices/signin/passkey", {"device_name": name, "credential": answer})


def test_a_prf_passkey_signs_a_cleared_browser_back_in_while_strangers_slow_the_network(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    unlocked.post("/api/accounts", {"uri": "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example"})
    auth = SoftAuthenticator()
    assert register(unlocked, auth).get_json()["unlock_mode"] == "prf"
    for i in range(25):  # strangers on the home network guess passphrases until it waits
        guess(stranger(app, f"192.168.1.{100 + i}"), name=f"guess {i}")
    cleared = stranger(app, OWNER_ADDR)  # the owner's phone, its browser data cleared
    assert guess(cleared, passphrase=PASSPHRASE).status_code == 429  # the passphrase has to wait here
    resp = passkey_sign_in(cleared, auth)
    assert resp.status_code == 200, resp.get_json()
    cleared.csrf = resp.get_json()["csrf_token"]
    assert [a["issuer"] for a in cleared.get("/api/codes").get_json()["accounts"]] == ["Example"]
    assert unlocked.refresh()["device"] is None  # the old cookie stopped working, as with the passphrase
    lock(cleared)
    assert login(cleared, auth).status_code == 200  # the passkey unlocks the signed-in browser


def test_passkey_sign_in_options_look_alike_for_a_name_that_is_no_device(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    auth = SoftAuthenticator()
    register(unlocked, auth)
    nobody = stranger(app, "10.7.7.7")
    real = nobody.post("/api/devices/signin/passkey/options", {"device_name": "iPhone"}).get_json()
    fake = nobody.post("/api/devices/signin/passkey/options", {"device_name": "Pixel"}).get_json()
    again = nobody.post("/api/devices/signin/passkey/options", {"device_name": " pixel "}).get_json()
    assert set(real) == set(fake) == {"options", "prf_salt"}
    assert set(real["options"]) == set(fake["options"])
    assert len(real["options"]["allowCredentials"]) == len(fake["options"]["allowCredentials"]) == 1
    assert len(real["prf_salt"]) == len(fake["prf_salt"]) == 43
    assert fake["prf_salt"] == again["prf_salt"]  # the same name gets the same look-alike every time
    assert fake["options"]["allowCredentials"] == again["options"]["allowCredentials"]
    assert real["options"]["allowCredentials"][0]["id"] == auth.id
    # a right passkey sent with a wrong name, and any answer to look-alike options, are refused alike
    answer = auth.get(real["options"], prf_salt=real["prf_salt"])
    wrong = nobody.post("/api/devices/signin/passkey", {"device_name": "Pixel", "credential": answer})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "signin_failed"
    other = SoftAuthenticator()
    decoy = nobody.post("/api/devices/signin/passkey", {"device_name": "Pixel", "credential": other.get(
        fake["options"], prf_salt=fake["prf_salt"])})
    assert decoy.status_code == 401 and decoy.get_json()["error"]["code"] == "signin_failed"
    assert unlocked.get("/api/codes").status_code == 200  # the device was never touched


def test_a_device_key_passkey_cannot_sign_in_without_its_cookie(unlocked: Api, app) -> None:  # type: ignore[no-untyped-def]
    auth = SoftAuthenticator(prf=False)
    assert register(unlocked, auth).get_json()["unlock_mode"] == "device_key"
    got = stranger(app).post("/api/devices/signin/passkey/options", {"device_name": "iPhone"}).get_json()
    assert got["options"]["allowCredentials"][0]["id"] != auth.id  # its key was in the cleared cookies
