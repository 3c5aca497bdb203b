"""Vault crypto, slots, the authenticated envelope, Aegis files and session keys."""
from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as chmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from authvault.errors import AuthVaultError
from authvault.vault import (
    DEFAULT_SCRYPT,
    TEST_SCRYPT,
    ScryptParams,
    UnsupportedVaultVersion,
    VaultDamaged,
    VaultError,
    WrongPassphrase,
    accounts_from_db,
    crypto,
    derive_passphrase_kek,
    new_master_key,
    new_recovery_key,
    new_session_token,
    normalize_recovery_key,
    open_db,
    passkey_slot,
    passphrase_slot,
    read_aegis_vault,
    read_aegis_vault_with_recovery_key,
    recovery_slot,
    replace_db,
    seal,
    session_id,
    slots_of,
    to_aegis_vault,
    to_aegis_vault_with_master_key,
    unlock_with_passkey,
    unlock_with_passphrase,
    unlock_with_recovery_key,
    unwrap_for_session,
    unwrap_passkey,
    unwrap_passphrase,
    unwrap_recovery,
    unwrap_with_kek,
    with_slots,
    wrap_for_session,
)
from authvault.web.errors import status_of
from tests.paths import FIXTURES, fixture_json

AEGIS = FIXTURES / "importers" / "aegis-fixtures"
PASSPHRASE = "correct horse battery"
DB: dict[str, Any] = {"version": 3, "entries": [], "groups": []}

# --- A known-answer envelope: master key 00..1f, slot salt 11.., slot nonce 22.., db nonce 33.. ---
KAT_MASTER_KEY = bytes(range(32))
KAT_DB: dict[str, Any] = {"version": 3, "entries": [{
    "type": "totp", "uuid": "3ae6f1ad-2e65-4ed2-a953-1ec0dff2386d", "name": "Mason",
    "issuer": "Deno", "icon": None,
    "info": {"secret": "4SJHB4GSD43FZBAI7C2HLRJGPQ", "algo": "SHA1", "digits": 6, "period": 30}}],
    "groups": []}
KAT_ENVELOPE: dict[str, Any] = {
    "version": 1,
    "header": {
        "slots": [{
            "type": "passphrase",
            "uuid": "00000000-0000-4000-8000-000000000001",
            "key": "bb0b27a445535368429d4f0bf9a10702fff6abb501dbf29dcad5420c427b32e1",
            "key_params": {"nonce": "222222222222222222222222",
                           "tag": "04844da4286cb15c69041e3504a8c98b"},
            "n": 16, "r": 8, "p": 1,
            "salt": "1111111111111111111111111111111111111111111111111111111111111111",
        }],
        "params": {"nonce": "333333333333333333333333", "tag": "720203a794a26a9d6b3f09ac6c2733aa"},
    },
    "authvault": {
        "format": 1,
        "device_id": "device-1",
        "header_mac": "abdbc689027329e1178f8e9cef43be22e52ea6d1a074b24b53f64638e22892e1",
    },
    "db": "PjL2jxPTcIpLYz7am0Ie3GVTv30R0pKfDQJXofR8mQb0FHDlfp8cZLOafaZBx5lLHJ396PA4GwoREoWQsQWog06y"
          "lIBWFZfrx06RGA7EbTw8Ykggv+zMtDc6x97bDdSWy13oPwWxZJ2oS9Cy8VFnW/7uRYqgqMd2CrfcbxpmKZ/BPRt1"
          "WBTescwnmeiYY5N64SOjL766Hsrb/cK5TchXeOTwuWWcc9+PrqMaMMIaSstif+ZOpR5FsPkxHpawxbbe15td0oOE"
          "MjtVPPXBCw1qvNItarlEfBoSBfIx7heDlccw7g==",
}


@pytest.fixture(scope="module")
def master_key() -> bytes:
    return new_master_key()


