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
    return [n.kind for n in result.notes_for(acc)]


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


# --- 2FAuth: its own JSON export, read and written (item 5) ----------------------------------------
# As 2FAuth writes it (TwoFAccountExportCollection / TwoFAccountExportResource in Bubka/2FAuth):
# {"app": "2fauth_v<version>", "schema": 1, "datetime": ISO time, "data": [{"otp_type": "totp" |
# "hotp" | "steamtotp", "account", "service", "icon", "icon_mime", "icon_file" (base64), "secret"
# (base32, may be padded), "digits", "algorithm" (lower case), "period" (null for hotp), "counter"
# (null for totp), "legacy_uri"}]}; with ?otpauth=1 the data is [{"uri": <URL-decoded otpauth URI>}].
# Built here from that documented shape; no 2FAuth file is copied.
RFC_KEY_32 = b"12345678901234567890123456789012"  # RFC 6238 SHA256 seed
PNG_1PX = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")).decode()


def _twofauth_entry(**fields: Any) -> dict[str, Any]:
    entry = {"otp_type": "totp", "account": "alice@example.com", "service": "Example", "icon": None,
             "icon_mime": None, "icon_file": None, "secret": RFC_B32, "digits": 6, "algorithm": "sha1",
             "period": 30, "counter": None, "legacy_uri": f"otpauth://totp/Example:alice@example.com?secret={RFC_B32}"}
    entry.update(fields)
    return entry


def _twofauth(*entries: dict[str, Any]) -> bytes:
    return _json({"app": "2fauth_v5.4.3", "schema": 1, "datetime": "2025-01-05T10:11:12.123456Z",
                  "data": list(entries)})


def test_twofauth_export_is_read_field_by_field() -> None:
    sha256_secret = base64.b32encode(RFC_KEY_32).decode()  # padded, as 2FAuth may keep it
    data = _twofauth(
        _twofauth_entry(service="GitHub", account="octocat", secret=sha256_secret, algorithm="sha256",
                        digits=8, period=60, icon="gh.png", icon_mime="image/png", icon_file=PNG_1PX),
        _twofauth_entry(otp_type="hotp", service="Bank", account="alice", period=None, counter=5,
                        legacy_uri=f"otpauth://hotp/Bank:alice?secret={RFC_B32}&counter=5"),
        _twofauth_entry(otp_type="steamtotp", service="Steam", account="gaben", secret=STEAM_B32, digits=5,
                        legacy_uri=f"otpauth://totp/Steam:gaben?secret={STEAM_B32}&issuer=Steam&digits=5"),
    )
    result = import_file(data)
    assert result.format == "twofauth" and not result.skipped
    totp, hotp, steam = result.accounts
    assert (totp.type, totp.issuer, totp.name, totp.secret, totp.algorithm, totp.digits, totp.period) == \
        ("totp", "GitHub", "octocat", RFC_KEY_32, "SHA256", 8, 60)
    assert otp.code_at(totp, 119) == "46119246"  # RFC 6238 SHA256 at T=1
    assert totp.icon == f"data:image/png;base64,{PNG_1PX}"
    assert (hotp.type, hotp.issuer, hotp.name, hotp.counter, hotp.digits) == ("hotp", "Bank", "alice", 5, 6)
    assert otp.hotp_code(hotp, hotp.counter) == "254676"
    assert (steam.type, steam.issuer, steam.name) == ("steam", "Steam", "gaben")
    assert otp.code_at(steam, 0) == "C5V56"


def test_twofauth_legacy_uri_is_the_fallback_for_unusable_fields() -> None:
    entry = _twofauth_entry(secret="not base32!", legacy_uri=f"otpauth://totp/Example:alice?secret={RFC_B32}&digits=8")
    result = import_file(_twofauth(entry))
    (acc,) = result.accounts
    assert (acc.secret, acc.digits, otp.code_at(acc, 59)) == (RFC_KEY, 8, "94287082")
    assert "legacy_uri" in _notes(result, acc)


def test_twofauth_otpauth_variant_and_unknown_types() -> None:
    doc = {"app": "2fauth_v5.4.3", "datetime": "2025-01-05T10:11:12Z", "data": [
        {"uri": f"otpauth://totp/Git Hub:alice@example.com?secret={RFC_B32}&issuer=Git Hub"}]}
    (acc,) = import_file(_json(doc)).accounts
    assert (acc.issuer, acc.name, otp.code_at(acc, 59)) == ("Git Hub", "alice@example.com", "287082")
    result = import_file(_twofauth(_twofauth_entry(otp_type="motp"), _twofauth_entry()))
    assert len(result.accounts) == 1
    assert [(s.code, s.params) for s in result.skipped] == [("unsupported_type", {"type": "motp"})]


