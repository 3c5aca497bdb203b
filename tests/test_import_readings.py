"""Issue 15: every import read as its app means it. Files are built here as each app writes them
(from the apps' documented formats and their own sources, never copied), and every changed reading
is pinned by a known-answer code and named after its source app.

Known answers: RFC 4226 Appendix D (secret "12345678901234567890", base32
GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ: counter 0 -> 755224, 1 -> 287082, 5 -> 254676, 9 -> 520489), RFC
6238 Appendix B (same seed, SHA1, 8 digits: t=59 -> 94287082), pyotp's Steam vectors
(FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW: t=0 -> C5V56, t=30 -> QJY8Y).
"""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from authvault import otp
from authvault.interop.importers import import_file

RFC_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_KEY = b"12345678901234567890"
STEAM_B32 = "FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW"
STEAM_KEY = base64.b32decode(STEAM_B32)


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _notes(result: Any, acc: otp.Account) -> list[str]:
    return [n.code for n in result.notes_for(acc)]


# --- 2FAS Authenticator: tokenType at every schema (item 1) --------------------------------------
# 2FAS writes each service as {"name", "secret", "otp": {"label", "account", "issuer", "digits",
# "period", "algorithm", "tokenType", "counter"}, "order", ...}; tokenType is "TOTP", "HOTP" or
# "STEAM", and older apps wrote it into schema 1 and 2 backups too.

def _twofas(schema: int, otp_fields: dict[str, Any], secret: str = RFC_B32) -> bytes:
    service = {"name": "ACME", "secret": secret, "updatedAt": 1700000000000, "type": "Unknown",
               "otp": {"label": "ACME:alice", "account": "alice", "issuer": "ACME", **otp_fields},
               "order": {"position": 0}}
    return _json({"services": [service], "updatedAt": 1700000000000, "schemaVersion": schema,
                  "appVersionCode": 4000000, "appVersionName": "4.0.0", "appOrigin": "android"})


@pytest.mark.parametrize("schema", [1, 2, 3, 4])
def test_twofas_hotp_is_read_as_hotp_at_every_schema(schema: int) -> None:
    result = import_file(_twofas(schema, {"tokenType": "HOTP", "counter": 5, "digits": 6,
                                          "algorithm": "SHA1"}))
    assert result.format == "twofas" and not result.skipped
    (acc,) = result.accounts
    assert (acc.type, acc.issuer, acc.name, acc.secret, acc.counter, acc.digits) == \
        ("hotp", "ACME", "alice", RFC_KEY, 5, 6)
    assert otp.hotp_code(acc, acc.counter) == "254676"  # RFC 4226, counter 5


@pytest.mark.parametrize("schema", [1, 2])
def test_twofas_old_schema_without_token_type_is_totp(schema: int) -> None:
    (acc,) = import_file(_twofas(schema, {"digits": 8})).accounts
    assert (acc.type, acc.digits, acc.period) == ("totp", 8, 30)
    assert otp.code_at(acc, 59) == "94287082"  # RFC 6238, SHA1


@pytest.mark.parametrize("schema", [1, 2, 3, 4])
def test_twofas_unknown_token_type_is_skipped_with_its_name(schema: int) -> None:
    result = import_file(_twofas(schema, {"tokenType": "XOTP"}))
    assert result.accounts == []
    (skip,) = result.skipped
    assert (skip.code, skip.issuer, skip.name, skip.params) == ("unsupported_type", "ACME", "alice", {"type": "XOTP"})


def test_twofas_steam_token_type_gives_steam_codes() -> None:
    (acc,) = import_file(_twofas(4, {"tokenType": "STEAM", "digits": 5}, secret=STEAM_B32)).accounts
    assert acc.type == "steam" and otp.code_at(acc, 30) == "QJY8Y"


# --- Bitwarden: a bare secret or steam:// takes the item's name and username (item 4) --------------
# Bitwarden's unencrypted JSON export: {"encrypted": false, "folders": [...], "items": [{"type": 1,
# "name", "login": {"uris", "username", "password", "totp"}, ...}]}; its CSV has the columns below.
# Bitwarden shows such an entry under the item's name; Aegis and others name it so.

def _bitwarden_item(name: str, username: str | None, totp: str) -> dict[str, Any]:
    return {"id": "8c7a3b1e-0000-4000-8000-000000000001", "organizationId": None, "folderId": None,
            "type": 1, "reprompt": 0, "name": name, "notes": None, "favorite": False,
            "login": {"uris": [{"match": None, "uri": "https://example.com"}], "username": username,
                      "password": "not-a-secret", "totp": totp},
            "collectionIds": None}


def test_bitwarden_json_bare_secret_and_steam_are_named_after_the_item() -> None:
    doc = {"encrypted": False, "folders": [], "items": [
        _bitwarden_item("GitHub", "alice", RFC_B32.lower()),
        _bitwarden_item("Steam", "gaben", f"steam://{STEAM_B32}"),
        _bitwarden_item("Deno", None, "otpauth://totp/Deno:Mason?secret=" + RFC_B32 + "&issuer=Deno"),
    ]}
    result = import_file(_json(doc))
    assert result.format == "bitwarden" and not result.skipped
    bare, steam, uri = result.accounts
    assert (bare.type, bare.issuer, bare.name, bare.secret) == ("totp", "GitHub", "alice", RFC_KEY)
    assert otp.code_at(bare, 59) == "287082"  # RFC 6238 SHA1 at t=59, 6 digits
    assert (steam.type, steam.issuer, steam.name) == ("steam", "Steam", "gaben")
    assert otp.code_at(steam, 0) == "C5V56"
    assert (uri.issuer, uri.name) == ("Deno", "Mason")  # the URI's own label wins, as in Aegis
    assert "named_from_item" in _notes(result, bare) and "named_from_item" not in _notes(result, uri)
    assert "steam" in _notes(result, steam)