@pytest.fixture(scope="module")
def envelope(master_key: bytes) -> dict[str, Any]:
    """A vault with a passphrase slot, a recovery slot and a passkey slot."""
    slots = [passphrase_slot(master_key, PASSPHRASE, TEST_SCRYPT),
             recovery_slot(master_key, RECOVERY, TEST_SCRYPT),
             passkey_slot(master_key, PRF, CREDENTIAL)]
    return seal(DB, master_key, slots, "device-1")


RECOVERY = new_recovery_key()
PRF = bytes(range(100, 132))
CREDENTIAL = "cred-AAECAw"


def fresh(env: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(env)


# --- crypto -------------------------------------------------------------------------------------


def test_default_scrypt_is_aegis_cost_and_the_slot_records_it() -> None:
    assert (DEFAULT_SCRYPT.n, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p) == (2**15, 8, 1)
    slot = passphrase_slot(new_master_key(), "pw")
    assert (slot.n, slot.r, slot.p) == (32768, 8, 1)
    assert len(bytes.fromhex(slot.salt or "")) == 32
    assert slot.to_json()["n"] == 32768


def test_master_keys_are_random_256_bit() -> None:
    keys = {new_master_key() for _ in range(4)}
    assert len(keys) == 4 and all(len(k) == 32 for k in keys)


def test_aes_gcm_split_matches_cryptography() -> None:
    sealed = crypto.aes_gcm_encrypt(bytes(32), b"hello", b"aad", nonce=bytes(12))
    assert sealed.ciphertext + sealed.tag == AESGCM(bytes(32)).encrypt(bytes(12), b"hello", b"aad")
    assert crypto.aes_gcm_decrypt(bytes(32), sealed.nonce, sealed.ciphertext, sealed.tag,
                                  b"aad") == b"hello"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.aes_gcm_decrypt(bytes(32), sealed.nonce, sealed.ciphertext, sealed.tag, b"other")


@pytest.mark.parametrize("params,sane", [
    (DEFAULT_SCRYPT, True), (TEST_SCRYPT, True), (ScryptParams(2**20, 2, 1), True),
    (ScryptParams(2**21, 1, 1), False), (ScryptParams(2**20, 8, 1), False),
    (ScryptParams(1000, 8, 1), False), (ScryptParams(2**15, 0, 1), False),
    (ScryptParams(2**15, 8, 99), False),
])
def test_scrypt_params_are_bounded(params: ScryptParams, sane: bool) -> None:
    assert params.is_sane() is sane
    if not sane:  # a slot is never written with a cost it could not be opened with
        with pytest.raises(VaultError) as info:
            passphrase_slot(bytes(32), "pw", params)
        assert info.value.code == "scrypt_params_invalid"


# --- slots --------------------------------------------------------------------------------------


def test_each_slot_kind_unwraps_the_master_key(master_key: bytes,
                                               envelope: dict[str, Any]) -> None:
    slots = slots_of(envelope)
    assert [s.type for s in slots] == ["passphrase", "recovery", "passkey"]
    assert unwrap_passphrase(slots, PASSPHRASE) == master_key
    assert unwrap_recovery(slots, RECOVERY.lower().replace("-", " ")) == master_key
    assert unwrap_passkey(slots, CREDENTIAL, PRF) == master_key


def test_passkey_kek_is_hkdf_sha256_of_the_prf_output(master_key: bytes) -> None:
    slot = passkey_slot(master_key, PRF, CREDENTIAL)
    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes.fromhex(slot.salt or ""),
               info=(slot.info or "").encode()).derive(PRF)
    assert AESGCM(kek).decrypt(bytes.fromhex(slot.nonce),
                               bytes.fromhex(slot.key + slot.tag), None) == master_key


def test_kek_derived_once_opens_the_slot_again(master_key: bytes) -> None:
    slot = recovery_slot(master_key, RECOVERY, TEST_SCRYPT)
    kek = derive_passphrase_kek(slot, RECOVERY)
    assert unwrap_with_kek(slot, kek) == master_key
    assert unwrap_with_kek(slot, kek) == master_key