def test_twofauth_export_is_what_2fauth_reads_and_reads_back() -> None:
    from authvault.interop.export import export_twofauth
    accounts = [
        otp.Account(secret=RFC_KEY_32, issuer="GitHub", name="octocat", algorithm="SHA256", digits=8, period=60,
                    icon=f"data:image/png;base64,{PNG_1PX}"),
        otp.Account(secret=RFC_KEY, type="hotp", issuer="Bank", name="", counter=5),
        otp.Account(secret=STEAM_KEY, type="steam", issuer="", name="gaben", digits=5),
    ]
    doc = json.loads(export_twofauth(accounts, now="2025-01-05T10:11:12.000000Z"))
    # What 2FAuth's MigratorFactory::isTwoFAuthJSON checks before it imports a file.
    assert doc["app"].startswith("2fauth_") and doc["schema"] == 1
    for entry in doc["data"]:
        for key in ("otp_type", "service", "account", "secret", "digits", "algorithm"):
            assert entry[key] not in (None, ""), key
        assert "period" in entry and "counter" in entry
    assert [e["otp_type"] for e in doc["data"]] == ["totp", "hotp", "steamtotp"]
    assert doc["data"][0]["icon_mime"] == "image/png" and doc["data"][0]["icon_file"] == PNG_1PX
    assert doc["data"][1]["period"] is None and doc["data"][1]["counter"] == 5
    assert doc["data"][1]["account"] == "Bank"  # 2FAuth requires an account name
    back = import_file(_json(doc)).accounts
    assert otp.code_at(back[0], 119) == "46119246"
    assert otp.hotp_code(back[1], back[1].counter) == "254676"
    assert back[2].type == "steam" and otp.code_at(back[2], 0) == "C5V56"


# --- every format's detection against every other format's files ---------------------------------
from pathlib import Path  # noqa: E402

from authvault.interop.importers import IMPORTERS  # noqa: E402
from tests.interop.test_importers import DETECTED  # noqa: E402
from tests.paths import FIXTURES  # noqa: E402


def _steam_mafile() -> bytes:
    # Steam Desktop Authenticator's maFile: Steam's authenticator JSON plus its Session.
    return _json({"shared_secret": base64.b64encode(STEAM_KEY).decode(), "serial_number": "1",
                  "revocation_code": "R00000", "uri": f"otpauth://totp/Steam:gaben?secret={STEAM_B32}&issuer=Steam",
                  "server_time": 1700000000, "account_name": "gaben", "token_gid": "x", "identity_secret": "aa==",
                  "secret_1": "bb==", "status": 1, "device_id": "android:x", "fully_enrolled": True,
                  "Session": {"SteamID": 76561198000000000}})


#: Files built in this module as their apps write them, with the importer that must claim them.
BUILT: dict[str, tuple[bytes, str]] = {
    "2fauth.json": (_twofauth(_twofauth_entry(), _twofauth_entry(otp_type="hotp", counter=5, period=None)), "twofauth"),
    "2fauth-otpauth.json": (_json({"app": "2fauth_v5.4.3", "datetime": "2025", "data": [
        {"uri": f"otpauth://totp/A:b?secret={RFC_B32}"}]}), "twofauth"),
    "2fas-schema1-hotp.2fas": (_twofas(1, {"tokenType": "HOTP", "counter": 5}), "twofas"),
    "2fas-schema2.2fas": (_twofas(2, {"digits": 8}), "twofas"),
    "bitwarden.json": (_json({"encrypted": False, "folders": [], "items": [
        _bitwarden_item("GitHub", "alice", RFC_B32)]}), "bitwarden"),
    "bitwarden.csv": (("folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,"
                       f"login_totp\n,,login,GitLab,,,0,,bob,pw,{RFC_B32}\n").encode(), "bitwarden"),
    "winauth.txt": ((_winauth_steam_line(RFC_B32) + "\n").encode(), "otpauth_text"),
    "steam.maFile": (_steam_mafile(), "steam"),
}


