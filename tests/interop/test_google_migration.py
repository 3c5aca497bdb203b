"""Tests for authvault.interop.google_migration: Google Authenticator export URIs, both ways."""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, unquote

import pytest

from authvault import otp
from authvault.errors import AuthVaultError
from authvault.interop import google_migration as gm
from authvault.model import Account
from authvault.otp import OtpError
from tests.paths import FIXTURES

BASE = FIXTURES / "google-migration"
EXPECTED = json.loads((BASE / "expected.json").read_text(encoding="utf-8"))
CASES = EXPECTED["cases"]
HELLO_KEY = bytes.fromhex("48656c6c6f21deadbeef")

REJECT_CODES = {
    "scito-wrong-data": "invalid_migration_data",
    "scito-wrong-content": "not_migration_uri",
    # Strict: a line must start with otpauth-migration:// (extract_otp_secrets strips "QR-Code:").
    "scito-wrong-prefix": "not_migration_uri",
    "scito-empty-file": "empty_input",
    "2fauth-bad-scheme": "not_migration_uri",
    "2fauth-truncated-data": "invalid_migration_base64",
    "digitalduke-broken-0": "not_migration_uri",
    "digitalduke-broken-1": "not_migration_uri",
    "digitalduke-broken-2": "not_migration_uri",
    "digitalduke-broken-3": "not_migration_uri",
    "digitalduke-broken-4": "not_migration_uri",
}


def _b32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _expected(entry: dict[str, Any]) -> tuple[Any, ...]:
    """(issuer, name, type, secret, algorithm, digits, counter) of a fixture entry, by the split rule."""
    issuer, raw_name = entry["issuer"], entry["name"]
    name = raw_name[len(issuer) + 1:] if issuer and raw_name.startswith(issuer + ":") else raw_name
    algorithm = entry.get("algorithm", "SHA1")
    digits = entry.get("digits", 6)
    return (issuer, name, entry["type"], _b32(entry["secret"]),
            "SHA1" if algorithm == "unspecified" else algorithm, 6 if digits == "unspecified" else digits,
            entry.get("counter", 0) if entry["type"] == "hotp" else 0)


def _got(account: Account) -> tuple[Any, ...]:
    assert account.period == 30
    return (account.issuer, account.name, account.type, account.secret, account.algorithm, account.digits,
            account.counter)


def _parse_case(case: dict[str, Any]) -> list[gm.MigrationBatch]:
    if case["kind"] == "uri":
        return [gm.parse_migration_uri(case["uri"])]
    return gm.parse_migration_text((BASE / case["file"]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] in ("text", "uri")], ids=lambda c: c["id"])
def test_fixture_case(case: dict[str, Any]) -> None:
    if case["expect"] == "reject":
        with pytest.raises(OtpError) as info:
            _parse_case(case)
        assert info.value.code == REJECT_CODES[case["id"]]
        return
    batches = _parse_case(case)
    accounts = [account for batch in batches for account in batch.accounts]
    assert not [skip for batch in batches for skip in batch.skipped]
    entries = case.get("expected_accounts", case.get("decoded_by_corpus_builder"))
    assert entries is not None
    assert [_got(a) for a in accounts] == [_expected(e) for e in entries]
    for batch in batches:
        assert (batch.batch_index, batch.batch_size) in ((0, 1),)


def test_every_reject_case_has_its_code() -> None:
    rejects = {c["id"] for c in CASES if c["expect"] == "reject" and c["kind"] != "image"}
    assert rejects == set(REJECT_CODES)


def test_wrong_prefix_is_only_refused_for_its_prefix() -> None:
    case = next(c for c in CASES if c["id"] == "scito-wrong-prefix")
    line = (BASE / case["file"]).read_text(encoding="utf-8").strip()
    batch = gm.parse_migration_uri(line.removeprefix("QR-Code:"))
    assert [_got(a) for a in batch.accounts] == [_expected(e) for e in case["lenient_expected_accounts"]]