WRONG_CREDENTIALS = {
    "passphrase": (lambda slots: unwrap_passphrase(slots, "wrong"), "wrong_passphrase"),
    "recovery key": (lambda slots: unwrap_recovery(slots, new_recovery_key()),
                     "wrong_recovery_key"),
    "passkey PRF": (lambda slots: unwrap_passkey(slots, CREDENTIAL, bytes(32)), "wrong_passkey"),
}


@pytest.mark.parametrize("unwrap,code", WRONG_CREDENTIALS.values(), ids=WRONG_CREDENTIALS.keys())
def test_wrong_credentials_are_wrong_passphrase(envelope: dict[str, Any], unwrap: Any,
                                                code: str) -> None:
    with pytest.raises(WrongPassphrase) as info:
        unwrap(slots_of(envelope))
    assert info.value.code == code and status_of(info.value) == 401


def test_unknown_passkey_has_no_slot(envelope: dict[str, Any]) -> None:
    with pytest.raises(VaultError) as info:
        unwrap_passkey(slots_of(envelope), "someone-else", PRF)
    assert info.value.code == "slot_missing" and not isinstance(info.value, WrongPassphrase)


def test_recovery_keys_are_grouped_base32_and_normalised() -> None:
    key = new_recovery_key()
    groups = key.split("-")
    assert len(groups) == 13 and all(len(g) == 4 for g in groups)
    assert len(base64.b32decode(key.replace("-", "") + "====")) == 32
    assert normalize_recovery_key(f"  {key.lower().replace('-', ' ')} ") == key
    assert new_recovery_key() != key


@pytest.mark.parametrize("text", ["", "ABCD", "not a key at all", "A" * 51 + "B"])
def test_rejects_malformed_recovery_keys(text: str) -> None:
    with pytest.raises(VaultError) as info:
        normalize_recovery_key(text)
    assert info.value.code == "recovery_key_invalid"


def test_recovery_key_lookalike_digits_are_read_as_letters() -> None:
    key = "O" * 4 + "-" + "-".join(["IBAA"] * 11) + "-AAAA"
    assert normalize_recovery_key(key.replace("O", "0").replace("I", "1")) == key


# --- envelope -----------------------------------------------------------------------------------


def test_known_answer_envelope_opens() -> None:
    env = fresh(KAT_ENVELOPE)
    assert unlock_with_passphrase(env, PASSPHRASE) == KAT_MASTER_KEY
    assert open_db(env, KAT_MASTER_KEY, expected_device_id="device-1") == KAT_DB


def test_known_answer_envelope_follows_the_documented_scheme() -> None:
    """Recompute the vector straight from cryptography, as the envelope docstring describes."""
    env = KAT_ENVELOPE
    aad = b'{"device_id":"device-1","format":1}'
    plain = json.dumps(KAT_DB, separators=(",", ":")).encode()
    out = AESGCM(KAT_MASTER_KEY).encrypt(bytes([0x33]) * 12, plain, aad)
    assert base64.b64encode(out[:-16]).decode() == env["db"]
    assert out[-16:].hex() == env["header"]["params"]["tag"]
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"authvault header mac v1").derive(KAT_MASTER_KEY)
    signed = {"version": 1, "format": 1, "device_id": "device-1",
              "slots": env["header"]["slots"], "params": env["header"]["params"]}
    h = chmac.HMAC(mac_key, hashes.SHA256())
    h.update(json.dumps(signed, sort_keys=True, separators=(",", ":")).encode())
    assert h.finalize().hex() == env["authvault"]["header_mac"]


def test_seal_and_open_round_trip(master_key: bytes, envelope: dict[str, Any]) -> None:
    assert open_db(envelope, master_key) == DB
    assert unlock_with_passphrase(envelope, PASSPHRASE) == master_key
    assert unlock_with_recovery_key(envelope, RECOVERY) == master_key
    assert unlock_with_passkey(envelope, CREDENTIAL, PRF) == master_key
    assert json.loads(json.dumps(envelope)) == envelope  # storable as JSON text


def test_wrong_passphrase_is_not_damage(envelope: dict[str, Any]) -> None:
    with pytest.raises(WrongPassphrase):
        unlock_with_passphrase(envelope, "Correct horse battery")


