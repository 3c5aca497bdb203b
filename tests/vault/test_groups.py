"""Group rules (vault/groups.py): names unique in any case, renames carry the accounts, deletes keep them."""
from __future__ import annotations

import pytest

from authvault.model import Account
from authvault.vault import groups


def _acc(group: str) -> Account:
    return Account(secret=b"12345678901234567890", issuer="X", group=group)


def test_create_refuses_a_name_in_use_in_any_case() -> None:
    accounts, made = groups.create([], [], "Work")
    assert [g["name"] for g in made] == ["Work"] and len(made[0]["uuid"]) == 36
    with pytest.raises(groups.GroupError) as err:
        groups.create(accounts, made, "WORK")
    assert err.value.code == "group_exists"


def test_change_name_moves_the_accounts_and_keeps_the_uuid() -> None:
    accounts, made = groups.create([_acc("Work"), _acc("")], [], "Work")
    uid = made[0]["uuid"]
    accounts, made = groups.change_name(accounts, made, uid, "Job")
    assert made == [{"uuid": uid, "name": "Job"}] and [a.group for a in accounts] == ["Job", ""]


def test_delete_keeps_the_accounts_in_no_group_and_an_unknown_id_is_not_found() -> None:
    accounts, made = groups.create([_acc("Work")], [], "Work")
    accounts, left = groups.delete(accounts, made, made[0]["uuid"])
    assert left == [] and accounts[0].group == ""
    with pytest.raises(groups.GroupError) as err:
        groups.delete(accounts, left, "nope")
    assert err.value.code == "group_not_found"
