"""Importers: every fixture of ../shared/fixtures/importers yields exactly its expected entries.

The fixtures are other apps' export files (from the Aegis repository, GPL-3.0); they are read in
place, never copied. expected.json gives, for each file, the entries after the normalisation
Aegis's own test applies; fields it marks as not checked (`period_not_checked`,
`counter_not_checked`, `only_secret_checked`) are not compared here either.
"""

from __future__ import annotations

import base64
import collections
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from authvault.interop import importers
from authvault.interop.importers import (
    IMPORTERS,
    ImporterError,
    ImportResult,
    detect_format,
    get_importer,
    import_file,
)
from authvault.interop.importers.base import MAX_FILE_BYTES
from authvault.model import Account, same_account
from authvault.otp import validate
from tests.paths import FIXTURES, REPO

IMPORTER_FIXTURES = FIXTURES / "importers"
EXPECTED = json.loads((IMPORTER_FIXTURES / "expected.json").read_text(encoding="utf-8"))
RECORDS: list[dict[str, Any]] = EXPECTED["fixtures"]
VECTOR_SECRETS = [v["secret"] for v in EXPECTED["vectors"]]

# The importer detection must choose for each file, by file name. Two files are ambiguous by
# nature and detection gives them to the importer of the same format:
# - plain.txt, read by Aegis both as a URI list and as a WinAuth export: a WinAuth export *is* a
#   URI list, so detection says otpauth_text and WinAuth is chosen explicitly (see WINAUTH).
# - freeotp_plus_internal.xml is FreeOTP 1's tokens.xml (FreeOTP+ is a fork): detection says
#   freeotp, and the explicit freeotp_plus choice reads it the same (test below).
DETECTED = {
    "plain.txt": "otpauth_text",
    "aegis_plain.json": "aegis",
    "aegis_encrypted.json": "aegis",
    "aegis_plain_grouped_v2.json": "aegis",
    "duo.json": "duo",
    "ente_auth.txt": "ente",
    "andotp_plain.json": "andotp",
    "andotp_encrypted.bin": "andotp",
    "andotp_encrypted_old.bin": "andotp",
    "totp_authenticator.bin": "totp_authenticator",
    "totp_authenticator_internal.xml": "totp_authenticator",
    "stratum_encrypted.bin": "stratum",
    "stratum_encrypted_legacy.bin": "stratum",
    "stratum_internal.db": "stratum",
    "stratum_plain.json": "stratum",
    "authy_plain.xml": "authy",
    "authy_encrypted.xml": "authy",
    "battle_net_authenticator.xml": "battle_net",
    "bitwarden.json": "bitwarden",
    "bitwarden.csv": "bitwarden",
    "freeotp.xml": "freeotp",
    "freeotp_v2_api23.xml": "freeotp",
    "freeotp_v2_api25.xml": "freeotp",
    "freeotp_v2_api27.xml": "freeotp",
    "freeotp_v2_api34.xml": "freeotp",
    "freeotp_v2_null_algo.xml": "freeotp",
    "freeotp_plus.json": "freeotp_plus",
    "freeotp_plus_internal.xml": "freeotp",
    "google_authenticator.sqlite": "google_authenticator",
    "microsoft_authenticator.sqlite": "microsoft_authenticator",
    "steam.json": "steam",
    "steam_old.json": "steam",
    "authenticator_plus.zip": "authenticator_plus",
    "2fas_authenticator.json": "twofas",
    "2fas_authenticator_plain.2fas": "twofas",
    "2fas_authenticator_encrypted.2fas": "twofas",
    "2fas_authenticator_plain_v3.2fas": "twofas",
    "2fas_authenticator_encrypted_v3.2fas": "twofas",
    "2fas_authenticator_plain_v4.2fas": "twofas",
    "2fas_authenticator_encrypted_v4.2fas": "twofas",
    "proton_authenticator.json": "proton",
}


# andOTP's old encrypted layout has no header at all: only its name tells it (andOTP names its
# backups otp_accounts_<date>.json.aes). Aegis's copy is called .bin; tests give it its real name.
# Read from the content alone, it is a file AuthVault does not recognise (never a guessed andOTP).
AS_NAMED = {"andotp_encrypted_old.bin": "otp_accounts_2019-04-01.json.aes"}


def _filename(rec_or_file: dict[str, Any] | str) -> str:
    name = Path(rec_or_file["file"] if isinstance(rec_or_file, dict) else rec_or_file).name
    return AS_NAMED.get(name, name)