def test_export_matches_the_otpauth_urls_written_from_it() -> None:
    """extract_otp_secrets' otpauth URLs of the same export give the same accounts through parse_uri."""
    case = next(c for c in CASES if c["id"] == "scito-example-export-txt")
    migrated = [a for b in gm.parse_migration_text((BASE / case["file"]).read_text(encoding="utf-8"))
                for a in b.accounts]
    lines = (BASE / case["expected_otpauth_urls_file"]).read_text(encoding="utf-8").split()
    read = [_got(otp.parse_uri(line)) for line in lines]
    want = [_got(a) for a in migrated]
    # One difference, by policy (README, "Label"): extract_otp_secrets writes the name field
    # "encoding: ¿äÄéÉ? (demo)" (no issuer) as the label "encoding%3A%20...", which Google's Key URI
    # format reads as issuer "encoding" and name "¿äÄéÉ? (demo)"; so do we.
    i = next(i for i, w in enumerate(want) if w[1].startswith("encoding: "))
    assert read[i][:2] == ("encoding", "¿äÄéÉ? (demo)")
    assert read[i][2:] == want[i][2:]
    assert read[:i] + read[i + 1:] == want[:i] + want[i + 1:]


@pytest.mark.parametrize("case", [c for c in CASES if "expected_otpauth" in c], ids=lambda c: c["id"])
def test_same_account_as_its_otpauth_uri(case: dict[str, Any]) -> None:
    (account,) = gm.parse_migration_uri(case["uri"]).accounts
    assert _got(account) == _got(otp.parse_uri(case["expected_otpauth"]))
    if "expected_code" in case:
        assert otp.code_at(account, case["expected_code"]["unix_time"]) == case["expected_code"]["code"]


# --- base64 variants ------------------------------------------------------------------------
STD_CASE = next(c for c in CASES if c["id"] == "dim13-std-base64")
STD_DATA = STD_CASE["uri"].split("data=", 1)[1]
RAW = base64.b64decode(STD_DATA)


@pytest.mark.parametrize("data", [
    STD_DATA,                                              # raw standard base64, "+", "/", "=="
    quote(STD_DATA, safe=""),                              # percent-encoded, as Google writes it
    quote(STD_DATA, safe="").replace("%2B", "%2b").replace("%2F", "%2f"),  # lower-case escapes
    base64.urlsafe_b64encode(RAW).decode().rstrip("="),    # url-safe, unpadded
    STD_DATA.replace("+", " "),                            # "+" form-decoded to a space on the way
    STD_DATA.rstrip("="),                                  # padding dropped
])
def test_base64_variants(data: str) -> None:
    (account,) = gm.parse_migration_uri("otpauth-migration://offline?data=" + data).accounts
    assert _got(account) == _expected(STD_CASE["decoded_by_corpus_builder"][0])


def test_raw_payload_known_answer() -> None:
    case = next(c for c in CASES if c["id"] == "digitalduke-valid")
    data = base64.b64encode(bytes.fromhex(case["expected_raw_payload_hex"])).decode()
    assert data == case["uri"].split("data=", 1)[1]
    (account,) = gm.parse_migration_uri(case["uri"]).accounts
    assert account.secret == HELLO_KEY


@pytest.mark.parametrize(("uri", "code"), [
    ("otpauth-migration://offline?version=1", "missing_migration_data"),
    ("otpauth-migration://offline?data=", "invalid_migration_base64"),
    ("otpauth-migration://offline?data=%40%40%40%40", "invalid_migration_base64"),
    ("otpauth-migration://offline?data=A", "invalid_migration_base64"),
    ("otpauth-migration://offline?data=EAE%3D", "empty_migration"),  # only version=1
    ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "not_migration_uri"),
    ("", "not_migration_uri"),
])
def test_rejects(uri: str, code: str) -> None:
    with pytest.raises(OtpError) as info:
        gm.parse_migration_uri(uri)
    assert info.value.code == code


def _entry(body: str) -> str:
    return "0a" + f"{len(bytes.fromhex(body)):02x}" + body


