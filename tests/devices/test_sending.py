"""Sending accounts to another own device: X25519 + HKDF-SHA256 + AES-256-GCM, bound to who and which."""
from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authvault import db as database
from authvault.devices import registry, sending
from authvault.model import Account
from authvault.vault import store as accts
from authvault.vault.crypto import ScryptParams
from authvault.web.errors import status_of

# RFC 7748, section 6.1: Alice's key is the ephemeral key, Bob's the receiving device's.
ALICE_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
BOB_PRIVATE = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_PUBLIC = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
NONCE = bytes(range(12))
PLAINTEXT = b"hello, iPad"
IDS = {"sender_id": "dev-iphone", "receiver_id": "dev-ipad", "transfer_id": "t1"}
# The pinned ciphertext (with its 16-byte tag) of PLAINTEXT under the keys above.
EXPECTED_CT = "f027d10d53258cf9c00a01c28a5a0840cc3c167000285a6bf3dd4e"


def _vector() -> dict:
    return sending.seal(PLAINTEXT, receiver_public=BOB_PUBLIC, ephemeral_private=ALICE_PRIVATE, nonce=NONCE, **IDS)


def test_key_pair_from_private_matches_rfc7748() -> None:
    assert sending.key_pair_from_private(BOB_PRIVATE).public == BOB_PUBLIC
    assert sending.key_pair_from_private(ALICE_PRIVATE).public == ALICE_PUBLIC


def test_seal_known_answer() -> None:
    sealed = _vector()
    assert sealed["v"] == 1
    assert base64.b64decode(sealed["epk"]) == ALICE_PUBLIC
    assert base64.b64decode(sealed["nonce"]) == NONCE
    assert base64.b64decode(sealed["ct"]).hex() == EXPECTED_CT


def test_seal_matches_an_independent_reading_of_the_scheme() -> None:
    """The documented scheme, written straight against `cryptography`, opens what `seal` wrote."""
    sealed = _vector()
    shared = X25519PrivateKey.from_private_bytes(BOB_PRIVATE).exchange(X25519PublicKey.from_public_bytes(ALICE_PUBLIC))
    assert shared == SHARED
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=ALICE_PUBLIC + BOB_PUBLIC,
               info=b"authvault-transfer-v1").derive(shared)
    aad = json.dumps({"epk": base64.b64encode(ALICE_PUBLIC).decode(), "receiver": "dev-ipad",
                      "sender": "dev-iphone", "transfer": "t1", "v": 1},
                     sort_keys=True, separators=(",", ":")).encode()
    assert AESGCM(key).decrypt(NONCE, base64.b64decode(sealed["ct"]), aad) == PLAINTEXT


def test_open_round_trip() -> None:
    assert sending.open_sealed(_vector(), receiver_private=BOB_PRIVATE, **IDS) == PLAINTEXT


def test_each_seal_uses_a_fresh_ephemeral_key_and_nonce() -> None:
    a = sending.seal(PLAINTEXT, receiver_public=BOB_PUBLIC, **IDS)
    b = sending.seal(PLAINTEXT, receiver_public=BOB_PUBLIC, **IDS)
    assert a["epk"] != b["epk"] and a["nonce"] != b["nonce"] and a["ct"] != b["ct"]


@pytest.mark.parametrize("field", ["epk", "nonce", "ct"])
@pytest.mark.parametrize("position", [0, -1])
def test_rejects_a_flipped_byte(field: str, position: int) -> None:
    sealed = _vector()
    raw = bytearray(base64.b64decode(sealed[field]))
    raw[position] ^= 0x01
    sealed[field] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(sending.TransferError) as exc:
        sending.open_sealed(sealed, receiver_private=BOB_PRIVATE, **IDS)
    assert exc.value.code == "transfer_damaged"


@pytest.mark.parametrize("changed", [{"sender_id": "dev-mallory"}, {"receiver_id": "dev-other"},
                                     {"transfer_id": "t2"}])
def test_rejects_another_sender_receiver_or_transfer(changed: dict) -> None:
    with pytest.raises(sending.TransferError):
        sending.open_sealed(_vector(), receiver_private=BOB_PRIVATE, **{**IDS, **changed})


def test_rejects_another_receivers_key() -> None:
    with pytest.raises(sending.TransferError):
        sending.open_sealed(_vector(), receiver_private=ALICE_PRIVATE, **IDS)