def test_open_with_another_key_is_damage(envelope: dict[str, Any]) -> None:
    with pytest.raises(VaultDamaged):
        open_db(envelope, new_master_key())


def test_envelope_of_another_device_is_refused(master_key: bytes,
                                               envelope: dict[str, Any]) -> None:
    with pytest.raises(VaultDamaged):
        open_db(envelope, master_key, expected_device_id="device-2")


def _set(env: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = env
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value


def _flip_hex(text: str) -> str:
    return ("1" if text[0] != "1" else "2") + text[1:]


def _flip_b64(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


TAMPERS = {
    "recovery slot salt": lambda e: _set(e, "header.slots.1.salt",
                                         _flip_hex(e["header"]["slots"][1]["salt"])),
    "recovery slot cost": lambda e: _set(e, "header.slots.1.n", 32),
    "passkey credential id": lambda e: _set(e, "header.slots.2.credential_id", "other"),
    "slot uuid": lambda e: _set(e, "header.slots.1.uuid", "00000000-0000-4000-8000-000000000000"),
    "slot order swapped": lambda e: e["header"]["slots"].reverse(),
    "slot dropped": lambda e: e["header"]["slots"].pop(),
    "extra field in a slot": lambda e: _set(e, "header.slots.0.label", "x"),
    "device id": lambda e: _set(e, "authvault.device_id", "device-2"),
    "db byte": lambda e: _set(e, "db", _flip_b64(e["db"])),
    "db nonce": lambda e: _set(e, "header.params.nonce", _flip_hex(e["header"]["params"]["nonce"])),
    "db tag": lambda e: _set(e, "header.params.tag", _flip_hex(e["header"]["params"]["tag"])),
    "header MAC byte": lambda e: _set(e, "authvault.header_mac",
                                      _flip_hex(e["authvault"]["header_mac"])),
    "format below 1": lambda e: _set(e, "authvault.format", 0),
    "format as text": lambda e: _set(e, "authvault.format", "1"),
    "db is not base64": lambda e: _set(e, "db", "***"),
    "slots missing": lambda e: e["header"].pop("slots"),
    "MAC missing": lambda e: e["authvault"].pop("header_mac"),
}


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=TAMPERS.keys())
def test_tampering_is_caught_as_damage(envelope: dict[str, Any], tamper: Any) -> None:
    env = fresh(envelope)
    tamper(env)
    with pytest.raises(VaultDamaged) as info:
        unlock_with_passphrase(env, PASSPHRASE)
    assert info.value.code == "vault_damaged" and status_of(info.value) != 401


def test_passphrase_slot_salt_swap_is_caught_by_the_other_slots(envelope: dict[str, Any]) -> None:
    env = fresh(envelope)
    slots = env["header"]["slots"]
    slots[0]["salt"], slots[1]["salt"] = slots[1]["salt"], slots[0]["salt"]
    # The altered slot itself can no longer open: that is indistinguishable from a wrong passphrase.
    with pytest.raises(WrongPassphrase):
        unlock_with_passphrase(env, PASSPHRASE)
    with pytest.raises(VaultDamaged):
        unlock_with_passkey(env, CREDENTIAL, PRF)


@pytest.mark.parametrize("field,path", [("format", "authvault.format"), ("aegis", "version")])
def test_newer_version_is_refused_before_anything_else(envelope: dict[str, Any], field: str,
                                                       path: str) -> None:
    env = fresh(envelope)
    _set(env, path, 2)
    with pytest.raises(UnsupportedVaultVersion) as info:
        unlock_with_passphrase(env, "any passphrase")
    assert info.value.code == "vault_version_unsupported"
    assert "newer AuthVault (format 2)" in info.value.text()


def test_malformed_envelope_is_damage() -> None:
    for bad in ({}, {"authvault": {"format": 1}}, [], "text"):
        with pytest.raises(VaultDamaged):
            slots_of(bad)  # type: ignore[arg-type]


def test_hostile_scrypt_cost_is_refused_without_running_it(master_key: bytes) -> None:
    env = seal(DB, master_key, [passphrase_slot(master_key, PASSPHRASE, TEST_SCRYPT)], "d")
    env["header"]["slots"][0]["n"] = 2**30
    with pytest.raises(VaultDamaged):
        unlock_with_passphrase(env, PASSPHRASE)


def test_adding_and_removing_slots_leaves_the_db_byte_identical(master_key: bytes,
                                                                envelope: dict[str, Any]) -> None:
    slots = slots_of(envelope)
    second = passphrase_slot(master_key, "second passphrase", TEST_SCRYPT)
    grown = with_slots(envelope, master_key, [*slots, second])
    assert grown["db"] == envelope["db"]
    assert grown["header"]["params"] == envelope["header"]["params"]
    assert grown["authvault"]["header_mac"] != envelope["authvault"]["header_mac"]
    assert unlock_with_passphrase(grown, "second passphrase") == master_key
    shrunk = with_slots(grown, master_key, [second])
    assert shrunk["db"] == envelope["db"]
    assert open_db(shrunk, master_key) == DB
    with pytest.raises(WrongPassphrase):
        unlock_with_passphrase(shrunk, PASSPHRASE)
    assert envelope["header"]["slots"][0]["type"] == "passphrase"  # input left untouched


def test_with_slots_refuses_another_key_and_no_slots(master_key: bytes,
                                                     envelope: dict[str, Any]) -> None:
    with pytest.raises(VaultDamaged):
        with_slots(envelope, new_master_key(), slots_of(envelope))
    with pytest.raises(VaultError) as info:
        with_slots(envelope, master_key, [])
    assert info.value.code == "slot_missing"


def test_replace_db_keeps_slots_and_device(master_key: bytes, envelope: dict[str, Any]) -> None:
    new_db = {"version": 3, "entries": [{"x": 1}], "groups": []}
    updated = replace_db(envelope, master_key, new_db)
    assert updated["header"]["slots"] == envelope["header"]["slots"]
    assert updated["authvault"]["device_id"] == "device-1"
    assert updated["header"]["params"]["nonce"] != envelope["header"]["params"]["nonce"]
    assert open_db(updated, master_key) == new_db
    assert unlock_with_passphrase(updated, PASSPHRASE) == master_key


def test_errors_never_carry_the_passphrase(envelope: dict[str, Any]) -> None:
    secret = "hunter2-very-secret"
    with pytest.raises(AuthVaultError) as info:
        unlock_with_passphrase(envelope, secret)
    assert secret not in str(info.value) and secret not in repr(info.value.params)


# --- Aegis files --------------------------------------------------------------------------------


def _vectors_of(name: str) -> list[dict[str, Any]]:
    return next(f for f in fixture_json("importers/expected.json")["fixtures"] if f["file"] == f"aegis-fixtures/{name}")[
        "expected_entries"]


def test_reads_the_aegis_encrypted_fixture() -> None:
    vault = json.loads((AEGIS / "aegis_encrypted.json").read_text())
    db = read_aegis_vault(vault, "test")
    got = [(a.issuer, a.name, a.type, base64.b32encode(a.secret).decode().rstrip("="))
           for a in accounts_from_db(db)]
    want = [(e["issuer"], e["name"], e["type"], e["secret"])
            for e in _vectors_of("aegis_encrypted.json")]
    assert got == want


def test_aegis_fixture_wrong_password_vs_damaged() -> None:
    vault = json.loads((AEGIS / "aegis_encrypted.json").read_text())
    with pytest.raises(WrongPassphrase):
        read_aegis_vault(vault, "Test")
    vault["db"] = _flip_b64(vault["db"])
    with pytest.raises(VaultDamaged):
        read_aegis_vault(vault, "test")


def test_reads_a_plain_aegis_file_without_password() -> None:
    vault = json.loads((AEGIS / "aegis_plain.json").read_text())
    assert len(read_aegis_vault(vault, "")["entries"]) == 7


def _independent_aegis_decrypt(vault: dict[str, Any], password: str) -> dict[str, Any]:
    """Aegis docs/vault.md read straight against cryptography, not through authvault."""
    for slot in vault["header"]["slots"]:
        if slot["type"] != 1:
            continue
        kek = Scrypt(salt=bytes.fromhex(slot["salt"]), length=32, n=slot["n"], r=slot["r"],
                     p=slot["p"]).derive(password.encode())
        params = slot["key_params"]
        master = AESGCM(kek).decrypt(bytes.fromhex(params["nonce"]),
                                     bytes.fromhex(slot["key"] + params["tag"]), None)
        p = vault["header"]["params"]
        plain = AESGCM(master).decrypt(bytes.fromhex(p["nonce"]),
                                       base64.b64decode(vault["db"]) + bytes.fromhex(p["tag"]),
                                       None)
        return json.loads(plain)
    raise AssertionError("no password slot")


def test_aegis_export_decrypts_with_an_independent_reader() -> None:
    db = {"version": 3, "entries": [{"type": "totp", "name": "a"}], "groups": []}
    vault = to_aegis_vault(db, "pässword", TEST_SCRYPT)
    assert set(vault) == {"version", "header", "db"} and vault["version"] == 1
    slot = vault["header"]["slots"][0]
    assert slot["type"] == 1 and {"n", "r", "p", "salt", "key", "key_params", "uuid"} <= set(slot)
    assert _independent_aegis_decrypt(json.loads(json.dumps(vault)), "pässword") == db
    assert read_aegis_vault(vault, "pässword") == db


def test_aegis_export_with_a_kept_recovery_slot_runs_no_scrypt(
        master_key: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    slot = recovery_slot(master_key, RECOVERY, TEST_SCRYPT)

    def no_scrypt(*_: Any) -> bytes:
        raise AssertionError("scrypt ran")

    monkeypatch.setattr(crypto, "scrypt_kek", no_scrypt)
    vault = to_aegis_vault_with_master_key(DB, master_key, [slot])
    monkeypatch.undo()
    # Aegis sees a password slot; its password is the recovery key exactly as printed.
    assert _independent_aegis_decrypt(vault, normalize_recovery_key(RECOVERY)) == DB
    assert read_aegis_vault_with_recovery_key(vault, RECOVERY.lower()) == DB
    with pytest.raises(WrongPassphrase) as info:
        read_aegis_vault_with_recovery_key(vault, new_recovery_key())
    assert info.value.code == "wrong_recovery_key"


def test_aegis_export_refuses_passkey_slots(master_key: bytes) -> None:
    with pytest.raises(VaultError):
        to_aegis_vault_with_master_key(DB, master_key, [passkey_slot(master_key, PRF, "c")])


# --- session keys -------------------------------------------------------------------------------


def test_session_wrap_round_trip(master_key: bytes) -> None:
    token = new_session_token()
    blob = wrap_for_session(master_key, token)
    assert master_key not in blob
    assert unwrap_for_session(blob, token) == master_key


def test_session_tokens_are_urlsafe_and_ids_are_sha256() -> None:
    token = new_session_token()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert session_id("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert token not in session_id(token)


def test_session_blob_is_bound_to_its_token(master_key: bytes) -> None:
    blob = wrap_for_session(master_key, new_session_token())
    for token, data in ((new_session_token(), blob), ("x", blob), ("", blob)):
        with pytest.raises(VaultError) as info:
            unwrap_for_session(data, token)
        assert info.value.code == "session_invalid"


@pytest.mark.parametrize("mangle", [
    lambda b: b[:-1] + bytes([b[-1] ^ 1]), lambda b: b[:10], lambda b: b"\x02" + b[1:],
    lambda b: b"",
])
def test_damaged_session_blob_is_invalid(master_key: bytes, mangle: Any) -> None:
    token = new_session_token()
    with pytest.raises(VaultError) as info:
        unwrap_for_session(mangle(wrap_for_session(master_key, token)), token)
    assert info.value.code == "session_invalid"