def test_unusable_entries_are_skipped_not_fatal() -> None:
    key = "0a0a" + HELLO_KEY.hex()
    payload = "".join([
        _entry(key + "120161" + "2004" + "3002"),                      # a: MD5
        _entry(key + "120162" + "3003"),                               # b: unknown type 3
        _entry(key + "120163"),                                        # c: type unspecified
        _entry(key + "120164" + "2803" + "3002"),                      # d: unknown digit count
        _entry("0a04deadbeef" + "120165" + "3002"),                    # e: 4-byte secret
        _entry(key + "120166" + "1a0158" + "3001" + "38ac02"),         # f: HOTP, issuer X, counter 300
        _entry(key + "120167" + "2009" + "3002"),                      # g: unknown algorithm 9
        _entry(key + "12094163636f756e743a68" + "1a074163636f756e74" + "2002" + "2802" + "3002"),
    ]) + "1001" + "1802" + "2001" + "2807"                             # version 1, batch 2 of 2, id 7
    data = base64.b64encode(bytes.fromhex(payload)).decode()
    batch = gm.parse_migration_uri("otpauth-migration://offline?data=" + quote(data, safe=""))
    assert [(s.name, s.code) for s in batch.skipped] == [
        ("a", "unsupported_algorithm"), ("b", "unsupported_type"), ("c", "unsupported_type"),
        ("d", "invalid_digits"), ("e", "secret_too_short"), ("g", "unsupported_algorithm")]
    assert all(s.reason and "%(" not in s.reason for s in batch.skipped)  # reads right without params
    assert [_got(a) for a in batch.accounts] == [
        ("X", "f", "hotp", HELLO_KEY, "SHA1", 6, 300),
        ("Account", "h", "totp", HELLO_KEY, "SHA256", 8, 0)]
    assert (batch.batch_index, batch.batch_size, batch.batch_id) == (1, 2, 7)


# --- building exports ----------------------------------------------------------------------
def _accounts(count: int) -> list[Account]:
    return [Account(secret=bytes([i + 1]) * (10 + i % 11), type="hotp" if i % 3 == 0 else "totp",
                    issuer=f"Issuer {i}" if i % 4 else "", name=f"user{i}@example.com",
                    algorithm=("SHA1", "SHA256", "SHA512")[i % 3], digits=(6, 8)[i % 2],
                    counter=i * 1000 if i % 3 == 0 else 0)
            for i in range(count)]


@pytest.mark.parametrize(("count", "batches"), [(1, 1), (10, 1), (11, 2), (25, 3)])
def test_build_batches_and_parse_back(count: int, batches: int) -> None:
    accounts = _accounts(count)
    uris, left_out = gm.build_migration_uris(accounts)
    assert left_out == []
    assert len(uris) == batches
    parsed = [gm.parse_migration_uri(uri) for uri in uris]
    assert [(b.batch_index, b.batch_size) for b in parsed] == [(i, batches) for i in range(batches)]
    assert len({b.batch_id for b in parsed}) == 1
    assert [len(b.accounts) for b in parsed] == [min(10, count - 10 * i) for i in range(batches)]
    assert [_got(a) for b in parsed for a in b.accounts] == [_got(a) for a in accounts]
    assert all(uri.startswith("otpauth-migration://offline?data=") for uri in uris)


def test_build_other_batch_size() -> None:
    uris, _ = gm.build_migration_uris(_accounts(7), batch_size=3)
    assert [len(gm.parse_migration_uri(u).accounts) for u in uris] == [3, 3, 1]
    with pytest.raises(ValueError):
        gm.build_migration_uris(_accounts(1), batch_size=0)


def test_batches_of_two_exports_have_different_ids() -> None:
    first, _ = gm.build_migration_uris(_accounts(1))
    ids = {gm.parse_migration_uri(gm.build_migration_uris(_accounts(1))[0][0]).batch_id for _ in range(5)}
    assert len(ids | {gm.parse_migration_uri(first[0]).batch_id}) > 1


