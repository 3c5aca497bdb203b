"""Exports: each format reads back through our importers to the same entries, and the encrypted
Aegis export is also opened here by an independent reading of Aegis's vault format written
straight against `cryptography` (scrypt -> unwrap the master key with AES-GCM -> decrypt the db),
not through AuthVault's vault or importer code.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from authvault.interop.export import (
    ExportError,
    export_aegis_encrypted,
    export_aegis_plain,
    export_file,
    export_google,
    export_uris,
    exportable,
)
from authvault.interop.google_migration import parse_migration_uri
from authvault.interop.importers import ImporterError, import_file
from authvault.model import Account, same_account
from authvault.vault.crypto import DEFAULT_SCRYPT, TEST_SCRYPT
from tests.paths import FIXTURES

PASSWORD = "correct horse battery"


def _vectors() -> list[Account]:
    """The 7 canonical Aegis vectors (TOTP, HOTP, Steam; SHA1/256/512; 5-8 digits)."""
    data = (FIXTURES / "importers" / "aegis-fixtures" / "plain.txt").read_bytes()
    return import_file(data).accounts


def _accounts() -> list[Account]:
    accounts = _vectors()
    accounts[0].group, accounts[0].note = "Work", "recovery codes in the safe"
    accounts[1].group = "Work"
    accounts.append(
        Account(secret=bytes(range(20)), issuer="Ünïcödé & Co", name="a:b@c.d", group="Home")
    )
    return accounts


def _core(acc: Account) -> tuple[Any, ...]:
    last = acc.counter if acc.type == "hotp" else acc.period
    return (acc.issuer, acc.name, bytes(acc.secret), acc.type, acc.algorithm, acc.digits, last)


def _same_entries(got: list[Account], want: list[Account], *, extra: bool = False) -> None:
    key = (lambda a: _core(a) + (a.group, a.note)) if extra else _core
    assert sorted(map(key, got), key=repr) == sorted(map(key, want), key=repr)


# -- round trips through our importers ----------------------------------------------------------


def test_encrypted_aegis_export_reads_back_with_its_password() -> None:
    accounts = _accounts()
    data = export_aegis_encrypted(accounts, PASSWORD, TEST_SCRYPT)
    result = import_file(data, filename="export.json", password=PASSWORD)
    assert result.format == "aegis" and result.skipped == []
    _same_entries(result.accounts, accounts, extra=True)
    with pytest.raises(ImporterError) as err:
        import_file(data, password="wrong password")
    assert err.value.code == "wrong_password"


def test_plain_aegis_export_reads_back() -> None:
    accounts = _accounts()
    result = import_file(export_aegis_plain(accounts))
    assert result.format == "aegis" and result.skipped == []
    _same_entries(result.accounts, accounts, extra=True)


def test_uri_export_reads_back() -> None:
    accounts = _accounts()
    data = export_uris(accounts)
    assert data.decode().count("\n") == len(accounts)
    result = import_file(data, filename="export.txt")
    assert result.format == "otpauth_text" and result.skipped == []
    _same_entries(result.accounts, accounts)


@pytest.mark.parametrize(("fmt", "detected"), [("aegis", "aegis"), ("aegis-plain", "aegis"),
                                                ("uris", "otpauth_text"), ("2fauth", "twofauth")])
def test_every_file_format_of_the_export_api_reads_back(fmt: str, detected: str) -> None:
    """POST /api/export's formats, by the one dispatch it calls: each file is the format named."""
    accounts = _accounts()
    data = export_file(fmt, accounts, password="export password 1", params=TEST_SCRYPT)
    result = import_file(data, password="export password 1" if fmt == "aegis" else None)
    assert result.format == detected and result.skipped == []
    _same_entries(result.accounts, accounts)
    if fmt == "aegis":
        assert json.loads(data)["db"] and isinstance(json.loads(data)["db"], str)  # encrypted
    with pytest.raises(ValueError):
        export_file("google", accounts)


def test_google_export_reads_back_and_lists_what_it_cannot_hold() -> None:
    accounts = _accounts()
    uris, left_out = export_google(accounts)
    assert len(uris) == 1
    held = [a for a in accounts if all(a is not b for b, _ in left_out)]
    # Google Authenticator: 6 or 8 digits, 30 s, no Steam.
    assert sorted((a.issuer, a.name) for a, _ in left_out) == sorted(
        [("Airbnb", "Elijah"), ("Air Canada", "Benjamin"), ("Boeing", "Sophia"), ("SPDX", "James")]
    )
    assert all(reason for _, reason in left_out)
    result = import_file("\n".join(uris).encode())
    _same_entries(result.accounts, held)