def _record_format(rec: dict[str, Any]) -> str | None:
    """The format to choose explicitly for a record (None: let detection choose)."""
    return "winauth" if rec["app"].startswith("WinAuth") else None


def _record_id(rec: dict[str, Any]) -> str:
    name = Path(rec["file"]).name
    return f"{name}[winauth]" if _record_format(rec) else name


def _data(rec_or_file: dict[str, Any] | str) -> bytes:
    file = rec_or_file["file"] if isinstance(rec_or_file, dict) else rec_or_file
    return (IMPORTER_FIXTURES / file).read_bytes()


def _b32(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _projection(expected: dict[str, Any]) -> tuple[str, ...]:
    """The fields of an expected entry that are checked."""
    if expected.get("only_secret_checked"):
        return ("secret",)
    fields = ["secret", "issuer", "name", "type", "algorithm", "digits"]
    if expected["type"] == "hotp":
        if not expected.get("counter_not_checked"):
            fields.append("counter")
    elif not expected.get("period_not_checked"):
        fields.append("period")
    return tuple(fields)


def _value(acc: Account, field: str) -> Any:
    return acc.secret if field == "secret" else getattr(acc, field)


def _expected_value(expected: dict[str, Any], field: str) -> Any:
    return _b32(expected["secret"]) if field == "secret" else expected[field]


def assert_entries(result: ImportResult, rec: dict[str, Any]) -> None:
    """The accounts equal the expected entries as a multiset (on the fields that are checked)."""
    assert len(result.accounts) == rec["entry_count"] == len(rec["expected_entries"])
    unmatched = list(result.accounts)
    # Most specific first, so an entry checked on its secret alone cannot take another's match.
    for expected in sorted(rec["expected_entries"], key=lambda e: -len(_projection(e))):
        fields = _projection(expected)
        want = tuple(_expected_value(expected, f) for f in fields)
        match = next((a for a in unmatched if tuple(_value(a, f) for f in fields) == want), None)
        assert match is not None, f"nothing matches {expected.get('issuer')}/{expected.get('name')}"
        unmatched.remove(match)
    assert not unmatched
    for acc in result.accounts:
        validate(acc)


# -- every fixture ------------------------------------------------------------------------------


@pytest.mark.parametrize("rec", RECORDS, ids=_record_id)
def test_fixture_yields_exactly_its_expected_entries(rec: dict[str, Any]) -> None:
    result = import_file(
        _data(rec),
        filename=_filename(rec),
        password=rec["password"],
        format=_record_format(rec),
    )
    assert result.format == (_record_format(rec) or DETECTED[Path(rec["file"]).name])
    assert result.skipped == []
    assert_entries(result, rec)


@pytest.mark.parametrize("rec", RECORDS, ids=_record_id)
def test_fixture_read_through_its_importer_directly(rec: dict[str, Any]) -> None:
    fmt = _record_format(rec) or DETECTED[Path(rec["file"]).name]
    assert_entries(get_importer(fmt).parse(_data(rec), rec["password"]), rec)


def test_every_fixture_file_is_covered() -> None:
    on_disk = {p.name for p in (IMPORTER_FIXTURES / "aegis-fixtures").iterdir()}
    assert on_disk == set(DETECTED)
    assert len(RECORDS) == 41 and sum(r["entry_count"] for r in RECORDS) == 208


@pytest.mark.parametrize("file", sorted(set(DETECTED) - set(AS_NAMED)))
def test_detection_picks_the_format_from_the_content_alone(file: str) -> None:
    assert detect_format(_data(f"aegis-fixtures/{file}"), None).name == DETECTED[file]


@pytest.mark.parametrize("file", sorted(AS_NAMED))
def test_headerless_andotp_backup_needs_its_name(file: str) -> None:
    data = _data(f"aegis-fixtures/{file}")
    assert detect_format(data, AS_NAMED[file]).name == DETECTED[file]
    with pytest.raises(ImporterError) as err:
        detect_format(data, None)
    assert err.value.code == "unknown_format"


def test_freeotp_plus_reads_its_tokens_xml_when_chosen() -> None:
    rec = next(r for r in RECORDS if r["file"].endswith("freeotp_plus_internal.xml"))
    result = import_file(_data(rec), format="freeotp_plus")
    assert result.format == "freeotp_plus"
    assert_entries(result, rec)


def test_aegis_v2_groups_become_account_groups() -> None:
    result = import_file(_data("aegis-fixtures/aegis_plain_grouped_v2.json"))
    groups = collections.Counter(a.group for a in result.accounts)
    assert groups == {"group1": 2, "group2": 1, "": len(result.accounts) - 3}
    secrets = {a.secret for a in result.accounts}
    assert all(_b32(s) in secrets for s in VECTOR_SECRETS[:7])


# -- passwords ----------------------------------------------------------------------------------

ENCRYPTED = sorted(
    {r["file"]: r for r in RECORDS if r["encrypted"]}.values(), key=lambda r: r["file"]
)


def _flip_in_b64_field(data: bytes, field: str) -> bytes:
    """Change one character of a base64 JSON string field (its ciphertext), keeping it valid."""
    doc = json.loads(data)
    value = doc[field]
    body = value.split(":")[0]
    i = len(body) // 2
    body = body[:i] + ("A" if body[i] != "A" else "B") + body[i + 1 :]
    doc[field] = ":".join([body] + value.split(":")[1:])
    return json.dumps(doc).encode()


def _flip_zip_data(data: bytes) -> bytes:
    name_len, extra_len = (
        int.from_bytes(data[26:28], "little"),
        int.from_bytes(data[28:30], "little"),
    )
    i = 30 + name_len + extra_len + 12 + 40  # inside the compressed data, past the check bytes
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]