def _all_files() -> list[tuple[str, bytes, str]]:
    found = [(f"importers/{name}", FIXTURES / "importers" / "aegis-fixtures" / name, fmt)
             for name, fmt in DETECTED.items() if name != "andotp_encrypted_old.bin"]
    for name in ("example_export.txt", "example_export_only_totp.txt", "test_plus_problem_export.txt",
                 "url_list_output.txt"):
        found.append((f"google-migration/{name}", FIXTURES / "google-migration" / "scito" / name, "otpauth_text"))
    found.append(("google-migration/example_export.png", FIXTURES / "google-migration" / "scito" / "example_export.png",
                  "google_migration_image"))
    found.append(("qr-photos/qrcode-1/1.png", FIXTURES / "qr-photos" / "qrcode-1" / "1.png", "google_migration_image"))
    files = [(name, path.read_bytes(), fmt) for name, path, fmt in found if path.is_file()]
    files += [(name, data, fmt) for name, (data, fmt) in BUILT.items()]
    return files


@pytest.mark.parametrize(("name", "data", "fmt"), _all_files(), ids=lambda v: v if isinstance(v, str) and "/" in v or
                         (isinstance(v, str) and "." in v) else "")
def test_no_file_is_claimed_by_the_wrong_importer(name: str, data: bytes, fmt: str) -> None:
    claims = {imp.name for imp in IMPORTERS if not imp.generic and imp.detect(data, None)}
    generic = {imp.name for imp in IMPORTERS if imp.generic and imp.detect(data, None)}
    want = {fmt}
    if fmt in {imp.name for imp in IMPORTERS if imp.generic}:
        assert claims == set(), f"{name} is claimed by {claims}"
        assert generic == want
    else:
        assert claims == want, f"{name} is claimed by {claims}"
    if fmt != "google_migration_image":  # an image is claimed by its format; its codes are the QR tests'
        assert import_file(data, password=_PASSWORDS.get(name)).format == fmt


_PASSWORDS = {f"importers/{Path(r['file']).name}": r["password"]
              for r in json.loads((FIXTURES / "importers" / "expected.json").read_text(encoding="utf-8"))["fixtures"]}


def test_twofas_groups_become_account_groups() -> None:
    doc = json.loads(_twofas(4, {"tokenType": "TOTP"}))
    doc["groups"] = [{"id": "g-1", "name": "Work", "isExpanded": True}]
    doc["services"][0]["groupId"] = "g-1"
    second = dict(doc["services"][0], groupId=None, secret=STEAM_B32)
    doc["services"].append(second)
    first, other = import_file(_json(doc)).accounts
    assert (first.group, other.group) == ("Work", "")


# --- one secret decoder for every path (issue 10's rule, README "Secret") ---------------------------
SECRET_CASES = [
    ("gezd gnbv-gy3t qojq gezd gnbv gy3t qojq", True),  # any case, spaces and hyphens ignored
    ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====", True),     # padding optional
    ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA", False),       # a length base32 never has
    ("GEZDGNBVGY3TQOJ1", False),                         # 1 is not base32
    ("GEZDG", False),                                     # under 5 bytes
]


def _as_andotp(secret: str) -> bytes:
    return _json([{"secret": secret, "issuer": "ACME", "label": "alice", "digits": 6, "type": "TOTP",
                   "algorithm": "SHA1", "thumbnail": "Default", "last_used": 0, "used_frequency": 0,
                   "period": 30, "tags": []}])


@pytest.mark.parametrize(("secret", "ok"), SECRET_CASES)
def test_every_importer_accepts_exactly_what_the_decoder_accepts(secret: str, ok: bool) -> None:
    try:
        otp.decode_secret(secret)
        decoded = True
    except otp.OtpError:
        decoded = False
    assert decoded is ok
    files = {
        "andotp": _as_andotp(secret),
        "twofas": _twofas(4, {"tokenType": "TOTP"}, secret=secret),
        "twofauth": _twofauth(_twofauth_entry(secret=secret, legacy_uri=None)),
        "bitwarden": _json({"encrypted": False, "folders": [], "items": [_bitwarden_item("ACME", "alice", secret)]}),
        "otpauth_text": f"otpauth://totp/ACME:alice?secret={secret.replace(' ', '%20')}\n".encode(),
    }
    for fmt, data in files.items():
        result = import_file(data)
        assert result.format == fmt
        assert (len(result.accounts) == 1) is ok, fmt
        if ok:
            assert result.accounts[0].secret == RFC_KEY, fmt


# --- the cost of an import: detection stops at the first claim and the file is parsed once ------------

@pytest.mark.parametrize("name", ["2fauth.json", "2fas-schema2.2fas", "bitwarden.json", "steam.maFile"])
def test_a_json_file_is_parsed_once_per_import(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from authvault.interop.importers.support import text
    calls: list[int] = []
    real = text.json.loads

    def counting(text: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(text.json, "loads", counting)
    data, fmt = BUILT[name]
    assert import_file(data).format == fmt
    assert len([n for n in calls if n == len(data.decode("utf-8"))]) == 1  # the file itself, once