@pytest.mark.parametrize(("count", "batches"), [(1, 1), (10, 1), (11, 2), (25, 3)])
def test_google_export_batches_ten_accounts_a_code(count: int, batches: int) -> None:
    accounts = [
        Account(secret=bytes([i]) * 20, issuer=f"Service {i}", name=f"user{i}")
        for i in range(count)
    ]
    uris, left_out = export_google(accounts)
    assert left_out == [] and len(uris) == batches
    parsed = [parse_migration_uri(uri) for uri in uris]
    assert [b.batch_index for b in parsed] == list(range(batches))
    assert {b.batch_size for b in parsed} == {batches}
    assert len({b.batch_id for b in parsed}) == 1
    assert [len(b.accounts) for b in parsed] == [min(10, count - 10 * i) for i in range(batches)]
    back = [a for b in parsed for a in b.accounts]
    def label(acc: Account) -> tuple[str, str]:
        return "".join(acc.issuer.split()).casefold(), "".join(acc.name.split()).casefold()
    assert all(same_account(a, b) and label(a) == label(b) for a, b in zip(accounts, back, strict=True))


def test_accounts_waiting_for_a_new_qr_code_are_left_out_of_every_export() -> None:
    waiting = Account(secret=b"", issuer="Contoso", name="work", action_required=True)
    accounts = _vectors()[:1] + [waiting]
    assert exportable(accounts)[1][0][0] is waiting
    assert b"Contoso" not in export_aegis_plain(accounts)
    assert b"Contoso" not in export_uris(accounts)
    _, left_out = export_google(accounts)
    assert [a for a, _ in left_out] == [waiting]


def test_encrypted_export_needs_a_real_password() -> None:
    for password, code in (("", "password_required"), ("short", "password_too_short")):
        with pytest.raises(ExportError) as err:
            export_aegis_encrypted(_vectors(), password, TEST_SCRYPT)
        assert err.value.code == code


def test_exports_never_leave_a_secret_in_the_clear_when_encrypted() -> None:
    accounts = _vectors()
    data = export_aegis_encrypted(accounts, PASSWORD, TEST_SCRYPT)
    for line in export_uris(accounts).decode().splitlines():
        secret = line.split("secret=")[1].split("&")[0]
        assert secret.encode() not in data


# -- an independent reading of the encrypted Aegis file ------------------------------------------


def _independent_aegis_decrypt(data: bytes, password: str) -> dict[str, Any]:
    """Aegis docs/vault.md, step by step, with nothing but `cryptography`."""
    vault = json.loads(data)
    assert vault["version"] == 1
    header = vault["header"]
    master_key = None
    for slot in header["slots"]:
        if slot["type"] != 1:  # 1 = password slot
            continue
        kek = Scrypt(
            salt=bytes.fromhex(slot["salt"]), length=32, n=slot["n"], r=slot["r"], p=slot["p"]
        ).derive(password.encode("utf-8"))
        params = slot["key_params"]
        master_key = AESGCM(kek).decrypt(
            bytes.fromhex(params["nonce"]),
            bytes.fromhex(slot["key"]) + bytes.fromhex(params["tag"]),
            None,
        )
    assert master_key is not None and len(master_key) == 32
    params = header["params"]
    plain = AESGCM(master_key).decrypt(
        bytes.fromhex(params["nonce"]),
        base64.b64decode(vault["db"]) + bytes.fromhex(params["tag"]),
        None,
    )
    return json.loads(plain)


def _entry_core(entry: dict[str, Any]) -> tuple[Any, ...]:
    info = entry["info"]
    secret = base64.b32decode(info["secret"] + "=" * (-len(info["secret"]) % 8))
    last = info["counter"] if entry["type"] == "hotp" else info["period"]
    return (
        entry["issuer"],
        entry["name"],
        secret,
        entry["type"],
        info["algo"],
        info["digits"],
        last,
    )


@pytest.mark.parametrize(
    "params", [TEST_SCRYPT, DEFAULT_SCRYPT], ids=["test-scrypt", "aegis-scrypt"]
)
def test_encrypted_aegis_export_opens_with_plain_cryptography(params: Any) -> None:
    accounts = _accounts()
    data = export_aegis_encrypted(accounts, PASSWORD, params)
    vault = json.loads(data)
    slot = vault["header"]["slots"][0]
    assert (slot["n"], slot["r"], slot["p"]) == (params.n, params.r, params.p)
    assert len(bytes.fromhex(slot["salt"])) == 32
    db = _independent_aegis_decrypt(data, PASSWORD)
    assert db["version"] in (1, 2, 3)
    assert sorted(map(_entry_core, db["entries"]), key=repr) == sorted(
        map(_core, accounts), key=repr
    )
    groups = {g["uuid"]: g["name"] for g in db.get("groups", [])}
    by_name = {
        (e["issuer"], e["name"]): [groups[u] for u in e.get("groups", [])] for e in db["entries"]
    }
    assert by_name[("Deno", "Mason")] == ["Work"] and by_name[("Ünïcödé & Co", "a:b@c.d")] == [
        "Home"
    ]
    with pytest.raises(InvalidTag):
        _independent_aegis_decrypt(data, "not the password")