# How each encrypted fixture is damaged so that the damage is detectable. Where a format has a
# password check apart from the data (Aegis slots, 2FAS's reference, FreeOTP's master key,
# Authy's per-token secrets, ZipCrypto's check byte) the data itself is changed. andOTP, Stratum
# and TOTP Authenticator have no check but the one on the data: there damage is told apart when
# it breaks the file's structure (a cut header or a broken block length), and a changed
# ciphertext is answered "wrong password, or the file is damaged".
DAMAGE = {
    "aegis_encrypted.json": lambda d: _flip_in_b64_field(d, "db"),
    "2fas_authenticator_encrypted.2fas": lambda d: _flip_in_b64_field(d, "servicesEncrypted"),
    "2fas_authenticator_encrypted_v3.2fas": lambda d: _flip_in_b64_field(d, "servicesEncrypted"),
    "2fas_authenticator_encrypted_v4.2fas": lambda d: _flip_in_b64_field(d, "servicesEncrypted"),
    "authenticator_plus.zip": _flip_zip_data,
    "andotp_encrypted.bin": lambda d: d[:20],
    "andotp_encrypted_old.bin": lambda d: d[:20],
    "stratum_encrypted.bin": lambda d: d[:40],
    "stratum_encrypted_legacy.bin": lambda d: d[:-5],
    "totp_authenticator.bin": lambda d: d.strip()[:-8],
}


@pytest.mark.parametrize("rec", ENCRYPTED, ids=_record_id)
def test_encrypted_fixture_asks_for_its_password(rec: dict[str, Any]) -> None:
    fmt = DETECTED[Path(rec["file"]).name]
    with pytest.raises(ImporterError) as err:
        import_file(_data(rec), filename=_filename(rec))
    assert err.value.code == "password_required"
    assert err.value.params["format"] == get_importer(fmt).label


