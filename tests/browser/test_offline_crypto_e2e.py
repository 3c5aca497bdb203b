"""The browser's vault code (static/js/offline-vault.js) against known answers, in real Chromium.

- Codes: RFC 4226 / RFC 6238 and the other projects' vectors of ../shared/fixtures/vectors/
  (TOTP, HOTP, Steam; SHA1/256/512), plus odd periods and 6-10 digits against the server's own
  code module.
- Envelopes written by the Python code (authvault.vault) open in the browser with their passphrase
  (scrypt N=2^15, as the server writes them) and with a recorded PRF output, and give exactly the
  accounts the server reads; damaged, swapped or newer envelopes are refused with the right code.
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest

from authvault import otp
from authvault.model import Account
from authvault.vault import DEFAULT_SCRYPT, db_from_accounts, new_master_key, passkey_slot, passphrase_slot, seal
from authvault.vault.entries import accounts_from_db
from authvault.vault.envelope import open_db
from tests.paths import FIXTURES

from .conftest import Device, new_device

pytestmark = pytest.mark.browser

VECTORS = FIXTURES / "vectors" / "vectors.json"
PASS = "offline passphrase ✓ 42"
PRF_OUTPUT = bytes(range(32))
CRED_ID = "Y3JlZGVudGlhbC1vbmU"

HELPERS = """async () => {
  const V = await import("/static/js/offline-vault.js");
  window.V = V;
  window.code = async (secret, algorithm, digits, type, counter) =>
    V.codeFor({ key: await V.keyFromBytes(V.base32Decode(secret), algorithm), type, digits }, counter);
  window.opened = async (env, how, secret, expected) => {
    try {
      const db = how === "passphrase" ? await V.openWithPassphrase(env, secret, expected)
                                      : await V.openWithPrf(env, how, V.b64urlToBytes(secret), expected);
      const accounts = await V.accountsFromDb(db);
      const out = [];
      for (const a of accounts) out.push(await V.accountView(a, 1700000000.5));
      return { ok: out };
    } catch (e) { return { error: e.code || String(e) }; }
  };
}"""


@pytest.fixture(scope="module")
def page(browser: Any, server: Any) -> Any:
    device = new_device(browser, server.origin)
    device.goto("/")
    device.page.evaluate(HELPERS)
    yield device
    assert device.errors == []
    device.close()


def test_rfc_and_steam_vectors(page: Device) -> None:
    if not VECTORS.exists():
        pytest.skip(f"fixtures not present: {VECTORS}")
    data = json.loads(VECTORS.read_text())
    cases: list[tuple[str, str, int, str, int, str]] = []
    hotp = data["rfc4226_hotp"]
    for v in hotp["vectors"]:
        cases.append((hotp["secret"]["base32"], "SHA1", 6, "hotp", v["counter"], v["expected"]))
    for v in data["rfc6238_totp"]["vectors"]:
        cases.append((v["secret_base32"], v["algorithm"], v["digits"], "totp", v["time"] // v["period"], v["expected"]))
    for v in data["extra_vectors"]:
        counter = v["counter"] if v["type"] == "hotp" else int(v["time"] // v.get("period", 30))
        cases.append((v["secret_base32"], v["algorithm"], v["digits"], v["type"], counter, v["expected"]))
    assert len(cases) >= 60 and {c[3] for c in cases} == {"hotp", "totp", "steam"}
    assert {c[1] for c in cases} == {"SHA1", "SHA256", "SHA512"}
    got = page.page.evaluate("async (cases) => { const out = []; for (const c of cases) out.push(await code(...c.slice(0, 5))); return out; }",
                             [list(c) for c in cases])
    assert got == [c[5] for c in cases]


def test_codes_equal_the_servers_for_every_setting(page: Device) -> None:
    """6-10 digits, odd periods, all algorithms, Steam and HOTP, at times around boundaries."""
    accounts = []
    for i, (algo, digits, period) in enumerate([("SHA1", 6, 30), ("SHA256", 7, 45), ("SHA512", 8, 60), ("SHA1", 9, 17),
                                                ("SHA256", 10, 1), ("SHA512", 6, 3600), ("SHA1", 8, 7)]):
        accounts.append(Account(secret=os.urandom(10 + 7 * i), algorithm=algo, digits=digits, period=period))
    accounts.append(Account(secret=os.urandom(20), type="steam"))
    accounts.append(Account(secret=os.urandom(32), type="hotp", algorithm="SHA256", digits=8, counter=123456789))
    times = [0, 59.999, 1111111109, 1700000000.5, 2000000000, 20000000000]
    cases, expected = [], []
    for acc in accounts:
        otp.validate(acc)
        for t in times:
            if acc.type == "hotp":
                counter, want = acc.counter + int(t) % 1000, otp.hotp_code(acc, acc.counter + int(t) % 1000)
            else:
                counter, want = int(t // acc.period), otp.code_at(acc, t)
            cases.append([otp.encode_secret(acc.secret), acc.algorithm, acc.digits, acc.type, counter])
            expected.append(want)
    got = page.page.evaluate("async (cases) => { const out = []; for (const c of cases) out.push(await code(...c)); return out; }", cases)
    assert got == expected


def _vault(device_id: str = "dev-1") -> tuple[dict[str, Any], list[Account]]:
    accounts = [Account(secret=os.urandom(20), issuer="Bank ü", name="alice@example.com", period=45, digits=7,
                        algorithm="SHA256", group="Money"),
                Account(secret=os.urandom(16), type="hotp", issuer="VPN", name="bob", counter=7, favorite=True,
                        icon="github"),
                Account(secret=os.urandom(20), type="steam", issuer="Steam", name="gabe", digits=5),
                Account(secret=os.urandom(10), issuer="Old", name="x", action_required=True,
                        icon="data:image/png;base64,iVBORw0KGgo=")]
    for acc in accounts:
        otp.validate(acc)
    mk = new_master_key()
    env = seal(db_from_accounts(accounts), mk, [passphrase_slot(mk, PASS, DEFAULT_SCRYPT),
                                                passkey_slot(mk, PRF_OUTPUT, CRED_ID)], device_id)
    assert [a.id for a in accounts_from_db(open_db(env, mk))] == [a.id for a in accounts]
    return env, accounts


def _expected(accounts: list[Account]) -> list[dict[str, Any]]:
    from authvault.web.views import account_view
    out = []
    for acc in accounts:
        out.append(account_view(acc, 1700000000.5))
    return out


def test_python_envelope_opens_with_passphrase_and_prf(page: Device) -> None:
    env, accounts = _vault()
    prf = page.page.evaluate("([e, id, s]) => opened(e, id, s, 'dev-1')",
                             [env, CRED_ID, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"])
    assert prf == {"ok": _expected(accounts)}
    with_pass = page.page.evaluate("([e, s]) => opened(e, 'passphrase', s, 'dev-1')", [env, PASS])
    assert with_pass == prf


def _python_result(env: dict[str, Any], how: str, secret: str) -> dict[str, Any]:
    """What the server says of the same envelope and credential."""
    import base64

    from authvault.vault import VaultError, unlock_with_passkey, unlock_with_passphrase
    try:
        if how == "passphrase":
            mk = unlock_with_passphrase(env, secret)
        else:
            mk = unlock_with_passkey(env, how, base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4)))
        open_db(env, mk, expected_device_id="dev-1")
    except VaultError as exc:
        return {"error": exc.code}
    except (KeyError, TypeError):
        return {"error": "vault_damaged"}
    return {"ok": "opened"}


def test_wrong_damaged_swapped_and_newer_envelopes_are_refused(page: Device) -> None:
    env, _ = _vault()
    other, _ = _vault("dev-2")
    cases: dict[str, tuple[dict[str, Any], str, str]] = {}

    def variant(name: str, change: Any, how: str = "passphrase", secret: str = PASS) -> None:
        e = copy.deepcopy(env)
        change(e)
        cases[name] = (e, how, secret)

    variant("wrong passphrase", lambda e: None, secret="not it")
    variant("wrong prf", lambda e: None, how=CRED_ID, secret="AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
    variant("header mac flipped", lambda e: e["authvault"].__setitem__(
        "header_mac", ("0" if e["authvault"]["header_mac"][0] != "0" else "1") + e["authvault"]["header_mac"][1:]))
    variant("slot uuid changed", lambda e: e["header"]["slots"][0].__setitem__("uuid", "00000000-0000-0000-0000-000000000000"))
    variant("passkey slot info changed", lambda e: e["header"]["slots"][1].__setitem__("info", "other"), how=CRED_ID,
            secret="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
    variant("scrypt cost changed", lambda e: e["header"]["slots"][0].__setitem__("n", 2**14))
    variant("device id swapped", lambda e: e["authvault"].__setitem__("device_id", "dev-2"))
    variant("ciphertext changed", lambda e: e.__setitem__("db", ("B" if e["db"][0] != "B" else "C") + e["db"][1:]))
    variant("db of another vault", lambda e: e.__setitem__("db", other["db"]))
    variant("newer format", lambda e: e["authvault"].__setitem__("format", 2))
    variant("no slots", lambda e: e["header"].__setitem__("slots", []))
    variant("not an envelope", lambda e: e.clear())
    cases["another device's envelope"] = (other, "passphrase", PASS)
    got = {name: page.page.evaluate("([e, how, s]) => opened(e, how, s, 'dev-1')", list(case))
           for name, case in cases.items()}
    assert got == {name: _python_result(*case) for name, case in cases.items()}, "the browser and the server disagree"
    assert got == {
        "wrong passphrase": {"error": "wrong_passphrase"},
        "wrong prf": {"error": "wrong_passkey"},
        "header mac flipped": {"error": "vault_damaged"},
        "slot uuid changed": {"error": "vault_damaged"},
        "passkey slot info changed": {"error": "wrong_passkey"},   # its KEK changes: as on the server, fail closed
        "scrypt cost changed": {"error": "wrong_passphrase"},      # the only passphrase slot: same as the server
        "device id swapped": {"error": "vault_damaged"},
        "ciphertext changed": {"error": "vault_damaged"},
        "db of another vault": {"error": "vault_damaged"},
        "newer format": {"error": "vault_version_unsupported"},
        "no slots": {"error": "slot_missing"},
        "not an envelope": {"error": "vault_damaged"},
        "another device's envelope": {"error": "vault_damaged"},
    }