@pytest.mark.parametrize("mangle", [
    lambda s: {**s, "v": 2},
    lambda s: {**s, "epk": "not base64!"},
    lambda s: {**s, "nonce": base64.b64encode(b"short").decode()},
    lambda s: {k: v for k, v in s.items() if k != "ct"},
    lambda s: "a string",
    lambda s: None,
])
def test_rejects_malformed_sealed_data(mangle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(sending.TransferError):
        sending.open_sealed(mangle(copy.deepcopy(_vector())), receiver_private=BOB_PRIVATE, **IDS)


def test_accounts_survive_the_plaintext_with_new_ids() -> None:
    accs = [Account(secret=b"12345678901234567890", issuer="GitHub", name="alice", group="Work"),
            Account(secret=b"abcdefghij", type="hotp", counter=7, issuer="Bank", algorithm="SHA256", digits=8)]
    back = sending.accounts_from_plaintext(sending.accounts_plaintext(accs))
    for a, b in zip(accs, back, strict=True):
        assert (a.secret, a.type, a.issuer, a.name, a.algorithm, a.digits, a.period, a.counter, a.group) == \
               (b.secret, b.type, b.issuer, b.name, b.algorithm, b.digits, b.period, b.counter, b.group)
        assert a.id != b.id


def test_rejects_plaintext_that_is_not_an_entry_list() -> None:
    with pytest.raises(sending.TransferError):
        sending.accounts_from_plaintext(b'{"entries": 3}')


# --- with a database -----------------------------------------------------------------------------

@pytest.fixture
def conn(tmp_path: Path):  # type: ignore[no-untyped-def]
    c = database.connect(tmp_path / "db.sqlite3")
    database.init_schema(c)
    yield c
    c.close()


def _device(conn, name: str) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    with database.transaction(conn):
        device, _ = registry.create_device(conn, name)
        key = accts.create_vault(conn, device.id, "passphrase " + name, ScryptParams(2**4, 8, 1))
    return device.id, key


def test_device_key_lives_in_the_vault_and_the_public_half_in_the_table(conn) -> None:  # type: ignore[no-untyped-def]
    dev, key = _device(conn, "iPad")
    assert sending.public_key(conn, dev) is None
    pair = sending.ensure_device_key(conn, dev, key)
    assert sending.public_key(conn, dev) == pair.public
    private = accts.load_db(conn, dev, key)["authvault"]["device_key"]["private"]
    assert base64.b64decode(private) == pair.private
    # the private half is nowhere in the database in the clear
    dump = "\n".join(conn.iterdump()).encode()
    assert pair.private not in dump and private.encode() not in dump
    assert sending.ensure_device_key(conn, dev, key) == pair  # made once


def test_device_key_survives_account_changes(conn) -> None:  # type: ignore[no-untyped-def]
    dev, key = _device(conn, "iPad")
    pair = sending.ensure_device_key(conn, dev, key)
    accts.change_accounts(conn, dev, key, lambda a: a + [Account(secret=b"12345678901234567890", issuer="X")])
    assert sending.ensure_device_key(conn, dev, key) == pair


def test_a_missing_table_row_is_repaired_from_the_vault(conn) -> None:  # type: ignore[no-untyped-def]
    dev, key = _device(conn, "iPad")
    pair = sending.ensure_device_key(conn, dev, key)
    conn.execute("DELETE FROM device_keys")
    assert sending.ensure_device_key(conn, dev, key) == pair
    assert sending.public_key(conn, dev) == pair.public


def test_send_and_open_between_two_devices(conn) -> None:  # type: ignore[no-untyped-def]
    phone, _ = _device(conn, "iPhone")
    pad, pad_key = _device(conn, "iPad")
    pair = sending.ensure_device_key(conn, pad, pad_key)
    acc = Account(secret=b"12345678901234567890", issuer="GitHub", name="alice")
    t = sending.send_accounts(conn, sender_id=phone, sender_name="iPhone", receiver_id=pad, accounts=[acc])
    assert sending.incoming_count(conn, pad) == (1, 1)
    stored = conn.execute("SELECT sealed FROM transfers").fetchone()[0]
    assert acc.secret not in stored.encode() and "GitHub" not in stored  # the server cannot read it
    (got,) = sending.open_transfer(sending.get_transfer(conn, t.id), pair.private)
    assert (got.secret, got.issuer, got.name) == (acc.secret, "GitHub", "alice")


def test_a_row_moved_to_another_device_does_not_open(conn) -> None:  # type: ignore[no-untyped-def]
    phone, _ = _device(conn, "iPhone")
    pad, pad_key = _device(conn, "iPad")
    pair = sending.ensure_device_key(conn, pad, pad_key)
    t = sending.send_accounts(conn, sender_id=phone, sender_name="iPhone", receiver_id=pad,
                              accounts=[Account(secret=b"12345678901234567890", issuer="A")])
    conn.execute("UPDATE transfers SET sender_id = 'someone-else' WHERE id = ?", (t.id,))
    with pytest.raises(sending.TransferError):
        sending.open_transfer(sending.get_transfer(conn, t.id), pair.private)


def test_refuses_a_receiver_without_a_key(conn) -> None:  # type: ignore[no-untyped-def]
    phone, _ = _device(conn, "iPhone")
    pad, _ = _device(conn, "iPad")
    with pytest.raises(sending.TransferError) as exc:
        sending.send_accounts(conn, sender_id=phone, sender_name="iPhone", receiver_id=pad,
                              accounts=[Account(secret=b"12345678901234567890", issuer="A")])
    assert exc.value.code == "receiver_not_ready" and status_of(exc.value) == 409
    assert sending.incoming_count(conn, pad) == (0, 0)


def test_refuses_sending_to_itself_or_nothing(conn) -> None:  # type: ignore[no-untyped-def]
    phone, key = _device(conn, "iPhone")
    sending.ensure_device_key(conn, phone, key)
    acc = Account(secret=b"12345678901234567890", issuer="A")
    with pytest.raises(sending.TransferError, match="already on this one"):
        sending.send_accounts(conn, sender_id=phone, sender_name="iPhone", receiver_id=phone, accounts=[acc])
    with pytest.raises(sending.TransferError):
        sending.send_accounts(conn, sender_id=phone, sender_name="iPhone", receiver_id=phone, accounts=[])


def test_transfers_go_when_the_receiver_is_removed(conn) -> None:  # type: ignore[no-untyped-def]
    phone, _ = _device(conn, "iPhone")
    pad, pad_key = _device(conn, "iPad")
    sending.ensure_device_key(conn, pad, pad_key)
    sending.send_accounts(conn, sender_id=phone, sender_name="iPhone", receiver_id=pad,
                          accounts=[Account(secret=b"12345678901234567890", issuer="A")])
    with database.transaction(conn):
        registry.delete_device(conn, pad)
    assert conn.execute("SELECT COUNT(*) FROM transfers").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM device_keys").fetchone()[0] == 0
