"""Aegis db entries to and from Account: real Aegis files, round trips, AuthVault-only fields."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from authvault.model import Account
from authvault.vault import (
    UnsupportedVaultVersion,
    VaultError,
    account_from_entry,
    account_to_entry,
    accounts_from_db,
    db_from_accounts,
)
from authvault.vault.entries import group_uuid
from tests.paths import FIXTURES, fixture_json

AEGIS = FIXTURES / "importers" / "aegis-fixtures"


def _b32(secret: bytes) -> str:
    return base64.b32encode(secret).decode().rstrip("=")


def _summary(acc: Account) -> dict[str, Any]:
    out = {"name": acc.name, "issuer": acc.issuer, "type": acc.type, "secret": _b32(acc.secret),
           "algorithm": acc.algorithm, "digits": acc.digits}
    out["counter" if acc.type == "hotp" else "period"] = (
        acc.counter if acc.type == "hotp" else acc.period)
    return out


def _expected(name: str) -> list[dict[str, Any]]:
    return next(f for f in fixture_json("importers/expected.json")["fixtures"] if f["file"] == f"aegis-fixtures/{name}")[
        "expected_entries"]


@pytest.mark.parametrize("name", ["aegis_plain.json", "aegis_plain_grouped_v2.json"])
def test_reads_real_aegis_plain_files(name: str) -> None:
    vault = json.loads((AEGIS / name).read_text())
    accounts = accounts_from_db(vault["db"])
    want = _expected(name) if name == "aegis_plain.json" else _expected("aegis_plain.json")
    assert [_summary(a) for a in accounts] == want


def test_reads_v2_group_names_and_uuids() -> None:
    vault = json.loads((AEGIS / "aegis_plain_grouped_v2.json").read_text())
    accounts = accounts_from_db(vault["db"])
    assert [a.group for a in accounts][:4] == ["group1", "", "group1", "group2"]
    assert accounts[0].id == "3ae6f1ad2e654ed2a9531ec0dff2386d"
    assert all(a.backup_policy == "backup" and not a.action_required for a in accounts)


def test_entry_has_exactly_aegis_shape() -> None:
    acc = Account(secret=b"\x01\x02\x03\x04\x05", issuer="Deno", name="Mason", note="n",
                  group="Work", id="3ae6f1ad2e654ed2a9531ec0dff2386d")
    entry = account_to_entry(acc)
    assert entry == {
        "type": "totp", "uuid": "3ae6f1ad-2e65-4ed2-a953-1ec0dff2386d", "name": "Mason",
        "issuer": "Deno", "note": "n", "favorite": False, "icon": None,
        "info": {"secret": "AEBAGBAF", "algo": "SHA1", "digits": 6, "period": 30},
        "groups": [group_uuid("Work")],
        "authvault": {"backup_policy": "backup", "action_required": False},
    }


def test_hotp_entry_carries_a_counter_not_a_period() -> None:
    info = account_to_entry(Account(secret=b"k" * 10, type="hotp", counter=42))["info"]
    assert info["counter"] == 42 and "period" not in info


ROUND_TRIP = [
    Account(secret=b"12345678901234567890", issuer="Air Canada", name="Benjamin", type="hotp",
            algorithm="SHA256", digits=7, counter=50, note="desk", group="Travel"),
    Account(secret=b"\xff" * 20, issuer="Steam", name="Sophia", type="steam", digits=5),
    Account(secret=b"abc", issuer="Ünïcode", name="x@y", algorithm="SHA512", digits=8, period=60,
            backup_policy="this-device-only", action_required=True, group="Work"),
    Account(secret=b"abc", icon="data:image/png;base64,iVBORw0KGgo=", id="not-a-uuid"),
    Account(secret=b"abc", icon="github"),
    Account(secret=b"", issuer="Contoso", action_required=True, backup_policy="backup"),
]


@pytest.mark.parametrize("acc", ROUND_TRIP, ids=lambda a: f"{a.type}-{a.issuer or a.icon}")
def test_account_round_trips_through_a_db(acc: Account) -> None:
    db = json.loads(json.dumps(db_from_accounts([acc])))
    assert accounts_from_db(db) == [acc]


def test_db_keeps_order_and_lists_groups_once() -> None:
    db = db_from_accounts(ROUND_TRIP)
    assert db["version"] == 3
    assert db["groups"] == [{"uuid": group_uuid("Travel"), "name": "Travel"},
                            {"uuid": group_uuid("Work"), "name": "Work"}]
    assert [a.id for a in accounts_from_db(db)] == [a.id for a in ROUND_TRIP]
    assert db_from_accounts(ROUND_TRIP) == db  # deterministic


def test_icons_become_aegis_icons_only_when_aegis_can_show_them() -> None:
    png = account_to_entry(ROUND_TRIP[3])
    assert (png["icon"], png["icon_mime"]) == ("iVBORw0KGgo=", "image/png")
    named = account_to_entry(ROUND_TRIP[4])
    assert named["icon"] is None and named["authvault"]["icon"] == "github"


def test_aegis_icon_without_mime_is_jpeg() -> None:
    entry = account_to_entry(Account(secret=b"a"))
    entry["icon"] = "/9j/4AAQ"
    assert account_from_entry(entry).icon == "data:image/jpeg;base64,/9j/4AAQ"


def test_tolerates_lowercase_and_spaced_secrets_and_missing_optionals() -> None:
    acc = account_from_entry({"type": "totp", "name": "n", "issuer": "i",
                              "info": {"secret": "aebag baf", "algo": "sha1", "digits": 6,
                                       "period": 30}})
    assert acc.secret == b"\x01\x02\x03\x04\x05" and acc.algorithm == "SHA1"
    assert acc.note == "" and acc.group == "" and acc.icon is None and len(acc.id) == 32


@pytest.mark.parametrize("entry,code", [
    ({"type": "yandex", "info": {"secret": "AAAA"}}, "entry_unsupported"),
    ({"type": "motp", "info": {"secret": "AAAA"}}, "entry_unsupported"),
    ({"type": "totp"}, "entry_invalid"),
    ({"type": "totp", "info": {"secret": "1!"}}, "entry_invalid"),
    ({"type": "totp", "info": {"secret": "AEBAGBAF", "algo": "MD5"}}, "entry_invalid"),
    ({"type": "totp", "info": {"secret": "AEBAGBAF", "digits": 0}}, "entry_invalid"),
    ({"type": "totp", "info": {"secret": "AEBAGBAF", "period": "30"}}, "entry_invalid"),
    ({"type": "hotp", "info": {"secret": "AEBAGBAF", "counter": -1}}, "entry_invalid"),
    ({"type": "totp", "name": 5, "info": {"secret": "AEBAGBAF"}}, "entry_invalid"),
])
def test_rejects_bad_entries_without_echoing_the_secret(entry: dict[str, Any], code: str) -> None:
    with pytest.raises(VaultError) as info:
        account_from_entry(entry)
    assert info.value.code == code
    assert "AEBAGBAF" not in info.value.text()


def test_refuses_a_newer_aegis_db_version() -> None:
    with pytest.raises(UnsupportedVaultVersion):
        accounts_from_db({"version": 4, "entries": []})


@pytest.mark.parametrize("db", [{}, {"version": 3}, {"version": "3", "entries": []}])
def test_rejects_a_db_without_version_or_entries(db: dict[str, Any]) -> None:
    with pytest.raises(VaultError):
        accounts_from_db(db)