def test_bitwarden_csv_bare_secret_is_named_after_the_item() -> None:
    csv_text = ("folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n"
                f",,login,GitLab,,,0,https://gitlab.com,bob,pw,{RFC_B32}\n"
                f",1,login,My Steam,,,0,,,pw,steam://{STEAM_B32}\n")
    result = import_file(csv_text.encode())
    assert result.format == "bitwarden"
    bare, steam = result.accounts
    assert (bare.issuer, bare.name, otp.code_at(bare, 59)) == ("GitLab", "bob", "287082")
    assert (steam.type, steam.issuer, steam.name, otp.code_at(steam, 30)) == ("steam", "My Steam", "", "QJY8Y")


# --- WinAuth: a Steam entry's real key is in data= (item 6) ---------------------------------------
# WinAuth's ToUrl writes a Steam authenticator as otpauth://totp/ISSUER:LABEL?secret=...&digits=5
# &issuer=Steam&deviceid=...&data=<Steam's authenticator JSON, URL-encoded> (the JSON that Steam
# Desktop Authenticator keeps as a maFile, with base64 shared_secret).

def _winauth_steam_line(secret_param: str) -> str:
    from urllib.parse import quote
    steam_data = {"shared_secret": base64.b64encode(STEAM_KEY).decode(), "serial_number": "123",
                  "revocation_code": "R12345", "account_name": "gaben", "token_gid": "abc",
                  "identity_secret": base64.b64encode(b"i" * 20).decode(), "server_time": 1700000000,
                  "uri": f"otpauth://totp/Steam:gaben?secret={STEAM_B32}&issuer=Steam", "status": 1}
    return (f"otpauth://totp/Steam:gaben?secret={secret_param}&digits=5&issuer=Steam"
            f"&deviceid={quote('android:0a1b2c3d-0000')}&data={quote(json.dumps(steam_data))}")


@pytest.mark.parametrize("fmt", ["winauth", None])
def test_winauth_steam_entry_uses_the_shared_secret_of_its_data(fmt: str | None) -> None:
    # The secret parameter here is some other key: only data= gives Steam's codes.
    text = _winauth_steam_line(RFC_B32) + "\n" + f"otpauth://totp/Deno:Mason?secret={RFC_B32}&digits=6\n"
    result = import_file(text.encode(), format=fmt)
    steam, other = result.accounts
    assert steam.type == "steam" and steam.secret == STEAM_KEY
    assert [otp.code_at(steam, t) for t in (0, 30)] == ["C5V56", "QJY8Y"]
    assert "steam_data" in _notes(result, steam)
    assert other.secret == RFC_KEY and otp.code_at(other, 59) == "287082"


def test_winauth_steam_entry_without_data_keeps_its_secret() -> None:
    result = import_file(f"otpauth://totp/Steam:gaben?secret={STEAM_B32}&digits=5&issuer=Steam\n".encode(),
                         format="winauth")
    (acc,) = result.accounts
    assert acc.type == "steam" and otp.code_at(acc, 0) == "C5V56"


# --- unknown binary files: recognised by magic number, or "not recognised" (item 7) --------------

def _kdbx() -> bytes:
    # KeePass 2.x header: signature 1 0x9AA2D903, signature 2 0xB54BFB67, version 4.0, then fields.
    return (bytes.fromhex("03d9a29a67fb4bb5") + (4).to_bytes(2, "little") + (0).to_bytes(2, "little")
            + b"\x02\x10\x00\x00\x00" + bytes(range(16)) + bytes(200))


@pytest.mark.parametrize(("data", "filename", "word"), [
    (_kdbx(), "Passwords.kdbx", "KeePass"),
    (bytes.fromhex("03d9a29a65fb4bb5") + bytes(120), "old.kdb", "KeePass"),
    (b"ANDROID BACKUP\n5\n1\nnone\n" + bytes(300), "backup.ab", "Android backups"),
    (b"\x1f\x8b\x08\x00" + bytes(100), "export.json.gz", "archive"),
    (b"%PDF-1.7\n" + bytes(100), "codes.pdf", "PDF"),
    # Steam Desktop Authenticator's encrypted maFile: base64 of AES-256-CBC data (salt and IV
    # are kept in its manifest.json), which is not JSON.
    (base64.b64encode(bytes(range(256)) * 2) + b"\n", "76561198000000000.maFile", "maFile is encrypted"),
])
def test_a_known_unsupported_file_says_what_it_is(data: bytes, filename: str, word: str) -> None:
    from authvault.interop.importers import ImporterError
    with pytest.raises(ImporterError) as err:
        import_file(data, filename=filename, password="whatever")
    assert err.value.code == "unsupported_file"
    assert word in err.value.text()
    assert "andOTP" not in err.value.text()


@pytest.mark.parametrize("filename", [None, "authplus.db", "secret.bin"])
def test_an_unknown_binary_file_is_not_guessed_to_be_andotp(filename: str | None) -> None:
    # An SQLCipher database (Authenticator Plus) starts with a random 16-byte salt: no magic at all.
    import os

    from authvault.interop.importers import ImporterError
    data = os.urandom(4096)
    if int.from_bytes(data[:4], "big") in range(140_000, 160_001):  # andOTP's header, 1 in 200,000
        data = b"\xff" + data[1:]
    for password in (None, "test"):
        with pytest.raises(ImporterError) as err:
            import_file(data, filename=filename, password=password)
        assert err.value.code == "unknown_format"
        assert "could not recognise" in err.value.text()
