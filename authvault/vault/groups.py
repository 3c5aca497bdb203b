"""Account groups (the list's filter chips), as Aegis keeps them: `{"uuid", "name"}` in the vault's
group list, referenced by each entry. The rules of creating, renaming and deleting one; each takes
the accounts and groups of one vault write (store.change_library) and returns them changed.
A group keeps its uuid while it exists; deleting one keeps its accounts, in no group.
"""
from __future__ import annotations

import uuid

from ..errors import N_, AuthVaultError
from ..model import Account

MAX_GROUPS = 200
Groups = list[dict[str, str]]


class GroupError(AuthVaultError):
    """A group that cannot be made, found or named so; `code` says why."""


def find(groups: Groups, group_id: str) -> dict[str, str]:
    """The group with this uuid (GroupError group_not_found otherwise)."""
    for g in groups:
        if g["uuid"] == group_id:
            return g
    raise GroupError("group_not_found", N_("That group does not exist (it may have been deleted)."))


def _name_free(groups: Groups, name: str, but: dict[str, str] | None = None) -> None:
    if any(g is not but and g["name"].casefold() == name.casefold() for g in groups):
        raise GroupError("group_exists", N_("There is already a group called %(name)s."), name=name)


def create(accounts: list[Account], groups: Groups, name: str) -> tuple[list[Account], Groups]:
    """A new empty group at the end (its name not in use, in any case; at most MAX_GROUPS)."""
    _name_free(groups, name)
    if len(groups) >= MAX_GROUPS:
        raise GroupError("too_many_groups", N_("At most %(max)s groups."), max=MAX_GROUPS)
    return accounts, groups + [{"uuid": str(uuid.uuid4()), "name": name}]


def change_name(accounts: list[Account], groups: Groups, group_id: str, name: str) -> tuple[list[Account], Groups]:
    """Rename a group: its accounts move with it, its uuid stays."""
    group = find(groups, group_id)
    _name_free(groups, name, but=group)
    old = group["name"]
    for acc in accounts:
        if acc.group == old:
            acc.group = name
    group["name"] = name
    return accounts, groups


def delete(accounts: list[Account], groups: Groups, group_id: str) -> tuple[list[Account], Groups]:
    """Delete a group; its accounts stay, in no group."""
    group = find(groups, group_id)
    for acc in accounts:
        if acc.group == group["name"]:
            acc.group = ""
    return accounts, [g for g in groups if g is not group]