@pytest.mark.parametrize("rec", ENCRYPTED, ids=_record_id)
def test_wrong_password_is_told_apart_from_a_damaged_file(rec: dict[str, Any]) -> None:
    name = Path(rec["file"]).name
    fmt = DETECTED[name]
    with pytest.raises(ImporterError) as wrong:
        import_file(_data(rec), filename=_filename(rec), password="not the password")
    assert wrong.value.code == "wrong_password"
    damage = DAMAGE.get(name, lambda d: d[: len(d) // 2])
    with pytest.raises(ImporterError) as damaged:
        import_file(damage(_data(rec)), password=rec["password"], format=fmt)
    assert damaged.value.code == "damaged_file"
    assert (
        "not the password" not in wrong.value.text() and rec["password"] not in damaged.value.text()
    )


def test_freeotp2_damaged_token_is_skipped_not_fatal() -> None:
    data = _data("aegis-fixtures/freeotp_v2_api34.xml")
    i = data.index(b'mCipherText\\":[') + len(b'mCipherText\\":[')
    digit = data[i : i + 1]
    bad = data[:i] + (b"9" if digit != b"9" else b"8") + data[i + 1 :]
    result = import_file(bad, password="test")
    assert len(result.accounts) == 5
    assert [s.code for s in result.skipped] == ["damaged_entry"]


def test_authy_one_damaged_secret_is_skipped_not_fatal() -> None:
    data = _data("aegis-fixtures/authy_encrypted.xml")
    bad = data.replace(b"94mk0erEKRYU7UKn4o6WAPWR", b"AAAA0erEKRYU7UKn4o6WAPWR")
    result = import_file(bad, password="testtest")
    assert len(result.accounts) == 2 and [s.name for s in result.skipped] == ["Mason"]


# -- entries that cannot be imported --------------------------------------------------------------


def test_unsupported_and_damaged_entries_are_skipped_with_a_reason() -> None:
    doc = json.loads(_data("aegis-fixtures/aegis_plain.json"))
    entries = doc["db"]["entries"]
    motp = dict(entries[0], type="motp", name="Motp")
    motp["info"] = dict(entries[0]["info"], pin="1234")
    broken = dict(entries[1], name="Broken")
    broken["info"] = dict(entries[1]["info"], secret="not base32 !!")
    doc["db"]["entries"] = entries + [motp, broken]
    result = import_file(json.dumps(doc).encode())
    assert len(result.accounts) == 7
    assert sorted((s.name, s.code) for s in result.skipped) == [
        ("Broken", "damaged_entry"),
        ("Motp", "unsupported_type"),
    ]
    assert all(s.reason for s in result.skipped)


def test_uri_list_skips_bad_lines_and_keeps_the_rest() -> None:
    lines = _data("aegis-fixtures/plain.txt").decode().splitlines()
    text = (
        "\n".join(
            lines
            + ["otpauth://yandex/Y:me?secret=JBSWY3DPEHPK3PXP", "otpauth://totp/Bad:me?secret=%%%"]
        )
        + "\n"
    )
    result = import_file(text.encode())
    assert len(result.accounts) == 7
    assert sorted(s.code for s in result.skipped) == ["damaged_entry", "unsupported_type"]
    assert sorted(s.issuer for s in result.skipped) == ["Bad", "Y"]


def test_unknown_and_empty_files_are_refused() -> None:
    for data in (b"", b"hello, world\n", b'{"some": "json"}', b"\x00" * 10):
        with pytest.raises(ImporterError) as err:
            import_file(data)
        assert err.value.code == "unknown_format"
        assert "Aegis" in err.value.text() and "Stratum" in err.value.text()
    with pytest.raises(ImporterError) as err:
        import_file(b"x", format="no-such-app")
    assert err.value.code == "unknown_format"


def test_oversized_file_is_refused_before_reading() -> None:
    with pytest.raises(ImporterError) as err:
        import_file(b"[" + b" " * MAX_FILE_BYTES + b"]")
    assert err.value.code == "file_too_large"


def test_newer_2fas_schema_is_refused_as_unsupported_version() -> None:
    doc = json.loads(_data("aegis-fixtures/2fas_authenticator_plain_v4.2fas"))
    doc["schemaVersion"] = 5
    with pytest.raises(ImporterError) as err:
        import_file(json.dumps(doc).encode())
    assert err.value.code == "unsupported_format_version"


def test_newer_aegis_content_version_is_refused_as_unsupported_version() -> None:
    doc = json.loads(_data("aegis-fixtures/aegis_plain.json"))
    doc["db"]["version"] = 99
    with pytest.raises(ImporterError) as err:
        import_file(json.dumps(doc).encode())
    assert err.value.code == "unsupported_format_version"


def test_google_transfer_qr_image_is_imported() -> None:
    from authvault.interop.google_migration import build_migration_uris
    from authvault.qr import make_qr_png

    accounts = import_file(_data(RECORDS[0])).accounts  # plain.txt: 7 vectors
    uris, left_out = build_migration_uris(accounts)
    png = make_qr_png(uris[0])
    result = import_file(png, filename="screenshot.png")
    assert result.format == "google_migration_image"
    exported = [a for a in accounts if all(a is not b for b, _ in left_out)]
    assert len(result.accounts) == len(exported)
    for acc in exported:
        assert any(same_account(acc, got) for got in result.accounts)


def test_image_without_a_code_says_so() -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buf, "PNG")
    with pytest.raises(ImporterError) as err:
        import_file(buf.getvalue())
    assert err.value.code == "no_qr_code"


# -- duplicates ---------------------------------------------------------------------------------


def test_importing_the_same_file_twice_finds_every_account_already_there() -> None:
    first = import_file(_data("aegis-fixtures/aegis_encrypted.json"), password="test").accounts
    second = import_file(_data("aegis-fixtures/aegis_encrypted.json"), password="test").accounts
    new = [a for a in second if not any(same_account(a, b) for b in first)]
    assert new == []


# -- registry and README --------------------------------------------------------------------------


def test_registry_is_one_sorted_list_of_unique_names() -> None:
    names = [imp.name for imp in IMPORTERS]
    assert names == sorted(names) and len(set(names)) == len(names)
    for imp in IMPORTERS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", imp.name) and imp.label
        assert imp.__doc__ and type(imp).detect.__doc__
        assert importers.get_importer(imp.name) is imp


def _readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


@pytest.mark.parametrize("imp", IMPORTERS, ids=lambda i: i.name)
def test_every_importer_is_documented_in_the_readme(imp: Any) -> None:
    section = _readme_section("Supported import formats")
    assert f"`{imp.name}`" in section, f"README lacks the format id `{imp.name}`"
    assert imp.label in section, f"README lacks {imp.label!r}"


# -- bad input ------------------------------------------------------------------------------------


def _variants(data: bytes, rng: random.Random) -> list[bytes]:
    """Truncated, corrupted (flipped bytes) and random versions of `data`."""
    out = [
        data[:n]
        for n in sorted({0, 1, len(data) // 3, len(data) - 1, rng.randrange(1, max(2, len(data)))})
    ]
    for count in (1, 1, 3, 8):
        buf = bytearray(data)
        for _ in range(count):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        out.append(bytes(buf))
    out.append(bytes(rng.randrange(256) for _ in range(len(data))))
    out.append(data[:16] + bytes(rng.randrange(256) for _ in range(max(0, len(data) - 16))))
    return out


_FUZZ_FILES = sorted({r["file"]: r for r in RECORDS}.values(), key=lambda r: r["file"])


def _check_outcome(call: Any, *args: Any, **kwargs: Any) -> None:
    """`call(*args, **kwargs)` returns a valid result or raises an ImporterError, nothing else."""
    try:
        result = call(*args, **kwargs)
    except ImporterError as exc:
        assert exc.code and exc.text()
        for secret in VECTOR_SECRETS:
            assert secret not in exc.text()
        return
    assert isinstance(result, ImportResult)
    for acc in result.accounts:
        validate(acc)  # a partial result holds only usable accounts


@pytest.mark.parametrize("rec", _FUZZ_FILES, ids=lambda r: Path(r["file"]).name)
def test_damaged_versions_of_every_fixture_raise_only_importer_errors(rec: dict[str, Any]) -> None:
    rng = random.Random(Path(rec["file"]).name)
    data = _data(rec)
    for variant in _variants(data, rng):
        for password in {None, rec["password"]}:
            _check_outcome(import_file, variant, password=password)
        for imp in IMPORTERS:
            if imp.name == "google_migration_image":
                continue  # images are the QR reader's; fed below
            _check_outcome(imp.parse, variant, rec["password"])


def test_random_bytes_never_escape_the_error_family() -> None:
    rng = random.Random(5)
    for size in (0, 1, 7, 16, 29, 64, 500, 4096):
        for _ in range(3):
            data = bytes(rng.randrange(256) for _ in range(size))
            _check_outcome(import_file, data, password="pw")
            for imp in IMPORTERS:
                _check_outcome(imp.parse, data, "pw")


def test_damaged_images_answer_a_clear_error() -> None:
    from authvault.qr import make_qr_png

    png = make_qr_png("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP")
    rng = random.Random(7)
    for variant in _variants(png, rng)[:6]:
        _check_outcome(import_file, variant)
        _check_outcome(get_importer("google_migration_image").parse, variant)


def test_hostile_sqlite_view_is_stopped_not_run_forever() -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE android_metadata (locale TEXT);"
        "CREATE VIEW accounts AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
        " SELECT x AS email, 'JBSWY3DPEHPK3PXP' AS secret, 0 AS type, 0 AS counter FROM c;"
    )
    data = conn.serialize()
    conn.close()
    for fmt in ("google_authenticator", "microsoft_authenticator", "stratum"):
        with pytest.raises(ImporterError) as err:
            import_file(data, format=fmt)
        assert err.value.code == "damaged_file"


def test_xml_entities_are_refused_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE map [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<map><string name="com.authy.storage.tokens.authenticator.key">&c;</string></map>'
    )
    for fmt in ("authy", "battle_net", "freeotp", "totp_authenticator"):
        with pytest.raises(ImporterError) as err:
            import_file(bomb, format=fmt)
        assert err.value.code == "damaged_file"
    with pytest.raises(ImporterError):
        import_file(bomb)