def test_build_leaves_out_what_google_cannot_hold() -> None:
    fine = Account(secret=HELLO_KEY, issuer="OK", name="ok")
    steam = Account(secret=HELLO_KEY, type="steam", digits=5, name="steam")
    minute = Account(secret=HELLO_KEY, period=60, name="minute")
    seven = Account(secret=HELLO_KEY, digits=7, name="seven")
    ten = Account(secret=HELLO_KEY, type="hotp", digits=10, name="ten")
    pending = Account(secret=b"", action_required=True, issuer="Work", name="pending")
    uris, left_out = gm.build_migration_uris([steam, fine, minute, seven, ten, pending])
    assert [a.name for a, _ in left_out] == ["steam", "minute", "seven", "ten", "pending"]
    reasons = [reason for _, reason in left_out]
    assert "Steam" in reasons[0] and "30 seconds" in reasons[1] and "6 or 8" in reasons[2] == reasons[3]
    assert "new QR code" in reasons[4]
    (batch,) = [gm.parse_migration_uri(u) for u in uris]
    assert [_got(a) for a in batch.accounts] == [_got(fine)]


def test_build_with_nothing_exportable() -> None:
    assert gm.build_migration_uris([]) == ([], [])


def test_build_known_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("authvault.interop.google_migration.secrets.randbits", lambda bits: 42)
    account = Account(secret=HELLO_KEY, issuer="Example", name="alice@google.com")
    entry = ("0a0a" + HELLO_KEY.hex() + "1210" + b"alice@google.com".hex() + "1a07" + b"Example".hex()
             + "2001" + "2801" + "3002")               # SHA1, six digits, TOTP
    payload = _entry(entry) + "1001" + "1801" + "282a"  # version 1, one batch (index 0 omitted), id 42
    data = quote(base64.b64encode(bytes.fromhex(payload)).decode(), safe="")
    assert gm.build_migration_uris([account]) == (["otpauth-migration://offline?data=" + data], [])


def test_build_hotp_counter_known_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("authvault.interop.google_migration.secrets.randbits", lambda bits: 1)
    account = Account(secret=HELLO_KEY, type="hotp", name="h", algorithm="SHA512", digits=8, counter=300)
    entry = "0a0a" + HELLO_KEY.hex() + "120168" + "2003" + "2802" + "3001" + "38ac02"
    payload = _entry(entry) + "1001" + "1801" + "2801"
    raw = base64.b64decode(unquote(gm.build_migration_uris([account])[0][0].split("data=")[1]))
    assert raw.hex() == payload


# --- image cases (need authvault.qr.decode_image) -------------------------------------------
@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "image"], ids=lambda c: c["id"])
def test_image_case(case: dict[str, Any]) -> None:
    qr = pytest.importorskip("authvault.qr")
    path = BASE / case["file"]
    if not path.exists():
        pytest.skip(f"{case['file']} is not in the fixtures")
    try:
        texts = qr.decode_image(path.read_bytes())
    except AuthVaultError:
        texts = None
    if case["expect"] == "reject":
        if texts is not None:  # decoded something: none of it may be an export
            for text in texts:
                with pytest.raises(OtpError):
                    gm.parse_migration_uri(text)
        return
    assert texts is not None
    accounts = [a for text in texts for a in gm.parse_migration_uri(text).accounts]
    assert [_got(a) for a in accounts] == [_expected(e) for e in case["expected_accounts"]]


def test_build_keeps_every_code_within_what_one_qr_code_holds() -> None:
    from authvault import qr
    big = [Account(secret=bytes([i + 1]) * 64, issuer="I" * 400 + str(i), name="N" * 400 + str(i)) for i in range(7)]
    huge = Account(secret=HELLO_KEY, issuer="H" * 3000, name="huge")
    uris, left_out = gm.build_migration_uris(big + [huge])
    assert [a.name for a, _ in left_out] == ["huge"] and "too long" in left_out[0][1]
    assert all(len(u.encode()) <= qr.MAX_QR_BYTES for u in uris)
    parsed = [gm.parse_migration_uri(u) for u in uris]
    assert len(parsed) > 1 and {b.batch_size for b in parsed} == {len(parsed)}
    assert [b.batch_index for b in parsed] == list(range(len(parsed)))
    assert [_got(a) for b in parsed for a in b.accounts] == [_got(a) for a in big]
    for uri in uris:
        qr.make_qr_svg(uri)
