"""Files choose no cost of their own (issue 12, item 3).

A file from elsewhere states its KDF cost (scrypt N/r/p and slot count in an Aegis vault or a backup
object, PBKDF2 iterations in andOTP and FreeOTP) or is an SQLite database whose schema computes
values. Each is bounded, and going over a bound is a 4xx with its own message, before the cost is
paid. The hostile files are built here from the real fixtures (an Aegis vault with its slot's cost
raised, a FreeOTP backup with its iteration count raised, a Google Authenticator database with a
generated column).
"""
from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

from authvault import gates
from authvault.backup import objects
from authvault.backup.errors import BackupTampered
from authvault.interop.importers import ImporterError, import_file
from authvault.interop.importers.support import crypto as import_crypto
from authvault.model import Account
from authvault.vault import crypto, slots
from authvault.web.errors import status_of
from tests.paths import FIXTURES

AEGIS = FIXTURES / "importers" / "aegis-fixtures"


def _aegis(**slot_changes: int) -> bytes:
    doc = json.loads((AEGIS / "aegis_encrypted.json").read_text())
    password = [s for s in doc["header"]["slots"] if s["type"] == 1][0]
    password.update(slot_changes)
    return json.dumps(doc).encode()


KDF_CALLS: list[str] = []


@pytest.fixture(autouse=True)
def _count_kdf_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record every key derivation started (the real ones still run), so a test can say the cost was
    not paid: a count, not a clock (a busy machine makes any time bound flaky)."""
    KDF_CALLS.clear()

    def counted(name: str, real: Any) -> Any:
        def derive_with(*args: Any, **kwargs: Any) -> Any:
            KDF_CALLS.append(name)
            return real(*args, **kwargs)
        return derive_with

    monkeypatch.setattr(crypto, "Scrypt", counted("scrypt", crypto.Scrypt))
    monkeypatch.setattr(import_crypto, "PBKDF2HMAC", counted("pbkdf2", import_crypto.PBKDF2HMAC))
    monkeypatch.setattr(gates, "Argon2id", counted("argon2id", gates.Argon2id))


def _import_error(data: bytes, password: str | None = "test", fmt: str | None = None) -> ImporterError:
    KDF_CALLS.clear()
    with pytest.raises(ImporterError) as err:
        import_file(data, password=password, format=fmt)
    assert KDF_CALLS == [], "the cost was paid before the refusal"
    return err.value


@pytest.mark.parametrize("n,r,p", [(2**18, 8, 16), (2**17, 8, 1), (2**15, 8, 8), (2**16, 16, 1)])
def test_aegis_scrypt_cost_beyond_the_bound_is_refused_before_scrypt(n: int, r: int, p: int) -> None:
    err = _import_error(_aegis(n=n, r=r, p=p))
    assert err.code == "kdf_cost_too_high" and status_of(err) == 422
    assert "Aegis" in err.text()


def test_aegis_cost_within_the_bound_still_imports() -> None:
    # The fixture's own cost (N=2^15, r=8, p=1) is what Aegis writes.
    result = import_file((AEGIS / "aegis_encrypted.json").read_bytes(), password="test")
    assert len(result.accounts) == 7


def test_aegis_with_too_many_password_slots_is_refused() -> None:
    doc = json.loads((AEGIS / "aegis_encrypted.json").read_text())
    first = [s for s in doc["header"]["slots"] if s["type"] == 1][0]
    doc["header"]["slots"] = [dict(first, uuid=f"{i:08d}-0000-0000-0000-000000000000") for i in range(5)]
    err = _import_error(json.dumps(doc).encode())
    assert err.code == "kdf_cost_too_high"


def test_aegis_with_a_flood_of_other_slots_is_refused() -> None:
    doc = json.loads((AEGIS / "aegis_encrypted.json").read_text())
    first = [s for s in doc["header"]["slots"] if s["type"] == 1][0]
    doc["header"]["slots"] += [dict(first, type=2)] * 5000  # biometric slots: no scrypt, but a count
    assert _import_error(json.dumps(doc).encode()).code == "kdf_cost_too_high"


def _freeotp(iterations: int) -> bytes:
    """FreeOTP 2's Java-serialized backup with its masterKey's mIterations changed (the string's
    length prefix fixed up)."""
    data = (AEGIS / "freeotp_v2_api34.xml").read_bytes()
    i = data.index(b'"mIterations":100000')
    for start in range(i, 0, -1):
        if data[start:start + 1] == b"{" and data[start - 3] == 0x74:  # TC_STRING, u16 length
            length = struct.unpack(">H", data[start - 2:start])[0]
            if start + length > i and data[start + length - 1:start + length] == b"}":
                break
    else:
        raise AssertionError("masterKey string not found")
    text = data[start:start + length].replace(b'"mIterations":100000', b'"mIterations":%d' % iterations)
    return data[:start - 2] + struct.pack(">H", len(text)) + text + data[start + length:]


def test_freeotp_iterations_beyond_the_bound_are_refused() -> None:
    assert len(import_file(_freeotp(100000), password="test").accounts) == 6  # the fixed-up file reads
    err = _import_error(_freeotp(5_000_000))
    assert err.code == "kdf_cost_too_high" and status_of(err) == 422 and "FreeOTP" in err.text()


def test_andotp_iterations_beyond_the_bound_are_refused() -> None:
    body = struct.pack(">I", 5_000_000) + bytes(12) + bytes(12) + bytes(64)
    err = _import_error(body, fmt="andotp")
    assert err.code == "kdf_cost_too_high"


def _backup_object(tmp_path: Path, **slot_changes: int) -> objects.Parsed:
    key = slots.new_recovery_key()
    master = crypto.new_master_key()
    slot = slots.recovery_slot(master, key, crypto.TEST_SCRYPT)
    holder = objects.Holder(device_id="d1", device_name="iPhone", count=1,
                            updated_at="2026-12-01T07:00:00Z", generation=1, backup_id="b1")
    data = objects.build(holder, [Account(secret=b"12345678901234567890", issuer="GitHub", name="a")],
                         master, slot)
    obj = json.loads(data)
    obj["vault"]["header"]["slots"][0].update(slot_changes)
    return objects.parse(json.dumps(obj).encode(), "etag")


def test_backup_object_with_a_raised_scrypt_cost_is_refused_before_scrypt(tmp_path: Path) -> None:
    parsed = _backup_object(tmp_path, n=2**18, r=8, p=16)
    KDF_CALLS.clear()  # building the object derived its recovery slot's key
    with pytest.raises(BackupTampered) as err:
        objects.open_with_recovery_key(parsed, slots.new_recovery_key())
    assert KDF_CALLS == [], "scrypt ran before the refusal"
    assert "computation" in err.value.text()


# -- SQLite databases ------------------------------------------------------------------------------


def _google_db(tmp_path: Path, extra_column: str = "", rows: int = 1) -> bytes:
    path = tmp_path / "databases"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (_id INTEGER PRIMARY KEY, email TEXT NOT NULL, secret TEXT NOT NULL,"
                 f" counter INTEGER DEFAULT 0, type INTEGER, issuer TEXT, original_name TEXT{extra_column})")
    conn.executemany("INSERT INTO accounts (email, secret, type, issuer) VALUES (?, ?, 0, 'GitHub')",
                     [(f"alice{i}@example.com", "JBSWY3DPEHPK3PXP") for i in range(rows)])
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_sqlite_generated_column_cannot_make_a_huge_value(tmp_path: Path) -> None:
    # On the code before the bounds, this 8 KB file made SQLite build a 900 MB blob.
    data = _google_db(tmp_path, ", big BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL")
    assert len(data) < 20_000
    err = _import_error(data, password=None)
    assert err.code == "database_too_large" and status_of(err) == 422


def test_sqlite_too_many_rows_are_refused(tmp_path: Path) -> None:
    err = _import_error(_google_db(tmp_path, rows=10_001), password=None)
    assert err.code == "database_too_large"


def test_sqlite_values_adding_up_past_the_bound_are_refused(tmp_path: Path) -> None:
    # Each value is under the length bound (60,000 characters), 2,000 rows of them are 120 MB.
    data = _google_db(tmp_path, ", wide TEXT GENERATED ALWAYS AS (hex(zeroblob(30000))) VIRTUAL", rows=2000)
    err = _import_error(data, password=None)
    assert err.code == "database_too_large"


def test_sqlite_value_computed_past_the_length_bound_is_refused(tmp_path: Path) -> None:
    # Cheap to store: every row computes a 240,000-character value from a 30 KB zeroblob.
    data = _google_db(tmp_path, ", slow INTEGER GENERATED ALWAYS AS "
                      "(length(replace(replace(hex(zeroblob(30000)), '0', 'ab'), 'a', 'cd'))) VIRTUAL",
                      rows=9000)
    err = _import_error(data, password=None)
    assert err.code == "database_too_large"


def test_sqlite_real_database_still_imports() -> None:
    result = import_file((AEGIS / "google_authenticator.sqlite").read_bytes())
    assert len(result.accounts) >= 5
